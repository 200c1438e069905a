/**
 * @module One semi-supervised prediction from a set of labels: logistic regression on the labels,
 * optionally retrained on pseudo-labels of the whole pool from label propagation (Iscen et al. 2019)
 * or on its own most confident predictions (self-training), then Correct and Smooth over the k-NN
 * graph (Huang et al. 2021). Which variant runs is chosen in fit.ts.
 */
import type { SparseMatrix } from './graph.js';
import { headLogits, type LinearHead, softmaxRows, trainLogistic } from './logistic.js';
import { columnMeans, type Matrix, matrix, selectRows } from './matrix.js';
import type { OrtMath } from './ort-math.js';
import { propagateLabels, seedMatrix } from './propagate.js';

export interface PipelineConfig {
  readonly name: string;
  /** L2 penalty of the logistic regression. */
  readonly l2: number;
  /**
   * Self-training rounds; round r adds the r * pseudoShare * images / classes most confident
   * predictions of each class (a share of an average class, so the rounds reach as far into a small
   * pool as into a large one; 0.05 is the 50 per class this was measured with on 10,000 images).
   */
  readonly selfTrainingRounds: number;
  readonly pseudoShare: number;
  /** Graph weight of the correct and smooth steps, in (0, 1). */
  readonly alpha: number;
  /**
   * Retrain the head on pseudo-labels of every image from label propagation with this graph weight
   * (`propagatedPseudoLabels`); no self-training then.
   */
  readonly pseudoLabelAlpha?: number;
}

/** Relative residual the graph solvers stop at, from scratch and from a previous solution. */
const COLD_TOLERANCE = 1e-4;
export const WARM_TOLERANCE = 1e-3;

/**
 * The variants fit.ts chooses from; the first is the default, kept unless cross-validation shows the
 * average of both, or the second alone, to be better. The two lean on different views: propagated
 * pseudo-labels on the graph (the stronger on photos, tf_flowers, and on long tails), self-training on
 * the linear head (a point stronger on CIFAR-10 when labels are unevenly spread over the classes, as
 * picks are); measured in docs/bench/learn/summary.md.
 */
export const PIPELINE_CONFIGS: readonly PipelineConfig[] = [
  {
    name: 'propagated-pseudo-labels+correct-smooth',
    l2: 1e-4,
    selfTrainingRounds: 0,
    pseudoShare: 0,
    alpha: 0.8,
    pseudoLabelAlpha: 0.9,
  },
  { name: 'self-training+correct-smooth', l2: 1e-4, selfTrainingRounds: 3, pseudoShare: 0.05, alpha: 0.8 },
];

/**
 * At most this many pseudo-labelled rows train the head (a weighted sample when the pool is larger):
 * the cost of the retrained head stops growing with the pool (measured: no loss from 10,000 to 4,096).
 */
export const MAX_PSEUDO_LABEL_ROWS = 4096;

export interface LearnContext {
  readonly math: OrtMath;
  /** Transformed features of every image (learn/features.ts), unit rows. */
  readonly features: Matrix;
  readonly affinity: SparseMatrix;
  readonly classes: number;
}

export interface PipelinePrediction {
  /** The linear part: the final logistic head and its softmax over every image ([n, classes]). */
  readonly head: LinearHead;
  readonly linear: Float32Array;
  /** Final class scores after correct and smooth, rows summing to 1. */
  readonly scores: Float32Array;
  /** The graph solutions, kept so the next run after a small label change can start from them. */
  readonly spread: Float32Array;
  readonly smoothed: Float32Array;
  /**
   * With pseudo-labels: the head on the labels alone, and the propagation from equal class masses (the
   * pseudo-labels are its columns scaled by the class shares).
   */
  readonly labelsHead?: LinearHead;
  readonly propagated?: Float32Array;
}

