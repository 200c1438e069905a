/**
 * @module A fit with honest confidence: cross-fitted predictions on the labelled images choose the
 * pipeline variant; one run on all labels makes the suggestions; and the random checks among the
 * labels (verify/) are cross-fitted on their own, so each gets a prediction that never saw its answer
 * from models that saw every other label. Those predictions fit the temperature when there are
 * enough of them (labels chosen by `next` are not a random sample, so calibrating on them is biased),
 * and they are what certification and accuracy estimates rest on.
 */
import { AutolabelError } from '../errors.js';
import { seededRandom } from '../util/random.js';
import { binomialCdf, effectiveSize } from '../verify/bounds.js';
import { expectedCalibrationError, fitTemperature, type ScoredPrediction } from './calibration.js';
import type { LinearHead } from './logistic.js';
import { columnMeans, matrix } from './matrix.js';
import {
  type LearnContext,
  PIPELINE_CONFIGS,
  type PipelineConfig,
  type PipelinePrediction,
  runPipeline,
  WARM_TOLERANCE,
} from './semi-supervised.js';

/** With at least this many answered random checks (effective count, by their design weights), the temperature is fitted on them. */
export const MIN_CHECKS_FOR_CALIBRATION = 30;
/** Folds of the cross-fit over random checks. */
const CHECK_FOLDS = 5;
/** One-sided level of the sign test that must reject "no better than the default" before another variant is chosen. */
const CHOICE_LEVEL = 0.05;
/**
 * From this many images on, cross-validation runs 3 folds (not 5) with the solvers stopped at the
 * warm tolerance: its cost grows with the pool, its statistics do not (they rest on the labels). Its
 * folds start cold: a start from the run on all labels begins with residual -Y of the held-out labels
 * (half the right-hand side's norm, so it saves few iterations) and, stopped early, leaks them.
 */
export const LARGE_POOL = 200_000;

/** Labelled rows that are random checks (verify/design.ts), with their design weights. */
export interface CheckRows {
  readonly rows: Int32Array;
  readonly weights: Float64Array;
}

export interface HeldOutScores {
  /** Check rows that got a held-out prediction (a fold that would leave fewer than two classes is skipped). */
  readonly rows: Int32Array;
  /** Calibrated class probabilities, row-major [rows.length, classes]. */
  readonly scores: Float32Array;
}

export interface FitOptions {
  /** Rows among the labelled ones that are random checks. */
  readonly checks?: CheckRows;
  readonly folds?: number;
  readonly seed?: number;
  readonly configs?: readonly PipelineConfig[];
  /** Called after each cross-validation run and the final run. */
  readonly onStep?: (done: number, total: number) => void;
  /**
   * A quick refit: keep this earlier fit's variant, temperature, held-out check scores and cross-validation
   * (made on nearly the same labels, same classes) and start the solvers from its solutions.
   */
  readonly reuse?: LabelFit;
}

export interface CrossValidation {
  readonly folds: number;
  /** Held-out accuracy of each variant tried. */
  readonly accuracyByConfig: Readonly<Record<string, number>>;
  /** Held-out accuracy of the variant chosen. */
  readonly accuracy: number;
  /** Expected calibration error of the held-out predictions after temperature scaling. */
  readonly calibrationError: number;
  /** Calibrated held-out predictions of the chosen variant. */
  readonly predictions: readonly ScoredPrediction[];
  /**
   * The same held-out predictions as class probabilities, by labelled row: what a blend made outside
   * the learner (zero-shot/) is cross-validated on.
   */
  readonly heldOut?: HeldOutScores;
}

export interface LabelFit {
  /** The variants whose scores are averaged (one, or all when their average cross-validates best). */
  readonly configs: readonly PipelineConfig[];
  readonly method: string;
  /** The final run of each variant, kept to warm-start a quick refit. */
  readonly final: readonly PipelinePrediction[];
  /** True when variant, calibration and threshold were carried over from an earlier fit (`FitOptions.reuse`). */
  readonly reused: boolean;
  readonly head: LinearHead;
  readonly temperature: number;
  /** Calibrated class probabilities of every image, row-major [n, classes]. */
  readonly probabilities: Float32Array;
  /** The linear part alone: softmax of the first variant's head, uncalibrated (what an exported model computes). */
  readonly linear: Float32Array;
  /** Where the temperature was fitted: random checks, or (too few of them) cross-validation on all labels. */
  readonly calibratedOn: 'checks' | 'labels';
  /** Held-out predictions of the random checks; null without checks. */
  readonly checks: HeldOutScores | null;
  readonly crossValidation: CrossValidation;
}

