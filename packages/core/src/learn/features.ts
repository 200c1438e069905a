/**
 * @module The feature transform every learner sees: signed square root, L2 normalisation, centring on
 * the mean of all images, L2 again; from `REDUCE_MIN_ROWS` images on then a projection onto the
 * `REDUCED_DIM` principal directions, each scaled down by its variance to the power `WHITENING_POWER`
 * (a partial whitening), and L2 once more. The power step tames pooled-ReLU tails and the centring
 * removes the direction all images share; the whitening lets the directions of small variance, where
 * classes part, count in the cosines (measured: docs/bench/learn/summary.md, "Third stop"). Exported
 * models replay it in ONNX (export-onnx.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AutolabelError } from '../errors.js';
import { embeddingRows } from '../store/embedding-rows.js';
import type { EmbeddingSet } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import { seededRandom } from '../util/random.js';
import { ANN_MIN_ROWS } from './ann.js';
import {
  columnMeans,
  type Matrix,
  matrix,
  multiply,
  normalizeRows,
  powerTransform,
  subtractFromRows,
} from './matrix.js';
import { OrtMath } from './ort-math.js';

/** A linear map of the centred unit features to fewer dimensions (their principal subspace). */
export interface FeatureProjection {
  /** Dimensions out. */
  readonly dim: number;
  /** Row-major [input dim, `dim`]: features (as rows) times this matrix. */
  readonly components: Float32Array;
}

export interface FeatureTransform {
  readonly power: number;
  /** Mean of the power-transformed, normalised embeddings of every image. */
  readonly mean: Float32Array;
  /** Big pools: the centred features are projected by this, then normalised again. */
  readonly projection?: FeatureProjection;
}

export const FEATURE_POWER = 0.5;

/**
 * From this many images on, the features are projected and partly whitened (`WHITENING_POWER`): it
 * gained 0.7-3.1 points at 4 and 25 labels per class on CIFAR-10, tf_flowers and their long tails
 * (3,239-10,000 images; smaller pools unmeasured, and their covariance is rough). It also keeps big
 * pools affordable where the graph is built by HNSW (ann.ts), whose cost and memory grow with the
 * width: at 1M x 1024 the float32 features alone would be 4 GB and the HNSW build over 1 CPU-hour; at
 * 256-d both are a quarter (bench:scale, README).
 */
export const REDUCE_MIN_ROWS = 1000;
/** Below this many images the pages read for the features' first pass are kept for the second. */
const KEEP_PAGES_BELOW_ROWS = ANN_MIN_ROWS;
/** Dimensions kept by the reduction (the 4x; 128, whitened alike, was up to 1.3 points worse on CIFAR-10). */
export const REDUCED_DIM = 256;
/**
 * Principal direction k is scaled by (variance_k / variance_1)^-WHITENING_POWER: 0 is plain PCA, 0.5
 * full whitening. Measured 0, 0.15, 0.2, 0.25, 0.35 and 0.5 (docs/bench/learn/summary.md): 0.25 and
 * 0.35 lost 1.1 and 4.0 points on the long-tailed CIFAR-10 at 4 labels per class (0.5: 12 on the
 * long-tailed tf_flowers), where 0.15 gained 0.8 and the balanced pools 2.8-3.1.
 */
export const WHITENING_POWER = 0.15;
/** Variances below this share of the largest count as this share (a pool narrower than the width). */
const WHITENING_FLOOR = 1e-4;
/**
 * Rows the PCA is fitted on (a reservoir sample): 20 per dimension at 1024-d. The reduction of 20,000 x
 * 1024-d rows, fit included, took 2.3 CPU-s against 0.4 for the full-width features (loaded 2-core VM);
 * with the eigenvectors and the whitening, 2.45 CPU-s for 3,670 rows and 2.65 for 10,000, against 0.10
 * and 0.25 unreduced (fitted once, then kept in the cache).
 */
export const PCA_SAMPLE = 20_000;
/** Subspace iterations of the covariance (each one gemm of 256 x 1024 x 1024). */
const PCA_ITERATIONS = 12;
const PCA_SEED = 15;

