import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { buildKnnGraph, type KnnGraph, localityOrder, normalizedAffinity, type SparseMatrix } from './graph.js';
import { matrix, normalizeRows } from './matrix.js';
import { OrtMath } from './ort-math.js';
import { propagateLabels, seedMatrix } from './propagate.js';
import { PIPELINE_CONFIGS, runPipeline } from './semi-supervised.js';
import { PARALLEL_MIN_ROWS, productHelperReady, sparseProduct } from './sparse-product.js';

const math = new OrtMath();
afterAll(() => math.close());

/** A graph whose nodes are a ring in a shuffled numbering: each node's neighbours are the ring's next ones. */
function shuffledRing(n: number, k: number, seed: number): { graph: KnnGraph; position: Int32Array } {
  const random = seededRandom(seed);
  const position = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [position[i], position[j]] = [position[j]!, position[i]!];
  }
  const nodeAt = new Int32Array(n);
  position.forEach((p, node) => (nodeAt[p] = node));
  const indices = new Int32Array(n * k);
  const scores = new Float32Array(n * k);
  for (let node = 0; node < n; node++) {
    for (let j = 0; j < k; j++) {
      const step = (j >> 1) + 1;
      indices[node * k + j] = nodeAt[(position[node]! + (j % 2 ? -step : step) + n) % n]!;
      scores[node * k + j] = 0.9 - 0.05 * step;
    }
  }
  return { graph: { nodes: n, k, indices, scores }, position };
}

/** The largest distance between the stored row and column of a nonzero: how far a product reaches in memory. */
function bandwidth(m: SparseMatrix): number {
  let widest = 0;
  for (let r = 0; r < m.size; r++) {
    for (let p = m.rowStart[r]!; p < m.rowStart[r + 1]!; p++) widest = Math.max(widest, Math.abs(m.columns[p]! - r));
  }
  return widest;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
}

describe('propagation over a graph stored in locality order', () => {
  it('stores neighbours near each other and propagates exactly as the graph in image order', () => {
    const n = 2000;
    const { graph } = shuffledRing(n, 4, 3);
    const ordered = normalizedAffinity(graph, 4);
    const plain = normalizedAffinity(graph, 4, 3, false);
    expect(bandwidth(plain)).toBeGreaterThan(n / 4);
    // Breadth-first along a ring: a node's ring neighbours are a few places away.
    expect(bandwidth(ordered)).toBeLessThan(10);
    expect([...localityOrder(plain)].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);

    const seeds = new Int32Array(n).fill(-1);
    seeds[5] = 0;
    seeds[1234] = 1;
    const y = seedMatrix(seeds, 2);
    const a = propagateLabels(ordered, y, 2, { alpha: 0.9 });
    const b = propagateLabels(plain, y, 2, { alpha: 0.9 });
    expect(a.scores[5 * 2]!).toBeGreaterThan(a.scores[5 * 2 + 1]!); // results are in image order
    expect(maxDifference(a.scores, b.scores)).toBeLessThan(1e-5);
    // A warm start is permuted as well: from the solution, nothing is left to do.
    const warm = propagateLabels(ordered, y, 2, { alpha: 0.9, start: a.scores, tolerance: 1e-3 });
    expect(warm.iterations).toBe(0);
  });

  it.skipIf(availableParallelism() < 2)(
    'splits a large graph’s products with a helper thread and gets the same solution',
    async () => {
      const n = PARALLEL_MIN_ROWS + 5000;
      const { graph } = shuffledRing(n, 6, 5);
      const shared = normalizedAffinity(graph, 6);
      expect(shared.columns.buffer).toBeInstanceOf(SharedArrayBuffer);
      // The same matrix in ordinary memory: its products run on this thread alone.
      const serial: SparseMatrix = {
        ...shared,
        rowStart: Int32Array.from(shared.rowStart),
        columns: Int32Array.from(shared.columns),
        values: Float32Array.from(shared.values),
      };
      sparseProduct(shared, 0.9, 3); // starts the helper
      for (let waited = 0; !productHelperReady() && waited < 10_000; waited += 20) await sleep(20);
      expect(productHelperReady()).toBe(true);
      const seeds = new Int32Array(n).fill(-1);
      for (let i = 0; i < n; i += 997) seeds[i] = i % 3;
      const y = seedMatrix(seeds, 3);
      const split = propagateLabels(shared, y, 3, { alpha: 0.9 });
      const alone = propagateLabels(serial, y, 3, { alpha: 0.9 });
      expect(split.iterations).toBe(alone.iterations);
      expect(maxDifference(split.scores, alone.scores)).toBe(0);

      // The solver keeps its shared vectors for the next solve: a solution it returned stays the
      // caller's, in locality order and in the matrix's own numbering alike.
      const other = seedMatrix(
        seeds.map((s) => (s >= 0 ? (s + 1) % 3 : -1)),
        3,
      );
      for (const [matrixSplit, matrixAlone] of [
        [shared, serial],
        [
          { ...shared, order: undefined },
          { ...serial, order: undefined },
        ],
      ] as const) {
        const first = propagateLabels(matrixSplit, y, 3, { alpha: 0.9 });
        const kept = Float32Array.from(first.scores);
        const second = propagateLabels(matrixSplit, other, 3, { alpha: 0.9 });
        expect(maxDifference(first.scores, kept)).toBe(0);
        expect(maxDifference(second.scores, first.scores)).toBeGreaterThan(0.01);
        expect(maxDifference(second.scores, propagateLabels(matrixAlone, other, 3, { alpha: 0.9 }).scores)).toBe(0);
      }
    },
  );
});

