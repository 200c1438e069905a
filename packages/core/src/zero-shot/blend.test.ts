// The blend of zero-shot with the learner, on synthetic scores: cross-validation keeps zero-shot
// where it helps and leaves it out where it hurts.
import { describe, expect, it } from 'vitest';
import type { LearnerFit } from '../learn/learner.js';
import { matrix } from '../learn/matrix.js';
import { seededRandom } from '../util/random.js';
import { blendWithLearner, zeroShotFit, type ZeroShotInput } from './blend.js';

const C = 3;
const N = 300;
const CLASSES = ['a', 'b', 'c'];

/** The true class of each row, the first 30 labelled (10 per class). */
const classOf = Int32Array.from({ length: N }, (_, i) => i % C);
const labelled = Int32Array.from({ length: 30 }, (_, i) => i);
const truth = Int32Array.from(classOf, (t, i) => (i < 30 ? t : -1));

/** Probabilities that name the right class with probability `right`, confident either way. */
function learnerScores(right: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    const named = random() < right ? classOf[i]! : (classOf[i]! + 1 + Math.floor(random() * 2)) % C;
    for (let j = 0; j < C; j++) out[i * C + j] = j === named ? 0.7 : 0.15;
  }
  return out;
}

/** Cosines: `lean` more for the class `shift` after the true one (0: the right one), plus noise. */
function cosines(lean: number, shift: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < C; j++)
      out[i * C + j] = 0.2 + (random() - 0.5) * 0.02 + (j === (classOf[i]! + shift) % C ? lean : 0);
  }
  return out;
}

function learnerFit(
  all: Float32Array,
  heldOut: Float32Array,
  calibratedOn: 'labels' | 'checks' = 'labels',
): LearnerFit {
  const scores = new Float32Array(labelled.length * C);
  labelled.forEach((row, r) => scores.set(heldOut.subarray(row * C, (row + 1) * C), r * C));
  const accuracy = [...labelled].filter((row) => argmax(heldOut, row) === classOf[row]).length / labelled.length;
  return {
    classes: CLASSES,
    labelCounts: { a: 10, b: 10, c: 10 },
    labelsWithoutEmbedding: 0,
    warnings: [],
    configs: [],
    method: 'logistic',
    final: [],
    reused: false,
    head: { dim: 2, classes: C, weights: new Float32Array(2 * C), bias: new Float32Array(C) },
    temperature: 1,
    probabilities: all,
    linear: all,
    calibratedOn,
    checks: calibratedOn === 'checks' ? { rows: labelled, scores } : null,
    crossValidation: {
      folds: 3,
      accuracyByConfig: { logistic: accuracy },
      accuracy,
      calibrationError: 0,
      predictions: [],
      heldOut: { rows: labelled, scores },
    },
  };
}

const input = (cosine: Float32Array, classes: readonly string[] = CLASSES): ZeroShotInput => ({
  classes,
  cosine,
  classEmbeddings: matrix(C, 2, new Float32Array([1, 0, 0, 1, -1, 0])),
  templates: ['a photo of a {}.'],
  textTower: 'test tower',
});

function argmax(p: Float32Array, row: number): number {
  let best = 0;
  for (let j = 1; j < C; j++) if (p[row * C + j]! > p[row * C + best]!) best = j;
  return best;
}

/** Accuracy on the unlabelled rows. */
function poolAccuracy(p: Float32Array): number {
  let right = 0;
  for (let i = 30; i < N; i++) if (argmax(p, i) === classOf[i]) right++;
  return right / (N - 30);
}

