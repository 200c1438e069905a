/**
 * @module Label efficiency: plays the user on an ImageFolder dataset whose labels it hides, and compares
 * Autolabel's suggestions with baselines computed on the same embeddings in the same run.
 *
 *   npm run bench:learn -- --images cifar10=../shared/datasets/cifar10/train \
 *     --images tf_flowers=../shared/datasets/tf_flowers/train,../shared/datasets/tf_flowers/val \
 *     --model onnx:../shared/models/mobilenet-v1-imagenet [--per-class 1000] [--seeds 5] [--labels 4,25]
 *     [--active-to 200] [--active-step 20] [--active-seeds 3] [--scale 50000] [--out bench-results/learn]
 *
 * `--images [NAME=]DIR[,DIR]` names one dataset (folders joined by commas are one pool); repeat it to
 * run several, each with the same protocol and label draws, in one table.
 * Pool: the first `--per-class` images (by name) of each class folder, embedded once into a cached
 * workspace. Random runs: K labels per class drawn per seed; accuracy on every other pool image.
 * Active runs: from zero labels, `next` picks in rounds against random picks in rounds.
 * `--scale N`: timing of the first fit and of a refit after one new label on N synthetic 1024-d vectors.
 */
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  decodeRgb,
  embeddingRows,
  type EmbeddingSet,
  type ImageId,
  initWorkspace,
  loadEmbedder,
  isImageName,
  type LabelRecord,
  Learner,
  NEXT_STRATEGIES,
  type NextStrategy,
  openWorkspace,
  seededRandom,
  sha256,
} from '@autolabel/core';
import { lineChart, reliabilityDiagram } from '@autolabel/core/charts';
import {
  applyFeatureTransform,
  buildKnnGraph,
  expectedCalibrationError,
  fitFeatureTransform,
  headLogits,
  matrix,
  type Matrix,
  normalizedAffinity,
  normalizeRows,
  type OrtMath,
  pickNext,
  precisionCoverage,
  propagateLabels,
  reliabilityBins,
  type ScoredPrediction,
  seedMatrix,
  selectRows,
  softmaxRows,
  storeOf,
  trainLogistic,
} from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { drawLabels } from './draws.js';

const args = benchArgs('bench:learn --images [NAME=]DIR[,DIR] [--images ...] --model SPEC [options]', {
  images: { type: 'string', multiple: true },
  model: { type: 'string' },
  'per-class': { type: 'string' },
  seeds: { type: 'string' },
  labels: { type: 'string' },
  'active-to': { type: 'string' },
  'active-step': { type: 'string' },
  'active-seeds': { type: 'string' },
  'active-strategies': { type: 'string' },
  scale: { type: 'string' },
  workspace: { type: 'string' },
  out: { type: 'string' },
  'skip-random': { type: 'boolean' },
  'skip-active': { type: 'boolean' },
  views: { type: 'string' },
  'long-tail': { type: 'string' },
  'views-only': { type: 'boolean' },
  // The big pools' PCA reduction (features.ts) forced on, for its accuracy check.
  reduce: { type: 'boolean' },
});
const imagesArgs = args.images as unknown as string[] | undefined;
if (!imagesArgs?.length || typeof args.model !== 'string') {
  process.stderr.write(
    'usage: npm run bench:learn -- --images [NAME=]DIR[,DIR] [--images ...] --model SPEC [--per-class 1000] [--seeds 5]\n',
  );
  process.exit(2);
}

interface Dataset {
  readonly name: string;
  /** ImageFolder roots joined into one pool (class folders of the same name merge). */
  readonly roots: readonly string[];
}

const datasets: Dataset[] = imagesArgs.map((value) => {
  const eq = value.indexOf('=');
  const roots = (eq > 0 ? value.slice(eq + 1) : value).split(',').map((dir) => resolve(dir));
  return { name: eq > 0 ? value.slice(0, eq) : basename(roots[0]!), roots };
});
const spec = args.model.startsWith('onnx:') ? `onnx:${resolve(args.model.slice(5))}` : args.model;
const perClass = intArg(args['per-class'], 'per-class', 1000);
const seedCount = intArg(args.seeds, 'seeds', 5);
const labelCounts = String(args.labels ?? '4,25')
  .split(',')
  .map((v) => intArg(v, 'labels', 4));
