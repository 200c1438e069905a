import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { approximateKnnGraph } from './ann.js';
import { buildKnnGraph, dropSelf, extendKnnGraph } from './graph.js';
import { Learner } from './learner.js';
import { matrix, normalizeRows, type Matrix } from './matrix.js';
import { OrtMath } from './ort-math.js';

const math = new OrtMath({ threads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'autolabel-graph-progress-'));
afterAll(async () => {
  await math.close();
  rmSync(dir, { recursive: true, force: true });
});

function unitRows(n: number, dim: number, seed: number): Matrix {
  const random = seededRandom(seed);
  return normalizeRows(
    matrix(
      n,
      dim,
      Float32Array.from({ length: n * dim }, () => random() - 0.5),
    ),
  );
}

/** Records each (done, total) a build reports. */
function recorder(): { steps: [number, number][]; onStep: (done: number, total: number) => void } {
  const steps: [number, number][] = [];
  return { steps, onStep: (done, total) => steps.push([done, total]) };
}

/** Starts at 0, never goes back, one total throughout, ends at done == total. */
function expectProgress(steps: readonly [number, number][], total: number): void {
  expect(steps[0]).toEqual([0, total]);
  expect(steps.at(-1)).toEqual([total, total]);
  for (let i = 1; i < steps.length; i++) {
    expect(steps[i]![0]).toBeGreaterThan(steps[i - 1]![0]);
    expect(steps[i]![1]).toBe(total);
  }
}

describe('progress while the graph builds', () => {
  it('exact search counts the images in blocks, up to all of them, and finds the same neighbours', async () => {
    const x = unitRows(20_000, 8, 1);
    const { steps, onStep } = recorder();
    const graph = await buildKnnGraph(math, x, 5, onStep);
    expectProgress(steps, 20_000);
    // Blocks of 8,192 queries: a step after each, not one at the end only.
    expect(steps.map(([done]) => done)).toEqual([0, 8192, 16_384, 20_000]);
    const whole = await math.topK(x, x, 6);
    const once = dropSelf(whole.indices, whole.scores, x.rows, 0, whole.k, 5);
    expect(graph.indices).toEqual(once.indices);
  });

  it('an extension counts the new images, both of its searches weighed in', async () => {
    const x = unitRows(12_000, 8, 2);
    const head = matrix(9000, 8, x.data.subarray(0, 9000 * 8));
    const { steps, onStep } = recorder();
    await extendKnnGraph(math, await buildKnnGraph(math, head, 5), x, onStep);
    expectProgress(steps, 3000);
    // The new rows' search (3,000 x 12,000) is over half the work; the old rows' (9,000 x 3,000) the rest.
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps[1]![0]).toBeGreaterThan(1500);
  });

  it('HNSW counts the adds and the searches of every batch, up to all the images', async () => {
    const x = unitRows(20_000, 8, 3);
    const ids = Int32Array.from({ length: x.rows }, (_, i) => i + 1);
    const { steps, onStep } = recorder();
    await approximateKnnGraph({ features: x, ids, modelId: 'm', featureKey: 'full', k: 5, exact: math, onStep });
    expectProgress(steps, 20_000);
    // Two native add calls and two searches (batches of 16,384 rows), then the end.
    expect(steps.length).toBe(5);
  });

  it('a learner reports its graph build, and nothing when its graph comes from the cache', async () => {
    const n = 300;
    const dim = 16;
    const x = unitRows(n, dim, 4);
    const embeddings = () => ({
      modelId: 'm',
      dim,
      dtype: 'float32' as const,
      imageIds: Int32Array.from({ length: n }, (_, i) => i + 1),
      vectors: x.data.slice(),
    });
    const cacheDir = join(dir, 'cache');
    const first = recorder();
    await (await Learner.create(embeddings(), { cacheDir, threads: 1, onGraphStep: first.onStep })).close();
    expectProgress(first.steps, n);
    const again = recorder();
    const cached = await Learner.create(embeddings(), { cacheDir, threads: 1, onGraphStep: again.onStep });
    await cached.close();
    expect(cached.graphInfo.how).toBe('cached');
    expect(again.steps).toEqual([]);
  });
});
