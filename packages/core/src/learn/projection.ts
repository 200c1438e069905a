/**
 * @module A 2-D map of every image for people to look at: UMAP (McInnes et al. 2018, umap-js) laid out
 * from the k-NN graph already built for learning, so no distances are computed again; past
 * `MAP_SAMPLE` images, UMAP of a sample with the rest placed by their neighbours.
 */
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

export interface LearnerMapInput {
  readonly math: OrtMath;
  /** Unit rows, the learner's features. */
  readonly features: Matrix;
  readonly graph: KnnGraph;
  /** A stratum per row (a class, say; -1 for none): the sample takes from each in proportion, and at least a few. */
  readonly strata?: Int32Array;
}

/**
 * The map of every image at any size: up to `sample` images (default `MAP_SAMPLE`), a stratified random
 * sample, are laid out by UMAP over their own k-NN graph; every other image goes to the similarity-
 * weighted mean of its placed neighbours in the learner's graph, in passes outwards from the sample (a
 * landmark layout, as in landmark MDS, de Silva & Tenenbaum 2003); images no pass reaches go to their
 * nearest sampled images. The cost stops growing with the pool but for the placement (n k per pass).
 */
export async function projectLearnerMap(
  input: LearnerMapInput,
  options: ProjectionOptions & { readonly sample?: number } = {},
): Promise<Float32Array> {
  const { features, graph } = input;
  const n = graph.nodes;
  const size = options.sample ?? MAP_SAMPLE;
  if (n <= size) return projectGraph(graph, options);
  const sample = stratifiedSample(n, size, input.strata, options.seed ?? 1);
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
  return xy;
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

/** `size` distinct rows, sorted: from each stratum its share of `size`, at least min(its size, 20); seeded. */
function stratifiedSample(n: number, size: number, strata: Int32Array | undefined, seed: number): Int32Array {
  const random = seededRandom(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const s = strata?.[i] ?? 0;
    let group = groups.get(s);
    if (!group) groups.set(s, (group = []));
    group.push(i);
  }
  const chosen: number[] = [];
  for (const rows of groups.values()) {
    const want = Math.min(rows.length, Math.max(20, Math.round((size * rows.length) / n)));
    // A partial Fisher-Yates shuffle: the first `want` rows are a uniform draw.
    for (let i = 0; i < want; i++) {
      const k = i + Math.floor(random() * (rows.length - i));
      [rows[i], rows[k]] = [rows[k]!, rows[i]!];
      chosen.push(rows[i]!);
    }
  }
  return Int32Array.from(chosen).sort();
}