const activeTo = intArg(args['active-to'], 'active-to', 200);
const activeStep = intArg(args['active-step'], 'active-step', 20);
const activeSeeds = intArg(args['active-seeds'], 'active-seeds', 3);
const activeStrategies = String(args['active-strategies'] ?? 'auto,random')
  .split(',')
  .map((name) => {
    if (!(NEXT_STRATEGIES as readonly string[]).includes(name)) {
      process.stderr.write(`--active-strategies: unknown strategy ${name} (${NEXT_STRATEGIES.join(', ')})\n`);
      process.exit(2);
    }
    return name as NextStrategy;
  });
const outRoot = resolve(String(args.out ?? 'bench-results/learn'));
/**
 * `--long-tail R`: keep round(m * R^c) images of the c-th class (sorted names; m the largest class),
 * a long-tailed pool from a balanced one. Labels are still drawn K per class.
 */
const longTail = args['long-tail'] === undefined ? undefined : Number(args['long-tail']);
if (longTail !== undefined && !(longTail > 0 && longTail <= 1)) {
  process.stderr.write(`--long-tail must be in (0, 1], got ${String(args['long-tail'])}\n`);
  process.exit(2);
}
/**
 * Test-time views embedded beside each image and averaged with it: `flip`, `crop<scale>` (centre crop,
 * resized back). Each dataset runs without and with them (`--views-only`: with them only).
 */
const views = typeof args.views === 'string' ? args.views.split(',').filter(Boolean) : [];
for (const view of views) {
  if (view !== 'flip' && !/^crop(0\.\d+)$/.test(view)) {
    process.stderr.write(`--views: unknown view ${view} (flip, crop0.8, ...)\n`);
    process.exit(2);
  }
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Pool {
  readonly name: string;
  /** Where this dataset's plots go. */
  readonly outDir: string;
  readonly truth: Int32Array;
  readonly classNames: readonly string[];
  readonly imageIds: Int32Array;
  readonly learner: Learner;
  readonly raw: Matrix;
  /** With `--views`: what embedding each view cost (none for views that came from the cache). */
  readonly viewTiming: readonly ViewTiming[];
}

/** The image mirrored left to right (packed RGB, HWC). */
function flipRgb(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = (y * width + (width - 1 - x)) * 3;
      out[to] = rgb[from]!;
      out[to + 1] = rgb[from + 1]!;
      out[to + 2] = rgb[from + 2]!;
    }
  }
  return out;
}

