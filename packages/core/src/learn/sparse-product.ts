/**
 * @module out = (I - alpha S) x for the propagation solvers (propagate.ts), and the conjugate
 * gradient's passes over its vectors, split over two threads for large graphs. The product is bound
 * by memory reads (each row gathers its neighbours' rows of x), so a second core doubles the reads
 * in flight; the vector passes stream four vectors, and split the same way. The helper thread
 * blocks on a shared counter between passes, the caller on another: a hand-off costs microseconds,
 * and the solvers stay synchronous. The matrix and the vectors live in shared memory (`sharedFloats`,
 * `sharedInts`).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { workerUrl } from '../embed/backends/worker-slot.js';
import type { SparseMatrix } from './graph.js';

/** From this many nodes on, graphs are built in shared memory and their products use the helper thread. */
export const PARALLEL_MIN_ROWS = 50_000;

/** How long the caller waits for the helper's half of one product before it stops the helper and does the rows itself. */
const HELPER_TIMEOUT_MS = 120_000;

/** Slots of the control array (here and in the helper): passes asked for, passes done, helper ready, the pass asked for. */
export const ASKED = 0;
export const DONE = 1;
export const READY = 2;
export const PASS = 3;

/** The passes the helper runs over its rows (the PASS slot). */
export const PASSES = ['product', 'productDot', 'update', 'direction'] as const;
export type Pass = (typeof PASSES)[number];

/** Rows `begin` .. `end` of out = (I - alpha S) x, x and out row-major [nodes, width]. */
export function productRows(
  matrix: SparseMatrix,
  alpha: number,
  x: Float32Array,
  out: Float32Array,
  width: number,
  begin: number,
  end: number,
): void {
  const { rowStart, columns, values } = matrix;
  const row = new Float64Array(width);
  for (let i = begin, o = begin * width; i < end; i++, o += width) {
    // One row at a time in a small accumulator that stays in cache.
    for (let j = 0; j < width; j++) row[j] = x[o + j]!;
    const last = rowStart[i + 1]!;
    for (let p = rowStart[i]!; p < last; p++) {
      const w = alpha * values[p]!;
      const q = columns[p]! * width;
      for (let j = 0; j < width; j++) row[j]! -= w * x[q + j]!;
    }
    for (let j = 0; j < width; j++) out[o + j] = row[j]!;
  }
}

/** sums[j] += sum over rows begin .. end of a[i, j] * b[i, j] (row-major [nodes, width]). */
export function dotRows(
  a: Float32Array,
  b: Float32Array,
  width: number,
  begin: number,
  end: number,
  sums: Float64Array,
): void {
  for (let o = begin * width; o < end * width; o += width) {
    for (let j = 0; j < width; j++) sums[j]! += a[o + j]! * b[o + j]!;
  }
}

/**
 * The solver's step over rows begin .. end: z += step p and r -= step ap per column (r stored as
 * float32), with the new residual's squares summed into `sums` in the same pass.
 */
export function updateRows(
  vectors: CgVectors,
  step: Float64Array,
  width: number,
  begin: number,
  end: number,
  sums: Float64Array,
): void {
  const { z, r, p, ap } = vectors;
  for (let o = begin * width; o < end * width; o += width) {
    for (let j = 0; j < width; j++) {
      z[o + j]! += step[j]! * p[o + j]!;
      const residual = Math.fround(r[o + j]! - step[j]! * ap[o + j]!);
      r[o + j] = residual;
      sums[j]! += residual * residual;
    }
  }
}

/** The solver's new direction over rows begin .. end: p = r + beta p per column. */
export function directionRows(vectors: CgVectors, beta: Float64Array, width: number, begin: number, end: number): void {
  const { r, p } = vectors;
  for (let o = begin * width; o < end * width; o += width) {
    for (let j = 0; j < width; j++) p[o + j] = r[o + j]! + beta[j]! * p[o + j]!;
  }
}

/** A Float32Array in shared memory, so the helper thread reads it without a copy. */
export function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

export function sharedInts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

function isShared(matrix: SparseMatrix): boolean {
  return [matrix.rowStart, matrix.columns, matrix.values].every((a) => a.buffer instanceof SharedArrayBuffer);
}