/** `auto`: reduce from `REDUCE_MIN_ROWS` images on; `always`, `never` (benchmarks' and tests' checks). */
export type ReduceMode = 'auto' | 'always' | 'never';

/** The width of the features a transform produces (what a head over them takes). */
export function featureDim(transform: FeatureTransform): number {
  return transform.projection?.dim ?? transform.mean.length;
}

/**
 * What the features are, as a short key: caches of anything computed from them (the k-NN graph, the
 * HNSW index) must be rebuilt when it changes. The full-width transform is `full`; a reduction is
 * named by its projection's hash (the mean moves as images are added, and extending tolerates that).
 */
export function featureKey(transform: FeatureTransform): string {
  const p = transform.projection;
  if (!p) return 'full';
  return `pca${p.dim}-${sha256(new Uint8Array(p.components.buffer, p.components.byteOffset, p.components.byteLength)).slice(0, 16)}`;
}

export function fitFeatureTransform(raw: Matrix, power = FEATURE_POWER): FeatureTransform {
  const scaled = normalizeRows(powerTransform(matrix(raw.rows, raw.cols, Float32Array.from(raw.data)), power));
  return { power, mean: Float32Array.from(columnMeans(scaled)) };
}

/** A new matrix: the transform applied to each row of `raw` (plain loops: for small matrices). */
export function applyFeatureTransform(transform: FeatureTransform, raw: Matrix): Matrix {
  const out = matrix(raw.rows, raw.cols, Float32Array.from(raw.data));
  normalizeRows(powerTransform(out, transform.power));
  normalizeRows(subtractFromRows(out, transform.mean));
  const p = transform.projection;
  return p ? normalizeRows(multiply(out, matrix(raw.cols, p.dim, p.components))) : out;
}

type EmbeddingRows = Pick<EmbeddingSet, 'dim' | 'imageIds' | 'vectors'>;

/** Power, L2, centre, L2 of rows `start` .. `start + rows`, into `out` (float32, row-major). */
function centredRows(
  set: EmbeddingRows,
  transform: Omit<FeatureTransform, 'projection'>,
  start: number,
  rows: number,
  out: Float32Array,
): Matrix {
  const view = matrix(rows, set.dim, embeddingRows(set, start, rows, out));
  normalizeRows(powerTransform(view, transform.power));
  return normalizeRows(subtractFromRows(view, transform.mean));
}

/** Full-size float32 features in a SharedArrayBuffer (worker threads read them without a copy). */
function sharedMatrix(rows: number, cols: number): Matrix {
  return matrix(rows, cols, new Float32Array(new SharedArrayBuffer(rows * cols * Float32Array.BYTES_PER_ELEMENT)));
}

export interface LearnerFeaturesOptions {
  readonly reduce?: ReduceMode;
  /** Where the fitted projection is kept (per model), so a grown pool keeps its basis and its graph. */
  readonly cacheDir?: string;
  readonly threads?: number;
}

/** Whether `set` gets reduced features under `mode`. */
export function reduces(mode: ReduceMode, rows: number, dim: number): boolean {
  return mode !== 'never' && dim > REDUCED_DIM && (mode === 'always' || rows >= REDUCE_MIN_ROWS);
}

/**
 * A model's embeddings read a page at a time (the store's `loadEmbeddings` with `afterId` and `limit`):
 * a big pool's raw vectors never sit in memory whole beside its features.
 */
export interface EmbeddingPages {
  readonly modelId: string;
  /** Rows of images with an id above `afterId`, by id, at most `limit`. */
  readonly page: (afterId: number, limit: number) => Promise<EmbeddingSet>;
}

/** Rows read per page: 16 MiB of float32 at 1024-d. */
const PAGE_ROWS = 4096;

/** The pages of `source`, in order; an in-memory set is paged without a copy. */
async function* pagesOf(source: EmbeddingSet | EmbeddingPages): AsyncGenerator<EmbeddingSet> {
  if ('vectors' in source) {
    const { dim } = source;
    for (let start = 0; start < source.imageIds.length; start += PAGE_ROWS) {
      const end = Math.min(source.imageIds.length, start + PAGE_ROWS);
      yield {
        ...source,
        imageIds: source.imageIds.subarray(start, end),
        vectors: source.vectors.subarray(start * dim, end * dim),
      };
    }
    return;
  }
  for (let after = 0; ;) {
    const page = await source.page(after, PAGE_ROWS);
    if (page.imageIds.length > 0) yield page;
    if (page.imageIds.length < PAGE_ROWS) return;
    after = page.imageIds[page.imageIds.length - 1]!;
  }
}

