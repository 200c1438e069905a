/**
 * @module A 2-D map of every image for people to look at: UMAP (McInnes et al. 2018, umap-js) laid out
 * from the k-NN graph already built for learning, so no distances are computed again; past
 * `MAP_SAMPLE` images, UMAP of a stratified sample with the rest placed by their neighbours.
 */
import { sphericalKMeans } from './kmeans.js';
import { seededRandom } from '../util/random.js';
import { buildKnnGraph, type KnnGraph } from './graph.js';
import { type Matrix, selectRows } from './matrix.js';
import type { OrtMath } from './ort-math.js';

export interface ProjectionOptions {
  readonly seed?: number;
  /** Neighbours per point (at most the graph's k); default 15. */
  readonly neighbours?: number;
  /** Called between optimisation epochs; the layout yields to the event loop there. */
  readonly onEpoch?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Row-major [nodes, 2] coordinates, scaled into [-1, 1]. */
export async function projectGraph(graph: KnnGraph, options: ProjectionOptions = {}): Promise<Float32Array> {
  const n = graph.nodes;
  const k = Math.min(options.neighbours ?? 15, graph.k);
  if (n <= k + 1) return Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? Math.cos(i) : Math.sin(i)));
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let i = 0; i < n; i++) {
    indices.push([i, ...graph.indices.subarray(i * graph.k, i * graph.k + k)].slice(0, k));
    distances.push(
      [0, ...[...graph.scores.subarray(i * graph.k, i * graph.k + k)].map((s) => Math.max(0, 1 - s))].slice(0, k),
    );
  }
  // umap-js loads with the first map, not when core is imported.
  const { UMAP } = await import('umap-js');
  const umap = new UMAP({ nComponents: 2, nNeighbors: k, minDist: 0.1, random: seededRandom(options.seed ?? 1) });
  umap.setPrecomputedKNN(indices, distances);
  // The layout needs only the neighbours; the points themselves are never read again.
  const placeholder = Array.from({ length: n }, () => [0]);
  const epochs = umap.initializeFit(placeholder);
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (options.signal?.aborted) throw options.signal.reason;
    umap.step();
    options.onEpoch?.(epoch + 1, epochs);
    if (epoch % 5 === 4) await new Promise((resolve) => setImmediate(resolve));
  }
  const embedding = umap.getEmbedding();
  let scale = 0;
  const centre = [0, 0];
  for (const [x, y] of embedding) {
    centre[0]! += x! / n;
    centre[1]! += y! / n;
  }
  for (const [x, y] of embedding) scale = Math.max(scale, Math.abs(x! - centre[0]!), Math.abs(y! - centre[1]!));
  const out = new Float32Array(2 * n);
  embedding.forEach(([x, y], i) => {
    out[2 * i] = (x! - centre[0]!) / (scale || 1);
    out[2 * i + 1] = (y! - centre[1]!) / (scale || 1);
  });
  return out;
}

/** Images laid out by UMAP itself; the rest are placed from their neighbours (`projectLearnerMap`). */
export const MAP_SAMPLE = 10_000;

/** Every stratum's least share of the sample (all of it when smaller), so small classes appear in the layout. */
export const MIN_STRATUM_SHARE = 20;
/**
 * k-means cells that stand in for classes where a row's class is not known: as many as the sample
 * gives each `MIN_STRATUM_SHARE` from half of it, 64 at most (250 images a cell in a sample of 10,000).
 */
export const MAP_CELLS = 64;
/** Rows the cells are fitted on (evenly spaced); every row is then assigned to its nearest centroid. */
const CELL_FIT_ROWS = 20_000;

export interface LearnerMapInput {
  readonly math: OrtMath;
  /** Unit rows, the learner's features. */
  readonly features: Matrix;
  readonly graph: KnnGraph;
  /**
   * A stratum per row: its class (label, or suggestion) where known, -1 where not (those rows are
   * stratified by k-means cell, as every row is without `strata`).
   */
  readonly strata?: Int32Array;
}

