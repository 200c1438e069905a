/**
 * @module Likely label errors: confident learning (Northcutt, Jiang and Chuang 2021, "Confident
 * Learning: Estimating Uncertainty in Dataset Labels") on out-of-fold probabilities: per-class
 * thresholds (the mean self-confidence of each given class), the confident joint of given and likely
 * classes, and "prune by noise rate": from each given class, the off-diagonal count of the calibrated
 * joint is flagged, those with the largest margin p(likely) - p(given) first. The probabilities are
 * the model's out-of-fold ones blended with the labels of the nearest labelled neighbours (a k-NN
 * vote, in the spirit of Bahri et al. 2020): with a model that is often wrong, the joint counts its
 * mistakes as label noise, and the neighbours' vote sharpens it. Of the flagged labels, those whose
 * blended probability of being right is at most `MAX_GIVEN_PROBABILITY` are reported, ranked by
 * that probability (the score is 1 minus it).
 */

export interface LabelErrorInput {
  readonly classes: number;
  /** Out-of-fold class probabilities of the labelled rows, row-major [given.length, classes]. */
  readonly probabilities: Float32Array;
  /** The given class of each labelled row. */
  readonly given: Int32Array;
  /**
   * The labels of each row's nearest labelled neighbours, weighted by similarity, as shares per class,
   * row-major [given.length, classes]; a row of zeros without labelled neighbours.
   */
  readonly neighbourVotes: Float32Array;
}

export interface LabelErrorCandidate {
  /** Index into the labelled rows. */
  readonly index: number;
  readonly likely: number;
  /** Blended probabilities (model and neighbours) of the likely and the given class. */
  readonly likelyProbability: number;
  readonly givenProbability: number;
  /** 1 - givenProbability: how likely the label is wrong. */
  readonly score: number;
}

/** Weight of the neighbours' vote in the blended probabilities (the model's: the rest). */
export const NEIGHBOUR_WEIGHT = 0.3;
/** A flagged label is reported when its blended probability of being right is at most this. */
export const MAX_GIVEN_PROBABILITY = 0.1;

/** The model's probabilities blended with the neighbours' vote (rows without neighbours keep the model's). */
export function blendWithNeighbours(probabilities: Float32Array, votes: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(probabilities.length);
  for (let o = 0; o < probabilities.length; o += classes) {
    let voted = 0;
    for (let j = 0; j < classes; j++) voted += votes[o + j]!;
    const w = voted > 0 ? NEIGHBOUR_WEIGHT : 0;
    for (let j = 0; j < classes; j++) out[o + j] = (1 - w) * probabilities[o + j]! + (w * votes[o + j]!) / (voted || 1);
  }
  return out;
}

export function findLabelErrors(input: LabelErrorInput): LabelErrorCandidate[] {
  const { classes: c, given } = input;
  const p = blendWithNeighbours(input.probabilities, input.neighbourVotes, c);
  const m = given.length;
  // Per-class thresholds: the mean probability of class j over rows given j.
  const sums = new Float64Array(c);
  const counts = new Float64Array(c);
  for (let r = 0; r < m; r++) {
    sums[given[r]!]! += p[r * c + given[r]!]!;
    counts[given[r]!]!++;
  }
  const threshold = Float64Array.from(sums, (s, j) => (counts[j]! > 0 ? s / counts[j]! : 1));
  // The confident joint: each row counted under the most probable class at or above its threshold.
  const joint = new Float64Array(c * c);
  const confident = new Int32Array(m).fill(-1);
  for (let r = 0; r < m; r++) {
    let best = -1;
    for (let j = 0; j < c; j++) {
      const q = p[r * c + j]!;
      if (q >= threshold[j]! && (best < 0 || q > p[r * c + best]!)) best = j;
    }
    confident[r] = best;
    if (best >= 0) joint[given[r]! * c + best]!++;
  }
  // Calibrated so each given class's row sums to its count (Northcutt et al., eq. 2).
  const flagged = new Set<number>();
  for (let i = 0; i < c; i++) {
    let row = 0;
    for (let j = 0; j < c; j++) row += joint[i * c + j]!;
    if (row === 0) continue;
    const rowsOfI: number[] = [];
    for (let r = 0; r < m; r++) if (given[r] === i) rowsOfI.push(r);
    for (let j = 0; j < c; j++) {
      if (j === i) continue;
      const take = Math.round((joint[i * c + j]! / row) * counts[i]!);
      if (take === 0) continue;
      // Prune by noise rate: the `take` rows of class i with the largest margin towards j.
      const ranked = rowsOfI
        .map((r) => ({ r, margin: p[r * c + j]! - p[r * c + i]! }))
        .sort((a, b) => b.margin - a.margin);
      let taken = 0;
      for (const { r, margin } of ranked) {
        if (taken === take || margin <= 0) break;
        flagged.add(r);
        taken++;
      }
    }
  }
  const out: LabelErrorCandidate[] = [];
  for (const r of flagged) {
    const g = given[r]!;
    const givenProbability = p[r * c + g]!;
    if (givenProbability > MAX_GIVEN_PROBABILITY) continue;
    let likely = g === 0 ? 1 : 0;
    for (let j = 0; j < c; j++) if (j !== g && p[r * c + j]! > p[r * c + likely]!) likely = j;
    out.push({
      index: r,
      likely,
      likelyProbability: p[r * c + likely]!,
      givenProbability,
      score: 1 - givenProbability,
    });
  }
  return out.sort((a, b) => b.score - a.score || a.index - b.index);
}
