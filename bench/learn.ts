/**
 * @module Label efficiency: plays the user on an ImageFolder dataset whose labels it hides, and compares
 * Autolabel's suggestions with baselines computed on the same embeddings in the same run.
 *
 *   npm run bench:learn -- --images ../shared/datasets/cifar10/train \
 *     --model onnx:../shared/models/mobilenet-v1-imagenet [--per-class 1000] [--seeds 5] [--labels 4,25]
 *     [--active-to 200] [--active-step 20] [--active-seeds 3] [--scale 50000] [--out bench-results/learn]
 *
 * Pool: the first `--per-class` images (by name) of each class folder, embedded once into a cached
 * workspace. Random runs: K labels per class drawn per seed; accuracy on every other pool image.
 * Active runs: from zero labels, `next` picks in rounds against random picks in rounds.
 * `--scale N`: timing of the first fit and of a refit after one new label on N synthetic 1024-d vectors.
 */
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ImageId,
  initWorkspace,
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
  buildKnnGraph,
  expectedCalibrationError,
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

async function plot(name: string, svg: string): Promise<void> {
  await writeFile(join(outDir, name), svg);
}

const args = benchArgs('bench:learn --images DIR --model SPEC [options]', {
  images: { type: 'string' },
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
});
if (typeof args.images !== 'string' || typeof args.model !== 'string') {
  process.stderr.write('usage: npm run bench:learn -- --images DIR --model SPEC [--per-class 1000] [--seeds 5]\n');
  process.exit(2);
}
const imagesDir = resolve(args.images);
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
const outDir = resolve(String(args.out ?? 'bench-results/learn'));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Pool {
  readonly truth: Int32Array;
  readonly classNames: readonly string[];
  readonly imageIds: Int32Array;
  readonly learner: Learner;
  readonly raw: Matrix;
}

/** Hard links (or copies) of the first `perClass` images of each class, so the pool is a plain ImageFolder. */
async function preparePool(): Promise<Pool> {
  const key = sha256(`${imagesDir}|${spec}|${perClass}`).slice(0, 12);
  const root = resolve(String(args.workspace ?? join(tmpdir(), `autolabel-bench-learn-${key}`)));
  const images = join(root, 'pool');
  const classes = (await readdir(imagesDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const name of classes) {
    await mkdir(join(images, name), { recursive: true });
    const files = (await readdir(join(imagesDir, name))).filter(isImageName).sort().slice(0, perClass);
    for (const file of files) {
      const to = join(images, name, file);
      if (existsSync(to)) continue;
      await link(join(imagesDir, name, file), to).catch(() => copyFile(join(imagesDir, name, file), to));
    }
  }
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
    const embeddings = await storeOf(ws).loadEmbeddings(await ws.modelId());
    const paths = new Map((await storeOf(ws).listImages()).map((image) => [image.id as number, image.path]));
    const truth = Int32Array.from(embeddings.imageIds, (id) => classes.indexOf(paths.get(id)!.split('/')[0]!));
    const t0 = performance.now();
    const learner = await Learner.create(embeddings, { cacheDir: join(wsDir, 'cache') });
    log(
      `pool ${embeddings.imageIds.length} images x ${embeddings.dim}-d; graph ${learner.graphInfo.how} in ${(learner.graphInfo.ms / 1000).toFixed(2)} s (learner ready in ${((performance.now() - t0) / 1000).toFixed(2)} s)`,
    );
    const raw = normalizeRows(
      matrix(embeddings.imageIds.length, embeddings.dim, Float32Array.from(embeddings.vectors)),
    );
    return { truth, classNames: classes, imageIds: embeddings.imageIds, learner, raw };
  } finally {
    await ws.close();
  }
}

