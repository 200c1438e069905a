/**
 * @module Outliers by k-NN distance relative to density: an image's mean cosine distance to its k
 * nearest neighbours, over the same distance of those neighbours (the local reachability idea of LOF,
 * Breunig et al. 2000, in its simple kNN-distance-ratio form) and over the median of all images (a
 * small cluster of strays, each other's neighbours, is not dense for the pool). The ratio is the
 * geometric mean of the two: 1 is typical.
 */

/** Neighbours an image's distance is measured over. */
export const OUTLIER_K = 10;

export interface OutlierInput {
  readonly rows: number;
  readonly neighbours: Int32Array;
  readonly similarities: Float32Array;
  readonly k: number;
}

/** Each row's distance ratio (1 = as dense as usual, higher = farther out). */
export function outlierRatios(input: OutlierInput): Float64Array {
  const { rows, neighbours, similarities, k } = input;
  const kk = Math.min(OUTLIER_K, k);
  const distance = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let count = 0;
    for (let j = 0; j < kk; j++) {
      if (neighbours[r * k + j] === r) continue; // padding of a tiny graph
      sum += 1 - similarities[r * k + j]!;
      count++;
    }
    distance[r] = count > 0 ? sum / count : 0;
  }
  const sorted = Float64Array.from(distance).sort();
  const median = sorted[Math.floor(rows / 2)] ?? 0;
  const ratios = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let around = 0;
    let count = 0;
    for (let j = 0; j < kk; j++) {
      const b = neighbours[r * k + j]!;
      if (b === r) continue;
      around += distance[b]!;
      count++;
    }
    const local = count > 0 && around > 0 ? distance[r]! / (around / count) : 1;
    const global = median > 0 ? distance[r]! / median : 1;
    ratios[r] = Math.sqrt(local * global);
  }
  return ratios;
}

/** A ratio as a score in [0, 1): 0 up to typical, rising towards 1 far out. */
export function outlierScore(ratio: number): number {
  return ratio <= 1 ? 0 : 1 - 1 / ratio;
}