/** `seeds[i]` is the class of image row i, or -1 when unlabelled (or held out). */
export async function runPipeline(
  context: LearnContext,
  seeds: Int32Array,
  config: PipelineConfig,
  /** A previous run on nearly the same labels (same classes): its solutions seed this one's solvers. */
  warm?: PipelinePrediction,
  /** Relative residual the graph solvers stop at; default 1e-4 cold, `WARM_TOLERANCE` warm. */
  solverTolerance?: number,
): Promise<PipelinePrediction> {
  const { features, classes: c } = context;
  const n = features.rows;
  const perRound = Math.max(1, Math.round((config.pseudoShare * n) / c));
  const withPseudoLabels = (from: Float32Array, perClass: number): Int32Array => {
    const training = Int32Array.from(seeds);
    const best = topPerClass(from, seeds, c, perClass);
    for (let i = 0; i < n; i++) if (best[i]! >= 0) training[i] = best[i]!;
    return training;
  };
  let head: LinearHead;
  let linear: Float32Array;
  let pseudo: { labelsHead: LinearHead; propagated: Float32Array } | undefined;
  // From a warm start the solution moves little: a looser tolerance keeps refits quick.
  const tolerance = solverTolerance ?? (warm ? WARM_TOLERANCE : COLD_TOLERANCE);
  if (config.pseudoLabelAlpha !== undefined) {
    // Each class's labels weigh the same: the head then assumes equal class shares, and the mean of its
    // predictions over the pool estimates the pool's shares (probabilistic classify and count, Bella et
    // al. 2010; it errs towards equal shares), not how often each class was picked for labelling.
    const labelsHead = await fitHead(context.math, features, seeds, c, config.l2, warm?.labelsHead, true);
    const propagated = propagateLabels(context.affinity, seedMatrix(seeds, c), c, {
      alpha: config.pseudoLabelAlpha,
      maxIterations: 100,
      start: warm?.propagated,
      tolerance,
    }).scores;
    const prior = classShares(
      columnMeans(matrix(n, c, await predictHead(context.math, labelsHead, features))),
      columnMeans(matrix(n, c, normalizeScores(propagated, c))),
      labelCounts(seeds, c),
    );
    const rows = propagatedPseudoLabels(seeds, normalizeScores(scaleColumns(propagated, prior), c), c, prior);
    head = await fitWeightedHead(context.math, features, rows, c, config.l2, warm?.head ?? labelsHead);
    linear = await predictHead(context.math, head, features);
    pseudo = { labelsHead, propagated };
  } else if (warm && config.selfTrainingRounds > 0) {
    // A refit after a few new labels continues self-training where the last run ended: one round
    // with its full pseudo-label count, started from its predictions and its head.
    const training = withPseudoLabels(warm.linear, config.selfTrainingRounds * perRound);
    head = await fitHead(context.math, features, training, c, config.l2, warm.head);
    linear = await predictHead(context.math, head, features);
  } else {
    head = await fitHead(context.math, features, seeds, c, config.l2, warm?.head);
    linear = await predictHead(context.math, head, features);
    for (let round = 1; round <= config.selfTrainingRounds; round++) {
      const training = withPseudoLabels(linear, round * perRound);
      head = await fitHead(context.math, features, training, c, config.l2, head);
      linear = await predictHead(context.math, head, features);
    }
  }
  const { corrected, spread } = correct(context.affinity, linear, seeds, c, config.alpha, warm?.spread, tolerance);
  const smoothed = propagateLabels(context.affinity, clampSeeds(corrected, seeds, c), c, {
    alpha: config.alpha,
    maxIterations: 60,
    start: warm?.smoothed,
    tolerance,
  }).scores;
  return { head, linear, scores: normalizeScores(smoothed, c), spread, smoothed, ...pseudo };
}

/**
 * The pool's class shares from two estimates. `fromHead`, the mean prediction of a head on the labels
 * alone (each class weighing the same), sees a long tail (measured: 24/30/21/11/14% for a pool of
 * 43/30/15/8/4%), but follows how many labels each class has: a class with one label covers a sliver
 * of the pool, and the propagation seeded with that share shrinks it further (one label among 20 gave
 * a class 2% of tf_flowers where it has 19%, and the variant lost 8 points to equal shares).
 * `fromGraph`, the shares of a propagation where every class's labels carry the same mass, does not
 * depend on the counts but leans towards equal shares (19/26/20/16/20% for that long tail). So each
 * class takes the head's share in proportion to its labels against the best-labelled class's, and
 * the graph's for the rest: with as many labels in every class, the head's shares alone. Measured
 * against the head alone, the graph alone, equal shares and their plain mean, on balanced and
 * long-tailed pools with labels per class and with uneven random picks (docs/bench/learn/summary.md).
 */