/** The conjugate gradient's four vectors, row-major [nodes, width]: solution, residual, direction, its product. */
export interface CgVectors {
  readonly z: Float32Array;
  readonly r: Float32Array;
  readonly p: Float32Array;
  readonly ap: Float32Array;
}

/**
 * What the helper thread is told with each new matrix or set of vectors: `x` and `out` for a plain
 * product, `vectors` for the solver's passes, `scalars` (the step or beta per column) and `sums`
 * (its rows' column sums) shared.
 */
export interface ProductBinding {
  readonly matrix: SparseMatrix;
  readonly x: Float32Array;
  readonly out: Float32Array;
  readonly vectors: CgVectors | undefined;
  readonly scalars: Float64Array;
  readonly sums: Float64Array;
  readonly width: number;
  readonly alpha: number;
  readonly begin: number;
  readonly end: number;
}

/** Runs `pass` over the binding's rows: what the helper does, and the caller on its own rows. */
export function runPass(pass: Pass, b: ProductBinding, begin: number, end: number, sums: Float64Array): void {
  const { matrix, alpha, width, vectors } = b;
  if (pass === 'product') {
    productRows(matrix, alpha, b.x, b.out, width, begin, end);
    return;
  }
  if (!vectors) throw new Error(`the ${pass} pass needs the solver's vectors`);
  sums.fill(0);
  if (pass === 'productDot') {
    productRows(matrix, alpha, vectors.p, vectors.ap, width, begin, end);
    dotRows(vectors.p, vectors.ap, width, begin, end, sums);
  } else if (pass === 'update') updateRows(vectors, b.scalars, width, begin, end, sums);
  else directionRows(vectors, b.scalars, width, begin, end);
}

export interface ProductHelperData {
  readonly control: Int32Array;
  readonly port: MessagePort;
}

