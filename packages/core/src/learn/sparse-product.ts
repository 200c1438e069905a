/**
 * @module out = (I - alpha S) x for the propagation solvers (propagate.ts), split over two threads
 * for large graphs. The product is bound by memory reads (each row gathers its neighbours' rows of
 * x), so a second core doubles the reads in flight. The helper thread blocks on a shared counter
 * between products, the caller on another: a hand-off costs microseconds, and the solvers stay
 * synchronous. The matrix and both vectors live in shared memory (`sharedFloats`, `sharedInts`).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { workerUrl } from '../embed/backends/worker-slot.js';
import type { SparseMatrix } from './graph.js';

/** From this many nodes on, graphs are built in shared memory and their products use the helper thread. */
export const PARALLEL_MIN_ROWS = 50_000;

/** How long the caller waits for the helper's half of one product before it stops the helper and does the rows itself. */
const HELPER_TIMEOUT_MS = 120_000;

/** Slots of the control array (here and in the helper): products asked for, products done, helper ready. */
export const ASKED = 0;
export const DONE = 1;
export const READY = 2;

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

/** What the helper thread is told with each new matrix or vector pair. */
export interface ProductBinding {
  readonly matrix: SparseMatrix;
  readonly x: Float32Array;
  readonly out: Float32Array;
  readonly width: number;
  readonly alpha: number;
  readonly begin: number;
  readonly end: number;
}

export interface ProductHelperData {
  readonly control: Int32Array;
  readonly port: MessagePort;
}

/** One helper thread per process, started on the first large product; it never holds the process open. */
class ProductHelper {
  readonly #control = sharedInts(3);
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

  /** Starts rows `begin` .. `end` on the helper; `wait()` returns when they are written. */
  start(binding: ProductBinding): number {
    const b = this.#bound;
    if (
      !b ||
      b.matrix !== binding.matrix ||
      b.x !== binding.x ||
      b.out !== binding.out ||
      b.alpha !== binding.alpha ||
      b.begin !== binding.begin ||
      b.end !== binding.end ||
      b.width !== binding.width
    ) {
      // The three arrays alone: they are shared, so nothing is copied (the node order would be).
      const { size, rowStart, columns, values } = binding.matrix;
      this.#port.postMessage({ ...binding, matrix: { size, rowStart, columns, values } });
      this.#bound = binding;
    }
    const done = Atomics.load(this.#control, DONE);
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
  return (x, out) => {
    if (!running.ready || !(x.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
      serial(x, out);
      return;
    }
    const done = running.start({ matrix, x, out, width, alpha, begin: split, end: n });
    productRows(matrix, alpha, x, out, width, 0, split);
    if (!running.wait(done)) productRows(matrix, alpha, x, out, width, split, n);
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
