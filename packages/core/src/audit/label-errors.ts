/**
 * @module Likely label errors: confident learning (Northcutt, Jiang and Chuang 2021, "Confident
 * Learning: Estimating Uncertainty in Dataset Labels") on out-of-fold probabilities: per-class
 * thresholds (the mean self-confidence of each given class), the confident joint of given and likely
 * classes, and "prune by noise rate": from each given class, the off-diagonal count of the calibrated
 * joint is flagged, those with the largest margin p(likely) - p(given) first. Each flagged label is
 * ranked by a combined score: its self-confidence and how many of its nearest labelled neighbours
 * disagree with it (a k-NN check in the spirit of Bahri et al. 2020).
 */

export interface LabelErrorInput {
  readonly classes: number;
  /** Out-of-fold class probabilities of the labelled rows, row-major [given.length, classes]. */
  readonly probabilities: Float32Array;
  /** The given class of each labelled row. */
  readonly given: Int32Array;
  /** For each labelled row, the share (by similarity) of its labelled graph neighbours that disagree; NaN without any. */
  readonly disagreement: Float64Array;
}

export interface LabelErrorCandidate {
  /** Index into the labelled rows. */
  readonly index: number;
  readonly likely: number;
  readonly likelyProbability: number;
  readonly givenProbability: number;
  readonly score: number;
}

/** Weight of the neighbours' disagreement in the combined score (the rest: 1 - self-confidence). */
export const NEIGHBOUR_WEIGHT = 0.5;

export function findLabelErrors(input: LabelErrorInput): LabelErrorCandidate[] {
  const { classes: c, probabilities: p, given, disagreement } = input;
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
    let likely = g === 0 ? 1 : 0;
    for (let j = 0; j < c; j++) if (j !== g && p[r * c + j]! > p[r * c + likely]!) likely = j;
    const selfConfidence = p[r * c + g]!;
    const d = disagreement[r]!;
    const score = Number.isNaN(d)
      ? 1 - selfConfidence
      : (1 - NEIGHBOUR_WEIGHT) * (1 - selfConfidence) + NEIGHBOUR_WEIGHT * d;
    out.push({ index: r, likely, likelyProbability: p[r * c + likely]!, givenProbability: selfConfidence, score });
  }
  return out.sort((a, b) => b.score - a.score || a.index - b.index);
}
