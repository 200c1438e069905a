/**
 * @module A synthetic workspace for the server benchmarks: `images` image rows (no files) with
 * clustered `dim`-d embeddings, image i in class i % classes, the first `labelled` of them labelled,
 * and the k-NN graph built and cached, so refits have real work from the first second.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageId, initWorkspace, seededRandom } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { syntheticImage } from '@autolabel/test-utils';

/** Where the benchmarks that fill a store row by row (bench:import, bench:export) take it from. */
export { syntheticImage };

export interface SyntheticOptions {
  readonly images: number;
  readonly dim: number;
  readonly classes: readonly string[];
  readonly labelled: number;
  /** How the vectors are stored (default float32). */
  readonly dtype?: 'float32' | 'float16';
  /** Build and cache the k-NN graph (default true); bench:scale times that itself. */
  readonly buildGraph?: boolean;
}

/** Writes the workspace to `dir/ws` (images folder `dir/images`); returns how long the graph took, in seconds (0 without). */
export async function writeSyntheticWorkspace(dir: string, options: SyntheticOptions): Promise<number> {
  const { images: imageCount, dim, classes } = options;
  await mkdir(join(dir, 'images'), { recursive: true });
  const ws = await initWorkspace({
    images: join(dir, 'images'),
    workspace: join(dir, 'ws'),
    model: 'builtin:centernet',
  });
  try {
    const random = seededRandom(7);
    // In blocks, so a million rows never sit in memory at once.
    for (let start = 0; start < imageCount; start += 100_000) {
      const count = Math.min(100_000, imageCount - start);
      await storeOf(ws).applyScan({
        upserts: Array.from({ length: count }, (_, k) =>
          syntheticImage(`img/${String(start + k).padStart(6, '0')}.jpg`, start + k),
        ),
        moves: [],
        removals: [],
      });
    }
    await storeOf(ws).registerModel({ id: 'synthetic', spec: 'builtin:centernet', dim });
    const centres = Float32Array.from({ length: classes.length * dim }, () => random());
    for (let start = 0; start < imageCount; start += 1000) {
      const vectors = [];
      for (let i = start; i < Math.min(imageCount, start + 1000); i++) {
        const vector = new Float32Array(dim);
        const centre = (i % classes.length) * dim;
        for (let j = 0; j < dim; j++) vector[j] = Math.max(0, centres[centre + j]! + 1.5 * (random() - 0.5));
        vectors.push({ contentHash: `hash-${i}`, vector });
      }
      await storeOf(ws).putEmbeddings({
        modelId: 'synthetic',
        dtype: options.dtype ?? 'float32',
        dim,
        vectors,
        failures: [],
      });
    }
    await storeOf(ws).setLabels(
      Array.from({ length: options.labelled }, (_, i) => ({
        imageId: (i + 1) as ImageId,
        label: classes[i % classes.length]!,
        source: 'manual' as const,
      })),
    );
    if (options.buildGraph === false) return 0;
    const started = performance.now();
    await (await ws.openLearner()).close(); // builds and caches the k-NN graph
    return (performance.now() - started) / 1000;
  } finally {
    await ws.close();
  }
}