/**
 * The map of every image at any size: up to `sample` images (default `MAP_SAMPLE`), a stratified random
 * sample (`mapSample`), are laid out by UMAP over their own k-NN graph; every other image goes to the similarity-
 * weighted mean of its placed neighbours in the learner's graph, in passes outwards from the sample (a
 * landmark layout, as in landmark MDS, de Silva & Tenenbaum 2003); images no pass reaches go to their
 * nearest sampled images. The cost stops growing with the pool but for the placement (n k per pass).
 */
export async function projectLearnerMap(
  input: LearnerMapInput,
  options: ProjectionOptions & { readonly sample?: number } = {},
): Promise<Float32Array> {
  return (await layoutLearnerMap(input, options)).xy;
}

export interface MapLayout {
  /** Row-major [nodes, 2], in [-1, 1] (placed images may sit a little outside). */
  readonly xy: Float32Array;
  /** The rows UMAP laid out (`mapSample`), sorted; every row when the pool is no bigger than the sample. */
  readonly sample: Int32Array;
}

/** `projectLearnerMap`, with the rows its UMAP laid out. */
export async function layoutLearnerMap(
  input: LearnerMapInput,
  options: ProjectionOptions & { readonly sample?: number } = {},
): Promise<MapLayout> {
  const { features, graph } = input;
  const n = graph.nodes;
  const size = options.sample ?? MAP_SAMPLE;
  const sample = await mapSample(input, size, options.seed ?? 1);
  if (n <= size) return { xy: await projectGraph(graph, options), sample };
  const sampleGraph = await buildKnnGraph(input.math, selectRows(features, sample), Math.min(15, graph.k));
  const laid = await projectGraph(sampleGraph, options);
  const xy = new Float32Array(2 * n);
  const placed = new Uint8Array(n);
  sample.forEach((row, i) => {
    xy[2 * row] = laid[2 * i]!;
    xy[2 * row + 1] = laid[2 * i + 1]!;
    placed[row] = 1;
  });
  let left = n - sample.length;
  // Placed in earlier passes only (not earlier in the same pass), so the result does not depend on row order.
  for (let pass = 0; pass < 32 && left > 0; pass++) {
    const now: number[] = [];
    for (let i = 0; i < n; i++) if (!placed[i] && placeFromNeighbours(graph, xy, placed, i)) now.push(i);
    if (now.length === 0) break;
    for (const i of now) placed[i] = 1;
    left -= now.length;
  }
  if (left > 0) {
    // Parts of the graph no sampled image reaches: their nearest sampled images instead.
    const rows = Int32Array.from({ length: n }, (_, i) => i).filter((i) => !placed[i]);
    const found = await input.math.topK(
      selectRows(features, rows),
      selectRows(features, sample),
      Math.min(5, sample.length),
    );
    rows.forEach((row, r) => {
      let x = 0;
      let y = 0;
      let total = 0;
      for (let j = 0; j < found.k; j++) {
        const w = Math.max(1e-6, found.scores[r * found.k + j]!);
        const s = sample[found.indices[r * found.k + j]!]!;
        x += w * xy[2 * s]!;
        y += w * xy[2 * s + 1]!;
        total += w;
      }
      xy[2 * row] = x / total;
      xy[2 * row + 1] = y / total;
    });
  }
  return { xy, sample };
}

/**
 * Row `i` at the weighted mean of its neighbours placed so far (weights: similarity cubed, as the
 * propagation graph's), nudged by a small seeded offset so images with the same neighbours do not stack.
 */
function placeFromNeighbours(graph: KnnGraph, xy: Float32Array, placed: Uint8Array, i: number): boolean {
  let x = 0;
  let y = 0;
  let total = 0;
  for (let j = 0; j < graph.k; j++) {
    const t = graph.indices[i * graph.k + j]!;
    if (t === i || placed[t] !== 1) continue;
    const w = Math.max(1e-6, graph.scores[i * graph.k + j]!) ** 3;
    x += w * xy[2 * t]!;
    y += w * xy[2 * t + 1]!;
    total += w;
  }
  if (total === 0) return false;
  const jitter = 0.004;
  xy[2 * i] = x / total + jitter * (((i * 2654435761) % 1000) / 1000 - 0.5);
  xy[2 * i + 1] = y / total + jitter * (((i * 40503) % 1000) / 1000 - 0.5);
  return true;
}

