/**
 * @module The sampling design of random checks: which suggestions a person is asked to verify, so
 * that each check buys as much certified coverage as it can while every check keeps a known weight.
 *
 * A draw is stratified by the current fit's confidence (a stratified random sample; Cochran 1977,
 * ch. 5). The frame holds the most confident suggestions, as many as maximise the coverage the model
 * expects these checks to certify (`frameOf`); most checks go there, uniformly, so nested regions
 * inside it see equal weights and exact tests. The rest of the pool gets a share too (`restShare`), so that
 * estimates of overall accuracy cover every suggestion and a frame set too small shows up. Each check's weight is its
 * stratum's population over its stratum's responses (answered or skipped), normalised within the draw.
 */
import type { ImageId } from '../domain/index.js';
import type { CheckStratum } from '../store/store.js';
import { seededRandom } from '../util/random.js';
import { binomialCdf } from './bounds.js';

export interface DrawCandidate {
  readonly imageId: ImageId;
  readonly label: string;
  readonly confidence: number;
}

export interface PlannedCheck extends DrawCandidate {
  readonly stratum: number;
}

export interface PlannedDraw {
  readonly strata: readonly CheckStratum[];
  /** In a random order: a person who stops half-way has answered a random half. */
  readonly checks: readonly PlannedCheck[];
}

/**
 * Share of a draw's checks that go to the rest of the pool: at least 15%, and 30% of the rest's share
 * of the pool, so that accuracy estimates and the calibration of low confidences stay usable when
 * the frame is small (a hard pool). Half the rest's share was tried: on CIFAR-10, whose certifiable
 * region is a few percent of the pool, it left too few checks in the frame to certify anything.
 */
function restShare(frameSize: number, poolSize: number): number {
  return frameSize >= poolSize ? 0 : Math.max(0.15, 0.3 * (1 - frameSize / poolSize));
}
/** A new frame is planned for at least this many checks (it is kept for the draws that follow). */
const PLANNED_CHECKS = 100;
/** Frame sizes tried, and region sizes inside each, in steps of the pool. */
const FRAME_STEPS = 20;

export interface Frame {
  readonly size: number;
  /** Confidence of the frame's least confident suggestion. */
  readonly threshold: number;
  /** Share of the draw's checks that go to it (1 when it is the whole pool). */
  readonly share: number;
}

/**
 * The frame for a pool of calibrated confidences sorted most confident first: the top-k that, with
 * `count` new checks spread uniformly in it (on top of the `existing` checks' confidences), maximises
 * the certified coverage the model itself expects (with more checks when these alone could not certify anything). For each frame size and each region inside it,
 * the expected error rate is the region's mean (1 - confidence), the test's critical error count
 * follows from the region's expected checks, and the pass chance is a binomial tail. A frame too wide
 * spreads checks where nothing can be certified; one too narrow caps what can be.
 */
export function frameOf(
  sorted: ArrayLike<number>,
  targetPrecision: number,
  count = 50,
  existing: readonly number[] = [],
): Frame {
  const n = sorted.length;
  if (n === 0) return { size: 0, threshold: 0, share: 1 };
  const errors = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) errors[i + 1] = errors[i]! + (1 - sorted[i]!);
  const before = [...existing].sort((a, b) => b - a);
  const existingAbove = (threshold: number): number => {
    let k = 0;
    while (k < before.length && before[k]! >= threshold) k++;
    return k;
  };
  const maxError = 1 - targetPrecision;
  // When these checks alone can certify nothing (too few for the target), plan for the checks that
  // will follow: the frame that more checks would fill best, rather than the whole pool.
  for (let planned = count; planned <= 16 * count; planned *= 2) {
    let best = { size: n, score: 0 };
    for (let f = 1; f <= FRAME_STEPS; f++) {
      const size = Math.ceil((n * f) / FRAME_STEPS);
      const share = 1 - restShare(size, n);
      let score = 0;
      for (let r = 1; r <= FRAME_STEPS; r++) {
        const m = Math.ceil((size * r) / FRAME_STEPS);
        const checks = Math.round(existingAbove(sorted[m - 1]!) + (share * planned * m) / size);
        if (checks === 0) continue;
        const rate = errors[m]! / m;
        let critical = -1;
        while (critical + 1 < checks && binomialCdf(critical + 1, checks, maxError) <= 0.05) critical++;
        if (critical < 0) continue;
        score = Math.max(score, m * binomialCdf(critical, checks, rate));
      }
      // Ties go to the wider frame: it is safer when the confidences are too low.
      if (score > 0 && score >= best.score) best = { size, score };
    }
    if (best.score > 0) {
      return { size: best.size, threshold: sorted[best.size - 1]!, share: 1 - restShare(best.size, n) };
    }
  }
  return { size: n, threshold: sorted[n - 1]!, share: 1 };
}