function drawLabels(truth: Int32Array, classes: number, perClassLabels: number, seed: number): Int32Array {
  const random = seededRandom(seed * 7919 + perClassLabels);
  const seeds = new Int32Array(truth.length).fill(-1);
  for (let c = 0; c < classes; c++) {
    const rows = [...truth.keys()].filter((i) => truth[i] === c);
    for (let t = 0; t < perClassLabels && t < rows.length; t++) {
      const j = t + Math.floor(random() * (rows.length - t));
      [rows[t], rows[j]] = [rows[j]!, rows[t]!];
      seeds[rows[t]!] = c;
    }
  }
  return seeds;
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

async function randomRuns(pool: Pool, results: Record<string, unknown>): Promise<void> {
  const { learner, truth } = pool;
  const c = pool.classNames.length;
  const math = learner.math;
  const plainGraph = normalizedAffinity(await buildKnnGraph(math, pool.raw, 20), 20, 1);
  const rows: Record<string, number | string>[] = [];
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
      const lp = propagateLabels(plainGraph, seedMatrix(seeds, c), c, { alpha: 0.99, maxIterations: 100 }).scores;
      const row = {
        labelsPerClass: k,
        seed,
        ours: accuracy(pred, truth, seeds),
        knn: accuracy(await knnBaseline(math, pool.raw, seeds, c), truth, seeds),
        logistic: accuracy(await logisticBaseline(math, pool.raw, seeds, c), truth, seeds),
        logisticOurFeatures: accuracy(await logisticBaseline(math, learner.features, seeds, c), truth, seeds),
        propagation: accuracy(argmaxRows(lp, c), truth, seeds),
        ece: expectedCalibrationError(unlabelled),
        cvAccuracy: fit.crossValidation.accuracy,
        cvEce: fit.crossValidation.calibrationError,
        config: fit.method,
        temperature: fit.temperature,
        fitSeconds: fitMs / 1000,
      };
      rows.push(row);
      log(
        `K=${k} seed ${seed}: ours ${pct(row.ours)} | knn ${pct(row.knn)} lr ${pct(row.logistic)} lr* ${pct(row.logisticOurFeatures)} lp ${pct(row.propagation)} | ece ${row.ece.toFixed(3)} | ${row.config} | ${row.fitSeconds.toFixed(1)} s`,
      );
    }
  }
  results.random = rows;
  const kMean = (key: string): { x: number; y: number }[] =>
    labelCounts.map((k) => ({
      x: k,
      y: mean(rows.filter((r) => r.labelsPerClass === k).map((r) => r[key] as number)),
    }));
  await plot(
    'accuracy-vs-labels.svg',
    lineChart({
      title: `Accuracy on the unlabelled pool (mean of ${seedCount} seeds)`,
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
      title: `Precision and coverage vs threshold, ${top} labels per class (unlabelled pool, all seeds)`,
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
      title: `Calibration, ${top} labels per class (unlabelled pool, all seeds)`,
      bins: reliabilityBins(pooled, 10),
    }),
  );
  process.stdout.write(`\nRandom labels, mean over ${seedCount} seeds (accuracy on the unlabelled pool, %)\n`);
  process.stdout.write(
    '| labels/class | ours | best baseline | k-NN | LR | LR (our features) | LP | ECE |\n|---|---|---|---|---|---|---|---|\n',
  );
  for (const k of labelCounts) {
    const of = rows.filter((r) => r.labelsPerClass === k);
    const m = (key: string): number => mean(of.map((r) => r[key] as number));
    const best = Math.max(m('knn'), m('logistic'), m('logisticOurFeatures'), m('propagation'));
    process.stdout.write(
      `| ${k} | ${pct(m('ours'))} | ${pct(best)} (+${(100 * (m('ours') - best)).toFixed(1)}) | ${pct(m('knn'))} | ${pct(m('logistic'))} | ${pct(m('logisticOurFeatures'))} | ${pct(m('propagation'))} | ${m('ece').toFixed(3)} |\n`,
    );
  }
}

async function activeRuns(pool: Pool, results: Record<string, unknown>): Promise<void> {
  const { learner, truth } = pool;
  const c = pool.classNames.length;
  const curves: { strategy: string; seed: number; labels: number; accuracy: number }[] = [];
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
        log(`active ${strategy} seed ${seed}: ${labelled} labels (${present} classes) -> ${pct(acc)}%`);
      }
    }
  }
  results.active = curves;
  const curve = (strategy: string): { x: number; y: number }[] =>
    [...new Set(curves.map((r) => r.labels))].map((labels) => ({
      x: labels,
      y: mean(curves.filter((r) => r.strategy === strategy && r.labels === labels).map((r) => r.accuracy)),
    }));
  await plot(
    'active-learning.svg',
    lineChart({
      title: `Active learning from zero labels (mean of ${activeSeeds} seeds)`,
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
    `\nActive learning from zero, mean over ${activeSeeds} seeds (accuracy %, ${c} classes)\n` +
      `| labels | ${activeStrategies.join(' | ')} |\n|---|${activeStrategies.map(() => '---|').join('')}\n`,
  );
  for (let labelled = activeStep; labelled <= activeTo; labelled += activeStep) {
    const at = (s: string): number =>
      mean(curves.filter((r) => r.strategy === s && r.labels === labelled).map((r) => r.accuracy));
    process.stdout.write(`| ${labelled} | ${activeStrategies.map((s) => pct(at(s))).join(' | ')} |\n`);
  }
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
  const embeddings = { modelId: 'synthetic', dim, imageIds: Int32Array.from({ length: n }, (_, i) => i + 1), vectors };
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
  images: imagesDir,
  model: spec,
  perClass,
  seeds: seedCount,
};
await mkdir(outDir, { recursive: true });
if (!args['skip-random'] || !args['skip-active']) {
  const pool = await preparePool();
  try {
    if (!args['skip-random']) await randomRuns(pool, results);
    if (!args['skip-active']) await activeRuns(pool, results);
  } finally {
    await pool.learner.close();
  }
}
if (args.scale !== undefined) await scaleRun(intArg(args.scale, 'scale', 50000), results);
await writeFile(join(outDir, 'results.json'), JSON.stringify(results, null, 2));
log(`results in ${outDir}`);