/**
 * The rows UMAP lays out: `size` distinct rows, sorted, drawn at random (seeded) within strata: each
 * row's class where `input.strata` knows it, else its k-means cell (up to `MAP_CELLS`, deterministic).
 * Every stratum gets `MIN_STRATUM_SHARE` rows (all of a smaller one) and the rest of the sample in
 * proportion to its size, so a class of 1% has its 1% and a class of ten images all ten.
 */
export async function mapSample(input: LearnerMapInput, size: number, seed: number): Promise<Int32Array> {
  const n = input.graph.nodes;
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const strata = Int32Array.from({ length: n }, (_, i) => input.strata?.[i] ?? -1);
  if (strata.some((s) => s < 0)) {
    const cells = await cellsOf(input.math, input.features, cellCount(size), seed);
    // Cells after the classes: -1 - cell never meets a class's number.
    for (let i = 0; i < n; i++) if (strata[i]! < 0) strata[i] = -1 - cells[i]!;
  }
  return stratifiedSample(strata, size, seed);
}

function cellCount(size: number): number {
  return Math.max(2, Math.min(MAP_CELLS, Math.floor(size / (2 * MIN_STRATUM_SHARE))));
}

/** Each row's spherical k-means cell, the cells fitted on evenly spaced rows. */
async function cellsOf(math: OrtMath, features: Matrix, cells: number, seed: number): Promise<Int32Array> {
  const n = features.rows;
  const fitRows = Int32Array.from({ length: Math.min(n, CELL_FIT_ROWS) }, (_, i) =>
    Math.floor((i * n) / Math.min(n, CELL_FIT_ROWS)),
  );
  const { centroids } = await sphericalKMeans(math, selectRows(features, fitRows), cells, {
    seed,
    iterations: 10,
  });
  const found = await math.topK(features, centroids, 1);
  return found.indices;
}

/** `size` distinct rows, sorted, of `strata` (one number per row): each stratum its share (`mapSample`); seeded. */
export function stratifiedSample(strata: Int32Array, size: number, seed: number): Int32Array {
  const n = strata.length;
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let group = groups.get(strata[i]!);
    if (!group) groups.set(strata[i]!, (group = []));
    group.push(i);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const counts = keys.map((key) => groups.get(key)!.length);
  const shares = allocate(counts, size);
  const random = seededRandom(seed);
  const chosen: number[] = [];
  keys.forEach((key, g) => {
    const rows = groups.get(key)!;
    const want = shares[g]!;
    // A partial Fisher-Yates shuffle: the first `want` rows are a uniform draw.
    for (let i = 0; i < want; i++) {
      const k = i + Math.floor(random() * (rows.length - i));
      [rows[i], rows[k]] = [rows[k]!, rows[i]!];
      chosen.push(rows[i]!);
    }
  });
  return Int32Array.from(chosen).sort();
}

/**
 * Shares of `size` (< the sum of `counts`) that add up to it: a floor of `MIN_STRATUM_SHARE` each (less
 * when there are so many strata that floors would take over half the sample), the rest in proportion
 * to what each has left, largest remainders rounded up.
 */
function allocate(counts: readonly number[], size: number): number[] {
  const floor = Math.min(MIN_STRATUM_SHARE, Math.floor(size / (2 * counts.length)));
  const shares = counts.map((c) => Math.min(c, floor));
  const rest = size - shares.reduce((a, b) => a + b, 0);
  const left = counts.map((c, g) => c - shares[g]!);
  const rows = left.reduce((a, b) => a + b, 0);
  const exact = left.map((l) => (rest * l) / rows);
  exact.forEach((e, g) => (shares[g]! += Math.floor(e)));
  let short = size - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((e, g) => [e - Math.floor(e), g] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, g] of order) {
    if (short === 0) break;
    if (shares[g]! < counts[g]!) {
      shares[g]!++;
      short--;
    }
  }
  return shares;
}
