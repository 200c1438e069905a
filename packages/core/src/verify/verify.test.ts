import { describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import {
  binomialCdf,
  certify,
  checksForRate,
  checkWeights,
  estimateAccuracy,
  estimateClassPrecision,
  frameOf,
  frameShareOf,
  planDraw,
  rateLowerBound,
  rateUpperBound,
  type DrawCandidate,
} from './index.js';
import type { ImageId } from '../domain/index.js';

/**
 * A pool of n suggestions with calibrated confidences: each is right with probability equal to its
 * confidence, so the truth is known and certification can be judged against it.
 */
function pool(n: number, seed: number, skew = 3): { confidence: number[]; correct: boolean[] } {
  const random = seededRandom(seed);
  const confidence: number[] = [];
  const correct: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const c = 1 - 0.6 * Math.pow(random(), skew);
    confidence.push(c);
    correct.push(random() < c);
  }
  return { confidence, correct };
}

describe('exact bounds', () => {
  it('binomial tails and Clopper-Pearson bounds match known values', () => {
    expect(binomialCdf(0, 10, 0.5)).toBeCloseTo(1 / 1024, 10);
    expect(binomialCdf(5, 10, 0.5)).toBeCloseTo(0.623046875, 9);
    expect(binomialCdf(3, 200, 0.05)).toBeCloseTo(0.0093, 3);
    // 59 of 59 right: the one-sided 95% upper bound on the error rate is just under 5%.
    expect(rateUpperBound(0, 59, 0.05)).toBeLessThan(0.05);
    expect(rateUpperBound(0, 58, 0.05)).toBeGreaterThan(0.05);
    // Two-sided 95% Clopper-Pearson for 5 of 20 (published: 0.0866 to 0.4910).
    expect(rateLowerBound(5, 20, 0.025)).toBeCloseTo(0.0866, 3);
    expect(rateUpperBound(5, 20, 0.025)).toBeCloseTo(0.491, 3);
  });

  it('knows how many checks an error rate needs', () => {
    expect(checksForRate(0, 0.05, 0.05)).toBe(59);
    expect(checksForRate(0.02, 0.05, 0.05)).toBeGreaterThan(150);
    expect(checksForRate(0.06, 0.05, 0.05)).toBe(Infinity);
  });
});

describe('certify', () => {
  it('auto-accepts a region whose true precision meets the target in at least 95% of draws', () => {
    let valid = 0;
    let certifiedAny = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const { confidence, correct } = pool(4000, 100 + t);
      const random = seededRandom(900 + t);
      const picks = Array.from({ length: 200 }, () => Math.floor(random() * confidence.length));
      const checks = picks.map((i) => ({ confidence: confidence[i]!, correct: correct[i]!, weight: 1 }));
      const result = certify(confidence, checks, { targetPrecision: 0.9 });
      if (result.threshold === null) {
        valid++;
        continue;
      }
      certifiedAny++;
      const inRegion = confidence.map((c, i) => [c, correct[i]] as const).filter(([c]) => c >= result.threshold!);
      const precision = inRegion.filter(([, ok]) => ok).length / inRegion.length;
      if (precision >= 0.9) valid++;
      expect(result.certified).toBe(inRegion.length);
    }
    expect(valid / trials).toBeGreaterThanOrEqual(0.95);
    expect(certifiedAny / trials).toBeGreaterThan(0.8); // and it does certify something, usually
  });

  it('certifies nothing without checks, and says how many would certify how much', () => {
    const { confidence } = pool(3000, 5);
    const result = certify(confidence, [], { targetPrecision: 0.95 });
    expect(result.threshold).toBeNull();
    expect(result.certified).toBe(0);
    expect(result.next).not.toBeNull();
    expect(result.next!.checks).toBeGreaterThanOrEqual(59);
    expect(result.next!.checks).toBeLessThanOrEqual(3000);
    expect(result.next!.images).toBeGreaterThan(0);
  });

  it('counts a skipped check against the claim', () => {
    const confidence = Array.from({ length: 1000 }, () => 0.99);
    const right = Array.from({ length: 70 }, () => ({ confidence: 0.99, correct: true, weight: 1 }));
    expect(certify(confidence, right, { targetPrecision: 0.95 }).certified).toBe(1000);
    const skips = Array.from({ length: 10 }, () => ({ confidence: 0.99, correct: false, skipped: true, weight: 1 }));
    expect(certify(confidence, [...right, ...skips], { targetPrecision: 0.95 }).threshold).toBeNull();
  });

  it('never asks for more checks than the suggestions they would certify', () => {
    // 40 suggestions: certifying 95% needs at least 59 checks, so no step is worth suggesting.
    expect(certify(Array(40).fill(0.999), [], { targetPrecision: 0.95 }).next).toBeNull();
    const next = certify(Array(1000).fill(0.999), [], { targetPrecision: 0.95 }).next!;
    expect(next.checks).toBeGreaterThanOrEqual(59);
    expect(next.checks).toBeLessThan(next.images);
  });
});

