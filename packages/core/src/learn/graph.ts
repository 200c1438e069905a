/** @module The k-nearest-neighbour graph over all embeddings and its normalised affinity, the substrate of label propagation. */
import type { Matrix } from './matrix.js';
import type { Neighbours } from './ort-math.js';
import { PARALLEL_MIN_ROWS, sharedFloats, sharedInts } from './sparse-product.js';

export interface KnnGraph {
  readonly nodes: number;
  readonly k: number;
  /** Row-major [nodes, k]: each node's nearest other nodes, nearest first. */
  readonly indices: Int32Array;
  /** Row-major [nodes, k]: cosine similarity to them. */
  readonly scores: Float32Array;
}

/** Sparse symmetric matrix in compressed-row form. */
export interface SparseMatrix {
  readonly size: number;
  readonly rowStart: Int32Array;
  readonly columns: Int32Array;
  readonly values: Float32Array;
  /**
   * Row and column r of the stored matrix are node `order[r]` (`localityOrder`); absent, node r.
   * Whoever multiplies by it (propagate.ts) permutes its vectors to match.
   */
  readonly order?: Int32Array;
}

/**
 * Images of a graph build done so far, of its total (the images whose neighbours it finds): called
 * at the start, after each block of work, and once with done == total at the end.
 */
export type GraphStep = (done: number, total: number) => void;

/**
 * Turns the work of a build's searches, however many and of whatever sizes, into one count of
 * images (`total` in proportion to the work done), so a bar's rate and ETA hold across them.
 */
export class GraphProgress {
  #work = 0;
  #reported = -1;

  /** `work`: the build's whole work, in any unit that `advance` counts in too. */
  constructor(
    readonly total: number,
    readonly work: number,
    private readonly onStep: GraphStep | undefined,
  ) {
    this.#report();
  }

  advance(work: number): void {
    this.#work += work;
    this.#report();
  }

  /** The end, whatever the work's estimate said: done == total. */
  finish(): void {
    this.#work = this.work;
    this.#report();
  }

