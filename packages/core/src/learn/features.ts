/**
 * @module The feature transform every learner sees: signed square root, L2 normalisation, centring on
 * the mean of all images, L2 again. The power step tames pooled-ReLU tails and the centring removes
 * the direction all images share (measured: bench/learn.ts). Exported models replay it in ONNX.
 */
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
