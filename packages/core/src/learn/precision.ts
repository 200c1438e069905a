/**
 * @module Auto-accept thresholds with a statistical guarantee: the lowest confidence threshold whose
 * accepted set has precision >= target, by binomial tests on cross-fitted predictions at a few
 * candidate thresholds with a Bonferroni correction (Learn then Test, Angelopoulos et al. 2021).
 * A fixed-sequence test from the top down would stop at the first unlucky error among the few most
 * confident predictions; a handful of well-spread candidates keeps the power where the data is.
 */
import type { ScoredPrediction } from './calibration.js';

export interface ThresholdOptions {
  /** Required precision of the accepted set, in (0, 1). */
  readonly targetPrecision: number;
  /** Chance allowed that the claim is wrong; default 0.05 (95% confidence). */
  readonly delta?: number;
}

export interface AcceptThreshold {
  /** Accept predictions with confidence >= this; null when the labels cannot support any threshold. */
  readonly threshold: number | null;
  /** Held-out predictions at or above the threshold, and how many of those were wrong. */
  readonly support: number;
  readonly errors: number;
  /** A lower confidence bound on the precision above the threshold. */
  readonly precisionLowerBound: number;
  /**
   * When no threshold passes: about how many more labelled images like the current ones the
   * claim needs (the best candidate's error rate held fixed); 0 otherwise.
   */
  readonly moreLabelsNeeded: number;
}

/** P(X <= k) for X ~ Binomial(n, p), summed in log space. */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let logTerm = n * Math.log1p(-p); // i = 0
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i) + Math.log(p) - Math.log1p(-p);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/** Clopper-Pearson lower bound on a success rate: the p at which `successes` of `n` is just significant at level delta. */
export function precisionLowerBound(successes: number, n: number, delta: number): number {
  if (n === 0 || successes === 0) return 0;
  let lo = 0;
  let hi = successes / n;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    // P(successes or more | rate mid) = P(errors <= n - successes | error rate 1 - mid)
    if (binomialCdf(n - successes, n, 1 - mid) > delta) hi = mid;
    else lo = mid;
  }
  return lo;
}

export function chooseAcceptThreshold(
  predictions: readonly ScoredPrediction[],
  options: ThresholdOptions,
): AcceptThreshold {
  const target = options.targetPrecision;
  const delta = options.delta ?? 0.05;
  const sorted = [...predictions].sort((a, b) => b.confidence - a.confidence);
  const errorsAt = prefixErrors(sorted);
  // Each candidate is tested at delta / CANDIDATES, so every claim made holds together at 1 - delta.
  const level = delta / CANDIDATES;
  let chosen: AcceptThreshold | null = null;
  for (const n of candidatePrefixes(sorted, prefixNeeded(0, target, level))) {
    const errors = errorsAt[n - 1]!;
    // H0: error rate >= 1 - target. Reject when seeing this few errors is unlikely under H0.
    if (binomialCdf(errors, n, 1 - target) > level) continue;
    chosen = {
      threshold: sorted[n - 1]!.confidence,
      support: n,
      errors,
      precisionLowerBound: precisionLowerBound(n - errors, n, level),
      moreLabelsNeeded: 0,
    };
  }
  if (chosen) return chosen;
  // If a prefix kept its error rate and its share of the labels, how many labels would let it pass?
  let needed = Infinity;
  for (let n = 10; n <= sorted.length; n++) {
    // Half an error added (Jeffreys): a prefix without errors is not taken as error-free. Rates
    // near the limit would need thousands of labels; such estimates say nothing useful.
    const rate = (errorsAt[n - 1]! + 0.5) / (n + 1);
    if (rate >= 0.8 * (1 - target)) continue;
    const total = Math.ceil((prefixNeeded(rate, target, delta / CANDIDATES) * sorted.length) / n);
    needed = Math.min(needed, total - sorted.length);
  }
  return { threshold: null, support: 0, errors: 0, precisionLowerBound: 0, moreLabelsNeeded: Math.max(1, needed) };
}

/** How many thresholds are tested. */
const CANDIDATES = 8;

/**
 * Prefix sizes (predictions at or above a threshold), spread geometrically from the smallest that
 * could pass to all of them, each moved to the end of its run of tied confidences. They depend on
 * the confidences only, never on correctness, so choosing them costs the test nothing.
 */
function candidatePrefixes(sorted: readonly ScoredPrediction[], smallest: number): number[] {
  const n = sorted.length;
  if (n < smallest) return [];
  const out = new Set<number>();
  for (let j = 0; j < CANDIDATES; j++) {
    let size = Math.round(smallest * Math.pow(n / smallest, j / (CANDIDATES - 1)));
    while (size < n && sorted[size]!.confidence === sorted[size - 1]!.confidence) size++;
    out.add(size);
  }
  return [...out].sort((a, b) => a - b);
}

function prefixErrors(sorted: readonly ScoredPrediction[]): Int32Array {
  const out = new Int32Array(sorted.length);
  let errors = 0;
  sorted.forEach((p, i) => {
    if (!p.correct) errors++;
    out[i] = errors;
  });
  return out;
}

/** Smallest n at which `rate * n` errors in n would pass the test (Infinity when the rate itself is too high). */
function prefixNeeded(rate: number, target: number, delta: number): number {
  if (rate >= 1 - target) return Infinity;
  for (let n = 1; n <= 100_000; n++) {
    if (binomialCdf(Math.floor(rate * n), n, 1 - target) <= delta) return n;
  }
  return Infinity;
}
