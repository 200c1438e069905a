/**
 * @module Honest accuracy figures for the suggestions, with intervals, from random checks only.
 *
 * Overall accuracy is the design-weighted share of checks whose held-out suggestion was right (the
 * Hajek estimator of survey sampling), with a Clopper-Pearson interval on Kish effective counts
 * (Korn & Graubard 1998). It uses the model only to say right or wrong, so a miscalibrated model
 * cannot bias it. (A model-assisted difference estimator, tighter in theory, was tried and dropped:
 * with the temperature fitted on the same checks its interval was too narrow and missed the truth.)
 * Per class, the checks whose suggestion was that class give a weighted precision the same way.
 * Without checks there is no unbiased figure: callers report the cross-validated one and say so.
 */
import { effectiveSize, rateLowerBound, rateUpperBound } from './bounds.js';

export interface ScoredCheck {
  readonly confidence: number;
  readonly correct: boolean;
  readonly weight: number;
  /** The class the held-out prediction suggested. */
  readonly suggested: string;
}

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

export interface ClassPrecision extends Interval {
  readonly label: string;
  /** Checks whose suggestion was this class. */
  readonly checks: number;
}

/** Fewer random checks than this give no accuracy figure of their own. */
export const MIN_CHECKS_FOR_ESTIMATE = 10;
/** How many random checks the hint asks for when there are none. */
export const CHECKS_FOR_UNBIASED_FIGURE = 30;

/** Two-sided `level` interval for the accuracy of the pool's suggestions; null with too few checks. */
export function estimateAccuracy(checks: readonly ScoredCheck[], level = 0.95): Interval | null {
  if (checks.length < MIN_CHECKS_FOR_ESTIMATE) return null;
  return weightedShare(checks, level);
}

/** Precision of the suggestions of each class, from the checks that suggested it. */
export function estimateClassPrecision(checks: readonly ScoredCheck[], level = 0.95): ClassPrecision[] {
  const byClass = new Map<string, ScoredCheck[]>();
  for (const c of checks) byClass.set(c.suggested, [...(byClass.get(c.suggested) ?? []), c]);
  return [...byClass]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, group]) => ({ label, checks: group.length, ...weightedShare(group, level) }));
}

/** The weighted share of right checks with a two-sided Clopper-Pearson interval on Kish effective counts. */
function weightedShare(checks: readonly ScoredCheck[], level: number): Interval {
  let w = 0;
  let w2 = 0;
  let right = 0;
  for (const c of checks) {
    w += c.weight;
    w2 += c.weight * c.weight;
    if (c.correct) right += c.weight;
  }
  const effective = effectiveSize(w, w2);
  const k = (effective * right) / w;
  const alpha = (1 - level) / 2;
  return { estimate: right / w, low: rateLowerBound(k, effective, alpha), high: rateUpperBound(k, effective, alpha) };
}
