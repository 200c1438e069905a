/**
 * @module Outliers by k-NN distance relative to density: an image's mean cosine distance to its k
 * nearest neighbours, over the same distance of those neighbours (the local reachability idea of LOF,
 * Breunig et al. 2000, in its simple kNN-distance-ratio form) and over the median of all images,
 * combined as a geometric mean. A group of strays from another source (photos among thumbnails) are
 * each other's neighbours, and dense: for them the distance to the centroid of every image counts
 * (cosine distance to the mean embedding, over its median; the Mahalanobis score of Lee et al. 2018
 * with an identity covariance). A group of strays close to the centroid (thumbnails among photos) is
 * found as a cluster (spherical k-means) that is small and whose neighbours stay inside it far more
 * than other clusters' do: its members' ratio is the share of neighbours other clusters send
 * elsewhere over the share it does. The ratio is the largest of the three: 1 is typical.
 */

/** Neighbours an image's distance is measured over. */
export const OUTLIER_K = 10;

export interface OutlierInput {
  readonly rows: number;
  readonly neighbours: Int32Array;
  readonly similarities: Float32Array;
  readonly k: number;
  /** Each row's cosine distance to the mean embedding (`centroidDistances`); without it, density alone. */
  readonly centroidDistance?: Float64Array;
  /** Each row's cluster (spherical k-means over the same features), for isolated groups; without it, none. */
  readonly clusters?: { readonly count: number; readonly assignment: Int32Array };
}

/** Clusters of the isolated-group test, and the largest share of the images one may hold and still count as strays. */
export const OUTLIER_CLUSTERS = 50;
const MAX_GROUP_SHARE = 0.05;

/** Each row's isolated-group ratio: 1, or for a small cluster, how much more its neighbours stay inside than usual. */
export function isolatedGroupRatios(input: OutlierInput): Float64Array {
  const { rows, neighbours, k } = input;
  const out = new Float64Array(rows).fill(1);
  const clusters = input.clusters;
  if (!clusters || clusters.count < 3) return out;
  const kk = Math.min(OUTLIER_K, k);
  const inside = new Float64Array(clusters.count);
  const total = new Float64Array(clusters.count);
  const size = new Float64Array(clusters.count);
  for (let r = 0; r < rows; r++) {
    const c = clusters.assignment[r]!;
    size[c]!++;
    for (let j = 0; j < kk; j++) {
      const b = neighbours[r * k + j]!;
      if (b === r) continue;
      total[c]!++;
      if (clusters.assignment[b] === c) inside[c]!++;
    }
  }
  const share = Float64Array.from(inside, (x, c) => (total[c]! > 0 ? x / total[c]! : 0));
  const typical = Float64Array.from(share).sort()[Math.floor(clusters.count / 2)]!;
  const ratio = Float64Array.from(share, (x, c) =>
    size[c]! <= MAX_GROUP_SHARE * rows && x > typical ? (1 - typical) / Math.max(1e-3, 1 - x) : 1,
  );
  for (let r = 0; r < rows; r++) out[r] = ratio[clusters.assignment[r]!]!;
  return out;
}

/** Cosine distance of each unit row (row-major [rows, dim], from `row(r)`) to the mean of all rows. */
export function centroidDistances(rows: number, dim: number, row: (r: number) => Float32Array): Float64Array {
  const mean = new Float64Array(dim);
  const unit = (v: Float32Array): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
  for (let r = 0; r < rows; r++) {
    const v = row(r);
    const norm = unit(v);
    for (let j = 0; j < dim; j++) mean[j]! += v[j]! / norm;
  }
  const meanNorm = Math.sqrt(mean.reduce((a, x) => a + x * x, 0)) || 1;
  return Float64Array.from({ length: rows }, (_, r) => {
    const v = row(r);
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += v[j]! * mean[j]!;
    return 1 - dot / (unit(v) * meanNorm);
  });
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
  const group = isolatedGroupRatios(input);
  for (let r = 0; r < rows; r++) ratios[r] = Math.max(ratios[r]!, group[r]!);
  const centroid = input.centroidDistance;
  if (centroid) {
    const middle = Float64Array.from(centroid).sort()[Math.floor(rows / 2)] ?? 0;
    if (middle > 0) for (let r = 0; r < rows; r++) ratios[r] = Math.max(ratios[r]!, centroid[r]! / middle);
  }
  return ratios;
}

/** A ratio as a score in [0, 1): 0 up to typical, rising towards 1 far out. */
export function outlierScore(ratio: number): number {
  return ratio <= 1 ? 0 : 1 - 1 / ratio;
}