/** `seeds[i]` is the class of image row i or -1; needs labels in at least two classes. */
export async function fitLabels(context: LearnContext, seeds: Int32Array, options: FitOptions = {}): Promise<LabelFit> {
  const c = context.classes;
  const counts = new Int32Array(c);
  for (const s of seeds) if (s >= 0) counts[s]!++;
  if (counts.filter((n) => n > 0).length < 2) {
    throw new AutolabelError('NOT_ENOUGH_LABELS', 'suggestions need labels in at least two classes');
  }
  if (options.reuse) {
    const previous = options.reuse;
    const final = await runAll(context, seeds, previous.configs, previous.final);
    options.onStep?.(1, 1);
    return {
      ...previous,
      final,
      reused: true,
      head: final[0]!.head,
      probabilities: calibrate(averageScores(final.map((f) => f.scores)), c, previous.temperature),
      linear: final[0]!.linear,
    };
  }
  const configs = options.configs ?? PIPELINE_CONFIGS;
  const sortedCounts = [...counts].filter((n) => n > 0).sort((a, b) => a - b);
  const median = sortedCounts[Math.floor(sortedCounts.length / 2)]!;
  const large = seeds.length >= LARGE_POOL;
  const folds = options.folds ?? Math.min(large ? 3 : 5, Math.max(2, median));
  const foldOf = assignFolds(seeds, c, folds, options.seed ?? 1);
  const labelled = [...seeds.keys()].filter((i) => seeds[i]! >= 0);
  const total = configs.length * folds + 1;
  let done = 0;

  const heldOut = configs.map(() => new Float32Array(labelled.length * c));
  for (let fold = 0; fold < folds; fold++) {
    const training = Int32Array.from(seeds, (s, i) => (foldOf[i] === fold ? -1 : s));
    for (const [k, config] of configs.entries()) {
      const prediction = await runPipeline(context, training, config, undefined, large ? WARM_TOLERANCE : undefined);
      labelled.forEach((row, r) => {
        if (foldOf[row] === fold) heldOut[k]!.set(prediction.scores.subarray(row * c, (row + 1) * c), r * c);
      });
      options.onStep?.(++done, total);
    }
  }
  const truth = Int32Array.from(labelled, (row) => seeds[row]!);
  // Candidates: the first variant alone (the default), the average of every variant, then each other
  // variant alone.
  const candidates = [
    { configs: [configs[0]!], scores: heldOut[0]! },
    ...(configs.length > 1 ? [{ configs, scores: averageScores(heldOut) }] : []),
    ...configs.slice(1).map((config, k) => ({ configs: [config], scores: heldOut[k + 1]! })),
  ];
  const accuracies = candidates.map((candidate) => accuracy(candidate.scores, truth, c));
  // The labels are not a sample of the pool: as many per class on a long tail, or `next` picks. The
  // choice is for the pool, so each held-out label weighs its class's share of the pool (as the
  // default's run on all labels predicts it) over its class's share of the labels. Unweighted, a
  // variant better on the rare classes won on 25 labels per class and lost 3 points on the pool
  // (cifar10 long tail 0.7, 3 of 5 draws).
  const defaultFinal = await runAll(context, seeds, candidates[0]!.configs);
  const poolShares = columnMeans(matrix(seeds.length, c, averageScores(defaultFinal.map((f) => f.scores))));
  const bestIndex = chooseCandidate(
    candidates.map((candidate) => candidate.scores),
    truth,
    c,
    poolWeights(truth, poolShares, c),
  );
  const best = candidates[bestIndex]!;
  const logScores = best.scores.map((p) => Math.log(p + 1e-6));
  // Until the checks can calibrate on their own, calibrate on the other labels: checks drawn mostly
  // from the confident frame are easier than the pool, and would make the whole pool look surer.
  const isCheck = new Set(options.checks?.rows ?? []);
  const chosen = labelled.flatMap((row, r) => (isCheck.has(row) ? [] : [r]));
  const temperature =
    chosen.length >= 2 && chosen.length < labelled.length
      ? fitTemperature(
          Float32Array.from(chosen.flatMap((r) => [...logScores.subarray(r * c, (r + 1) * c)])),
          Int32Array.from(chosen, (r) => truth[r]!),
          c,
        )
      : fitTemperature(logScores, truth, c);
  const heldOutScores = calibrate(best.scores, c, temperature);
  const predictions = scored(heldOutScores, truth, c);

  const final = bestIndex === 0 ? defaultFinal : await runAll(context, seeds, best.configs);
  options.onStep?.(++done, total);
  const held = options.checks ? await crossFitChecks(context, seeds, options.checks, best.configs) : null;
  let finalTemperature = temperature;
  let calibratedOn: LabelFit['calibratedOn'] = 'labels';
  const weightOf = new Map([...(options.checks?.rows ?? [])].map((row, i) => [row, options.checks!.weights[i]!]));
  const weights = held ? Float64Array.from(held.rows, (row) => weightOf.get(row) ?? 1) : new Float64Array(0);
  // Effective, not raw, count: a stratified draw whose few checks of the large low-confidence stratum
  // carry most of the weight fits a temperature no better than those few (measured: 50 checks, 14 of
  // them for 95% of the pool, turned an ECE of 0.03 into 0.23).
  const effective = effectiveSize(
    weights.reduce((a, w) => a + w, 0),
    weights.reduce((a, w) => a + w * w, 0),
  );
  if (held && effective >= MIN_CHECKS_FOR_CALIBRATION) {
    const heldTruth = Int32Array.from(held.rows, (row) => seeds[row]!);
    finalTemperature = fitTemperature(
      held.scores.map((p) => Math.log(p + 1e-6)),
      heldTruth,
      c,
      weights,
    );
    calibratedOn = 'checks';
  }
  return {
    configs: best.configs,
    method: methodName(best.configs),
    final,
    reused: false,
    head: final[0]!.head,
    temperature: finalTemperature,
    probabilities: calibrate(averageScores(final.map((f) => f.scores)), c, finalTemperature),
    linear: final[0]!.linear,
    calibratedOn,
    checks: held && { rows: held.rows, scores: calibrate(held.scores, c, finalTemperature) },
    crossValidation: {
      folds,
      accuracyByConfig: Object.fromEntries(candidates.map((cand, k) => [methodName(cand.configs), accuracies[k]!])),
      accuracy: accuracies[candidates.indexOf(best)]!,
      calibrationError: expectedCalibrationError(predictions),
      predictions,
      heldOut: { rows: Int32Array.from(labelled), scores: heldOutScores },
    },
  };
}

