import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToFloat16 } from '../util/float16.js';
import { seededRandom } from '../util/random.js';
import { HnswIndex } from './ann.js';
import {
  applyFeatureTransform,
  featureKey,
  learnerFeatures,
  REDUCE_MIN_ROWS,
  REDUCED_DIM,
  reduces,
} from './features.js';
import { decodeHead, encodeHead } from './head-file.js';
import { Learner } from './learner.js';
import { type Matrix, matrix } from './matrix.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-features-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIM = REDUCED_DIM + 64;
const CLUSTERS = 8;

/**
 * Pooled-ReLU-like vectors whose structure lives in a few dozen directions (as real embeddings'
 * does) plus faint noise in all: `rows` of them, cluster `i % CLUSTERS` each.
 */
function embeddings(rows: number, seed = 1): { vectors: Float32Array; truth: Int32Array } {
  const random = seededRandom(seed);
  const latent = 40;
  const basis = Float32Array.from({ length: latent * DIM }, () => random() - 0.5);
  const centres = Float32Array.from({ length: CLUSTERS * latent }, () => 3 * (random() - 0.5));
  const vectors = new Float32Array(rows * DIM);
  const truth = new Int32Array(rows);
  const z = new Float32Array(latent);
  for (let i = 0; i < rows; i++) {
    const c = i % CLUSTERS;
    truth[i] = c;
    for (let t = 0; t < latent; t++) z[t] = centres[c * latent + t]! + (random() - 0.5);
    for (let j = 0; j < DIM; j++) {
      let v = 0.05 * random();
      for (let t = 0; t < latent; t++) v += z[t]! * basis[t * DIM + j]!;
      vectors[i * DIM + j] = Math.max(0, v);
    }
  }
  return { vectors, truth };
}

function set(vectors: Float32Array | Uint16Array, modelId = 'm') {
  const rows = vectors.length / DIM;
  return {
    modelId,
    dim: DIM,
    dtype: vectors instanceof Uint16Array ? ('float16' as const) : ('float32' as const),
    imageIds: Int32Array.from({ length: rows }, (_, i) => i + 1),
    vectors,
  };
}

/** Each row's nearest other row by cosine (the rows are unit). */
function nearest(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = -Infinity;
    for (let r = 0; r < m.rows; r++) {
      if (r === i) continue;
      let dot = 0;
      for (let j = 0; j < m.cols; j++) dot += m.data[i * m.cols + j]! * m.data[r * m.cols + j]!;
      if (dot > best) [best, out[i]] = [dot, r];
    }
  }
  return out;
}

