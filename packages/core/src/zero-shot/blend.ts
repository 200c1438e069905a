/**
 * @module Zero-shot in a fit. Cold start (no labels in two classes): the suggestions are zero-shot
 * alone, softmax(100 cos), uncalibrated for want of labels. With labels: the learner's calibrated
 * probabilities and zero-shot's, pooled geometrically, log p = (1 - w) log p_learner + w log p_zs
 * (zero-shot as a prior on the learner's logits; a product of experts, Hinton 2002), then one
 * temperature (Guo et al. 2017). The weight w, from 0 (learner alone) to 1 (zero-shot alone), is
 * chosen by the cross-validated log-loss on the labelled images: the learner's held-out predictions
 * (learn/fit.ts, crossValidation.heldOut) pooled with zero-shot probabilities whose temperature was
 * fitted without the image's fold. What the fit used is recorded (ZeroShotRecord).
 *
 * Assumptions, as the learner's: the labels were chosen, not drawn at random, so the choice and the
 * temperature rest on a sample that may be easier or harder than the pool; random checks take over
 * the temperature once there are enough (the learner's rule), and the checks' held-out predictions
 * pool the learner's cross-fit over the checks with zero-shot scores that never saw their answers
 * (its temperature is fitted on the other labels), though, as for the learner's choice of variant,
 * their answers take part in choosing w.
 */
import { fitTemperature, expectedCalibrationError, type ScoredPrediction } from '../learn/calibration.js';
import type { FeatureTransform } from '../learn/features.js';
import type { CrossValidation, HeldOutScores } from '../learn/fit.js';
import type { LearnerFit } from '../learn/learner.js';
import type { LinearHead } from '../learn/logistic.js';
import type { Matrix } from '../learn/matrix.js';
import { seededRandom } from '../util/random.js';
import { LOGIT_SCALE, zeroShotLogProbabilities } from './scores.js';

/** Weights of zero-shot tried; 0 is the learner alone, 1 zero-shot alone. */
export const BLEND_WEIGHTS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Folds of the cross-fit of zero-shot's temperature. */
const TEMPERATURE_FOLDS = 5;

/** What a fit records about zero-shot (in its summary): which parts made the suggestions, and why. */
export interface ZeroShotRecord {
  /** What the suggestions are made of. */
  readonly parts: readonly ('learner' | 'zero-shot')[];
  /** The weight of zero-shot in the pooled log-probabilities: 0 learner alone, 1 zero-shot alone. */
  readonly weight: number;
  /** No labels in two classes: zero-shot alone, uncalibrated. */
  readonly coldStart: boolean;
  /** Classes declared but not labelled yet, suggested from zero-shot alone. */
  readonly zeroShotOnlyClasses: readonly string[];
  readonly templates: readonly string[];
  readonly textTower: string;
  /** Cosines are multiplied by this before the temperature. */
  readonly scale: number;
  /** Temperature of zero-shot alone, fitted on the labels (1 at a cold start). */
  readonly zeroShotTemperature: number;
  /** How the weight was chosen. */
  readonly chosenBy: string;
  /** Cross-validated accuracy and log-loss of each weight tried. */
  readonly byWeight: readonly { readonly weight: number; readonly accuracy: number; readonly logLoss: number }[];
}

/** A fit as suggest stores it: the learner's, zero-shot's, or both pooled. */
export interface SuggestionFit {
  readonly classes: readonly string[];
  readonly method: string;
  /** Calibrated class probabilities of every image, row-major [rows, classes]. */
  readonly probabilities: Float32Array;
  readonly temperature: number;
  /** `none`: nothing to calibrate on (zero-shot with no labels). */
  readonly calibratedOn: 'checks' | 'labels' | 'none';
  readonly checks: HeldOutScores | null;
  readonly reused: boolean;
  readonly crossValidation: Omit<CrossValidation, 'heldOut'>;
  readonly labelCounts: Readonly<Record<string, number>>;
  readonly labelsWithoutEmbedding: number;
  readonly warnings: readonly string[];
  /** The linear part that export-model writes. */
  readonly head: LinearHead;
  /** The feature transform `head` applies to; null: the learner's. */
  readonly transform: FeatureTransform | null;
  readonly zeroShot: ZeroShotRecord | null;
}

export interface ZeroShotInput {
  /** The classes scored, sorted. */
  readonly classes: readonly string[];
  /** cos(image, class), row-major [rows, classes], rows in the learner's order. */
  readonly cosine: Float32Array;
  /** Unit text embeddings of the classes, [classes, dim]: the zero-shot head. */
  readonly classEmbeddings: Matrix;
  readonly templates: readonly string[];
  /** How the text tower is named. */
  readonly textTower: string;
}

