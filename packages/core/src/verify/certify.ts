/**
 * @module Certified auto-accept: the largest most-confident-first region of the suggestions whose
 * precision is >= the target at confidence 1 - delta, shown on random checks only.
 *
 * What the claim rests on:
 * - The checks are a probability sample of the suggestions (verify/design.ts), each with a known
 *   design weight; chosen labels (`next`, a person's own picks, imports) never enter.
 * - Each check is scored by a prediction that did not see its answer (cross-fitted over the checks,
 *   learn/fit.ts), calibrated like the pool's suggestions.
 * - Candidate regions are nested (confidence >= t, t from the pool's quantiles). For each, the error
 *   rate of its checks gets an exact one-sided binomial test, on Kish effective counts when weights
 *   differ (Korn & Graubard 1998; plain Clopper-Pearson when they are equal).
 * - Multiple testing: a fixed sequence from one start towards larger regions, each at level delta,
 *   stopping at the first that fails (Learn then Test, Angelopoulos et al. 2021, fixed-sequence
 *   variant). The start is chosen from the confidences alone, never from whether checks were right:
 *   the region whose sequence has the largest expected certified coverage when the checks' own
 *   calibrated confidences are taken as their chance of being right (simulated). A start near the
 *   top, as a plain fixed sequence has, stops at the first unlucky error among a few checks.
 * - Approximations, stated: the fold models of the cross-fit learn from slightly fewer labels than
 *   the final fit (so the claim errs on the safe side when more labels help), and the temperature
 *   that orders regions is one scalar fitted on the same checks.
 */
import { seededRandom } from '../util/random.js';
import { binomialCdf, effectiveSize, rateUpperBound } from './bounds.js';

/** One random check as certification sees it. */
export interface HeldOutCheck {
  /** Calibrated top-label confidence of a prediction that did not see this check's answer. */
  readonly confidence: number;
  /** The suggestion was right. A skipped check counts as wrong: it confirmed nothing. */
  readonly correct: boolean;
  /** Skipped by the person: wrong in every simulation too. */
  readonly skipped?: boolean;
  /** Design weight (inverse inclusion probability, normalised within its draw). */
  readonly weight: number;
}

export interface CertifyOptions {
  readonly targetPrecision: number;
  /** Chance allowed that the claim is wrong; default 0.05. */
  readonly delta?: number;
  /**
   * Expected share of the next draw's checks that land in the `size` most confident suggestions
   * (verify/design.ts), to turn needed checks in a region into checks to do; default uniform.
   */
  readonly drawShare?: (size: number) => number;
}

export interface ChecksNeeded {
  /** About this many more random checks... */
  readonly checks: number;
  /** ...would certify about this many more suggestions... */
  readonly images: number;
  /** ...those with confidence >= this. */
  readonly threshold: number;
}

export interface Certificate {
  readonly targetPrecision: number;
  readonly delta: number;
  /** Suggestions with confidence >= this are certified; null when none are. */
  readonly threshold: number | null;
  /** How many pool suggestions that is. */
  readonly certified: number;
  /** Lower confidence bound on the certified region's precision. */
  readonly precisionLowerBound: number | null;
  /** Checks inside the certified region and the errors among them (skips count as errors). */
  readonly support: number;
  readonly errors: number;
  /** Random checks used (answered or skipped). */
  readonly checks: number;
  /** The best next step: how many more checks would certify how many more suggestions; null when none would. */
  readonly next: ChecksNeeded | null;
  readonly method: string;
}

export const CERTIFY_METHOD =
  'exact binomial tests on random checks (Kish effective counts), fixed sequence over nested confidence regions from a start chosen by simulated power (Learn then Test)';

/** Regions tried: this many steps of pool coverage. */
const STEPS = 40;
const SIMULATIONS = 400;
/** Prior weight, in effective checks, of the model's own error estimate when predicting what more checks will show. */
const PRIOR_CHECKS = 10;