function classShares(fromHead: Float64Array, fromGraph: Float64Array, counts: Float64Array): Float64Array {
  const most = Math.max(...counts);
  const mixed = fromHead.map((share, j) => (counts[j]! / most) * share + (1 - counts[j]! / most) * fromGraph[j]!);
  const total = mixed.reduce((a, b) => a + b, 0);
  return mixed.map((share) => share / total);
}

function labelCounts(seeds: Int32Array, classes: number): Float64Array {
  const counts = new Float64Array(classes);
  for (const s of seeds) if (s >= 0) counts[s]!++;
  return counts;
}

/**
 * Propagation is linear in its seeds: the equal-mass solution with column j scaled by `prior[j]` is
 * the propagation whose class-j seeds carry total mass `prior[j]` (class mass normalisation to the
 * pool's estimated shares, Zhu et al. 2003), at no second solve.
 */
function scaleColumns(scores: Float32Array, prior: Float64Array): Float32Array {
  const c = prior.length;
  return scores.map((value, i) => value * prior[i % c]!);
}

/** Training rows with their class and sample weight. */
interface WeightedRows {
  readonly rows: Int32Array;
  readonly labels: Int32Array;
  readonly weights: Float32Array;
}

/**
 * Pseudo-labels for every unlabelled image from propagated class scores (rows summing to 1), after
 * Iscen et al. 2019: the top class, weighted by certainty 1 - H/log(classes), and the pseudo-labels
 * of class j together weigh prior[j] times their mean certainty (Iscen: equal shares; here the
 * pool's estimated shares). The labelled rows weigh 1 in total, so the pool does not drown the
 * labels. Over `maxRows` pseudo-labels, a systematic sample with probability proportional to
 * weight (evenly spaced points on the cumulative weight, so deterministic), each hit carrying an
 * equal share: the weighted loss stays an unbiased estimate of the full one.
 */
export function propagatedPseudoLabels(
  seeds: Int32Array,
  scores: Float32Array,
  classes: number,
  prior: Float64Array,
  maxRows = MAX_PSEUDO_LABEL_ROWS,
): WeightedRows {
  const n = seeds.length;
  const c = classes;
  const label = new Int32Array(n);
  const weight = new Float64Array(n);
  const perClass = new Float64Array(c);
  let unlabelled = 0;
  let labelled = 0; // one-hot rows that are labels
  for (let i = 0; i < n; i++) {
    if (seeds[i]! >= 0) {
      labelled++;
      continue;
    }
    unlabelled++;
    let best = 0;
    let entropy = 0;
    for (let j = 0; j < c; j++) {
      const q = scores[i * c + j]!;
      if (q > scores[i * c + best]!) best = j;
      if (q > 0) entropy -= q * Math.log(q);
    }
    label[i] = best;
    weight[i] = Math.max(0, 1 - entropy / Math.log(c));
    perClass[best]!++;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (seeds[i]! >= 0) continue;
    const j = label[i]!;
    weight[i] = (weight[i]! * prior[j]!) / perClass[j]!;
    total += weight[i]!;
  }
  const hits = new Float64Array(n);
  const sampled = unlabelled > maxRows && total > 0;
  if (sampled) {
    const step = total / maxRows;
    let next = step / 2;
    let cumulative = 0;
    for (let i = 0; i < n; i++) {
      if (seeds[i]! >= 0) continue;
      cumulative += weight[i]!;
      while (next < cumulative) {
        hits[i]!++;
        next += step;
      }
    }
  }
  const rows: number[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    if (seeds[i]! >= 0) {
      rows.push(i);
      labels.push(seeds[i]!);
      weights.push(1 / labelled);
      continue;
    }
    const w = sampled ? hits[i]! * (total / maxRows) : weight[i]!;
    if (w <= 0) continue;
    rows.push(i);
    labels.push(label[i]!);
    weights.push(w);
  }
  return { rows: Int32Array.from(rows), labels: Int32Array.from(labels), weights: Float32Array.from(weights) };
}

async function fitWeightedHead(
  math: OrtMath,
  features: Matrix,
  training: WeightedRows,
  classes: number,
  l2: number,
  start?: LinearHead,
): Promise<LinearHead> {
  const targets = new Float32Array(training.rows.length * classes);
  training.labels.forEach((label, r) => (targets[r * classes + label] = 1));
  return trainLogistic(selectRows(features, training.rows), targets, classes, {
    l2,
    start,
    maxIterations: 150,
    math,
    sampleWeights: training.weights,
  });
}