/** One helper thread per process, started on the first large product; it never holds the process open. */
class ProductHelper {
  readonly #control = sharedInts(4);
  readonly #port: MessagePort;
  readonly #worker: Worker;
  #bound: ProductBinding | undefined;
  #retired = false;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(workerUrl('sparse-product-worker.js', 'learn'), {
      workerData: { control: this.#control, port: port2 } satisfies ProductHelperData,
      transferList: [port2],
    });
    this.#worker.unref();
    port1.unref();
    // Until the helper has started, and if it fails to start or ends, products run on the caller's thread.
    this.#worker.on('error', () => this.#retire());
    this.#worker.on('exit', () => this.#retire());
  }

  get ready(): boolean {
    return !this.#retired && Atomics.load(this.#control, READY) === 1;
  }

  #retire(): void {
    this.#retired = true;
    void this.#worker.terminate();
  }

  /** Starts `pass` over rows `begin` .. `end` on the helper; `wait()` returns when they are written. */
  start(binding: ProductBinding, pass: Pass = 'product'): number {
    if (this.#bound !== binding) {
      // The shared arrays alone: nothing is copied (the node order would be).
      const { size, rowStart, columns, values } = binding.matrix;
      this.#port.postMessage({ ...binding, matrix: { size, rowStart, columns, values } });
      this.#bound = binding;
    }
    const done = Atomics.load(this.#control, DONE);
    Atomics.store(this.#control, PASS, PASSES.indexOf(pass));
    Atomics.add(this.#control, ASKED, 1);
    Atomics.notify(this.#control, ASKED);
    return done;
  }

  /** True when the helper wrote its rows; false when it did not answer in time and was stopped. */
  wait(doneBefore: number): boolean {
    if (Atomics.wait(this.#control, DONE, doneBefore, HELPER_TIMEOUT_MS) !== 'timed-out') return true;
    if (Atomics.load(this.#control, DONE) !== doneBefore) return true;
    this.#retire();
    return false;
  }
}

let helper: ProductHelper | undefined;

/**
 * The product (I - alpha S) x as the solvers call it. For a matrix in shared memory of at least
 * `PARALLEL_MIN_ROWS` nodes on a machine with two or more cores, the rows are split by their nonzero
 * count and the helper thread takes the second half, once it has started; `x` and `out` must then be
 * shared too (`sharedFloats`).
 */
export function sparseProduct(
  matrix: SparseMatrix,
  alpha: number,
  width: number,
): (x: Float32Array, out: Float32Array) => void {
  const n = matrix.size;
  const serial = (x: Float32Array, out: Float32Array): void => productRows(matrix, alpha, x, out, width, 0, n);
  if (!splitsProducts(matrix)) return serial;
  helper ??= new ProductHelper();
  const split = splitByWork(matrix.rowStart);
  const running = helper;
  let bound: ProductBinding | undefined;
  return (x, out) => {
    if (!running.ready || !(x.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
      serial(x, out);
      return;
    }
    if (bound?.x !== x || bound.out !== out) bound = binding(matrix, alpha, width, split, { x, out });
    const done = running.start(bound);
    productRows(matrix, alpha, x, out, width, 0, split);
    if (!running.wait(done)) productRows(matrix, alpha, x, out, width, split, n);
  };
}

function binding(
  matrix: SparseMatrix,
  alpha: number,
  width: number,
  split: number,
  arrays: { x?: Float32Array; out?: Float32Array; vectors?: CgVectors },
): ProductBinding {
  const none = new Float32Array(0);
  return {
    matrix,
    x: arrays.x ?? none,
    out: arrays.out ?? none,
    vectors: arrays.vectors,
    scalars: new Float64Array(new SharedArrayBuffer(width * Float64Array.BYTES_PER_ELEMENT)),
    sums: new Float64Array(new SharedArrayBuffer(width * Float64Array.BYTES_PER_ELEMENT)),
    width,
    alpha,
    begin: split,
    end: matrix.size,
  };
}

/**
 * The conjugate gradient's passes over `vectors` for propagate.ts's solver, each split like the
 * product where the product is (the vectors then shared). Column sums add the rows before the split
 * and the rows after it, in that order, on one thread or two alike: the same solution either way.
 */
/**
 * The helper thread stopped (it was stopped after HELPER_TIMEOUT_MS, or died) during a pass that
 * cannot simply be run again: the solve starts over, on this thread alone now (propagate.ts).
 */
export class HelperStopped extends Error {
  constructor(pass: Pass) {
    super(`the solver's helper thread stopped during its ${pass} pass`);
  }
}

export interface CgPasses {
  /** ap = (I - alpha S) p; returns p . ap per column. */
  productDot(): Float64Array;
  /** z += step p, r -= step ap (r as float32); returns r . r per column. */
  update(step: Float64Array): Float64Array;
  /** p = r + beta p. */
  direction(beta: Float64Array): void;
}

export function cgPasses(matrix: SparseMatrix, alpha: number, width: number, vectors: CgVectors): CgPasses {
  const n = matrix.size;
  const split = splitByWork(matrix.rowStart);
  const shared = Object.values(vectors).every((v: Float32Array) => v.buffer instanceof SharedArrayBuffer);
  const running = splitsProducts(matrix) && shared ? (helper ??= new ProductHelper()) : undefined;
  const bound = binding(matrix, alpha, width, split, { vectors });
  const first = new Float64Array(width);
  const second = new Float64Array(width);
  const run = (pass: Pass, scalars?: Float64Array): Float64Array => {
    if (scalars) bound.scalars.set(scalars);
    if (running?.ready) {
      const done = running.start(bound, pass);
      runPass(pass, bound, 0, split, first);
      if (running.wait(done)) second.set(bound.sums);
      // A product can be run again; an update or a direction may have been half applied.
      else if (pass === 'productDot') runPass(pass, bound, split, n, second);
      else throw new HelperStopped(pass);
    } else {
      runPass(pass, bound, 0, split, first);
      runPass(pass, bound, split, n, second);
    }
    return first.map((v, j) => v + second[j]!);
  };
  return {
    productDot: () => run('productDot'),
    update: (step) => run('update', step),
    direction: (beta) => void run('direction', beta),
  };
}

/** Whether the helper thread has started (tests wait for it). */
export function productHelperReady(): boolean {
  return helper?.ready ?? false;
}

/** Whether `sparseProduct` splits products of this matrix (its vectors then belong in shared memory). */
export function splitsProducts(matrix: SparseMatrix): boolean {
  return matrix.size >= PARALLEL_MIN_ROWS && availableParallelism() >= 2 && isShared(matrix);
}

/** The row where half the nonzeros are behind. */
function splitByWork(rowStart: Int32Array): number {
  const n = rowStart.length - 1;
  const half = rowStart[n]! / 2;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rowStart[mid]! < half) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