/** The learner's fit as suggest stores it, unchanged. */
export function learnerOnly(fit: LearnerFit, zeroShot: ZeroShotRecord | null = null): SuggestionFit {
  return { ...fit, transform: null, zeroShot };
}

/**
 * Zero-shot alone, before there are labels in two classes: softmax(100 cos) at temperature 1 (CLIP's
 * own scale; nothing to calibrate on). `truth` (index in `input.classes` or -1, by row) names labelled rows, which
 * get no suggestion; `checkRows` are answered random checks, scored by zero-shot (it never saw them).
 */
export function zeroShotFit(
  input: ZeroShotInput,
  truth: Int32Array,
  checkRows: Int32Array,
  context: { readonly labelsWithoutEmbedding: number; readonly warnings: readonly string[] },
): SuggestionFit {
  const classes = input.classes;
  const c = classes.length;
  const rows = truth.length;
  const probabilities = new Float32Array(rows * c);
  const log = new Float64Array(c);
  let expected = 0;
  let unlabelled = 0;
  for (let row = 0; row < rows; row++) {
    zeroShotLogProbabilities(input.cosine, row, c, 1, log);
    let top = 0;
    for (let j = 0; j < c; j++) {
      probabilities[row * c + j] = Math.exp(log[j]!);
      top = Math.max(top, probabilities[row * c + j]!);
    }
    if (truth[row]! < 0) {
      expected += top;
      unlabelled++;
    }
  }
  const checkScores = new Float32Array(checkRows.length * c);
  checkRows.forEach((row, i) => checkScores.set(probabilities.subarray(row * c, (row + 1) * c), i * c));
  const labelCounts = Object.fromEntries(classes.map((name) => [name, 0]));
  for (const t of truth) if (t >= 0) labelCounts[classes[t]!]!++;
  // With no labels there is no accuracy to cross-validate: the mean top probability is the model's own expectation.
  const accuracy = unlabelled === 0 ? 0 : expected / unlabelled;
  return {
    classes,
    method: 'zero-shot',
    probabilities,
    temperature: 1,
    calibratedOn: 'none',
    checks: checkRows.length === 0 ? null : { rows: checkRows, scores: checkScores },
    reused: false,
    crossValidation: {
      folds: 0,
      accuracyByConfig: { 'zero-shot': accuracy },
      accuracy,
      calibrationError: 0,
      predictions: [],
    },
    labelCounts,
    labelsWithoutEmbedding: context.labelsWithoutEmbedding,
    warnings: context.warnings,
    ...zeroShotHead(input.classEmbeddings, LOGIT_SCALE),
    zeroShot: {
      parts: ['zero-shot'],
      weight: 1,
      coldStart: true,
      zeroShotOnlyClasses: classes,
      templates: input.templates,
      textTower: input.textTower,
      scale: LOGIT_SCALE,
      zeroShotTemperature: 1,
      chosenBy: 'no labels in two classes yet: zero-shot alone, not calibrated',
      byWeight: [],
    },
  };
}

/**
 * The learner's fit pooled with zero-shot at the weight the cross-validated log-loss prefers
 * (module comment). `input` scores every class of `input.classes`, which hold the learner's and may
 * hold more: classes declared but not labelled yet, which only zero-shot knows. Those take the share
 * zero-shot gives them (its temperature fitted over all the classes on the labelled images, so a
 * zero-shot that pulls labelled images into them is flattened), and the pool shares the rest among
 * the labelled classes; nothing can cross-validate them, and the fit warns so. `truth` is the class
 * index (in `fit.classes`) of each labelled row, -1 for the rest; `checks` the labelled rows that are
 * random checks, with their design weights.
 */