async function fitHead(
  math: OrtMath,
  features: Matrix,
  seeds: Int32Array,
  classes: number,
  l2: number,
  start?: LinearHead,
  /** Weigh each class's rows equally in total. */
  balanced = false,
): Promise<LinearHead> {
  const rows: number[] = [];
  const counts = new Float64Array(classes);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! < 0) continue;
    rows.push(i);
    counts[seeds[i]!]!++;
  }
  const targets = new Float32Array(rows.length * classes);
  rows.forEach((row, r) => (targets[r * classes + seeds[row]!] = 1));
  const sampleWeights = balanced ? Float32Array.from(rows, (row) => 1 / counts[seeds[row]!]!) : undefined;
  return trainLogistic(selectRows(features, rows), targets, classes, {
    l2,
    start,
    maxIterations: 150,
    math,
    sampleWeights,
  });
}

/** softmax(x W + b) for every row, with the product in onnxruntime. */
export async function predictHead(math: OrtMath, head: LinearHead, features: Matrix): Promise<Float32Array> {
  if (features.rows < 256) return softmaxRows(headLogits(head, features), head.classes);
  const logits = await math.gemm(features, { rows: head.dim, cols: head.classes, data: head.weights });
  const out = logits.data;
  for (let i = 0; i < out.length; i++) out[i]! += head.bias[i % head.classes]!;
  return softmaxRows(out, head.classes);
}

/** For each class, its `count` unlabelled rows predicted most confidently as that class: class index per row or -1. */
function topPerClass(probabilities: Float32Array, seeds: Int32Array, classes: number, count: number): Int32Array {
  const n = seeds.length;
  const chosen = new Int32Array(n).fill(-1);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) {
    if (seeds[i]! >= 0) continue;
    let best = 0;
    for (let j = 1; j < classes; j++)
      if (probabilities[i * classes + j]! > probabilities[i * classes + best]!) best = j;
    byClass[best]!.push(i);
  }
  byClass.forEach((rows, j) => {
    rows.sort((a, b) => probabilities[b * classes + j]! - probabilities[a * classes + j]!);
    for (const i of rows.slice(0, count)) chosen[i] = j;
  });
  return chosen;
}

/** Labelled rows become their one-hot label. */
function clampSeeds(scores: Float32Array, seeds: Int32Array, classes: number): Float32Array {
  const out = Float32Array.from(scores);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! < 0) continue;
    out.fill(0, i * classes, (i + 1) * classes);
    out[i * classes + seeds[i]!] = 1;
  }
  return out;
}

/** The correct step: spread the labelled rows' residuals over the graph, scaled to their typical size. */
function correct(
  affinity: SparseMatrix,
  probabilities: Float32Array,
  seeds: Int32Array,
  classes: number,
  alpha: number,
  start: Float32Array | undefined,
  tolerance: number,
): { corrected: Float32Array; spread: Float32Array } {
  const residual = new Float32Array(probabilities.length);
  let total = 0;
  let labelled = 0;
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! < 0) continue;
    labelled++;
    for (let j = 0; j < classes; j++) {
      const e = (j === seeds[i] ? 1 : 0) - probabilities[i * classes + j]!;
      residual[i * classes + j] = e;
      total += Math.abs(e);
    }
  }
  const typical = total / labelled;
  const spread = propagateLabels(affinity, residual, classes, { alpha, maxIterations: 60, start, tolerance }).scores;
  const out = Float32Array.from(probabilities);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! >= 0) continue;
    let size = 0;
    for (let j = 0; j < classes; j++) size += Math.abs(spread[i * classes + j]!);
    const scale = size > 0 ? typical / size : 0;
    for (let j = 0; j < classes; j++) {
      out[i * classes + j] = Math.max(0, probabilities[i * classes + j]! + scale * spread[i * classes + j]!);
    }
  }
  return { corrected: out, spread };
}

/** Clips negatives and scales each row to sum to 1 (uniform when a row is all zero). */
function normalizeScores(scores: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(scores.length);
  for (let o = 0; o < scores.length; o += classes) {
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.max(0, scores[o + j]!);
    for (let j = 0; j < classes; j++) out[o + j] = sum > 0 ? Math.max(0, scores[o + j]!) / sum : 1 / classes;
  }
  return out;
}