/**
 * Cross-fitting over the random checks alone: each fold's checks are held out while every other
 * label (chosen ones and the other folds' checks) trains. Every run starts cold: a start from the
 * final run would carry what it learned from the held-out answers (the solvers stop at a tolerance),
 * and the checks would look better predicted than the pool is. Returns uncalibrated scores.
 */
async function crossFitChecks(
  context: LearnContext,
  seeds: Int32Array,
  checks: CheckRows,
  configs: readonly PipelineConfig[],
): Promise<HeldOutScores> {
  const c = context.classes;
  const labelled = [...checks.rows].filter((row) => seeds[row]! >= 0);
  const folds = Math.min(CHECK_FOLDS, labelled.length);
  const random = seededRandom(7);
  for (let i = labelled.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [labelled[i], labelled[k]] = [labelled[k]!, labelled[i]!];
  }
  const rows: number[] = [];
  const scores: number[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const held = labelled.filter((_, i) => i % folds === fold);
    const training = Int32Array.from(seeds);
    for (const row of held) training[row] = -1;
    const classesLeft = new Set([...training].filter((s) => s >= 0));
    if (classesLeft.size < 2) continue;
    const run = averageScores((await runAll(context, training, configs)).map((f) => f.scores));
    for (const row of held) {
      rows.push(row);
      for (let j = 0; j < c; j++) scores.push(run[row * c + j]!);
    }
  }
  return { rows: Int32Array.from(rows), scores: Float32Array.from(scores) };
}

async function runAll(
  context: LearnContext,
  seeds: Int32Array,
  configs: readonly PipelineConfig[],
  warm?: readonly PipelinePrediction[],
): Promise<PipelinePrediction[]> {
  const out: PipelinePrediction[] = [];
  for (const [k, config] of configs.entries()) out.push(await runPipeline(context, seeds, config, warm?.[k]));
  return out;
}

function methodName(configs: readonly PipelineConfig[]): string {
  return configs.length === 1 ? configs[0]!.name : `average of ${configs.map((c) => c.name).join(', ')}`;
}

/** Element-wise mean; rows of each input sum to 1, so rows of the mean do too. */
function averageScores(all: readonly Float32Array[]): Float32Array {
  if (all.length === 1) return all[0]!;
  const out = new Float32Array(all[0]!.length);
  for (const scores of all) for (let i = 0; i < out.length; i++) out[i]! += scores[i]! / all.length;
  return out;
}