interface Region {
  /** Pool suggestions in it. */
  readonly size: number;
  readonly threshold: number;
  /** Checks in it (a prefix of the checks sorted by confidence). */
  readonly count: number;
  readonly weight: number;
  readonly effective: number;
  /** Largest weighted error sum that still passes; -1 when none does. */
  readonly criticalErrors: number;
  /** The model's own estimate of the region's error rate: mean (1 - confidence) of its suggestions. */
  readonly modelErrorRate: number;
}

/** `pool`: calibrated confidences of the suggestions that could be accepted. */
export function certify(
  pool: ArrayLike<number>,
  checks: readonly HeldOutCheck[],
  options: CertifyOptions,
): Certificate {
  const target = options.targetPrecision;
  const delta = options.delta ?? 0.05;
  const maxErrorRate = 1 - target;
  const sortedPool = Float64Array.from(pool).sort().reverse();
  const n = sortedPool.length;
  const draws = [...checks].sort((a, b) => b.confidence - a.confidence);
  const prefixW = new Float64Array(draws.length + 1);
  const prefixW2 = new Float64Array(draws.length + 1);
  const prefixE = new Float64Array(draws.length + 1);
  draws.forEach((d, i) => {
    prefixW[i + 1] = prefixW[i]! + d.weight;
    prefixW2[i + 1] = prefixW2[i]! + d.weight * d.weight;
    prefixE[i + 1] = prefixE[i]! + (d.correct ? 0 : d.weight);
  });
  const poolErrors = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) poolErrors[i + 1] = poolErrors[i]! + (1 - sortedPool[i]!);

  const regions: Region[] = [];
  let count = 0;
  for (const size of regionSizes(sortedPool)) {
    const threshold = sortedPool[size - 1]!;
    while (count < draws.length && draws[count]!.confidence >= threshold) count++;
    const weight = prefixW[count]!;
    const effective = effectiveSize(weight, prefixW2[count]!);
    regions.push({
      size,
      threshold,
      count,
      weight,
      effective,
      criticalErrors: criticalErrors(effective, weight, maxErrorRate, delta),
      modelErrorRate: poolErrors[size]! / size,
    });
  }

  const start = chooseStart(regions, draws);
  let passed = -1;
  if (start >= 0) {
    for (let j = start; j < regions.length; j++) {
      const r = regions[j]!;
      if (r.criticalErrors < 0 || prefixE[r.count]! > r.criticalErrors + 1e-9) break;
      passed = j;
    }
  }
  const chosen = passed >= 0 ? regions[passed]! : undefined;
  const errors = chosen ? prefixE[chosen.count]! : 0;
  return {
    targetPrecision: target,
    delta,
    threshold: chosen?.threshold ?? null,
    certified: chosen?.size ?? 0,
    precisionLowerBound: chosen
      ? 1 - rateUpperBound((chosen.effective * errors) / chosen.weight, chosen.effective, delta)
      : null,
    support: chosen?.count ?? 0,
    errors: chosen ? draws.slice(0, chosen.count).filter((d) => !d.correct).length : 0,
    checks: draws.length,
    next: checksNeeded(regions, chosen?.size ?? 0, prefixE, n, maxErrorRate, delta, options.drawShare),
    method: CERTIFY_METHOD,
  };
}

/** Region sizes at STEPS even steps of coverage, each extended to the end of its run of tied confidences. */
function regionSizes(sorted: Float64Array): number[] {
  const n = sorted.length;
  const sizes = new Set<number>();
  for (let j = 1; j <= STEPS && n > 0; j++) {
    let size = Math.max(1, Math.ceil((n * j) / STEPS));
    while (size < n && sorted[size] === sorted[size - 1]) size++;
    sizes.add(size);
  }
  return [...sizes].sort((a, b) => a - b);
}

/** The largest weighted error sum E for which "error rate < maxErrorRate" still passes at level delta. */
function criticalErrors(effective: number, weight: number, maxErrorRate: number, delta: number): number {
  if (effective <= 0 || binomialCdf(0, effective, maxErrorRate) > delta) return -1;
  let lo = 0;
  let hi = effective * maxErrorRate;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(mid, effective, maxErrorRate) <= delta) lo = mid;
    else hi = mid;
  }
  return (lo * weight) / effective;
}