export function blendWithLearner(
  fit: LearnerFit,
  input: ZeroShotInput,
  truth: Int32Array,
  checks: { readonly rows: Int32Array; readonly weights: Float64Array } | null,
): SuggestionFit {
  const k = fit.classes.length;
  const classes = input.classes;
  const a = classes.length;
  const column = Int32Array.from(fit.classes, (name) => classes.indexOf(name));
  const zeroShotOnly = classes.filter((name) => !fit.classes.includes(name));
  const record = (
    weight: number,
    zeroShotTemperature: number,
    chosenBy: string,
    byWeight: ZeroShotRecord['byWeight'],
  ): ZeroShotRecord => ({
    parts:
      weight === 0 && zeroShotOnly.length === 0 ? ['learner'] : weight === 1 ? ['zero-shot'] : ['learner', 'zero-shot'],
    weight,
    coldStart: false,
    zeroShotOnlyClasses: zeroShotOnly,
    templates: input.templates,
    textTower: input.textTower,
    scale: LOGIT_SCALE,
    zeroShotTemperature,
    chosenBy,
    byWeight,
  });
  const heldOut = fit.crossValidation.heldOut;
  const kept = heldOut ? [...heldOut.rows.keys()].filter((r) => truth[heldOut.rows[r]!]! >= 0) : [];
  if (!heldOut || new Set(kept.map((r) => truth[heldOut.rows[r]!])).size < 2) {
    return learnerOnly(fit, {
      ...record(0, 1, 'no cross-validated predictions in two classes to choose a blend on', []),
      parts: ['learner'],
      zeroShotOnlyClasses: [],
    });
  }
  const isCheck = new Set(checks?.rows ?? []);
  const rowOf = (r: number): number => heldOut.rows[r]!;
  // Temperatures are fitted on the chosen labels, not the random checks (as the learner calibrates).
  const chosen = kept.filter((r) => !isCheck.has(rowOf(r)));
  const fitting = chosen.length >= 2 ? chosen : kept;
  const zeroShotLogits = (rs: readonly number[]): Float32Array => {
    const out = new Float32Array(rs.length * a);
    rs.forEach((r, i) => {
      const o = rowOf(r) * a;
      for (let j = 0; j < a; j++) out[i * a + j] = LOGIT_SCALE * input.cosine[o + j]!;
    });
    return out;
  };
  const truthOf = (rs: readonly number[]): Int32Array => Int32Array.from(rs, (r) => column[truth[rowOf(r)]!]!);
  const zeroShotTemperature = fitTemperature(zeroShotLogits(fitting), truthOf(fitting), a);
  /** Zero-shot at temperature t for one row: log-probabilities over the learner's classes (renormalised), and log of their share. */
  const logAll = new Float64Array(a);
  const zeroShotRow = (row: number, t: number, out: Float64Array, offset: number): number => {
    zeroShotLogProbabilities(input.cosine, row, a, t, logAll);
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logAll[column[j]!]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logAll[column[j]!]! - max);
    const share = max + Math.log(sum);
    for (let j = 0; j < k; j++) out[offset + j] = logAll[column[j]!]! - share;
    return share;
  };
  const scratch = new Float64Array(k);
  /** Pooled probabilities over the learner's classes, spread over all classes: zero-shot's share for the classes only it knows. */
  const spread = (pooled: Float32Array, row: number, t: number, out: Float32Array, offset: number): void => {
    const share = Math.exp(zeroShotRow(row, t, scratch, 0));
    for (let j = 0; j < a; j++) out[offset + j] = Math.exp(logAll[j]!);
    for (let j = 0; j < k; j++) out[offset + column[j]!] = share * pooled[j]!;
  };

  // Held-out zero-shot log-probabilities: each row's temperature fitted without its fold.
  const folds = Math.min(TEMPERATURE_FOLDS, fitting.length);
  const foldOf = new Map<number, number>();
  shuffle(kept, 11).forEach((r, i) => foldOf.set(r, i % folds));
  const foldTemperature = Array.from({ length: folds }, (_, f) => {
    const rest = fitting.filter((r) => foldOf.get(r) !== f);
    return rest.length === 0 ? zeroShotTemperature : fitTemperature(zeroShotLogits(rest), truthOf(rest), a);
  });
  const m = kept.length;
  const learnerLog = new Float64Array(m * k);
  const zeroShotLog = new Float64Array(m * k);
  kept.forEach((r, i) => {
    for (let j = 0; j < k; j++) learnerLog[i * k + j] = Math.log(heldOut.scores[r * k + j]! + 1e-6);
    zeroShotRow(rowOf(r), foldTemperature[foldOf.get(r)!]!, zeroShotLog, i * k);
  });
  const keptTruth = Int32Array.from(kept, (r) => truth[rowOf(r)]!);
  const indexOfKept = new Map(kept.map((r, i) => [r, i]));
  const fittingIndex = fitting.map((r) => indexOfKept.get(r)!);
  const candidates = BLEND_WEIGHTS.map((weight) => {
    const pooled = pool(learnerLog, zeroShotLog, weight);
    const temperature = fitTemperature(
      pick(pooled, fittingIndex, k),
      Int32Array.from(fittingIndex, (i) => keptTruth[i]!),
      k,
    );
    const probabilities = softmax(pooled, k, temperature);
    return { weight, temperature, probabilities, ...score(probabilities, keptTruth, k) };
  });
  // The lowest log-loss (a proper scoring rule; with few labels, accuracy moves in coarse steps); ties go to less zero-shot.
  // Classes only zero-shot knows take the same share whatever the weight, so they do not sway the choice.
  const best = candidates.reduce((b, c) => (c.logLoss < b.logLoss - 1e-9 ? c : b));
  const byWeight = candidates.map((c) => ({ weight: c.weight, accuracy: c.accuracy, logLoss: round(c.logLoss) }));
  const chosenBy = `cross-validated log-loss on ${m} labelled images (${fit.crossValidation.folds} folds)`;
  const w = best.weight;
  if (w === 0 && zeroShotOnly.length === 0) return learnerOnly(fit, record(0, zeroShotTemperature, chosenBy, byWeight));

  // The learner alone is kept as it was (its own calibration); a pool gets the temperature fitted on it.
  const n = truth.length;
  const pooledRow = new Float32Array(k);
  const logZ = new Float64Array(k);
  const pooledAt = (learner: Float32Array, offset: number, row: number, temperature: number): Float32Array => {
    if (w === 0) return learner.subarray(offset, offset + k) as Float32Array;
    zeroShotRow(row, zeroShotTemperature, logZ, 0);
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      pooledRow[j] = ((1 - w) * Math.log(learner[offset + j]! + 1e-6) + w * logZ[j]!) / temperature;
      max = Math.max(max, pooledRow[j]!);
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += pooledRow[j] = Math.exp(pooledRow[j]! - max);
    for (let j = 0; j < k; j++) pooledRow[j]! /= sum;
    return pooledRow;
  };
  let temperature = w === 0 ? fit.temperature : best.temperature;
  let calibratedOn: SuggestionFit['calibratedOn'] = fit.calibratedOn;
  let checkScores: HeldOutScores | null = null;
  if (fit.checks) {
    const held = fit.checks;
    // The learner calibrates on the checks once they are enough (learn/fit.ts); so does the pool.
    if (w > 0 && fit.calibratedOn === 'checks') {
      const pooledChecks = new Float32Array(held.rows.length * k);
      held.rows.forEach((row, i) => {
        zeroShotRow(row, zeroShotTemperature, logZ, 0);
        for (let j = 0; j < k; j++) {
          pooledChecks[i * k + j] = (1 - w) * Math.log(held.scores[i * k + j]! + 1e-6) + w * logZ[j]!;
        }
      });
      const weightOf = new Map([...(checks?.rows ?? [])].map((row, i) => [row, checks!.weights[i]!]));
      temperature = fitTemperature(
        pooledChecks,
        Int32Array.from(held.rows, (row) => truth[row]!),
        k,
        Float64Array.from(held.rows, (row) => weightOf.get(row) ?? 1),
      );
      calibratedOn = 'checks';
    }
    const scores = new Float32Array(held.rows.length * a);
    held.rows.forEach((row, i) =>
      spread(pooledAt(held.scores, i * k, row, temperature), row, zeroShotTemperature, scores, i * a),
    );
    checkScores = { rows: held.rows, scores };
  }
  const probabilities = new Float32Array(n * a);
  for (let row = 0; row < n; row++) {
    spread(pooledAt(fit.probabilities, row * k, row, temperature), row, zeroShotTemperature, probabilities, row * a);
  }
  // The held-out predictions the choice rests on, over every class: each row's zero-shot share at its fold's temperature.
  const heldProbabilities = new Float32Array(m * a);
  const chosenHeld =
    w === 0
      ? Float32Array.from(kept.flatMap((r) => [...heldOut.scores.subarray(r * k, (r + 1) * k)]))
      : best.probabilities;
  kept.forEach((r, i) =>
    spread(
      chosenHeld.subarray(i * k, (i + 1) * k),
      rowOf(r),
      foldTemperature[foldOf.get(r)!]!,
      heldProbabilities,
      i * a,
    ),
  );
  const predictions = scored(
    heldProbabilities,
    Int32Array.from(keptTruth, (t) => column[t]!),
    a,
  );
  const accuracy = predictions.filter((p) => p.correct).length / predictions.length;
  const zeroShotAlone = w === 1 && zeroShotOnly.length === 0;
  const labelCounts = Object.fromEntries(classes.map((name) => [name, fit.labelCounts[name] ?? 0]));
  const warnings = [
    ...fit.warnings,
    ...zeroShotOnly.map(
      (name) =>
        `class "${name}" has no labels: its suggestions come from zero-shot alone, unchecked until a few of its images are labelled`,
    ),
  ];
  return {
    classes,
    method:
      w === 0
        ? `${fit.method}; zero-shot for ${zeroShotOnly.join(', ')}`
        : zeroShotAlone
          ? 'zero-shot'
          : `${fit.method} + zero-shot (weight ${w})`,
    probabilities,
    temperature,
    calibratedOn,
    checks: checkScores,
    reused: fit.reused,
    crossValidation: {
      folds: fit.crossValidation.folds,
      accuracyByConfig: {
        ...fit.crossValidation.accuracyByConfig,
        ...Object.fromEntries(candidates.filter((c) => c.weight > 0).map((c) => [`zero-shot ${c.weight}`, c.accuracy])),
      },
      accuracy,
      calibrationError: expectedCalibrationError(predictions),
      predictions,
    },
    labelCounts,
    labelsWithoutEmbedding: fit.labelsWithoutEmbedding,
    warnings,
    // Zero-shot alone is linear: export-model writes it. Otherwise the learner's linear part, which
    // gives classes only zero-shot knows no probability (a bias far below the others).
    ...(zeroShotAlone
      ? zeroShotHead(input.classEmbeddings, LOGIT_SCALE / (zeroShotTemperature * temperature))
      : { head: widenHead(fit.head, column, a), transform: null }),
    zeroShot: record(w, zeroShotTemperature, chosenBy, byWeight),
  };
}

