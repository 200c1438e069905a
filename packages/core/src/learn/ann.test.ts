import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { approximateKnnGraph, HnswIndex } from './ann.js';
import { buildKnnGraph, extendKnnGraph, type KnnGraph } from './graph.js';
import { Learner } from './learner.js';
import { matrix, type Matrix, normalizeRows } from './matrix.js';
import { OrtMath } from './ort-math.js';

/** Unit rows in `classes` clusters (non-negative, like pooled ReLU features), centred so cosines spread. */
function clustered(n: number, dim: number, classes: number, spread: number, seed = 1): Matrix {
  const random = seededRandom(seed);
  const centres = Float32Array.from({ length: classes * dim }, () => random());
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    for (let j = 0; j < dim; j++) data[i * dim + j] = Math.max(0, centres[c * dim + j]! + spread * (random() - 0.5));
  }
  const mean = new Float32Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += data[i * dim + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) data[i * dim + j]! -= mean[j]!;
  return normalizeRows(matrix(n, dim, data));
}

/** Share of each node's exact k neighbours that `graph` found too. */
function recall(graph: KnnGraph, exact: KnnGraph): number {
  const k = exact.k;
  let hits = 0;
  for (let i = 0; i < exact.nodes; i++) {
    const found = new Set(graph.indices.subarray(i * k, (i + 1) * k));
    for (const t of exact.indices.subarray(i * k, (i + 1) * k)) if (found.has(t)) hits++;
  }
  return hits / (exact.nodes * k);
}