/** The centre `scale` of the image, resized back to the full size (bilinear). */
function cropRgb(rgb: Uint8Array, width: number, height: number, scale: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  const cw = width * scale;
  const ch = height * scale;
  const x0 = (width - cw) / 2;
  const y0 = (height - ch) / 2;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(height - 1, Math.max(0, y0 + ((y + 0.5) * ch) / height - 0.5));
    const ya = Math.floor(sy);
    const yb = Math.min(height - 1, ya + 1);
    const fy = sy - ya;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(width - 1, Math.max(0, x0 + ((x + 0.5) * cw) / width - 0.5));
      const xa = Math.floor(sx);
      const xb = Math.min(width - 1, xa + 1);
      const fx = sx - xa;
      for (let k = 0; k < 3; k++) {
        const top = rgb[(ya * width + xa) * 3 + k]! * (1 - fx) + rgb[(ya * width + xb) * 3 + k]! * fx;
        const bottom = rgb[(yb * width + xa) * 3 + k]! * (1 - fx) + rgb[(yb * width + xb) * 3 + k]! * fx;
        out[(y * width + x) * 3 + k] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

interface ViewTiming {
  readonly view: string;
  readonly images: number;
  readonly wallSeconds: number;
  readonly decodeSeconds: number;
  readonly inferenceSeconds: number;
}

/**
 * Embeds each of `views` of every pool image with the pool's model (one pass per view, cached per
 * view in `cacheDir`) and returns, per image, the mean of its stored embedding and its views'.
 */
async function pooledWithViews(
  embeddings: EmbeddingSet,
  files: readonly { readonly path: string; readonly width: number | null; readonly height: number | null }[],
  cacheDir: string,
): Promise<{ vectors: Float32Array; timing: ViewTiming[] }> {
  const n = embeddings.imageIds.length;
  const dim = embeddings.dim;
  const vectors = embeddingRows(embeddings, 0, n);
  const timing: ViewTiming[] = [];
  for (const view of views) {
    const cacheFile = join(cacheDir, `view-${view}-${sha256(spec).slice(0, 12)}.f32`);
    let out: Float32Array;
    if (existsSync(cacheFile)) {
      out = new Float32Array(new Uint8Array(await readFile(cacheFile)).buffer);
    } else {
      out = new Float32Array(n * dim);
      const embedder = await loadEmbedder(spec);
      try {
        const { width, height } = embedder.input;
        let decodeMs = 0;
        let inferMs = 0;
        const started = performance.now();
        for (let start = 0; start < n; start += embedder.batchSize) {
          const count = Math.min(embedder.batchSize, n - start);
          const pixels = new Uint8Array(count * width * height * 3);
          let t = performance.now();
          for (let i = 0; i < count; i++) {
            const file = files[start + i]!;
            const rgb = await decodeRgb(await readFile(file.path), embedder.input, { maxPixels: 100_000_000 }, file);
            const seen =
              view === 'flip' ? flipRgb(rgb, width, height) : cropRgb(rgb, width, height, Number(view.slice(4)));
            pixels.set(seen, i * width * height * 3);
          }
          decodeMs += performance.now() - t;
          t = performance.now();
          out.set(await embedder.embed(pixels, count), start * dim);
          inferMs += performance.now() - t;
          process.stderr.write(`\rembedding view ${view} ${start + count}/${n}   `);
        }
        const wallSeconds = (performance.now() - started) / 1000;
        timing.push({ view, images: n, wallSeconds, decodeSeconds: decodeMs / 1000, inferenceSeconds: inferMs / 1000 });
        log(
          `\nview ${view} of ${n} images: ${wallSeconds.toFixed(1)} s (${(n / wallSeconds).toFixed(1)} img/s; read, decode and view ${(decodeMs / 1000).toFixed(1)} s, inference ${(inferMs / 1000).toFixed(1)} s)`,
        );
        await writeFile(cacheFile, new Uint8Array(out.buffer));
      } finally {
        await embedder.close();
      }
    }
    for (let i = 0; i < vectors.length; i++) vectors[i]! += out[i]!;
  }
  for (let i = 0; i < vectors.length; i++) vectors[i]! /= 1 + views.length;
  return { vectors, timing };
}

/** Hard links (or copies) of the first `perClass` images of each class, so the pool is a plain ImageFolder. */
async function preparePool(dataset: Dataset, outDir: string, withViews = false): Promise<Pool> {
  // One folder keeps the key (and the cache) of the single-folder runs before datasets were named.
  const key = sha256(`${dataset.roots.join('|')}|${spec}|${perClass}`).slice(0, 12);
  const root = resolve(
    String(args.workspace && datasets.length === 1 ? args.workspace : join(tmpdir(), `autolabel-bench-learn-${key}`)),
  );
  const images = join(root, 'pool');
  const classes = new Set<string>();
  for (const from of dataset.roots) {
    const dirs = (await readdir(from, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const name of dirs) {
      classes.add(name);
      await mkdir(join(images, name), { recursive: true });
      const files = (await readdir(join(from, name))).filter(isImageName).sort().slice(0, perClass);
      for (const file of files) {
        // Two roots may hold the same file name: prefix all but the first root's.
        const to = join(images, name, from === dataset.roots[0] ? file : `${basename(from)}-${file}`);
        if (existsSync(to)) continue;
        await link(join(from, name, file), to).catch(() => copyFile(join(from, name, file), to));
      }
    }
  }
  const classNames = [...classes].sort();
  const wsDir = join(root, 'workspace');
  const ws = existsSync(join(wsDir, 'autolabel.json'))
    ? await openWorkspace(wsDir)
    : await initWorkspace({ images, workspace: wsDir, model: spec });
  try {
    await ws.scan();
    const started = performance.now();
    const result = await ws.embed({
      onProgress: (p) => process.stderr.write(`\rembedding ${p.done}/${p.total}   `),
    });
    if (result.embedded > 0)
      log(`\nembedded ${result.embedded} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    let embeddings = await storeOf(ws).loadEmbeddings(await ws.modelId());
    const records = new Map((await storeOf(ws).listImages()).map((image) => [image.id as number, image]));
    let truth = Int32Array.from(embeddings.imageIds, (id) => classNames.indexOf(records.get(id)!.path.split('/')[0]!));
    if (longTail !== undefined) {
      const sizes = classNames.map((_, j) => truth.filter((t) => t === j).length);
      const largest = Math.max(...sizes);
      const seen = new Int32Array(classNames.length);
      const keep = [...truth.keys()].filter((i) => seen[truth[i]!]!++ < Math.round(largest * longTail ** truth[i]!));
      const dim = embeddings.dim;
      const vectors = new Float32Array(keep.length * dim);
      const all = embeddingRows(embeddings, 0, embeddings.imageIds.length);
      keep.forEach((row, r) => vectors.set(all.subarray(row * dim, (row + 1) * dim), r * dim));
      embeddings = {
        ...embeddings,
        dtype: 'float32',
        modelId: `${embeddings.modelId}+long-tail:${longTail}`,
        imageIds: Int32Array.from(keep, (row) => embeddings.imageIds[row]!),
        vectors,
      };
      truth = Int32Array.from(keep, (row) => truth[row]!);
    }
    let viewTiming: ViewTiming[] = [];
    if (withViews) {
      const files = [...embeddings.imageIds].map((id) => {
        const record = records.get(id)!;
        return { path: join(images, record.path), width: record.width, height: record.height };
      });
      const pooled = await pooledWithViews(embeddings, files, root);
      viewTiming = pooled.timing;
      embeddings = {
        ...embeddings,
        modelId: `${embeddings.modelId}+views:${views.join(',')}`,
        dtype: 'float32',
        vectors: pooled.vectors,
      };
    }
    const t0 = performance.now();
    const learner = await Learner.create(embeddings, {
      cacheDir: join(wsDir, 'cache'),
      reduce: args.reduce ? 'always' : 'auto',
    });
    log(
      `${dataset.name}: pool ${embeddings.imageIds.length} images x ${embeddings.dim}-d; graph ${learner.graphInfo.how} in ${(learner.graphInfo.ms / 1000).toFixed(2)} s (learner ready in ${((performance.now() - t0) / 1000).toFixed(2)} s)`,
    );
    const raw = normalizeRows(
      matrix(embeddings.imageIds.length, embeddings.dim, embeddingRows(embeddings, 0, embeddings.imageIds.length)),
    );
    return {
      name: `${dataset.name}${longTail === undefined ? '' : ` long-tail ${longTail}`}${withViews ? ' +views' : ''}`,
      outDir,
      truth,
      classNames,
      imageIds: embeddings.imageIds,
      learner,
      raw,
      viewTiming,
    };
  } finally {
    await ws.close();
  }
}

function argmaxRows(p: Float32Array, classes: number): Int32Array {
  const n = p.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (p[i * classes + j]! > p[i * classes + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** Accuracy on the rows that are not labelled. */
function accuracy(pred: Int32Array, truth: Int32Array, seeds: Int32Array): number {
  let right = 0;
  let n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (seeds[i]! >= 0) continue;
    n++;
    if (pred[i] === truth[i]) right++;
  }
  return right / n;
}

/** Class labels of the fit are sorted names of labelled classes; with every class labelled they equal the pool's order. */
function labelsFor(seeds: Int32Array, pool: Pool): LabelRecord[] {
  const out: LabelRecord[] = [];
  seeds.forEach((c, row) => {
    if (c < 0) return;
    out.push({
      imageId: pool.imageIds[row]! as ImageId,
      path: '',
      label: pool.classNames[c]!,
      source: 'manual',
      createdAt: '',
      updatedAt: '',
      confidence: null,
      origin: 'chosen',
      originDetail: null,
    });
  });
  return out;
}

async function knnBaseline(math: OrtMath, raw: Matrix, seeds: Int32Array, classes: number): Promise<Int32Array> {
  const labelled = [...seeds.keys()].filter((i) => seeds[i]! >= 0);
  const found = await math.topK(raw, selectRows(raw, labelled), 20);
  const pred = new Int32Array(raw.rows);
  const votes = new Float64Array(classes);
  for (let i = 0; i < raw.rows; i++) {
    votes.fill(0);
    for (let j = 0; j < found.k; j++) {
      // one vote each; the similarity breaks ties
      votes[seeds[labelled[found.indices[i * found.k + j]!]!]!]! += 1 + 1e-3 * found.scores[i * found.k + j]!;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c]! > votes[best]!) best = c;
    pred[i] = best;
  }
  return pred;
}

async function logisticBaseline(math: OrtMath, x: Matrix, seeds: Int32Array, classes: number): Promise<Int32Array> {
  const labelled = [...seeds.keys()].filter((i) => seeds[i]! >= 0);
  const targets = new Float32Array(labelled.length * classes);
  labelled.forEach((row, r) => (targets[r * classes + seeds[row]!] = 1));
  const head = await trainLogistic(selectRows(x, labelled), targets, classes, { l2: 1e-3, math });
  return argmaxRows(softmaxRows(headLogits(head, x), classes), classes);
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const pct = (x: number): string => (100 * x).toFixed(1);

/** One random draw: Autolabel and every baseline on the same labels. */
interface RandomRow {
  readonly labelsPerClass: number;
  readonly seed: number;
  readonly ours: number;
  readonly knn: number;
  readonly logistic: number;
  readonly logisticOurFeatures: number;
  readonly propagation: number;
  /** The best of k-NN, both logistic regressions and label propagation on this draw. */
  readonly bestBaseline: number;
  readonly ece: number;
  /** Mean top-class confidence on the unlabelled pool: above `ours` is overconfident. */
  readonly meanConfidence: number;
  readonly cvAccuracy: number;
  readonly cvEce: number;
  readonly config: string;
  readonly temperature: number;
  readonly fitSeconds: number;
}

const BASELINES = ['knn', 'logistic', 'logisticOurFeatures', 'propagation'] as const;

async function randomRuns(pool: Pool): Promise<RandomRow[]> {
  const { learner, truth, outDir } = pool;
  const c = pool.classNames.length;
  const math = learner.math;
  const plainGraph = normalizedAffinity(await buildKnnGraph(math, pool.raw, 20), 20, 1);
  // "Our features" for the baseline: the transform without the projection and its whitening (the
  // baseline as it was before the learner's features were whitened, so the figures compare).
  const ourFeatures = applyFeatureTransform(fitFeatureTransform(pool.raw), pool.raw);
  const rows: RandomRow[] = [];
  const scoredByK = new Map<number, ScoredPrediction[]>();
  for (const k of labelCounts) {
    for (let seed = 1; seed <= seedCount; seed++) {
      const seeds = drawLabels(truth, c, k, seed);
      const started = performance.now();
      const fit = await learner.fit(labelsFor(seeds, pool), { seed });
      const fitMs = performance.now() - started;
      const pred = argmaxRows(fit.probabilities, c);
      const unlabelled: ScoredPrediction[] = [];
      for (let i = 0; i < truth.length; i++) {
        if (seeds[i]! >= 0) continue;
        const confidence = fit.probabilities[i * c + pred[i]!]!;
        unlabelled.push({ confidence, correct: pred[i] === truth[i] });
      }
      scoredByK.set(k, [...(scoredByK.get(k) ?? []), ...unlabelled]);
      // alpha 0.9, solved to convergence: the strongest plain propagation on both pools (alpha 0.99 with
      // 100 iterations, this bench's baseline before, was 4-9 points weaker on tf_flowers at 4 labels per class).
      const lp = propagateLabels(plainGraph, seedMatrix(seeds, c), c, {
        alpha: 0.9,
        maxIterations: 300,
        tolerance: 1e-6,
      }).scores;
      const baselines = {
        knn: accuracy(await knnBaseline(math, pool.raw, seeds, c), truth, seeds),
        logistic: accuracy(await logisticBaseline(math, pool.raw, seeds, c), truth, seeds),
        logisticOurFeatures: accuracy(await logisticBaseline(math, ourFeatures, seeds, c), truth, seeds),
        propagation: accuracy(argmaxRows(lp, c), truth, seeds),
      };
      const row: RandomRow = {
        labelsPerClass: k,
        seed,
        ours: accuracy(pred, truth, seeds),
        ...baselines,
        bestBaseline: Math.max(...BASELINES.map((b) => baselines[b])),
        ece: expectedCalibrationError(unlabelled),
        meanConfidence: mean(unlabelled.map((p) => p.confidence)),
        cvAccuracy: fit.crossValidation.accuracy,
        cvEce: fit.crossValidation.calibrationError,
        config: fit.method,
        temperature: fit.temperature,
        fitSeconds: fitMs / 1000,
      };
      rows.push(row);
      log(
        `${pool.name} K=${k} seed ${seed}: ours ${pct(row.ours)} | knn ${pct(row.knn)} lr ${pct(row.logistic)} lr* ${pct(row.logisticOurFeatures)} lp ${pct(row.propagation)} | ece ${row.ece.toFixed(3)} (conf ${pct(row.meanConfidence)}, cv ${pct(row.cvAccuracy)}, T ${row.temperature.toFixed(2)}) | ${row.config} | ${row.fitSeconds.toFixed(1)} s`,
      );
    }
  }
  const kMean = (key: keyof RandomRow): { x: number; y: number }[] =>
    labelCounts.map((k) => ({
      x: k,
      y: mean(rows.filter((r) => r.labelsPerClass === k).map((r) => r[key] as number)),
    }));
  const plot = (name: string, svg: string): Promise<void> => writeFile(join(outDir, name), svg);
  await plot(
    'accuracy-vs-labels.svg',
    lineChart({
      title: `${pool.name}: accuracy on the unlabelled pool (mean of ${seedCount} seeds)`,
      xLabel: 'labels per class',
      yLabel: 'accuracy',
      series: [
        { name: 'Autolabel', points: kMean('ours') },
        { name: 'k-NN (k=20)', points: kMean('knn'), dashed: true },
        { name: 'logistic regression', points: kMean('logistic'), dashed: true },
        { name: 'logistic regression, our features', points: kMean('logisticOurFeatures'), dashed: true },
        { name: 'label propagation', points: kMean('propagation'), dashed: true },
      ],
    }),
  );
  const top = Math.max(...labelCounts);
  const pooled = scoredByK.get(top) ?? [];
  const curve = precisionCoverage(
    pooled,
    Array.from({ length: 50 }, (_, i) => i / 50),
  );
  await plot(
    'precision-coverage.svg',
    lineChart({
      title: `${pool.name}: precision and coverage vs threshold, ${top} labels per class (unlabelled pool, all seeds)`,
      xLabel: 'confidence threshold',
      yLabel: 'share',
      yDomain: [0, 1],
      series: [
        { name: 'precision', points: curve.map((p) => ({ x: p.threshold, y: p.precision })) },
        { name: 'coverage', points: curve.map((p) => ({ x: p.threshold, y: p.coverage })) },
      ],
    }),
  );
  await plot(
    'calibration.svg',
    reliabilityDiagram({
      title: `${pool.name}: calibration, ${top} labels per class (unlabelled pool, all seeds)`,
      bins: reliabilityBins(pooled, 10),
    }),
  );
  return rows;
}

/** Means over seeds, one line per dataset and labels per class. */
function randomTable(byDataset: ReadonlyMap<string, readonly RandomRow[]>): string {
  const lines = [
    `Random labels, mean over ${seedCount} seeds (accuracy on the unlabelled pool, %). Best baseline: the best of k-NN, LR, LR on our features and LP on each draw; "vs LR": ours minus plain LR.`,
    '| dataset | labels/class | ours | best baseline | k-NN | LR | LR (our features) | LP | vs LR | ECE | fit s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, rows] of byDataset) {
    for (const k of labelCounts) {
      const of = rows.filter((r) => r.labelsPerClass === k);
      if (of.length === 0) continue;
      const m = (key: keyof RandomRow): number => mean(of.map((r) => r[key] as number));
      const signed = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
      lines.push(
        `| ${name} | ${k} | ${pct(m('ours'))} | ${pct(m('bestBaseline'))} (${signed(m('ours') - m('bestBaseline'))}) | ${pct(m('knn'))} | ${pct(m('logistic'))} | ${pct(m('logisticOurFeatures'))} | ${pct(m('propagation'))} | ${signed(m('ours') - m('logistic'))} | ${m('ece').toFixed(3)} | ${m('fitSeconds').toFixed(1)} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

interface ActivePoint {
  readonly strategy: string;
  readonly seed: number;
  readonly labels: number;
  readonly accuracy: number;
}

async function activeRuns(pool: Pool): Promise<ActivePoint[]> {
  const { learner, truth } = pool;
  const c = pool.classNames.length;
  const curves: ActivePoint[] = [];
  for (let seed = 1; seed <= activeSeeds; seed++) {
    for (const strategy of activeStrategies) {
      const seeds = new Int32Array(truth.length).fill(-1);
      let probabilities: Float32Array | undefined;
      let classes: readonly string[] = [];
      for (let labelled = activeStep; labelled <= activeTo; labelled += activeStep) {
        // Classes seen so far, in fit order (sorted names); truth classes map into them.
        const picks = await pickNext(
          {
            math: learner.math,
            features: learner.features,
            graph: learner.graph,
            seeds: seedsIn(seeds, classes, pool),
            classes,
            probabilities,
          },
          activeStep,
          strategy,
          seed * 1000 + labelled,
        );
        for (const pick of picks) seeds[pick.row] = truth[pick.row]!;
        const present = [...new Set([...seeds].filter((s) => s >= 0))].length;
        let acc = 0;
        if (present >= 2) {
          const fit = await learner.fit(labelsFor(seeds, pool), { seed });
          classes = fit.classes;
          probabilities = fit.probabilities;
          const pred = argmaxRows(fit.probabilities, classes.length);
          const mapped = Int32Array.from(pred, (p) => pool.classNames.indexOf(classes[p]!));
          acc = accuracy(mapped, truth, seeds);
        }
        curves.push({ strategy, seed, labels: labelled, accuracy: acc });
        log(`${pool.name} active ${strategy} seed ${seed}: ${labelled} labels (${present} classes) -> ${pct(acc)}%`);
      }
    }
  }
  const curve = (strategy: string): { x: number; y: number }[] =>
    [...new Set(curves.map((r) => r.labels))].map((labels) => ({
      x: labels,
      y: mean(curves.filter((r) => r.strategy === strategy && r.labels === labels).map((r) => r.accuracy)),
    }));
  await writeFile(
    join(pool.outDir, 'active-learning.svg'),
    lineChart({
      title: `${pool.name}: active learning from zero labels (mean of ${activeSeeds} seeds)`,
      xLabel: 'labels',
      yLabel: 'accuracy',
      series: activeStrategies.map((strategy) => ({
        name: strategy === 'random' ? 'random picks' : `next (${strategy})`,
        points: curve(strategy),
        dashed: strategy === 'random',
      })),
    }),
  );
  process.stdout.write(
    `\n${pool.name}: active learning from zero, mean over ${activeSeeds} seeds (accuracy %, ${c} classes)\n` +
      `| labels | ${activeStrategies.join(' | ')} |\n|---|${activeStrategies.map(() => '---|').join('')}\n`,
  );
  for (let labelled = activeStep; labelled <= activeTo; labelled += activeStep) {
    const at = (s: string): number =>
      mean(curves.filter((r) => r.strategy === s && r.labels === labelled).map((r) => r.accuracy));
    process.stdout.write(`| ${labelled} | ${activeStrategies.map((s) => pct(at(s))).join(' | ')} |\n`);
  }
  return curves;
}

/** Seeds in the class order of the latest fit (what pickNext's probabilities refer to). */
function seedsIn(seeds: Int32Array, classes: readonly string[], pool: Pool): Int32Array {
  return Int32Array.from(seeds, (s) => (s < 0 ? -1 : classes.indexOf(pool.classNames[s]!)));
}

async function scaleRun(n: number, results: Record<string, unknown>): Promise<void> {
  const dim = 1024;
  const classes = 10;
  const random = seededRandom(5);
  const centres = Float32Array.from({ length: classes * dim }, () => random());
  const vectors = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    truth[i] = c;
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = Math.max(0, centres[c * dim + j]! + 1.5 * (random() - 0.5));
  }
  const imageIds = Int32Array.from({ length: n }, (_, i) => i + 1);
  const embeddings = { modelId: 'synthetic', dim, dtype: 'float32' as const, imageIds, vectors };
  let t = performance.now();
  const learner = await Learner.create(embeddings);
  const createS = (performance.now() - t) / 1000;
  const seeds = new Int32Array(n).fill(-1);
  for (let i = 0; i < 25 * classes; i++) seeds[i] = truth[i]!;
  const labels = (): LabelRecord[] =>
    [...seeds.keys()]
      .filter((i) => seeds[i]! >= 0)
      .map((i) => ({
        imageId: (i + 1) as ImageId,
        path: '',
        label: `c${seeds[i]}`,
        source: 'manual',
        createdAt: '',
        updatedAt: '',
        confidence: null,
        origin: 'chosen',
        originDetail: null,
      }));
  t = performance.now();
  await learner.fit(labels());
  const firstFitS = (performance.now() - t) / 1000;
  seeds[25 * classes] = truth[25 * classes]!;
  t = performance.now();
  await learner.fit(labels(), { quick: true });
  const quickS = (performance.now() - t) / 1000;
  seeds[25 * classes + 1] = truth[25 * classes + 1]!;
  t = performance.now();
  await learner.fit(labels());
  const refitS = (performance.now() - t) / 1000;
  await learner.close();
  results.scale = {
    images: n,
    dim,
    graphAndFeaturesSeconds: createS,
    firstFitSeconds: firstFitS,
    quickRefitAfterOneLabelSeconds: quickS,
    fullRefitAfterOneLabelSeconds: refitS,
  };
  process.stdout.write(
    `\nScale: ${n} x ${dim}-d synthetic, 250 labels: graph + features ${createS.toFixed(1)} s, first fit (cross-validated) ${firstFitS.toFixed(2)} s; ` +
      `after one new label: quick refit ${quickS.toFixed(2)} s, full refit ${refitS.toFixed(2)} s\n`,
  );
}

const results: Record<string, unknown> = {
  model: spec,
  perClass,
  seeds: seedCount,
  labelsPerClass: labelCounts,
  datasets: {},
};
await mkdir(outRoot, { recursive: true });
const randomByDataset = new Map<string, RandomRow[]>();
if (!args['skip-random'] || !args['skip-active']) {
  for (const dataset of datasets) {
    for (const withViews of views.length === 0 ? [false] : args['views-only'] ? [true] : [false, true]) {
      // One dataset keeps the old layout (plots in --out); several (or views) get a folder each.
      const key = `${dataset.name}${longTail === undefined ? '' : `-long-tail-${longTail}`}${withViews ? '+views' : ''}`;
      const outDir = datasets.length === 1 && views.length === 0 ? outRoot : join(outRoot, key);
      await mkdir(outDir, { recursive: true });
      const pool = await preparePool(dataset, outDir, withViews);
      const entry: Record<string, unknown> = {
        roots: dataset.roots,
        views: withViews ? views : [],
        viewTiming: pool.viewTiming,
        images: pool.truth.length,
        classes: pool.classNames,
        classCounts: pool.classNames.map((_, j) => pool.truth.filter((t) => t === j).length),
      };
      (results.datasets as Record<string, unknown>)[key] = entry;
      try {
        if (!args['skip-random']) {
          entry.random = await randomRuns(pool);
          randomByDataset.set(pool.name, entry.random as RandomRow[]);
        }
        if (!args['skip-active']) entry.active = await activeRuns(pool);
      } finally {
        await pool.learner.close();
      }
    }
  }
}
if (randomByDataset.size > 0) process.stdout.write(`\n${randomTable(randomByDataset)}`);
if (args.scale !== undefined) await scaleRun(intArg(args.scale, 'scale', 50000), results);
await writeFile(join(outRoot, 'results.json'), JSON.stringify(results, null, 2));
log(`results in ${outRoot}`);
