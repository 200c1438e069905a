/**
 * @module The heavy matrix kernels (products, k-nearest-neighbour search) run as tiny ONNX graphs in
 * onnxruntime, whose MLAS GEMM is an order of magnitude faster than JS loops. Graphs are built in
 * memory with onnx-proto and cached per shape of operation. onnxruntime (a native add-on) loads with the
 * first kernel, not when core is imported.
 */
import type * as Ort from 'onnxruntime-node';
import { loadOnnxRuntime } from '../util/onnxruntime.js';
import { matrix, type Matrix } from './matrix.js';
import { encodeModel, FLOAT, INT64, intAttr, valueInfo } from './onnx-graph.js';

export interface Neighbours {
  /** Row-major [queries, k]: neighbour row indices into the searched matrix, nearest first. */
  readonly indices: Int32Array;
  /** Row-major [queries, k]: dot products with those neighbours. */
  readonly scores: Float32Array;
  readonly k: number;
}

export interface OrtMathOptions {
  /** onnxruntime intra-op threads; default: every core. */
  readonly threads?: number;
}

export class OrtMath {
  readonly #threads: number | undefined;
  readonly #sessions = new Map<string, Promise<Ort.InferenceSession>>();

  constructor(options: OrtMathOptions = {}) {
    this.#threads = options.threads;
  }

  /** op(A) * op(B) where op transposes when asked. */
  async gemm(a: Matrix, b: Matrix, transposeA = false, transposeB = false): Promise<Matrix> {
    const session = await this.#session(`gemm:${+transposeA}${+transposeB}`, () => gemmGraph(transposeA, transposeB));
    const ort = await loadOnnxRuntime();
    const result = await session.run({ A: tensor(ort, a), B: tensor(ort, b) });
    const c = result.C!;
    const [rows, cols] = c.dims as [number, number];
    return matrix(rows, cols, c.data as Float32Array);
  }

  /**
   * The k rows of `base` with the largest dot product with each row of `queries` (cosine
   * similarity for unit rows); queries run in chunks so the score block stays small.
   */
  async topK(queries: Matrix, base: Matrix, k: number, chunkRows = 1024): Promise<Neighbours> {
    const kk = Math.min(k, base.rows);
    const session = await this.#session('knn', knnGraph);
    const ort = await loadOnnxRuntime();
    const indices = new Int32Array(queries.rows * kk);
    const scores = new Float32Array(queries.rows * kk);
    const baseTensor = tensor(ort, base);
    const kTensor = new ort.Tensor('int64', BigInt64Array.from([BigInt(kk)]), [1]);
    for (let start = 0; start < queries.rows; start += chunkRows) {
      const rows = Math.min(chunkRows, queries.rows - start);
      const chunk = queries.data.subarray(start * queries.cols, (start + rows) * queries.cols);
      const result = await session.run({
        Q: new ort.Tensor('float32', chunk, [rows, queries.cols]),
        X: baseTensor,
        K: kTensor,
      });
      scores.set(result.values!.data as Float32Array, start * kk);
      const found = result.indices!.data as BigInt64Array;
      for (let i = 0; i < found.length; i++) indices[start * kk + i] = Number(found[i]);
    }
    return { indices, scores, k: kk };
  }

  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) await (await session).release();
  }

  #session(key: string, build: () => Uint8Array): Promise<Ort.InferenceSession> {
    let session = this.#sessions.get(key);
    if (!session) {
      session = loadOnnxRuntime().then((ort) =>
        ort.InferenceSession.create(build(), {
          intraOpNumThreads: this.#threads ?? 0,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        }),
      );
      this.#sessions.set(key, session);
    }
    return session;
  }
}

function tensor(ort: typeof Ort, m: Matrix): Ort.Tensor {
  return new ort.Tensor('float32', m.data, [m.rows, m.cols]);
}

function gemmGraph(transposeA: boolean, transposeB: boolean): Uint8Array {
  return encodeModel({
    name: 'gemm',
    nodes: [
      {
        opType: 'Gemm',
        input: ['A', 'B'],
        output: ['C'],
        attribute: [intAttr('transA', +transposeA), intAttr('transB', +transposeB)],
      },
    ],
    inputs: [valueInfo('A', FLOAT, ['n', 'k']), valueInfo('B', FLOAT, ['m', 'p'])],
    outputs: [valueInfo('C', FLOAT, ['r', 'c'])],
  });
}

function knnGraph(): Uint8Array {
  return encodeModel({
    name: 'knn',
    nodes: [
      { opType: 'Gemm', input: ['Q', 'X'], output: ['S'], attribute: [intAttr('transB', 1)] },
      {
        opType: 'TopK',
        input: ['S', 'K'],
        output: ['values', 'indices'],
        attribute: [intAttr('axis', 1), intAttr('largest', 1), intAttr('sorted', 1)],
      },
    ],
    inputs: [valueInfo('Q', FLOAT, ['q', 'd']), valueInfo('X', FLOAT, ['n', 'd']), valueInfo('K', INT64, [1])],
    outputs: [valueInfo('values', FLOAT, ['q', 'k']), valueInfo('indices', INT64, ['q', 'k'])],
  });
}