async function* keptPages(pages: readonly EmbeddingSet[]): AsyncGenerator<EmbeddingSet> {
  yield* pages;
}

export interface LearnerFeatures {
  readonly transform: FeatureTransform;
  /** One row per image, in `imageIds` order. */
  readonly features: Matrix;
  /** In a SharedArrayBuffer, like the features. */
  readonly imageIds: Int32Array;
  /** The embeddings' width (the features' is less when reduced). */
  readonly dim: number;
}

/**
 * The learner's features of every embedding of `source`: power, L2, centring, L2, and for big pools (`reduces`) then the projection onto the principal
 * subspace of a sample and L2 again. Two reads of the pages: the first counts the rows, sums the
 * mean and keeps a sample; the second makes the features, the one full-size array (a quarter of the
 * float32 width when reduced). Rows embedded between the reads are left for the next learner.
 */
export async function learnerFeatures(
  source: EmbeddingSet | EmbeddingPages,
  options: LearnerFeaturesOptions = {},
): Promise<LearnerFeatures> {
  const power = FEATURE_POWER;
  // First read: count, mean, and a reservoir sample (Vitter's algorithm R, fixed seed) of the scaled rows.
  const random = seededRandom(PCA_SEED);
  let dim = 'dim' in source ? source.dim : 0;
  let n = 0;
  let sums = new Float64Array(dim);
  let sample = new Float32Array(0);
  let block = new Float32Array(0);
  // Below the size that HNSW serves, the pages read are kept for the second pass (the raw vectors of a
  // small pool fit beside its features, as when they were loaded whole): one read of the store.
  let readPages: EmbeddingSet[] | undefined = 'vectors' in source ? undefined : [];
  for await (const page of pagesOf(source)) {
    if (n === 0) {
      dim = page.dim;
      sums = new Float64Array(dim);
      // Pages of memory are taken as the sample fills (a small pool touches only its own rows).
      sample = new Float32Array(PCA_SAMPLE * dim);
      block = new Float32Array(PAGE_ROWS * dim);
    } else if (page.dim !== dim) {
      throw widthChanged(source.modelId, dim, page.dim);
    }
    const rows = page.imageIds.length;
    if (n + rows >= KEEP_PAGES_BELOW_ROWS) readPages = undefined;
    readPages?.push(page);
    const scaled = normalizeRows(
      powerTransform(matrix(rows, dim, embeddingRows(page, 0, rows, block.subarray(0, rows * dim))), power),
    );
    const means = columnMeans(scaled);
    for (let j = 0; j < dim; j++) sums[j]! += means[j]! * rows;
    for (let r = 0; r < rows; r++, n++) {
      const slot = n < PCA_SAMPLE ? n : Math.floor(random() * (n + 1));
      if (slot < PCA_SAMPLE) sample.set(scaled.data.subarray(r * dim, (r + 1) * dim), slot * dim);
    }
  }
  const mean = Float32Array.from(sums, (s) => s / Math.max(1, n));
  const reduced = reduces(options.reduce ?? 'auto', n, dim);
  const math = reduced ? new OrtMath({ threads: options.threads }) : undefined;
  try {
    let projection: FeatureProjection | undefined;
    if (math) {
      const file = options.cacheDir && join(options.cacheDir, `pca-${sha256(source.modelId).slice(0, 16)}.bin`);
      projection = file ? await readProjection(file, dim, n) : undefined;
      if (!projection) {
        const s = Math.min(PCA_SAMPLE, n);
        const centred = matrix(s, dim, sample.subarray(0, s * dim));
        projection = await fitProjection(math, normalizeRows(subtractFromRows(centred, mean)));
        if (file) await saveProjection(file, projection, dim, n);
      }
    }
    sample = new Float32Array(0);
    const transform: FeatureTransform = projection ? { power, mean, projection } : { power, mean };
    const width = featureDim(transform);
    // Second read: the features, page by page, into one shared array sized from the first read's count.
    const features = sharedMatrix(n, width);
    const imageIds = new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
    const components = projection && matrix(dim, projection.dim, projection.components);
    let row = 0;
    for await (const page of readPages ? keptPages(readPages) : pagesOf(source)) {
      if (page.dim !== dim) throw widthChanged(source.modelId, dim, page.dim);
      const rows = Math.min(page.imageIds.length, n - row);
      if (rows <= 0) break;
      imageIds.set(page.imageIds.subarray(0, rows), row);
      const out = components ? block.subarray(0, rows * dim) : features.data.subarray(row * dim, (row + rows) * dim);
      const centred = centredRows(page, transform, 0, rows, out);
      if (math && components) features.data.set((await math.gemm(centred, components)).data, row * width);
      row += rows;
    }
    if (components) normalizeRows(features);
    if (row < n) {
      // Images removed between the reads: the rows read, in arrays of their own size.
      const ids = new Int32Array(new SharedArrayBuffer(row * Int32Array.BYTES_PER_ELEMENT));
      ids.set(imageIds.subarray(0, row));
      const kept = sharedMatrix(row, width);
      kept.data.set(features.data.subarray(0, row * width));
      return { transform, features: kept, imageIds: ids, dim };
    }
    return { transform, features, imageIds, dim };
  } finally {
    await math?.close();
  }
}

