/**
 * @module OrtMath over matrices in shared memory: onnxruntime's Node binding refuses typed arrays on a
 * SharedArrayBuffer ("Invalid argument"), so such operands go in as ordinary copies, block by block
 * (rows of A, query rows, searched rows with the top k merged), whole only when small.
 */
import { type Matrix, matrix } from './matrix.js';
import { type Neighbours, OrtMath } from './ort-math.js';

/** Rows copied out of shared memory per call: the copy stays small beside the matrix. */
const BLOCK_ROWS = 8192;

function isShared(m: Matrix): boolean {
  return m.data.buffer instanceof SharedArrayBuffer;
}

function ordinary(m: Matrix): Matrix {
  return isShared(m) ? matrix(m.rows, m.cols, m.data.slice()) : m;
}

export class SharedMemoryMath extends OrtMath {
  /**
   * Two reusable block buffers (a search over blocks holds a query block and a searched block at
   * once): fresh ones per block cost page faults and collections that doubled a refit's matrix time.
   */
  readonly #free: Float32Array[] = [];

  /** Rows `start` .. `start + rows` of `m` copied into a block buffer; give it back with `#release`. */
  #rowBlock(m: Matrix, start: number, rows: number): Matrix {
    const size = rows * m.cols;
    let buffer = this.#free.pop();
    if (!buffer || buffer.length < size) buffer = new Float32Array(Math.max(size, BLOCK_ROWS * m.cols));
    const block = buffer.subarray(0, size);
    block.set(m.data.subarray(start * m.cols, start * m.cols + size));
    return matrix(rows, m.cols, block);
  }

  #release(block: Matrix): void {
    const buffer = new Float32Array(block.data.buffer as ArrayBuffer);
    if (this.#free.length < 2) this.#free.push(buffer);
  }

  override async gemm(a: Matrix, b: Matrix, transposeA = false, transposeB = false): Promise<Matrix> {
    if (!isShared(a) || transposeA || a.rows <= BLOCK_ROWS) {
      return super.gemm(ordinary(a), ordinary(b), transposeA, transposeB);
    }
    const other = ordinary(b);
    let out: Float32Array | undefined;
    let cols = 0;
    for (let start = 0; start < a.rows; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, a.rows - start);
      const block = this.#rowBlock(a, start, rows);
      const part = await super.gemm(block, other, false, transposeB);
      this.#release(block);
      cols = part.cols;
      out ??= new Float32Array(a.rows * cols);
      out.set(part.data, start * cols);
    }
    return matrix(a.rows, cols, out!);
  }

  override async topK(queries: Matrix, base: Matrix, k: number, chunkRows?: number): Promise<Neighbours> {
    if (isShared(base) && base.rows > BLOCK_ROWS) return this.#topKOverBlocks(queries, base, k, chunkRows);
    const searched = ordinary(base);
    if (!isShared(queries)) return super.topK(queries, searched, k, chunkRows);
    let indices: Int32Array | undefined;
    let scores: Float32Array | undefined;
    let width = 0;
    for (let start = 0; start < queries.rows; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, queries.rows - start);
      const block = this.#rowBlock(queries, start, rows);
      const part = await super.topK(block, searched, k, chunkRows);
      this.#release(block);
      width = part.k;
      indices ??= new Int32Array(queries.rows * width);
      scores ??= new Float32Array(queries.rows * width);
      indices.set(part.indices, start * width);
      scores.set(part.scores, start * width);
    }
    return { indices: indices ?? new Int32Array(0), scores: scores ?? new Float32Array(0), k: width };
  }

  /** Top k against each block of `base` rows in turn, merged: no full copy of `base` beside it. */
  async #topKOverBlocks(queries: Matrix, base: Matrix, k: number, chunkRows?: number): Promise<Neighbours> {
    const kk = Math.min(k, base.rows);
    const indices = new Int32Array(queries.rows * kk);
    const scores = new Float32Array(queries.rows * kk).fill(-Infinity);
    const mergedIndices = new Int32Array(kk);
    const mergedScores = new Float32Array(kk);
    for (let start = 0; start < base.rows; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, base.rows - start);
      const block = this.#rowBlock(base, start, rows);
      const part = await this.topK(queries, block, kk, chunkRows);
      this.#release(block);
      for (let q = 0; q < queries.rows; q++) {
        // Two lists sorted by score, descending: keep the best kk of both.
        let a = q * kk;
        let b = q * part.k;
        const aEnd = a + kk;
        const bEnd = b + part.k;
        for (let m = 0; m < kk; m++) {
          if (b < bEnd && (a >= aEnd || part.scores[b]! > scores[a]!)) {
            mergedScores[m] = part.scores[b]!;
            mergedIndices[m] = part.indices[b++]! + start;
          } else {
            mergedScores[m] = scores[a]!;
            mergedIndices[m] = indices[a++]!;
          }
        }
        scores.set(mergedScores, q * kk);
        indices.set(mergedIndices, q * kk);
      }
    }
    return { indices, scores, k: kk };
  }
}