describe('a quick refit', () => {
  it('turns a confidently wrong blob after one label in it', async () => {
    // Two classes; a third blob (truly class 1) lies nearer class 0's blob, so the run on labels in
    // the first two blobs calls it class 0. One label in it, then a warm-started run (a quick refit):
    // the blob turns to class 1. A refit that kept the earlier heads and reran only correct and
    // smooth (tried for speed at a million images) left the whole blob at class 0: the graph alone
    // cannot overturn a confident head across a blob from one label.
    const random = seededRandom(11);
    const dim = 12;
    const centre = (shift: number): Float32Array =>
      Float32Array.from({ length: dim }, (_, j) => (j === 0 ? 1 : j === 1 ? shift : 0.2));
    const centres = [centre(0), centre(2), centre(0.35)];
    const perBlob = 150;
    const n = perBlob * 3;
    const data = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const blob = Math.floor(i / perBlob);
      for (let j = 0; j < dim; j++) data[i * dim + j] = centres[blob]![j]! + 0.12 * (random() - 0.5);
    }
    const features = matrix(n, dim, data);
    normalizeRows(features);
    const affinity = normalizedAffinity(await buildKnnGraph(math, features, 10), 10);
    const context = { math, features, affinity, classes: 2 };
    const seeds = new Int32Array(n).fill(-1);
    for (let t = 0; t < 5; t++) {
      seeds[t] = 0;
      seeds[perBlob + t] = 1;
    }
    /** Share of the third blob's unlabelled images suggested as class 1. */
    const blob3 = (scores: Float32Array): number => {
      let ones = 0;
      for (let i = 2 * perBlob + 1; i < n; i++) if (scores[i * 2 + 1]! > scores[i * 2]!) ones++;
      return ones / (perBlob - 1);
    };
    const config = PIPELINE_CONFIGS[0]!;
    const before = await runPipeline(context, seeds, config);
    expect(blob3(before.scores)).toBeLessThan(0.1);
    seeds[2 * perBlob] = 1;
    const quick = await runPipeline(context, seeds, config, before);
    expect(blob3(quick.scores)).toBeGreaterThan(0.9);
  });
});