function widthChanged(modelId: string, from: number, to: number): AutolabelError {
  return new AutolabelError(
    'STORE_FAILED',
    `the embeddings of model ${modelId} changed width while they were read (${from} to ${to} values); try again`,
  );
}

/**
 * PCA of the centred features of a random sample (fixed seed: the same pool gives the same basis): the
 * top `REDUCED_DIM` eigenvectors of their second-moment matrix (their mean is about zero: they are
 * centred), by subspace iteration (Halko, Martinsson & Tropp 2011, "Finding structure with
 * randomness", Alg. 4.4) and a Rayleigh-Ritz step (the eigenvectors of the covariance within the
 * subspace, by Jacobi rotations), each scaled by its variance to the power -`WHITENING_POWER`.
 */
async function fitProjection(math: OrtMath, sample: Matrix): Promise<FeatureProjection> {
  const d = sample.cols;
  const r = Math.min(REDUCED_DIM, d);
  const random = seededRandom(PCA_SEED + 1);
  const covariance = await math.gemm(sample, sample, true, false);
  // Q^T, one basis vector per row: Q^T C is (C Q)^T, C being symmetric.
  let basis = matrix(
    r,
    d,
    Float32Array.from({ length: r * d }, () => gaussian(random)),
  );
  orthonormaliseRows(basis);
  for (let i = 0; i < PCA_ITERATIONS; i++) {
    basis = await math.gemm(basis, covariance);
    orthonormaliseRows(basis);
  }
  // Rayleigh-Ritz: the covariance within the subspace, Q^T C Q (r x r), diagonalised.
  const within = await math.gemm(await math.gemm(basis, covariance), basis, false, true);
  const { values, vectors } = symmetricEigen(Float64Array.from(within.data), r);
  const directions = await math.gemm(matrix(r, r, Float32Array.from(vectors)), basis);
  const largest = Math.max(values[0]!, Number.MIN_VALUE);
  const components = new Float32Array(d * r);
  for (let k = 0; k < r; k++) {
    const scale = Math.max(values[k]! / largest, WHITENING_FLOOR) ** -WHITENING_POWER;
    for (let j = 0; j < d; j++) components[j * r + k] = scale * directions.data[k * d + j]!;
  }
  return { dim: r, components };
}

/**
 * Eigenvalues (descending) and eigenvectors (row k for value k) of a symmetric r x r matrix, by cyclic
 * Jacobi rotations in float64 (tf_flowers' r = 256: 7 sweeps, 0.76 s wall on the loaded 2-core VM;
 * the subspace iteration before it costs more).
 */