describe('blend with the learner', () => {
  it('leans on zero-shot when the learner is poor and zero-shot is good, and is better than either', () => {
    const learner = learnerScores(0.6, 1);
    const blended = blendWithLearner(
      learnerFit(learner, learnerScores(0.6, 2)),
      input(cosines(0.015, 0, 3)),
      truth,
      null,
    );
    const record = blended.zeroShot!;
    expect(record.weight).toBeGreaterThan(0);
    expect(record.weight).toBeLessThan(1);
    expect(record.parts).toContain('zero-shot');
    expect(blended.method).toMatch(/zero-shot/);
    expect(blended.crossValidation.accuracy).toBeGreaterThan(0.8);
    expect(poolAccuracy(blended.probabilities)).toBeGreaterThan(poolAccuracy(learner) + 0.15);
    // Calibrated: every row sums to 1, and the held-out predictions it was fitted on are recorded.
    for (let i = 0; i < N; i += 37) {
      const sum = blended.probabilities.subarray(i * C, (i + 1) * C).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
    expect(blended.crossValidation.predictions).toHaveLength(30);
    expect(blended.calibratedOn).toBe('labels');
  });

  it('leaves zero-shot out (weight 0, the learner as it was) when zero-shot names the wrong class', () => {
    const learner = learnerScores(0.9, 4);
    const fit = learnerFit(learner, learnerScores(0.9, 5));
    const blended = blendWithLearner(fit, input(cosines(0.1, 1, 6)), truth, null);
    expect(blended.zeroShot).toMatchObject({ weight: 0, parts: ['learner'], coldStart: false });
    expect(blended.method).toBe('logistic');
    expect(blended.probabilities).toBe(fit.probabilities);
    // Each weight tried is on record with its cross-validated figures; zero-shot alone is the worst.
    const byWeight = blended.zeroShot!.byWeight;
    expect(byWeight).toHaveLength(11);
    expect(byWeight.at(-1)!.accuracy).toBeLessThan(0.1);
  });

  it('zero-shot alone, chosen when the learner is always wrong, is stored as a linear head export-model can write', () => {
    const cosine = cosines(0.012, 0, 9);
    const blended = blendWithLearner(learnerFit(learnerScores(0, 7), learnerScores(0, 8)), input(cosine), truth, null);
    expect(blended.zeroShot!.weight).toBe(1);
    expect(blended.method).toBe('zero-shot');
    expect(blended.transform).toMatchObject({ power: 1 });
    expect(Array.from(blended.transform!.mean)).toEqual([0, 0]);
    // Every image gets the class its embedding is closest to.
    for (let i = 0; i < N; i++) expect(argmax(blended.probabilities, i)).toBe(argmax(cosine, i));
    expect(poolAccuracy(blended.probabilities)).toBeGreaterThan(0.8);
  });

  it('calibrates on the random checks when the learner does, and scores them held out', () => {
    const learner = learnerScores(0.6, 10);
    const blended = blendWithLearner(
      learnerFit(learner, learnerScores(0.6, 11), 'checks'),
      input(cosines(0.015, 0, 12)),
      truth,
      { rows: labelled, weights: new Float64Array(labelled.length).fill(1) },
    );
    expect(blended.calibratedOn).toBe('checks');
    expect(blended.checks?.rows).toEqual(labelled);
    expect(blended.checks?.scores).toHaveLength(labelled.length * C);
  });
});

describe('classes declared but not labelled', () => {
  it('are suggested from zero-shot alone, the labelled classes sharing the rest by the blend', () => {
    // The learner knows a and b (10 labels each); c is declared only. Its images split between a and b for the learner.
    const two = ['a', 'b'];
    const rows = Int32Array.from({ length: 20 }, (_, i) => (i < 10 ? 3 * i : 3 * (i - 10) + 1));
    const learner = new Float32Array(N * 2);
    for (let i = 0; i < N; i++) {
      const p = classOf[i] === 2 ? 0.5 : classOf[i] === 0 ? 0.8 : 0.2;
      learner[i * 2] = p;
      learner[i * 2 + 1] = 1 - p;
    }
    const base = learnerFit(new Float32Array(N * C), new Float32Array(N * C));
    const scores = Float32Array.from([...rows].flatMap((row) => [learner[row * 2]!, learner[row * 2 + 1]!]));
    const fit: LearnerFit = {
      ...base,
      classes: two,
      labelCounts: { a: 10, b: 10 },
      probabilities: learner,
      linear: learner,
      head: { dim: 2, classes: 2, weights: new Float32Array(4), bias: new Float32Array(2) },
      crossValidation: { ...base.crossValidation, heldOut: { rows, scores } },
    };
    const labels = new Int32Array(N).fill(-1);
    for (const row of rows) labels[row] = classOf[row]!;
    const blended = blendWithLearner(fit, input(cosines(0.02, 0, 14)), labels, null);
    expect(blended.classes).toEqual(CLASSES);
    expect(blended.zeroShot?.zeroShotOnlyClasses).toEqual(['c']);
    expect(blended.zeroShot?.parts).toContain('zero-shot');
    expect(blended.warnings.join('\n')).toMatch(/class "c" has no labels: its suggestions come from zero-shot alone/);
    expect(blended.labelCounts).toEqual({ a: 10, b: 10, c: 0 });
    expect(poolAccuracy(blended.probabilities)).toBeGreaterThan(0.95);
    for (let i = 0; i < N; i += 17) {
      expect(blended.probabilities.subarray(i * C, (i + 1) * C).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    }
    // The stored linear part covers every class; the one only zero-shot knows is never its pick.
    expect(blended.head).toMatchObject({ classes: 3, dim: 2 });
    expect(blended.head.bias[2]).toBeLessThan(-1000);
  });
});

describe('zero-shot alone (cold start)', () => {
  it('is softmax(100 cos), uncalibrated, with the mean top probability as its own expected accuracy', () => {
    const fit = zeroShotFit(input(cosines(0.05, 0, 13)), new Int32Array(N).fill(-1), new Int32Array(0), {
      labelsWithoutEmbedding: 0,
      warnings: [],
    });
    expect(fit).toMatchObject({ method: 'zero-shot', calibratedOn: 'none', temperature: 1, checks: null });
    expect(fit.zeroShot).toMatchObject({ coldStart: true, weight: 1, scale: 100 });
    expect(poolAccuracy(fit.probabilities)).toBe(1);
    // exp(100 * 0.05) = e^5 against 1 + 1: a top probability of about 0.987.
    expect(fit.probabilities[0]).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 2), 1);
    expect(fit.crossValidation.accuracy).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 2), 1);
    expect(fit.labelCounts).toEqual({ a: 0, b: 0, c: 0 });
  });
});
