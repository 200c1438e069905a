/**
 * @module One semi-supervised prediction from a set of labels: logistic regression on the labels,
 * optional class-balanced self-training on its most confident predictions, then Correct and Smooth
 * over the k-NN graph (Huang et al. 2021). Which variant runs is chosen by cross-validation.
 */
import type { SparseMatrix } from './graph.js';
import { headLogits, type LinearHead, softmaxRows, trainLogistic } from './logistic.js';
import { type Matrix, selectRows } from './matrix.js';
import type { OrtMath } from './ort-math.js';
import { propagateLabels } from './propagate.js';

export interface PipelineConfig {
  readonly name: string;
  /** L2 penalty of the logistic regression. */
  readonly l2: number;
  /** Self-training rounds; round r adds the r * perClass most confident predictions of each class. */
  readonly selfTrainingRounds: number;
  readonly pseudoPerClass: number;
  /** Graph weight of the correct and smooth steps, in (0, 1). */
  readonly alpha: number;
}

/** Relative residual the graph solvers stop at, from scratch and from a previous solution. */
const COLD_TOLERANCE = 1e-4;
const WARM_TOLERANCE = 1e-3;

/** The variants cross-validation picks from (see bench/learn.ts for what each gains). */
export const PIPELINE_CONFIGS: readonly PipelineConfig[] = [
  { name: 'logistic+correct-smooth', l2: 1e-4, selfTrainingRounds: 0, pseudoPerClass: 0, alpha: 0.8 },
  { name: 'self-training+correct-smooth', l2: 1e-4, selfTrainingRounds: 3, pseudoPerClass: 50, alpha: 0.8 },
];

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
}

/** `seeds[i]` is the class of image row i, or -1 when unlabelled (or held out). */
export async function runPipeline(
  context: LearnContext,
  seeds: Int32Array,
  config: PipelineConfig,
  /** A previous run on nearly the same labels (same classes): its solutions seed this one's solvers. */
  warm?: PipelinePrediction,
): Promise<PipelinePrediction> {
  const { features, classes: c } = context;
  const n = features.rows;
  const withPseudoLabels = (from: Float32Array, perClass: number): Int32Array => {
    const training = Int32Array.from(seeds);
    const best = topPerClass(from, seeds, c, perClass);
    for (let i = 0; i < n; i++) if (best[i]! >= 0) training[i] = best[i]!;
    return training;
  };
  let head: LinearHead;
  let linear: Float32Array;
  if (warm && config.selfTrainingRounds > 0) {
    // A refit after a few new labels continues self-training where the last run ended: one round
    // with its full pseudo-label count, started from its predictions and its head.
    const training = withPseudoLabels(warm.linear, config.selfTrainingRounds * config.pseudoPerClass);
    head = await fitHead(context.math, features, training, c, config.l2, warm.head);
    linear = await predictHead(context.math, head, features);
  } else {
    head = await fitHead(context.math, features, seeds, c, config.l2, warm?.head);
    linear = await predictHead(context.math, head, features);
    for (let round = 1; round <= config.selfTrainingRounds; round++) {
      const training = withPseudoLabels(linear, round * config.pseudoPerClass);
      head = await fitHead(context.math, features, training, c, config.l2, head);
      linear = await predictHead(context.math, head, features);
    }
  }
  // From a warm start the solution moves little: a looser tolerance keeps refits quick.
  const tolerance = warm ? WARM_TOLERANCE : COLD_TOLERANCE;
  const { corrected, spread } = correct(context.affinity, linear, seeds, c, config.alpha, warm?.spread, tolerance);
  const smoothed = propagateLabels(context.affinity, clampSeeds(corrected, seeds, c), c, {
    alpha: config.alpha,
    maxIterations: 60,
    start: warm?.smoothed,
    tolerance,
  }).scores;
  return { head, linear, scores: normalizeScores(smoothed, c), spread, smoothed };
}

async function fitHead(
  math: OrtMath,
  features: Matrix,
  seeds: Int32Array,
  classes: number,
  l2: number,
  start?: LinearHead,
): Promise<LinearHead> {
  const rows: number[] = [];
  for (let i = 0; i < seeds.length; i++) if (seeds[i]! >= 0) rows.push(i);
  const targets = new Float32Array(rows.length * classes);
  rows.forEach((row, r) => (targets[r * classes + seeds[row]!] = 1));
  return trainLogistic(selectRows(features, rows), targets, classes, { l2, start, maxIterations: 150, math });
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