  #report(): void {
    if (!this.onStep) return;
    const done = this.work > 0 ? Math.min(this.total, Math.floor((this.total * this.#work) / this.work)) : 0;
    if (done === this.#reported) return;
    this.#reported = done;
    this.onStep(done, this.total);
  }
}

/**
 * Query rows per search call in a graph build: each block is a progress step, copied once into
 * ordinary memory (as shared-math.ts would copy it per searched block), 32 MiB at 1024-d.
 */
const QUERY_BLOCK = 8192;

/**
 * `search.topK` over blocks of `queries`, the same neighbours as one call; `onRows(rows)` after each
 * block. A block of shared memory goes in as an ordinary copy, once, instead of once per searched block.
 */
export async function topKInBlocks(
  search: NeighbourSearch,
  queries: Matrix,
  base: Matrix,
  k: number,
  onRows?: (rows: number) => void,
): Promise<Neighbours> {
  if (queries.rows <= QUERY_BLOCK) {
    const found = await search.topK(queries, base, k);
    onRows?.(queries.rows);
    return found;
  }
  let indices: Int32Array | undefined;
  let scores: Float32Array | undefined;
  let width = 0;
  const { cols } = queries;
  for (let start = 0; start < queries.rows; start += QUERY_BLOCK) {
    const rows = Math.min(QUERY_BLOCK, queries.rows - start);
    const data = queries.data.subarray(start * cols, (start + rows) * cols);
    const block = { rows, cols, data: data.buffer instanceof SharedArrayBuffer ? data.slice() : data };
    const part = await search.topK(block, base, k);
    width = part.k;
    indices ??= new Int32Array(queries.rows * width);
    scores ??= new Float32Array(queries.rows * width);
    indices.set(part.indices, start * width);
    scores.set(part.scores, start * width);
    onRows?.(rows);
  }
  return { indices: indices!, scores: scores!, k: width };
}

/**
 * Builds the graph of `features` (unit rows) by exact search, excluding each node itself; `onStep`
 * counts the images searched.
 */
export async function buildKnnGraph(
  math: NeighbourSearch,
  features: Matrix,
  k: number,
  onStep?: GraphStep,
): Promise<KnnGraph> {
  const progress = new GraphProgress(features.rows, features.rows, onStep);
  const found = await topKInBlocks(math, features, features, k + 1, (rows) => progress.advance(rows));
  const graph = dropSelf(found.indices, found.scores, features.rows, 0, found.k, k);
  progress.finish();
  return graph;
}

/** Finds, for each query row, the k rows of `base` with the largest dot product (exact: `OrtMath`; approximate: ann.ts). */
export interface NeighbourSearch {
  topK(queries: Matrix, base: Matrix, k: number): Promise<Neighbours>;
}

/**
 * Adds `features.rows - graph.nodes` new nodes (the last rows of `features`): searches their
 * neighbours among all nodes, and the old nodes' nearest new ones, which displace farther neighbours.
 * Two searches with the new rows on one side; with exact search, the graph a full build gives.
 * `onStep` counts the new images, both searches weighed by their products (query rows x searched rows).
 */
export async function extendKnnGraph(
  search: NeighbourSearch,
  graph: KnnGraph,
  features: Matrix,
  onStep?: GraphStep,
): Promise<KnnGraph> {
  const k = graph.k;
  const first = graph.nodes;
  if (features.rows === first) return graph;
  const added = {
    rows: features.rows - first,
    cols: features.cols,
    data: features.data.subarray(first * features.cols),
  };
  const progress = new GraphProgress(added.rows, added.rows * features.rows + first * added.rows, onStep);
  const found = await topKInBlocks(search, added, features, k + 1, (rows) => progress.advance(rows * features.rows));
  const fresh = dropSelf(found.indices, found.scores, added.rows, first, found.k, k);
  const old = { rows: first, cols: features.cols, data: features.data.subarray(0, first * features.cols) };
  const nearestNew = await topKInBlocks(search, old, added, k, (rows) => progress.advance(rows * added.rows));
  const extended = appendNodes(graph, fresh, nearestNew);
  progress.finish();
  return extended;
}

/**
 * The graph with `fresh` (rows for new nodes, numbered from `graph.nodes` on) appended, and each old
 * node's list merged with `nearestNew` (row-major [graph.nodes, nearestNew.k], indices into the new
 * nodes, nearest first): the k best of both, an old neighbour first on a tie.
 */
export function appendNodes(graph: KnnGraph, fresh: KnnGraph, nearestNew: Neighbours): KnnGraph {
  const { k, nodes: first } = graph;
  const n = first + fresh.nodes;
  const indices = new Int32Array(n * k);
  const scores = new Float32Array(n * k);
  indices.set(fresh.indices, first * k);
  scores.set(fresh.scores, first * k);
  const w = nearestNew.k;
  for (let i = 0; i < first; i++) {
    const o = i * k;
    let a = 0; // into the old list
    let b = 0; // into the new candidates
    for (let p = 0; p < k; p++) {
      const oldScore = graph.scores[o + a]!;
      const newIndex = b < w ? nearestNew.indices[i * w + b]! : -1;
      if (newIndex >= 0 && nearestNew.scores[i * w + b]! > oldScore) {
        indices[o + p] = first + newIndex;
        scores[o + p] = nearestNew.scores[i * w + b]!;
        b++;
      } else {
        indices[o + p] = graph.indices[o + a]!;
        scores[o + p] = oldScore;
        a++;
      }
    }
  }
  return { nodes: n, k, indices, scores };
}

/**
 * Rows [rows, k] without each row's own node (`r + offset`): a negative index (no neighbour found)
 * is skipped too, and rows with fewer than k others are padded with self at similarity 0.
 */
export function dropSelf(
  indices: Int32Array,
  scores: Float32Array,
  rows: number,
  offset: number,
  width: number,
  k: number,
): KnnGraph {
  const outIndices = new Int32Array(rows * k);
  const outScores = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    let w = 0;
    for (let j = 0; j < width && w < k; j++) {
      const idx = indices[r * width + j]!;
      if (idx === r + offset || idx < 0) continue;
      outIndices[r * k + w] = idx;
      outScores[r * k + w] = scores[r * width + j]!;
      w++;
    }
    // Fewer nodes than k: pad with self at similarity 0 (no weight).
    for (; w < k; w++) {
      outIndices[r * k + w] = r + offset;
      outScores[r * k + w] = 0;
    }
  }
  return { nodes: rows, k, indices: outIndices, scores: outScores };
}

/**
 * S = D^-1/2 (W + W^T) D^-1/2 with W_ij = max(0, cos_ij)^gamma over each node's first `k`
 * neighbours (Zhou et al. 2004, with the sharpened affinity of Iscen et al. 2019). Stored in
 * `localityOrder` unless `ordered` is false.
 */
export function normalizedAffinity(graph: KnnGraph, k = graph.k, gamma = 3, ordered = true): SparseMatrix {
  const affinity = affinityInNodeOrder(graph, k, gamma);
  return ordered ? permuteSymmetric(affinity, localityOrder(affinity)) : affinity;
}

/**
 * Nodes in breadth-first order over the graph (Cuthill & McKee 1969, without the degree sort), each
 * component from its lowest node: neighbours get nearby numbers, so a product with the matrix reads
 * its vector from nearby memory. In image order a node's neighbours lie anywhere in the pool, and at
 * a million images the vector outgrows the caches: measured 2-3x the CPU per propagation step of this
 * order (1M nodes, 10 classes, random neighbours within 10 interleaved clusters).
 */
export function localityOrder(matrix: SparseMatrix): Int32Array {
  const n = matrix.size;
  const order = new Int32Array(n);
  const seen = new Uint8Array(n);
  let head = 0;
  let tail = 0;
  for (let start = 0; start < n; start++) {
    if (seen[start]) continue;
    seen[start] = 1;
    order[tail++] = start;
    while (head < tail) {
      const u = order[head++]!;
      for (let p = matrix.rowStart[u]!; p < matrix.rowStart[u + 1]!; p++) {
        const v = matrix.columns[p]!;
        if (seen[v]) continue;
        seen[v] = 1;
        order[tail++] = v;
      }
    }
  }
  return order;
}

/** P S P^T for the permutation that puts node `order[r]` at r (a matrix in node order). */
function permuteSymmetric(matrix: SparseMatrix, order: Int32Array): SparseMatrix {
  const n = matrix.size;
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]!] = r;
  // In shared memory when products of it are split over two threads (sparse-product.ts).
  const shared = n >= PARALLEL_MIN_ROWS;
  const rowStart = shared ? sharedInts(n + 1) : new Int32Array(n + 1);
  for (let r = 0; r < n; r++) {
    const u = order[r]!;
    rowStart[r + 1] = rowStart[r]! + matrix.rowStart[u + 1]! - matrix.rowStart[u]!;
  }
  const columns = shared ? sharedInts(matrix.columns.length) : new Int32Array(matrix.columns.length);
  const values = shared ? sharedFloats(matrix.values.length) : new Float32Array(matrix.values.length);
  for (let r = 0; r < n; r++) {
    const u = order[r]!;
    let o = rowStart[r]!;
    for (let p = matrix.rowStart[u]!; p < matrix.rowStart[u + 1]!; p++, o++) {
      columns[o] = rank[matrix.columns[p]!]!;
      values[o] = matrix.values[p]!;
    }
  }
  return { size: n, rowStart, columns, values, order };
}

