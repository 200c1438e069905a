/** @module The k-nearest-neighbour graph over all embeddings and its normalised affinity, the substrate of label propagation. */
import { type Matrix, rowOf } from './matrix.js';
import type { OrtMath } from './ort-math.js';

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
}

/** Builds the graph of `features` (unit rows) by exact search, excluding each node itself. */
export async function buildKnnGraph(math: OrtMath, features: Matrix, k: number): Promise<KnnGraph> {
  const found = await math.topK(features, features, k + 1);
  return dropSelf(found.indices, found.scores, features.rows, 0, found.k, k);
}

/**
 * Adds `features.rows - graph.nodes` new nodes (the last rows of `features`): searches their
 * neighbours and lets them displace farther neighbours of the old nodes. Costs one pass over the new rows.
 */
export async function extendKnnGraph(math: OrtMath, graph: KnnGraph, features: Matrix): Promise<KnnGraph> {
  const k = graph.k;
  const n = features.rows;
  const first = graph.nodes;
  if (n === first) return graph;
  const added = { rows: n - first, cols: features.cols, data: features.data.subarray(first * features.cols) };
  const found = await math.topK(added, features, k + 1);
  const fresh = dropSelf(found.indices, found.scores, added.rows, first, found.k, k);
  const indices = new Int32Array(n * k);
  const scores = new Float32Array(n * k);
  indices.set(graph.indices);
  scores.set(graph.scores);
  indices.set(fresh.indices, first * k);
  scores.set(fresh.scores, first * k);
  // An old node gains a new neighbour when the new node beats its current k-th.
  for (let a = first; a < n; a++) {
    const qa = rowOf(features, a);
    for (let i = 0; i < first; i++) {
      const qi = rowOf(features, i);
      let s = 0;
      for (let j = 0; j < qa.length; j++) s += qa[j]! * qi[j]!;
      const o = i * k;
      if (s <= scores[o + k - 1]!) continue;
      let p = k - 1;
      while (p > 0 && scores[o + p - 1]! < s) {
        scores[o + p] = scores[o + p - 1]!;
        indices[o + p] = indices[o + p - 1]!;
        p--;
      }
      scores[o + p] = s;
      indices[o + p] = a;
    }
  }
  return { nodes: n, k, indices, scores };
}

function dropSelf(
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
      if (idx === r + offset) continue;
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
 * neighbours (Zhou et al. 2004, with the sharpened affinity of Iscen et al. 2019).
 */
export function normalizedAffinity(graph: KnnGraph, k = graph.k, gamma = 3): SparseMatrix {
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
  return { size: n, rowStart, columns, values };
}