const math = new OrtMath({ threads: 1 });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autolabel-ann-'));
});
afterAll(async () => {
  await math.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (n: number, first = 1): Int32Array => Int32Array.from({ length: n }, (_, i) => first + 3 * i);

describe('extending the k-NN graph', () => {
  it('gives the graph a full exact build gives, neighbours and scores', async () => {
    const x = clustered(600, 24, 5, 1.5, 2);
    const full = await buildKnnGraph(math, x, 10);
    const head = matrix(500, x.cols, x.data.slice(0, 500 * x.cols));
    const extended = await extendKnnGraph(math, await buildKnnGraph(math, head, 10), x);
    expect(extended.nodes).toBe(600);
    expect(recall(extended, full)).toBe(1);
    for (let p = 0; p < full.scores.length; p++) expect(extended.scores[p]).toBeCloseTo(full.scores[p]!, 5);
    // Old nodes did gain new neighbours (else the test would not test the merge).
    expect(extended.indices.subarray(0, 500 * 10).some((t) => t >= 500)).toBe(true);
  });
});

describe('approximate neighbours (HNSW)', () => {
  it('finds almost all exact neighbours of a clustered set', async () => {
    const x = clustered(4000, 64, 10, 1.5, 3);
    const exact = await buildKnnGraph(math, x, 20);
    const { graph, index } = await approximateKnnGraph({
      features: x,
      ids: ids(4000),
      modelId: 'm',
      k: 20,
      exact: math,
    });
    expect(index).toBe('built');
    expect(graph.indices.every((t, p) => t !== Math.floor(p / 20))).toBe(true); // never itself
    expect(recall(graph, exact)).toBeGreaterThan(0.95);
    // Scores are the cosines themselves (usearch's distance is 1 - dot), to float16 precision.
    for (const p of [0, 1234, 79_999]) {
      const [i, t] = [Math.floor(p / 20), graph.indices[p]!];
      let dot = 0;
      for (let j = 0; j < x.cols; j++) dot += x.data[i * x.cols + j]! * x.data[t * x.cols + j]!;
      expect(Math.abs(graph.scores[p]! - dot)).toBeLessThan(3e-3);
    }
  });

  it('keeps its index in the cache folder, keyed by image id, and images added later join it', async () => {
    const x = clustered(3000, 32, 6, 1.5, 4);
    const file = join(dir, 'persist.usearch');
    const all = ids(3000, 10);
    const head = matrix(2700, x.cols, x.data.slice(0, 2700 * x.cols));
    const first = await approximateKnnGraph({
      features: head,
      ids: all.subarray(0, 2700),
      modelId: 'm',
      k: 10,
      file,
      exact: math,
    });
    expect(first.index).toBe('built');
    const saved = await HnswIndex.open(file, { modelId: 'm', dim: 32 });
    expect(saved?.size).toBe(2700);
    expect([...saved!.keys.subarray(0, 3)]).toEqual([10, 13, 16]);

    const again = await approximateKnnGraph({
      features: head,
      ids: all.subarray(0, 2700),
      modelId: 'm',
      k: 10,
      file,
      exact: math,
    });
    expect(again.index).toBe('loaded');
    expect(recall(again.graph, first.graph)).toBeGreaterThan(0.99);

    // 300 new images: searched in the index; old nodes take their nearest new ones.
    const extended = await approximateKnnGraph({
      features: x,
      ids: all,
      modelId: 'm',
      k: 10,
      file,
      previous: first.graph,
      exact: math,
    });
    expect(extended.index).toBe('extended');
    expect((await HnswIndex.open(file, { modelId: 'm', dim: 32 }))?.size).toBe(3000);
    const exact = await buildKnnGraph(math, x, 10);
    expect(recall(extended.graph, exact)).toBeGreaterThan(0.95);
    expect(extended.graph.indices.subarray(0, 2700 * 10).some((t) => t >= 2700)).toBe(true);
  });

  it('extends a graph by many new images through a throwaway index of the new rows', async () => {
    const x = clustered(3600, 24, 6, 1.5, 7);
    const head = matrix(2400, x.cols, x.data.slice(0, 2400 * x.cols));
    const previous = await buildKnnGraph(math, head, 10);
    const extended = await approximateKnnGraph({
      features: x,
      ids: ids(3600),
      modelId: 'm',
      k: 10,
      previous,
      exact: math,
    });
    expect(extended.graph.nodes).toBe(3600);
    expect(recall(extended.graph, await buildKnnGraph(math, x, 10))).toBeGreaterThan(0.95);
  });

  it('never uses an index of another model, width or image set, nor a damaged one: it is rebuilt', async () => {
    const x = clustered(800, 16, 4, 1.5, 5);
    const file = join(dir, 'stale.usearch');
    await approximateKnnGraph({ features: x, ids: ids(800), modelId: 'model-a', k: 8, file, exact: math });
    expect(await HnswIndex.open(file, { modelId: 'model-b', dim: 16 })).toBeUndefined();
    expect(await HnswIndex.open(file, { modelId: 'model-a', dim: 32 })).toBeUndefined();
    // The same count of images, but not the same images: rebuilt, and then valid for them.
    const other = await approximateKnnGraph({
      features: x,
      ids: ids(800, 5),
      modelId: 'model-a',
      k: 8,
      file,
      exact: math,
    });
    expect(other.index).toBe('built');
    expect((await HnswIndex.open(file, { modelId: 'model-a', dim: 16 }))?.keys[0]).toBe(5);
    await writeFile(file, 'not an index');
    expect(await HnswIndex.open(file, { modelId: 'model-a', dim: 16 })).toBeUndefined();
    const rebuilt = await approximateKnnGraph({
      features: x,
      ids: ids(800, 5),
      modelId: 'model-a',
      k: 8,
      file,
      exact: math,
    });
    expect(rebuilt.index).toBe('built');
    expect(recall(rebuilt.graph, await buildKnnGraph(math, x, 8))).toBeGreaterThan(0.95);
  });

  it('serves a learner forced approximate: graph and index cached in the workspace, extended when images come', async () => {
    const x = clustered(2000, 32, 5, 1.5, 6);
    const cacheDir = join(dir, 'learner-cache');
    const set = (n: number) => ({
      modelId: 'builtin:test',
      dtype: 'float32' as const,
      dim: x.cols,
      imageIds: Int32Array.from({ length: n }, (_, i) => i + 1),
      vectors: x.data.slice(0, n * x.cols),
    });
    const open = async (n: number) => {
      const learner = await Learner.create(set(n), { cacheDir, neighbours: 'approximate', threads: 1 });
      await learner.close();
      return learner.graphInfo;
    };
    expect(await open(1800)).toMatchObject({ how: 'built', search: 'approximate' });
    const files = (await readdir(cacheDir)).sort();
    expect(files.some((f) => f.endsWith('.usearch'))).toBe(true);
    expect(files.some((f) => f.endsWith('.usearch.keys'))).toBe(true);
    expect(await open(1800)).toMatchObject({ how: 'cached', search: 'approximate' });
    expect(await open(2000)).toMatchObject({ how: 'extended', search: 'approximate' });
    const exact = await Learner.create(set(2000), { neighbours: 'exact', threads: 1 });
    await exact.close();
    expect(exact.graphInfo.search).toBe('exact');
  });
});