describe('PCA-reduced features', () => {
  it('reduce big pools only, unless forced; never where the embeddings are narrow already', () => {
    expect(reduces('auto', REDUCE_MIN_ROWS - 1, 1024)).toBe(false);
    expect(reduces('auto', REDUCE_MIN_ROWS, 1024)).toBe(true);
    expect(reduces('always', 10, 1024)).toBe(true);
    expect(reduces('never', REDUCE_MIN_ROWS, 1024)).toBe(false);
    expect(reduces('always', 10, REDUCED_DIM)).toBe(false);
  });

  it('gives unit rows of the reduced width that keep each image near the same images, the same way twice', async () => {
    const { vectors, truth } = embeddings(1200);
    const full = await learnerFeatures(set(vectors), { reduce: 'never' });
    const { transform, features } = await learnerFeatures(set(vectors), { reduce: 'always' });
    expect(features.cols).toBe(REDUCED_DIM);
    expect(features.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (let i = 0; i < features.rows; i += 97) {
      let norm = 0;
      for (let j = 0; j < REDUCED_DIM; j++) norm += features.data[i * REDUCED_DIM + j]! ** 2;
      expect(norm).toBeCloseTo(1, 4);
    }
    // The streamed path and the plain one (what export replays) agree.
    const plain = applyFeatureTransform(transform, matrix(1200, DIM, vectors));
    expect(plain.data.every((v, i) => Math.abs(v - features.data[i]!) < 1e-4)).toBe(true);
    // Nearest neighbours: of the same cluster as often as at full width (the whitening moves some of
    // them on purpose: it weighs the directions of small variance more), and mostly the same images.
    const before = nearest(full.features);
    const after = nearest(features);
    const same = before.filter((r, i) => r === after[i]).length / before.length;
    const sameCluster = (found: Int32Array) => found.filter((r, i) => truth[r] === truth[i]).length / found.length;
    expect(same).toBeGreaterThan(0.6);
    expect(sameCluster(after)).toBeGreaterThan(0.95);
    expect(sameCluster(after)).toBeGreaterThanOrEqual(sameCluster(before) - 0.01);
    const again = await learnerFeatures(set(vectors), { reduce: 'always' });
    expect(featureKey(again.transform)).toBe(featureKey(transform));
    expect(featureKey(transform)).not.toBe('full');
    // Float16 storage gives the same cosines within float16's precision (not the same coordinates:
    // directions of nearly equal variance may come out rotated among themselves).
    const half = await learnerFeatures(set(float32ToFloat16(vectors)), { reduce: 'always' });
    const cosine = (m: Matrix, i: number, r: number) => {
      let dot = 0;
      for (let j = 0; j < m.cols; j++) dot += m.data[i * m.cols + j]! * m.data[r * m.cols + j]!;
      return dot;
    };
    for (let i = 0; i < 1200; i += 37) {
      for (const r of [0, 1, 599, 1199])
        expect(Math.abs(cosine(half.features, i, r) - cosine(features, i, r))).toBeLessThan(1e-2);
    }
  });

  it('reads a store a page at a time, a small pool once, and makes the same features as from the whole set', async () => {
    const { vectors } = embeddings(6000, 6);
    const whole = {
      ...set(float32ToFloat16(vectors)),
      imageIds: Int32Array.from({ length: 6000 }, (_, i) => 2 * i + 3),
    };
    let largest = 0;
    let reads = 0;
    const page = async (afterId: number, limit: number) => {
      reads++;
      let first = 0;
      while (first < whole.imageIds.length && whole.imageIds[first]! <= afterId) first++;
      const end = Math.min(whole.imageIds.length, first + limit);
      largest = Math.max(largest, end - first);
      return {
        ...whole,
        imageIds: whole.imageIds.slice(first, end),
        vectors: whole.vectors.slice(first * DIM, end * DIM),
      };
    };
    for (const reduce of ['always', 'never'] as const) {
      reads = 0;
      const paged = await learnerFeatures({ modelId: 'm', page }, { reduce });
      // 6,000 rows: two pages, each read once (the first pass keeps a small pool's pages for the second).
      expect(reads).toBe(2);
      const direct = await learnerFeatures(whole, { reduce });
      expect(Array.from(paged.imageIds)).toEqual(Array.from(whole.imageIds));
      expect(paged.features.cols).toBe(reduce === 'always' ? REDUCED_DIM : DIM);
      expect(paged.features.data.every((v, i) => v === direct.features.data[i])).toBe(true);
      expect(paged.dim).toBe(DIM);
    }
    // Never more than a page of raw rows at a time.
    expect(largest).toBeLessThanOrEqual(4096);
  });

  it('keeps its projection for a pool that grew a little, and fits a new one when it grew a lot', async () => {
    const cacheDir = join(dir, 'kept');
    const { vectors } = embeddings(1500, 2);
    const first = await learnerFeatures(set(vectors.subarray(0, 1000 * DIM)), { reduce: 'always', cacheDir });
    const grown = await learnerFeatures(set(vectors.subarray(0, 1100 * DIM)), { reduce: 'always', cacheDir });
    expect(featureKey(grown.transform)).toBe(featureKey(first.transform));
    // The first 1000 rows project as they did (the mean moved a little with the new images).
    expect(
      grown.features.data.subarray(0, 1000 * REDUCED_DIM).every((v, i) => Math.abs(v - first.features.data[i]!) < 0.05),
    ).toBe(true);
    const much = await learnerFeatures(set(vectors), { reduce: 'always', cacheDir });
    expect(featureKey(much.transform)).not.toBe(featureKey(first.transform));
    // Another model does not share it.
    const other = await learnerFeatures(set(vectors.subarray(0, 1000 * DIM), 'other'), { reduce: 'always', cacheDir });
    expect(other.transform.projection).toBeDefined();
  });

  it('rebuild the cached graph and refuse the saved HNSW index when the features change', async () => {
    const cacheDir = join(dir, 'graph');
    const { vectors } = embeddings(600, 3);
    const open = (reduce: 'always' | 'never') => Learner.create(set(vectors), { cacheDir, reduce, threads: 1 });
    const reduced = await open('always');
    expect(reduced.graphInfo.how).toBe('built');
    expect(reduced.features.cols).toBe(REDUCED_DIM);
    await reduced.close();
    const again = await open('always');
    expect(again.graphInfo.how).toBe('cached');
    await again.close();
    const full = await open('never');
    expect(full.graphInfo.how).toBe('built');
    expect(full.features.cols).toBe(DIM);
    await full.close();

    const file = join(dir, 'index.usearch');
    const index = await HnswIndex.create(REDUCED_DIM);
    await index.add(
      Int32Array.from([1, 2, 3]),
      matrix(3, REDUCED_DIM, reduced.features.data.slice(0, 3 * REDUCED_DIM)),
    );
    const key = featureKey(reduced.transform);
    await index.save(file, 'm', key);
    expect((await HnswIndex.open(file, { modelId: 'm', dim: REDUCED_DIM, featureKey: key }))?.size).toBe(3);
    expect(
      await HnswIndex.open(file, { modelId: 'm', dim: REDUCED_DIM, featureKey: 'pca256-another' }),
    ).toBeUndefined();
    expect(await HnswIndex.open(file, { modelId: 'm', dim: REDUCED_DIM })).toBeUndefined();
  });

  it('leaves the raw embeddings to zero-shot: the learner reloads them at their own width', async () => {
    const { vectors } = embeddings(300, 4);
    const learner = await Learner.create(set(vectors), { reduce: 'always', reload: async () => set(vectors) });
    try {
      expect(learner.features.cols).toBe(REDUCED_DIM);
      const raw = await learner.rawEmbeddings();
      expect(raw.dim).toBe(DIM);
      expect(raw.vectors).toEqual(vectors);
    } finally {
      await learner.close();
    }
  });

  it('stores a reduced head with its projection, so export-model gets the whole transform back', async () => {
    const { vectors } = embeddings(300, 5);
    const { transform } = await learnerFeatures(set(vectors), { reduce: 'always' });
    const head = {
      dim: REDUCED_DIM,
      classes: 2,
      weights: Float32Array.from({ length: REDUCED_DIM * 2 }, (_, i) => Math.sin(i)),
      bias: Float32Array.from([0.5, -0.5]),
    };
    const back = decodeHead(encodeHead({ classes: ['a', 'b'], transform, head }));
    expect(back.transform.mean).toEqual(transform.mean);
    expect(back.transform.projection?.dim).toBe(REDUCED_DIM);
    expect(back.transform.projection?.components).toEqual(transform.projection!.components);
    expect(back.head).toEqual(head);
    // A full-width head reads back without one.
    const plain = decodeHead(
      encodeHead({
        classes: ['a', 'b'],
        transform: { power: 0.5, mean: new Float32Array(4) },
        head: { ...head, dim: 4, weights: new Float32Array(8) },
      }),
    );
    expect(plain.transform.projection).toBeUndefined();
  });
});
