/**
 * @module A 2-D map of every image for people to look at: UMAP (McInnes et al. 2018, umap-js) laid out
 * from the k-NN graph already built for learning, so no distances are computed again.
 */
import { seededRandom } from '../util/random.js';
import type { KnnGraph } from './graph.js';

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