/**
 * The share of the pool an earlier draw's frame held, to keep it: draws of one campaign then give
 * equal weights to their frame checks (and to their rest checks), so the regions every later fit
 * tests see nearly equal weights and near-exact tests. Refits move the confidences, and a frame
 * re-planned each time from them would give each draw different weights and shrink the effective
 * sample (measured on CIFAR-10: frames of 15%, 10% and 5% of the pool in three rounds, and nothing
 * certified).
 */
export function frameShareOf(strata: readonly CheckStratum[]): number | undefined {
  const frame = strata.find((s) => s.name === 'frame');
  const total = strata.reduce((sum, s) => sum + s.population, 0);
  if (total === 0) return undefined;
  return frame ? frame.population / total : 1;
}

function keptFrame(sorted: readonly DrawCandidate[], share: number): Frame {
  const size = Math.min(sorted.length, Math.max(1, Math.round(share * sorted.length)));
  return { size, threshold: sorted[size - 1]!.confidence, share: 1 - restShare(size, sorted.length) };
}

/** Expected share of a draw's checks that land among the `size` most confident suggestions of the pool. */
export function drawShare(frame: Frame, poolSize: number): (size: number) => number {
  return (size) => {
    const inFrame = Math.min(size, frame.size) / Math.max(1, frame.size);
    const rest = poolSize > frame.size ? Math.max(0, size - frame.size) / (poolSize - frame.size) : 0;
    return frame.share * inFrame + (1 - frame.share) * rest;
  };
}

/**
 * Draws `count` checks from the pool (suggestions of images nobody labelled and nobody was asked to
 * check); `existing`: confidences the checks made so far were drawn at.
 */
export function planDraw(
  pool: readonly DrawCandidate[],
  count: number,
  targetPrecision: number,
  seed: number,
  existing: readonly number[] = [],
  /** Keep the earlier draws' frame: this share of the pool (see `frameShareOf`). */
  keepFrame?: number,
): PlannedDraw {
  const random = seededRandom(seed);
  const sorted = [...pool].sort((a, b) => b.confidence - a.confidence || a.imageId - b.imageId);
  const frame =
    keepFrame === undefined
      ? frameOf(
          sorted.map((c) => c.confidence),
          targetPrecision,
          // The frame is kept for the checks that follow: plan it for a campaign, not for one draw.
          Math.max(count, PLANNED_CHECKS),
          existing,
        )
      : keptFrame(sorted, keepFrame);
  const parts = [sorted.slice(0, frame.size), sorted.slice(frame.size)];
  const total = Math.min(count, sorted.length);
  let inFrame = Math.min(parts[0]!.length, Math.round(frame.share * total));
  const rest = Math.min(parts[1]!.length, total - inFrame);
  inFrame = Math.min(parts[0]!.length, total - rest);
  const wanted = [inFrame, rest];
  const strata: CheckStratum[] = [];
  const checks: PlannedCheck[] = [];
  parts.forEach((members, h) => {
    if (members.length === 0) return;
    const stratum = strata.length;
    strata.push({
      name: h === 0 ? 'frame' : 'rest',
      minConfidence: members[members.length - 1]!.confidence,
      maxConfidence: members[0]!.confidence,
      population: members.length,
      drawn: wanted[h]!,
    });
    for (const candidate of sample(members, wanted[h]!, random)) checks.push({ ...candidate, stratum });
  });
  return { strata, checks: shuffle(checks, random) };
}

/**
 * Design weights of the checks that count (answered or skipped): for check i of draw b in stratum h,
 * population(b, h) / responses(b, h), scaled so that the weights of draw b sum to its responses.
 */
export function checkWeights(
  draws: ReadonlyMap<number, readonly CheckStratum[]>,
  responses: readonly { readonly drawId: number; readonly stratum: number }[],
): number[] {
  const counts = new Map<string, number>();
  const perDraw = new Map<number, number>();
  for (const r of responses) {
    const key = `${r.drawId}:${r.stratum}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    perDraw.set(r.drawId, (perDraw.get(r.drawId) ?? 0) + 1);
  }
  // Population covered by each draw's responding strata.
  const covered = new Map<number, number>();
  for (const [key] of counts) {
    const [drawId, stratum] = key.split(':').map(Number) as [number, number];
    covered.set(drawId, (covered.get(drawId) ?? 0) + (draws.get(drawId)?.[stratum]?.population ?? 0));
  }
  return responses.map((r) => {
    const population = draws.get(r.drawId)?.[r.stratum]?.population ?? 0;
    const raw = population / counts.get(`${r.drawId}:${r.stratum}`)!;
    const scale = perDraw.get(r.drawId)! / Math.max(1, covered.get(r.drawId)!);
    return population > 0 ? raw * scale : 1;
  });
}

/** `k` members chosen uniformly without replacement (partial Fisher-Yates). */
function sample<T>(members: readonly T[], k: number, random: () => number): T[] {
  const copy = [...members];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  return sample(items, items.length, random);
}