/** p^(1/T), renormalised: temperature scaling applied to log-probabilities. */
export function calibrate(scores: Float32Array, classes: number, temperature: number): Float32Array {
  const out = new Float32Array(scores.length);
  const scaled = new Float64Array(classes);
  for (let o = 0; o < scores.length; o += classes) {
    let max = -Infinity;
    for (let j = 0; j < classes; j++) {
      scaled[j] = Math.log(scores[o + j]! + 1e-6) / temperature;
      max = Math.max(max, scaled[j]!);
    }
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      out[o + j] = Math.exp(scaled[j]! - max);
      sum += out[o + j]!;
    }
    for (let j = 0; j < classes; j++) out[o + j]! /= sum;
  }
  return out;
}

/** Stratified folds: each class's labelled rows dealt round the folds in a seeded random order. */
function assignFolds(seeds: Int32Array, classes: number, folds: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const foldOf = new Int32Array(seeds.length).fill(-1);
  let next = 0;
  for (let j = 0; j < classes; j++) {
    const rows = [...seeds.keys()].filter((i) => seeds[i] === j);
    for (let i = rows.length - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1));
      [rows[i], rows[k]] = [rows[k]!, rows[i]!];
    }
    for (const row of rows) foldOf[row] = next++ % folds;
  }
  return foldOf;
}

/**
 * Per held-out label, its class's share of the pool over its class's share of the labels, scaled to
 * a mean of 1: importance weights that make the labels' accuracy estimate the pool's.
 */
function poolWeights(truth: Int32Array, poolShares: Float64Array, classes: number): Float64Array {
  const counts = new Float64Array(classes);
  for (const t of truth) counts[t]!++;
  const raw = Float64Array.from(truth, (t) => poolShares[t]! / (counts[t]! / truth.length));
  const mean = raw.reduce((a, b) => a + b, 0) / Math.max(1, raw.length);
  return raw.map((w) => (mean > 0 ? w / mean : 1));
}

/**
 * The index of the candidate to use: the default (index 0) unless another is right on significantly
 * more held-out labels where the two disagree (McNemar's exact test, one-sided at `CHOICE_LEVEL`);
 * among those, the most accurate. With a few labels per class the held-out labels cannot tell
 * variants a few points apart, and picking the best of noisy scores picks noise. `weights` (per
 * held-out label, mean 1; default all 1) make the test and the accuracies the pool's: the test then
 * runs on the effective count of the weighted disagreements, (sum w)^2 / sum w^2.
 */
export function chooseCandidate(
  candidates: readonly Float32Array[],
  truth: Int32Array,
  classes: number,
  weights: Float64Array = new Float64Array(truth.length).fill(1),
): number {
  const right = candidates.map((scores) =>
    Uint8Array.from(truth, (t, r) => (argmax(scores, r * classes, classes) === t ? 1 : 0)),
  );
  const weighted = (k: number): number => right[k]!.reduce((a, hit, r) => a + hit * weights[r]!, 0);
  let chosen = 0;
  let chosenRight = weighted(0);
  for (let k = 1; k < candidates.length; k++) {
    let wins = 0;
    let losses = 0;
    let squares = 0;
    for (let r = 0; r < truth.length; r++) {
      const w = weights[r]!;
      if (right[k]![r]! > right[0]![r]!) wins += w;
      else if (right[k]![r]! < right[0]![r]!) losses += w;
      else continue;
      squares += w * w;
    }
    const effective = effectiveSize(wins + losses, squares);
    const effectiveWins = wins + losses > 0 ? (effective * wins) / (wins + losses) : 0;
    const pValue = wins === 0 ? 1 : 1 - binomialCdf(effectiveWins - 1, effective, 0.5);
    const total = weighted(k);
    if (pValue < CHOICE_LEVEL && total > chosenRight) {
      chosen = k;
      chosenRight = total;
    }
  }
  return chosen;
}

function argmax(scores: Float32Array, offset: number, classes: number): number {
  let best = 0;
  for (let j = 1; j < classes; j++) if (scores[offset + j]! > scores[offset + best]!) best = j;
  return best;
}

function accuracy(scores: Float32Array, truth: Int32Array, classes: number): number {
  let right = 0;
  for (let r = 0; r < truth.length; r++) if (argmax(scores, r * classes, classes) === truth[r]) right++;
  return truth.length === 0 ? 0 : right / truth.length;
}

function scored(probabilities: Float32Array, truth: Int32Array, classes: number): ScoredPrediction[] {
  return [...truth].map((t, r) => {
    const top = argmax(probabilities, r * classes, classes);
    return { confidence: probabilities[r * classes + top]!, correct: top === t };
  });
}