function symmetricEigen(a: Float64Array, r: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(r * r);
  for (let i = 0; i < r; i++) v[i * r + i] = 1;
  let scale = 0;
  for (let i = 0; i < r; i++) scale += a[i * r + i]! ** 2;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < r; p++) for (let q = p + 1; q < r; q++) off += a[p * r + q]! ** 2;
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < r; p++) {
      for (let q = p + 1; q < r; q++) {
        const apq = a[p * r + q]!;
        if (apq === 0) continue;
        const theta = (a[q * r + q]! - a[p * r + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cos = 1 / Math.sqrt(t * t + 1);
        const sin = t * cos;
        for (let k = 0; k < r; k++) {
          const kp = a[k * r + p]!;
          const kq = a[k * r + q]!;
          a[k * r + p] = cos * kp - sin * kq;
          a[k * r + q] = sin * kp + cos * kq;
        }
        for (let k = 0; k < r; k++) {
          const pk = a[p * r + k]!;
          const qk = a[q * r + k]!;
          a[p * r + k] = cos * pk - sin * qk;
          a[q * r + k] = sin * pk + cos * qk;
        }
        for (let k = 0; k < r; k++) {
          const kp = v[k * r + p]!;
          const kq = v[k * r + q]!;
          v[k * r + p] = cos * kp - sin * kq;
          v[k * r + q] = sin * kp + cos * kq;
        }
      }
    }
  }
  const order = Array.from({ length: r }, (_, i) => i).sort((i, j) => a[j * r + j]! - a[i * r + i]!);
  const values = Float64Array.from(order, (i) => a[i * r + i]!);
  const vectors = new Float64Array(r * r);
  order.forEach((column, k) => {
    for (let i = 0; i < r; i++) vectors[k * r + i] = v[i * r + column]!;
  });
  return { values, vectors };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Modified Gram-Schmidt on the rows, twice over (once is not enough in float32), in float64. */
function orthonormaliseRows(m: Matrix): void {
  const { rows, cols, data } = m;
  const q = Float64Array.from(data);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < i; k++) {
        const p = k * cols;
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += q[o + j]! * q[p + j]!;
        for (let j = 0; j < cols; j++) q[o + j]! -= dot * q[p + j]!;
      }
    }
    let norm = 0;
    for (let j = 0; j < cols; j++) norm += q[o + j]! * q[o + j]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < cols; j++) q[o + j]! *= scale;
  }
  data.set(q);
}

/** v2: partly whitened (a v1 file, plain PCA, is refitted). */
const PROJECTION_MAGIC = 'autolabel-pca-v2';
/** A kept projection serves while at most this share of the pool is newer than its fit. */
const REFIT_SHARE = 0.2;

/**
 * The projection kept at `file`, when it maps `dim` dimensions and was fitted on a pool at least
 * (1 - `REFIT_SHARE`) of `rows`: images added since are projected on the same basis, so the graph and
 * the HNSW index built on it are extended, not rebuilt. Missing or damaged: undefined (refitted).
 */
async function readProjection(file: string, dim: number, rows: number): Promise<FeatureProjection | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const data = await readFile(file);
    const length = data.readUInt32LE(0);
    const header = JSON.parse(data.subarray(4, 4 + length).toString('utf8')) as {
      magic: string;
      inputDim: number;
      dim: number;
      rows: number;
    };
    if (header.magic !== PROJECTION_MAGIC || header.inputDim !== dim || header.dim !== Math.min(REDUCED_DIM, dim))
      return undefined;
    if (header.rows > rows || rows - header.rows > REFIT_SHARE * rows) return undefined;
    const body = data.subarray(4 + length);
    if (body.length !== 4 * dim * header.dim) return undefined;
    return { dim: header.dim, components: new Float32Array(new Uint8Array(body).buffer) };
  } catch {
    return undefined;
  }
}

/** Keeps the projection; a cache only (a full disk or a read-only workspace refits next time). */
async function saveProjection(file: string, projection: FeatureProjection, dim: number, rows: number): Promise<void> {
  const header = Buffer.from(JSON.stringify({ magic: PROJECTION_MAGIC, inputDim: dim, dim: projection.dim, rows }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const c = projection.components;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, [length, header, new Uint8Array(c.buffer, c.byteOffset, c.byteLength)]);
  } catch {
    // The graph cache reports an unwritable folder; the projection is fitted again next time.
  }
}
