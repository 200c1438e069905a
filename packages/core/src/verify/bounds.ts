/**
 * @module Exact binomial tails and Clopper-Pearson bounds, for integer counts and for the real-valued
 * effective counts of weighted samples (Korn & Graubard 1998: Clopper-Pearson with Kish's effective
 * sample size, the standard interval for proportions from stratified survey samples).
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularised incomplete beta function I_x(a, b), by its continued fraction (Lentz's method). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise
  // (decided once: near the boundary rounding could send both sides to each other).
  if (x > (a + 1) / (a + b + 2)) return 1 - betaFraction(1 - x, b, a);
  return betaFraction(x, a, b);
}

function betaFraction(x: number, a: number, b: number): number {
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x)) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    let numerator: number;
    if (i === 0) numerator = 1;
    else if (i % 2 === 0) numerator = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + numerator / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-14) break;
  }
  return front * (f - 1);
}

/**
 * P(X <= k) for X ~ Binomial(n, p): I_{1-p}(n - k, k + 1). The identity also defines it for real
 * k and n (weighted samples through their effective counts).
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return regularizedBeta(1 - p, n - k, k + 1);
}

/** The x with I_x(a, b) = q (bisection; I is increasing in x). */
function betaQuantile(q: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Clopper-Pearson one-sided bounds on a rate from `k` events in `n` trials, each holding with
 * probability at least 1 - delta. `k` and `n` may be effective (real) counts.
 */
export function rateUpperBound(k: number, n: number, delta: number): number {
  if (n <= 0 || k >= n) return 1;
  return betaQuantile(1 - delta, k + 1, n - k);
}

export function rateLowerBound(k: number, n: number, delta: number): number {
  if (n <= 0 || k <= 0) return 0;
  return betaQuantile(delta, k, n - k + 1);
}

/** Kish's effective sample size of a weighted sample: (Σw)² / Σw². */
export function effectiveSize(sumWeights: number, sumSquaredWeights: number): number {
  return sumSquaredWeights <= 0 ? 0 : (sumWeights * sumWeights) / sumSquaredWeights;
}

/**
 * Does the sample show, at level delta, that the error rate is below `maxErrorRate`? The exact
 * one-sided binomial test of H0: rate >= maxErrorRate (equivalently: the Clopper-Pearson upper
 * bound is below it).
 */
export function rateBelow(errors: number, n: number, maxErrorRate: number, delta: number): boolean {
  return n > 0 && binomialCdf(errors, n, maxErrorRate) <= delta;
}
