/** @module Label propagation: solves (I - alpha S) Z = Y by conjugate gradient (Zhou et al. 2004; Iscen et al. 2019). */
import type { SparseMatrix } from './graph.js';
import { cgPasses, dotRows, HelperStopped, sharedFloats, sparseProduct, splitsProducts } from './sparse-product.js';

export interface PropagateOptions {
  /** Weight of the graph against the given labels, in (0, 1). */
  readonly alpha?: number;
  readonly maxIterations?: number;
  /** Stop when every column's residual norm falls below this fraction of its right-hand side's. */
  readonly tolerance?: number;
  /** A previous solution to start from (row-major [nodes, classes]); makes small label changes cheap. */
  readonly start?: Float32Array;
}

export interface Propagation {
  /** Row-major [nodes, classes], unnormalised class scores. */
  readonly scores: Float32Array;
  readonly iterations: number;
}

/**
 * Y for hard labels: `seeds[i]` is the class index of a labelled node or -1. Each class's column is
 * scaled by 1/(its label count) so a class with many labels does not flood the graph.
 */
export function seedMatrix(seeds: Int32Array, classes: number): Float32Array {
  const counts = new Float64Array(classes);
  for (const s of seeds) if (s >= 0) counts[s]!++;
  const y = new Float32Array(seeds.length * classes);
  for (let i = 0; i < seeds.length; i++) {
    const s = seeds[i]!;
    if (s >= 0) y[i * classes + s] = 1 / counts[s]!;
  }
  return y;
}

/** Z = (I - alpha S)^-1 Y for row-major Y [nodes, classes]: hard seeds (`seedMatrix`) or soft scores to smooth. */
export function propagateLabels(
  affinity: SparseMatrix,
  y: Float32Array,
  classes: number,
  options: PropagateOptions = {},
): Propagation {
  const { order } = affinity;
  if (!order) {
    const { scores, iterations } = solve(affinity, y, classes, options);
    // A shared solution is the solver's own vector, which its next solve overwrites (`solverVectors`).
    return { scores: scores.buffer instanceof SharedArrayBuffer ? scores.slice() : scores, iterations };
  }
  // The solve runs in the matrix's order (graph.ts `localityOrder`), its vectors permuted to match.
  const start = options.start && gatherRows(options.start, order, classes);
  const { scores, iterations } = solve(affinity, gatherRows(y, order, classes), classes, { ...options, start });
  return { scores: scatterRows(scores, order, classes), iterations };
}

/**
 * The solver's four vectors for products split over the helper thread, one set per matrix and
 * width, kept from solve to solve. Fresh shared vectors for every solve were garbage that the helper
 * thread, which allocates next to nothing and so seldom collects, kept alive: a cross-validated fit
 * at 1M images peaked at 4.7-5.0 GB, about 2.7 GB of it old solver vectors (2.2 GB with them kept).
 */
const solverScratch = new WeakMap<SparseMatrix, { width: number; vectors: Float32Array[] }>();

function solverVectors(affinity: SparseMatrix, width: number): Float32Array[] {
  if (!splitsProducts(affinity)) return Array.from({ length: 4 }, () => new Float32Array(affinity.size * width));
  let kept = solverScratch.get(affinity);
  if (kept?.width !== width) {
    kept = { width, vectors: Array.from({ length: 4 }, () => sharedFloats(affinity.size * width)) };
    solverScratch.set(affinity, kept);
  }
  return kept.vectors;
}

/** Row r of the result is row `order[r]` of `x` ([rows, width], row-major). */
function gatherRows(x: Float32Array, order: Int32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < order.length; r++) {
    const from = order[r]! * width;
    for (let j = 0; j < width; j++) out[r * width + j] = x[from + j]!;
  }
  return out;
}

/** The inverse of `gatherRows`. */
function scatterRows(x: Float32Array, order: Int32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < order.length; r++) {
    const to = order[r]! * width;
    for (let j = 0; j < width; j++) out[to + j] = x[r * width + j]!;
  }
  return out;
}

function solve(affinity: SparseMatrix, y: Float32Array, classes: number, options: PropagateOptions): Propagation {
  try {
    return solveOnce(affinity, y, classes, options);
  } catch (error) {
    // Half of an iteration's vectors may be stale: start again; the retired helper is not asked again.
    if (error instanceof HelperStopped) return solveOnce(affinity, y, classes, options);
    throw error;
  }
}

function solveOnce(affinity: SparseMatrix, y: Float32Array, classes: number, options: PropagateOptions): Propagation {
  const alpha = options.alpha ?? 0.99;
  const n = affinity.size;
  const c = classes;
  const apply = sparseProduct(affinity, alpha, c);
  // The vectors the product reads and writes: shared with its helper thread when it has one.
  const [z, r, p, ap] = solverVectors(affinity, c) as [Float32Array, Float32Array, Float32Array, Float32Array];
  // Each iteration's three passes over the vectors, split over the helper thread like the product.
  const passes = cgPasses(affinity, alpha, c, { z, r, p, ap });
  if (options.start) z.set(options.start);
  else z.fill(0);
  apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] = y[i]! - r[i]!;
  p.set(r);
  const rr = columnDots(r, r, n, c);
  const target = columnDots(y, y, n, c).map((v) => v * (options.tolerance ?? 1e-4) ** 2);
  const maxIterations = options.maxIterations ?? 100;
  let iterations = 0;
  while (iterations < maxIterations && rr.some((v, j) => v > target[j]!)) {
    const pap = passes.productDot();
    const next = passes.update(rr.map((v, j) => (pap[j]! > 0 ? v / pap[j]! : 0)));
    passes.direction(next.map((v, j) => (rr[j]! > 0 ? v / rr[j]! : 0)));
    rr.set(next);
    iterations++;
  }
  return { scores: z, iterations };
}

function columnDots(a: Float32Array, b: Float32Array, n: number, c: number): Float64Array {
  const sums = new Float64Array(c);
  dotRows(a, b, c, 0, n, sums);
  return sums;
}