function affinityInNodeOrder(graph: KnnGraph, k: number, gamma: number): SparseMatrix {
  const n = graph.nodes;
  const kk = Math.min(k, graph.k);
  const degreeCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < kk; j++) {
      const t = graph.indices[i * graph.k + j]!;
      if (t === i) continue;
      degreeCount[i]!++;
      degreeCount[t]!++;
    }
  }
  const rowStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowStart[i + 1] = rowStart[i]! + degreeCount[i]!;
  const columns = new Int32Array(rowStart[n]!);
  const values = new Float32Array(rowStart[n]!);
  const fill = rowStart.slice(0, n);
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < kk; j++) {
      const t = graph.indices[i * graph.k + j]!;
      if (t === i) continue;
      const w = Math.pow(Math.max(0, graph.scores[i * graph.k + j]!), gamma);
      columns[fill[i]!] = t;
      values[fill[i]!++] = w;
      columns[fill[t]!] = i;
      values[fill[t]!++] = w;
      degree[i]! += w;
      degree[t]! += w;
    }
  }
  for (let i = 0; i < n; i++) {
    const di = degree[i]! > 0 ? 1 / Math.sqrt(degree[i]!) : 0;
    for (let p = rowStart[i]!; p < rowStart[i + 1]!; p++) {
      const dj = degree[columns[p]!]!;
      values[p] = dj > 0 ? (values[p]! * di) / Math.sqrt(dj) : 0;
    }
  }
  return mergeDuplicates({ size: n, rowStart, columns, values });
}

/**
 * One entry per (row, column): a pair of mutual neighbours is written once from each side, and the two
 * entries become one with their sum (the same matrix, fewer reads per product: 19% of the entries on
 * tf_flowers' MobileNetV1 graph, k = 10).
 */
function mergeDuplicates(m: SparseMatrix): SparseMatrix {
  const n = m.size;
  const { rowStart, columns, values } = m;
  const at = new Int32Array(n).fill(-1); // where column j went in the current row
  // In place: the write position never passes the read position.
  let o = 0;
  let read = rowStart[0]!;
  for (let i = 0; i < n; i++) {
    const first = o;
    const end = rowStart[i + 1]!;
    for (; read < end; read++) {
      const j = columns[read]!;
      if (at[j]! >= first) {
        values[at[j]!]! += values[read]!;
        continue;
      }
      at[j] = o;
      columns[o] = j;
      values[o++] = values[read]!;
    }
    rowStart[i + 1] = o;
  }
  return { size: n, rowStart, columns: columns.subarray(0, o), values: values.subarray(0, o) };
}