/** A head over more classes: the learner's columns where `column` puts them, the rest never chosen. */
function widenHead(head: LinearHead, column: Int32Array, classes: number): LinearHead {
  if (classes === head.classes) return head;
  const weights = new Float32Array(head.dim * classes);
  const bias = new Float32Array(classes).fill(-1e4);
  for (let j = 0; j < head.classes; j++) {
    bias[column[j]!] = head.bias[j]!;
    for (let t = 0; t < head.dim; t++) weights[t * classes + column[j]!] = head.weights[t * head.classes + j]!;
  }
  return { dim: head.dim, classes, weights, bias };
}

/** Zero-shot as a linear head: scale * unit text embeddings, on L2-normalised embeddings (power 1, no centring). */
function zeroShotHead(classEmbeddings: Matrix, scale: number): { head: LinearHead; transform: FeatureTransform } {
  const { rows: c, cols: d } = classEmbeddings;
  const weights = new Float32Array(d * c);
  for (let j = 0; j < c; j++) for (let t = 0; t < d; t++) weights[t * c + j] = scale * classEmbeddings.data[j * d + t]!;
  return {
    head: { dim: d, classes: c, weights, bias: new Float32Array(c) },
    transform: { power: 1, mean: new Float32Array(d) },
  };
}

function pool(learner: Float64Array, zeroShot: Float64Array, weight: number): Float64Array {
  const out = new Float64Array(learner.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - weight) * learner[i]! + weight * zeroShot[i]!;
  return out;
}

