/** @module Spherical k-means on unit rows (Lloyd iterations, k-means++ seeding; Arthur & Vassilvitskii 2007). */
import { type Matrix, matrix, rowOf } from './matrix.js';
import type { OrtMath } from './ort-math.js';
import { seededRandom } from '../util/random.js';

export interface Clustering {
  readonly k: number;
  /** Cluster of each row. */
  readonly assignment: Int32Array;
  /** Row-major [k, cols], unit rows. */
  readonly centroids: Matrix;
  readonly sizes: Int32Array;
}

export interface KMeansOptions {
  readonly iterations?: number;
  /** Deterministic seeding. */
  readonly seed?: number;
  /** Seed from at most this many rows (k-means++ is O(n k)). */
  readonly seedSample?: number;
}

export async function sphericalKMeans(
  math: OrtMath,
  x: Matrix,
  k: number,
  options: KMeansOptions = {},
): Promise<Clustering> {
  const n = x.rows;
  const d = x.cols;
  const kk = Math.max(1, Math.min(k, n));
  const random = seededRandom(options.seed ?? 1);
  const centroids = new Float32Array(kk * d);
  // k-means++ on a sample: each next seed drawn in proportion to its distance from the nearest seed.
  const sampleSize = Math.min(n, options.seedSample ?? Math.max(kk * 20, 5000));
  const sample = Int32Array.from({ length: sampleSize }, (_, i) => Math.floor((i * n) / sampleSize));
  const nearest = new Float64Array(sampleSize).fill(Infinity);
  let pick = sample[Math.floor(random() * sampleSize)]!;
  for (let c = 0; c < kk; c++) {
    centroids.set(rowOf(x, pick), c * d);
    const centre = rowOf(x, pick);
    let total = 0;
    for (let s = 0; s < sampleSize; s++) {
      const row = rowOf(x, sample[s]!);
      let dot = 0;
      for (let j = 0; j < d; j++) dot += row[j]! * centre[j]!;
      nearest[s] = Math.min(nearest[s]!, Math.max(0, 1 - dot));
      total += nearest[s]!;
    }
    let target = random() * total;
    for (let s = 0; s < sampleSize; s++) {
      target -= nearest[s]!;
      if (target <= 0) {
        pick = sample[s]!;
        break;
      }
    }
  }
  const assignment = new Int32Array(n);
  const sizes = new Int32Array(kk);
  for (let iteration = 0; iteration < (options.iterations ?? 15); iteration++) {
    const found = await math.topK(x, matrix(kk, d, centroids), 1);
    let moved = 0;
    for (let i = 0; i < n; i++) {
      if (assignment[i] !== found.indices[i]!) moved++;
      assignment[i] = found.indices[i]!;
    }
    sizes.fill(0);
    const sums = new Float64Array(kk * d);
    for (let i = 0; i < n; i++) {
      const c = assignment[i]!;
      sizes[c]!++;
      const row = rowOf(x, i);
      for (let j = 0; j < d; j++) sums[c * d + j]! += row[j]!;
    }
    for (let c = 0; c < kk; c++) {
      if (sizes[c] === 0) continue; // an empty cluster keeps its centroid
      let norm = 0;
      for (let j = 0; j < d; j++) norm += sums[c * d + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j]! / norm;
    }
    if (iteration > 0 && moved === 0) break;
  }
  return { k: kk, assignment, centroids: matrix(kk, d, centroids), sizes };
}
