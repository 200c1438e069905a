/**
 * @module The feature transform every learner sees: signed square root, L2 normalisation, centring on
 * the mean of all images, L2 again. The power step tames pooled-ReLU tails and the centring removes
 * the direction all images share (measured: bench/learn.ts). Exported models replay it in ONNX.
 */
import { embeddingRows } from '../store/embedding-rows.js';
import type { EmbeddingSet } from '../store/store.js';
import { columnMeans, type Matrix, matrix, normalizeRows, powerTransform, subtractFromRows } from './matrix.js';

export interface FeatureTransform {
  readonly power: number;
  /** Mean of the power-transformed, normalised embeddings of every image. */
  readonly mean: Float32Array;
}

export const FEATURE_POWER = 0.5;

export function fitFeatureTransform(raw: Matrix, power = FEATURE_POWER): FeatureTransform {
  const scaled = normalizeRows(powerTransform(matrix(raw.rows, raw.cols, Float32Array.from(raw.data)), power));
  return { power, mean: Float32Array.from(columnMeans(scaled)) };
}

/** A new matrix: the transform applied to each row of `raw`. */
export function applyFeatureTransform(transform: FeatureTransform, raw: Matrix): Matrix {
  const out = matrix(raw.rows, raw.cols, Float32Array.from(raw.data));
  normalizeRows(powerTransform(out, transform.power));
  return normalizeRows(subtractFromRows(out, transform.mean));
}

/** Rows converted and transformed at a time: the float32 block stays small beside the embeddings. */
const BLOCK_ROWS = 4096;

/**
 * The transform fitted on `set` and applied to it, block by block: the features are the one full-size
 * float32 copy (in a SharedArrayBuffer, so worker threads can read them without a copy of their own),
 * whatever precision the embeddings are held in.
 */
export function transformEmbeddings(
  set: Pick<EmbeddingSet, 'dim' | 'imageIds' | 'vectors'>,
  power = FEATURE_POWER,
): { transform: FeatureTransform; features: Matrix } {
  const n = set.imageIds.length;
  const d = set.dim;
  const sums = new Float64Array(d);
  const block = new Float32Array(BLOCK_ROWS * d);
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, n - start);
    const scaled = normalizeRows(
      powerTransform(matrix(rows, d, embeddingRows(set, start, rows, block.subarray(0, rows * d))), power),
    );
    const means = columnMeans(scaled);
    for (let j = 0; j < d; j++) sums[j]! += means[j]! * rows;
  }
  const transform = { power, mean: Float32Array.from(sums, (s) => s / Math.max(1, n)) };
  const features = matrix(n, d, new Float32Array(new SharedArrayBuffer(n * d * Float32Array.BYTES_PER_ELEMENT)));
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, n - start);
    const out = features.data.subarray(start * d, (start + rows) * d);
    embeddingRows(set, start, rows, out);
    const view = matrix(rows, d, out);
    normalizeRows(powerTransform(view, power));
    normalizeRows(subtractFromRows(view, transform.mean));
  }
  return { transform, features };
}