/**
 * The start of the fixed sequence: the region whose sequence certifies most in expectation when
 * each check is right with its own calibrated confidence. Uses no check's correctness.
 */
function chooseStart(regions: readonly Region[], draws: readonly HeldOutCheck[]): number {
  if (draws.length === 0 || regions.every((r) => r.criticalErrors < 0)) return -1;
  const random = seededRandom(20211001);
  const expected = new Float64Array(regions.length);
  const prefixE = new Float64Array(draws.length + 1);
  const reach = new Int32Array(regions.length + 1);
  for (let s = 0; s < SIMULATIONS; s++) {
    for (let i = 0; i < draws.length; i++) {
      const d = draws[i]!;
      const wrong = d.skipped === true || random() >= d.confidence;
      prefixE[i + 1] = prefixE[i]! + (wrong ? d.weight : 0);
    }
    // reach[j]: the last region a sequence starting at j certifies (-1: none).
    reach[regions.length] = -1;
    for (let j = regions.length - 1; j >= 0; j--) {
      const r = regions[j]!;
      const pass = r.criticalErrors >= 0 && prefixE[r.count]! <= r.criticalErrors + 1e-9;
      reach[j] = pass ? (reach[j + 1]! >= 0 ? reach[j + 1]! : j) : -1;
    }
    for (let j = 0; j < regions.length; j++) if (reach[j]! >= 0) expected[j]! += regions[reach[j]!]!.size;
  }
  let best = -1;
  for (let j = 0; j < regions.length; j++) if (expected[j]! > (best < 0 ? 0 : expected[best]!)) best = j;
  return best;
}

/**
 * How many more checks would certify how much more: for each larger region, the checks its test
 * would need at the error rate expected there (its checks so far, shrunk towards the model's own
 * estimate), divided by the share of new checks that land in it. The best ratio of images gained to
 * checks wins. Never more checks than there are suggestions, nor than the suggestions it would certify.
 */
function checksNeeded(
  regions: readonly Region[],
  certified: number,
  prefixE: Float64Array,
  poolSize: number,
  maxErrorRate: number,
  delta: number,
  drawShare: ((size: number) => number) | undefined,
): ChecksNeeded | null {
  const share = drawShare ?? ((size: number) => size / Math.max(1, poolSize));
  const minGain = Math.max(1, Math.ceil(0.02 * poolSize));
  let best: ChecksNeeded | null = null;
  for (const r of regions) {
    const gain = r.size - certified;
    if (gain < minGain) continue;
    const observed = r.weight > 0 ? (r.effective * prefixE[r.count]!) / r.weight : 0;
    const rate = (observed + PRIOR_CHECKS * r.modelErrorRate) / (r.effective + PRIOR_CHECKS);
    const needed = checksForRate(rate, maxErrorRate, delta);
    if (!Number.isFinite(needed)) continue;
    const inRegion = share(r.size);
    if (inRegion <= 0) continue;
    const checks = Math.max(1, Math.ceil(Math.max(1, needed - r.effective) / inRegion));
    // Checks leave the pool; a step that costs as many checks as it certifies is not one to suggest.
    if (checks >= gain || checks > poolSize) continue;
    if (best === null || gain / checks > best.images / best.checks) {
      best = { checks, images: gain, threshold: r.threshold };
    }
  }
  return best;
}

/** Smallest n at which an error rate `rate` (rate * n errors) passes the test; Infinity when it never does. */
export function checksForRate(rate: number, maxErrorRate: number, delta: number): number {
  if (rate >= maxErrorRate) return Infinity;
  const passes = (n: number): boolean => binomialCdf(rate * n, n, maxErrorRate) <= delta;
  let hi = 8;
  while (!passes(hi)) {
    hi *= 2;
    if (hi > 4_000_000) return Infinity;
  }
  let lo = hi / 2;
  if (passes(lo)) lo = 0;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (passes(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