function pick(values: Float64Array, rows: readonly number[], c: number): Float32Array {
  const out = new Float32Array(rows.length * c);
  rows.forEach((r, i) => {
    for (let j = 0; j < c; j++) out[i * c + j] = values[r * c + j]!;
  });
  return out;
}

/** softmax(logits / temperature) by rows of `c`. */
function softmax(logits: Float64Array, c: number, temperature: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let o = 0; o < logits.length; o += c) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[o + j]! / temperature);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[o + j]! / temperature - max);
    for (let j = 0; j < c; j++) out[o + j] = Math.exp(logits[o + j]! / temperature - max) / sum;
  }
  return out;
}

function argmax(p: Float32Array, o: number, c: number): number {
  let best = 0;
  for (let j = 1; j < c; j++) if (p[o + j]! > p[o + best]!) best = j;
  return best;
}

function score(p: Float32Array, truth: Int32Array, c: number): { accuracy: number; logLoss: number } {
  let right = 0;
  let loss = 0;
  truth.forEach((t, i) => {
    if (argmax(p, i * c, c) === t) right++;
    loss -= Math.log(p[i * c + t]! + 1e-12);
  });
  return { accuracy: right / truth.length, logLoss: loss / truth.length };
}

function scored(p: Float32Array, truth: Int32Array, c: number): ScoredPrediction[] {
  return [...truth].map((t, i) => {
    const top = argmax(p, i * c, c);
    return { confidence: p[i * c + top]!, correct: top === t };
  });
}

function shuffle<T>(values: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}

function round(x: number): number {
  return Number(x.toFixed(4));
}
