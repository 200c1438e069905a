/** @module Probability calibration: temperature scaling (Guo et al. 2017) and the expected calibration error. */

/** Top-label confidence and whether it was right, the unit every calibration figure is made of. */
export interface ScoredPrediction {
  readonly confidence: number;
  readonly correct: boolean;
}

/**
 * The temperature T minimising the negative log-likelihood of softmax(logits / T) for the true
 * classes (golden-section search on log T; the NLL is unimodal in T), optionally weighted (design
 * weights of random checks).
 */
export function fitTemperature(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
  weights?: Float64Array,
): number {
  const n = labels.length;
  if (n === 0) return 1;
  const nll = (t: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i]! : 1;
      const o = i * classes;
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j]! / t);
      let z = 0;
      for (let j = 0; j < classes; j++) z += Math.exp(logits[o + j]! / t - max);
      sum -= w * (logits[o + labels[i]!]! / t - max - Math.log(z));
    }
    return sum / n;
  };
  let lo = Math.log(0.02);
  let hi = Math.log(50);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = nll(Math.exp(a));
  let fb = nll(Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = nll(Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = nll(Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

export interface ReliabilityBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Mean confidence of the bin's predictions (NaN when empty). */
  readonly confidence: number;
  /** Fraction of them that were right (NaN when empty). */
  readonly accuracy: number;
}

/** Equal-width bins of top-label confidence: the reliability diagram. */
export function reliabilityBins(predictions: readonly ScoredPrediction[], bins = 10): ReliabilityBin[] {
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (const p of predictions) {
    const b = Math.min(bins - 1, Math.floor(p.confidence * bins));
    count[b]!++;
    confidence[b]! += p.confidence;
    if (p.correct) correct[b]!++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    from: b / bins,
    to: (b + 1) / bins,
    count: count[b]!,
    confidence: confidence[b]! / count[b]!,
    accuracy: correct[b]! / count[b]!,
  }));
}

/** Expected calibration error: the count-weighted mean |accuracy - confidence| over the bins. */
export function expectedCalibrationError(predictions: readonly ScoredPrediction[], bins = 15): number {
  if (predictions.length === 0) return 0;
  let sum = 0;
  for (const bin of reliabilityBins(predictions, bins)) {
    if (bin.count > 0) sum += bin.count * Math.abs(bin.accuracy - bin.confidence);
  }
  return sum / predictions.length;
}

export interface ThresholdPoint {
  readonly threshold: number;
  /** Share of predictions at or above the threshold that are right (NaN when there are none). */
  readonly precision: number;
  /** Share of predictions at or above the threshold. */
  readonly coverage: number;
}

/** Precision and coverage of "accept when confidence >= t" for each threshold t. */
export function precisionCoverage(
  predictions: readonly ScoredPrediction[],
  thresholds: readonly number[],
): ThresholdPoint[] {
  return thresholds.map((threshold) => {
    const above = predictions.filter((p) => p.confidence >= threshold);
    return {
      threshold,
      precision: above.length === 0 ? NaN : above.filter((p) => p.correct).length / above.length,
      coverage: predictions.length === 0 ? NaN : above.length / predictions.length,
    };
  });
}