describe('the sampling design', () => {
  const candidates = (confidence: number[]): DrawCandidate[] =>
    confidence.map((c, i) => ({ imageId: (i + 1) as ImageId, label: 'x', confidence: c }));

  it('puts most checks where certification is possible and keeps a share for the rest', () => {
    const confidence = [...Array.from({ length: 600 }, () => 0.99), ...Array.from({ length: 1400 }, () => 0.5)];
    const frame = frameOf(
      [...confidence].sort((a, b) => b - a),
      0.95,
      100,
    );
    expect(frame.size).toBeGreaterThanOrEqual(600);
    expect(frame.size).toBeLessThan(1200);
    const draw = planDraw(candidates(confidence), 100, 0.95, 1);
    expect(draw.checks).toHaveLength(100);
    expect(new Set(draw.checks.map((c) => c.imageId)).size).toBe(100);
    const inFrame = draw.checks.filter((c) => c.stratum === 0).length;
    // Most checks go to the frame, but at least 15% (and 30% of the rest's share of the pool) to the rest.
    expect(inFrame).toBe(Math.round(frame.share * 100));
    expect(inFrame).toBeGreaterThanOrEqual(50);
    expect(inFrame).toBeLessThanOrEqual(85);
    expect(draw.strata.map((s) => s.population).reduce((a, b) => a + b)).toBe(2000);
    // Checks come in a random order, not sorted by confidence.
    const firstHalf = draw.checks.slice(0, 50).filter((c) => c.stratum === 1).length;
    expect(firstHalf).toBeGreaterThan(0);
  });

  it("keeps a campaign's frame across draws, so their checks weigh the same", () => {
    const confidence = Array.from({ length: 2000 }, (_, i) => 1 - i / 4000);
    const first = planDraw(candidates(confidence), 50, 0.95, 1);
    const share = frameShareOf(first.strata)!;
    // After a refit every confidence moved; the frame keeps its share of the pool, not its threshold.
    const moved = confidence.slice(50).map((c) => c * 0.9);
    const second = planDraw(candidates(moved), 50, 0.95, 2, [], share);
    expect(second.strata[0]!.population).toBe(Math.round(share * moved.length));
    const weight = (draw: typeof first, h: number) => draw.strata[h]!.population / draw.strata[h]!.drawn;
    const total = (draw: typeof first) => draw.strata.reduce((sum, s) => sum + s.population, 0);
    // Frame weights, normalised to each draw's size, agree within a check's rounding.
    expect((weight(second, 0) / total(second)) * 50).toBeCloseTo((weight(first, 0) / total(first)) * 50, 1);
  });

  it('weights each response by its stratum, normalised within its draw', () => {
    const strata = [
      { name: 'frame' as const, minConfidence: 0.9, maxConfidence: 1, population: 800, drawn: 8 },
      { name: 'rest' as const, minConfidence: 0, maxConfidence: 0.9, population: 200, drawn: 2 },
    ];
    const responses = [
      ...Array.from({ length: 8 }, () => ({ drawId: 1, stratum: 0 })),
      ...Array.from({ length: 2 }, () => ({ drawId: 1, stratum: 1 })),
    ];
    const weights = checkWeights(new Map([[1, strata]]), responses);
    expect(weights.reduce((a, b) => a + b)).toBeCloseTo(10, 9);
    expect(weights[0]).toBeCloseTo(weights[9]!, 9); // proportional allocation: equal weights
    const fewer = checkWeights(new Map([[1, strata]]), responses.slice(4));
    expect(fewer[0]! / fewer[5]!).toBeCloseTo(800 / 4 / (200 / 2), 9);
  });
});

describe('accuracy estimates', () => {
  it('cover the true pool accuracy in about 95% of draws, also from a stratified draw with weights', () => {
    for (const stratified of [false, true]) {
      let covered = 0;
      const trials = 80;
      for (let t = 0; t < trials; t++) {
        const { confidence, correct } = pool(3000, 300 + t);
        const truth = correct.filter(Boolean).length / correct.length;
        const random = seededRandom(700 + t);
        // Stratified: 80 checks among the 1,000 most confident, 20 among the other 2,000.
        const order = [...confidence.keys()].sort((a, b) => confidence[b]! - confidence[a]!);
        const checks = Array.from({ length: 100 }, (_, k) => {
          const top = k < 80;
          const i = stratified
            ? order[top ? Math.floor(random() * 1000) : 1000 + Math.floor(random() * 2000)]!
            : Math.floor(random() * confidence.length);
          const weight = stratified ? (top ? 1000 / 80 : 2000 / 20) : 1;
          return { confidence: confidence[i]!, correct: correct[i]!, weight, suggested: i % 2 ? 'a' : 'b' };
        });
        const estimate = estimateAccuracy(checks)!;
        if (estimate.low <= truth && truth <= estimate.high) covered++;
      }
      expect(covered / trials).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('gives no figure from a handful of checks, and per-class precision with intervals', () => {
    const few = [{ confidence: 0.9, correct: true, weight: 1, suggested: 'a' }];
    expect(estimateAccuracy(few)).toBeNull();
    const checks = [
      ...Array.from({ length: 18 }, () => ({ confidence: 0.9, correct: true, weight: 1, suggested: 'cat' })),
      ...Array.from({ length: 2 }, () => ({ confidence: 0.9, correct: false, weight: 1, suggested: 'cat' })),
      ...Array.from({ length: 5 }, () => ({ confidence: 0.6, correct: false, weight: 1, suggested: 'dog' })),
    ];
    const [cat, dog] = estimateClassPrecision(checks);
    expect(cat).toMatchObject({ label: 'cat', checks: 20 });
    expect(cat!.estimate).toBeCloseTo(0.9, 9);
    expect(cat!.low).toBeLessThan(0.9);
    expect(cat!.high).toBeGreaterThan(0.9);
    expect(dog!.estimate).toBe(0);
    expect(dog!.high).toBeLessThan(0.6);
  });
});
