/**
 * @module Ablations of the learner's pipeline on the pools bench:learn embedded: each variant
 * re-implemented from the learn/ building blocks (no cross-validation, no calibration), scored by
 * accuracy on the unlabelled pool with bench:learn's label draws. It is how the variants in
 * docs/bench/learn/summary.md were compared; the learner itself is measured by bench:learn.
 *
 *   node bench/dist/learn-variants.js [NAME=]WORKSPACE[@R][,...] [--labels 4,25] [--seeds 5] [--only "name|name"]
 *
 * WORKSPACE: a bench:learn cache folder (tmpdir/autolabel-bench-learn-KEY, holding workspace/).
 * `@R`: the long-tailed pool of bench:learn --long-tail R.
 */
import { join } from 'node:path';
import { embeddingRows, openWorkspace, seededRandom } from '@autolabel/core';
import {
  applyFeatureTransform,
  buildKnnGraph,
  fitFeatureTransform,
  type KnnGraph,
  matrix,
  type Matrix,
  normalizedAffinity,
  normalizeRows,
  OrtMath,
  predictHead,
  propagateLabels,
  seedMatrix,
  selectRows,
  type SparseMatrix,
  storeOf,
  trainLogistic,
} from '@autolabel/core/learn';
import { drawLabels as drawLabelsPerClass } from './draws.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const dirs = argv[0]!.split(',');
const labelCounts = flag('labels', '4,25').split(',').map(Number);
const seedCount = Number(flag('seeds', '5'));
const only = flag('only', '').split('|').filter(Boolean);
const math = new OrtMath({});

interface Data {
  name: string;
  truth: Int32Array;
  classes: number;
  raw: Matrix;
  features: Matrix;
  graph: KnnGraph;
  rawGraph: KnnGraph;
  aff: Map<string, SparseMatrix>;
}

async function load(arg: string): Promise<Data> {
  const eq = arg.indexOf('=');
  const label = eq > 0 ? arg.slice(0, eq) : undefined;
  const [dir, imb] = arg.slice(eq + 1).split('@') as [string, string | undefined];
  const full = { ...(await loadDir(dir)), name: label ?? dir };
  if (!imb) return full;
  // keep the first 1000 * r^c rows of class c: a long-tailed pool
  const r = Number(imb);
  const seen = new Int32Array(full.classes);
  const keep: number[] = [];
  const top = Math.max(...Array.from({ length: full.classes }, (_, j) => full.truth.filter((t) => t === j).length));
  for (let i = 0; i < full.truth.length; i++) {
    const t = full.truth[i]!;
    if (seen[t]! < Math.round(top * r ** t)) {
      seen[t]!++;
      keep.push(i);
    }
  }
  const raw = selectRows(full.raw, keep);
  const features = selectRows(full.features, keep);
  return {
    name: `${full.name}@${imb}`,
    truth: Int32Array.from(keep, (i) => full.truth[i]!),
    classes: full.classes,
    raw,
    features,
    graph: await buildKnnGraph(math, features, 20),
    rawGraph: await buildKnnGraph(math, raw, 20),
    aff: new Map(),
  };
}

async function loadDir(dir: string): Promise<Data> {
  const ws = await openWorkspace(join(dir, 'workspace'));
  let raw: Matrix;
  let truth: Int32Array;
  let names: string[];
  try {
    const embeddings = await storeOf(ws).loadEmbeddings(await ws.modelId());
    const paths = new Map((await storeOf(ws).listImages()).map((image) => [image.id as number, image.path]));
    names = [...new Set([...paths.values()].map((p) => p.split('/')[0]!))].sort();
    truth = Int32Array.from(embeddings.imageIds, (id) => names.indexOf(paths.get(id)!.split('/')[0]!));
    raw = matrix(embeddings.imageIds.length, embeddings.dim, embeddingRows(embeddings, 0, embeddings.imageIds.length));
  } finally {
    await ws.close();
  }
  const features = applyFeatureTransform(fitFeatureTransform(raw), raw);
  normalizeRows(raw);
  const graph = await buildKnnGraph(math, features, 20);
  const rawGraph = await buildKnnGraph(math, raw, 20);
  return { name: dir, truth, classes: names.length, raw, features, graph, rawGraph, aff: new Map() };
}

function affinity(d: Data, key: string): SparseMatrix {
  // key: f|r k gamma
  let a = d.aff.get(key);
  if (!a) {
    const [src, k, gamma] = key.split(':');
    a = normalizedAffinity(src === 'r' ? d.rawGraph : d.graph, Number(k), Number(gamma));
    d.aff.set(key, a);
  }
  return a;
}

/** `--random-labels`: K x classes labels drawn from the whole pool (every class at least once), as random picks are. */
function drawRandomLabels(truth: Int32Array, classes: number, perClassLabels: number, seed: number): Int32Array {
  const random = seededRandom(seed * 7919 + perClassLabels);
  for (;;) {
    const seeds = new Int32Array(truth.length).fill(-1);
    const rows = [...truth.keys()];
    for (let t = 0; t < perClassLabels * classes; t++) {
      const j = t + Math.floor(random() * (rows.length - t));
      [rows[t], rows[j]] = [rows[j]!, rows[t]!];
      seeds[rows[t]!] = truth[rows[t]!]!;
    }
    if (new Set(seeds.filter((s) => s >= 0)).size === classes) return seeds;
  }
}

/** Weights that give each class's labels the same total. */
function balancedWeights(seeds: Int32Array, c: number): Float32Array {
  const counts = new Float64Array(c);
  for (const t of seeds) if (t >= 0) counts[t]!++;
  return Float32Array.from(seeds, (t) => (t >= 0 ? 1 / counts[t]! : 0));
}

function drawLabels(truth: Int32Array, classes: number, perClassLabels: number, seed: number): Int32Array {
  if (argv.includes('--random-labels')) return drawRandomLabels(truth, classes, perClassLabels, seed);
  return drawLabelsPerClass(truth, classes, perClassLabels, seed);
}

function accuracy(scores: Float32Array, truth: Int32Array, seeds: Int32Array, c: number): number {
  let right = 0;
  let n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (seeds[i]! >= 0) continue;
    n++;
    let best = 0;
    for (let j = 1; j < c; j++) if (scores[i * c + j]! > scores[i * c + best]!) best = j;
    if (best === truth[i]) right++;
  }
  return right / n;
}

async function lr(
  x: Matrix,
  seeds: Int32Array,
  c: number,
  l2: number,
  weights?: Float32Array,
  soft?: Float32Array,
): Promise<Float32Array> {
  const rows: number[] = [];
  for (let i = 0; i < seeds.length; i++) if (seeds[i]! >= 0) rows.push(i);
  const targets = new Float32Array(rows.length * c);
  rows.forEach((row, r) => {
    if (soft) targets.set(soft.subarray(row * c, row * c + c), r * c);
    else targets[r * c + seeds[row]!] = 1;
  });
  const sw = weights ? Float32Array.from(rows, (row) => weights[row]!) : undefined;
  const head = await trainLogistic(selectRows(x, rows), targets, c, {
    l2,
    maxIterations: 150,
    math,
    sampleWeights: sw,
  });
  return predictHead(math, head, x);
}

function topPerClass(p: Float32Array, seeds: Int32Array, c: number, count: number | Float64Array): Int32Array {
  const n = seeds.length;
  const chosen = new Int32Array(n).fill(-1);
  const byClass: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < n; i++) {
    if (seeds[i]! >= 0) continue;
    let best = 0;
    for (let j = 1; j < c; j++) if (p[i * c + j]! > p[i * c + best]!) best = j;
    byClass[best]!.push(i);
  }
  byClass.forEach((rows, j) => {
    rows.sort((a, b) => p[b * c + j]! - p[a * c + j]!);
    for (const i of rows.slice(0, typeof count === 'number' ? count : Math.round(count[j]!))) chosen[i] = j;
  });
  return chosen;
}

function clamp(scores: Float32Array, seeds: Int32Array, c: number, scaleUnlabelled = 1): Float32Array {
  const out = Float32Array.from(scores, (v) => v * scaleUnlabelled);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! < 0) continue;
    out.fill(0, i * c, (i + 1) * c);
    out[i * c + seeds[i]!] = 1;
  }
  return out;
}

function correct(a: SparseMatrix, p: Float32Array, seeds: Int32Array, c: number, alpha: number): Float32Array {
  const residual = new Float32Array(p.length);
  let total = 0;
  let labelled = 0;
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! < 0) continue;
    labelled++;
    for (let j = 0; j < c; j++) {
      const e = (j === seeds[i] ? 1 : 0) - p[i * c + j]!;
      residual[i * c + j] = e;
      total += Math.abs(e);
    }
  }
  const typical = total / labelled;
  const spread = propagateLabels(a, residual, c, { alpha, maxIterations: 60 }).scores;
  const out = Float32Array.from(p);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! >= 0) continue;
    let size = 0;
    for (let j = 0; j < c; j++) size += Math.abs(spread[i * c + j]!);
    const scale = size > 0 ? typical / size : 0;
    for (let j = 0; j < c; j++) out[i * c + j] = Math.max(0, p[i * c + j]! + scale * spread[i * c + j]!);
  }
  return out;
}

function normalize(s: Float32Array, c: number): Float32Array {
  const out = new Float32Array(s.length);
  for (let o = 0; o < s.length; o += c) {
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.max(0, s[o + j]!);
    for (let j = 0; j < c; j++) out[o + j] = sum > 0 ? Math.max(0, s[o + j]!) / sum : 1 / c;
  }
  return out;
}

/** Saerens et al. 2002: EM re-estimation of class priors on the pool; returns adjusted posteriors. */
let lastPrior: Float64Array = new Float64Array(0);
function emPriors(p0: Float32Array, c: number, iterations = 50, t = 1): Float32Array {
  const p =
    t === 1
      ? p0
      : normalize(
          p0.map((v) => Math.pow(v + 1e-9, 1 / t)),
          c,
        );
  const n = p.length / c;
  const train = new Float64Array(c).fill(1 / c);
  let prior = Float64Array.from(train);
  const q = Float32Array.from(p);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < c; j++) sum += (p[i * c + j]! * prior[j]!) / train[j]!;
      for (let j = 0; j < c; j++) {
        const v = (p[i * c + j]! * prior[j]!) / train[j]! / sum;
        q[i * c + j] = v;
        next[j]! += v / n;
      }
    }
    prior = next;
  }
  lastPrior = prior;
  return q;
}

interface Variant {
  l2?: number;
  feats?: 'f' | 'r';
  /** prior: each class's count in proportion to the PCC share of a class-balanced head */
  st?: { rounds: number; share: number; prior?: boolean };
  prior?: boolean;
  graph?: string;
  alphaC?: number;
  alphaS?: number;
  /** weight of base predictions in the smooth step's seeds (1 = C&S) */
  lambda?: number;
  lp?: boolean;
  skipCorrect?: boolean;
  /** average with plain LP on the same graph */
  mixLp?: number;
  lpAlpha?: number;
  /** l2 = l2n / (training rows) */
  l2n?: number;
  /** Iscen et al. 2019: LR on LP pseudo-labels of the whole pool, entropy-weighted */
  iscen?: {
    alpha: number;
    soft?: boolean;
    graph?: string;
    labelledShare?: number;
    source?: 'lp' | 'cs' | 'mix';
    sample?: number;
    noBalance?: boolean;
    agree?: boolean;
    product?: boolean;
    target?: 'lrmean';
    cmn?: boolean;
    balancedPrior?: boolean;
  };
  /** every logistic regression on labels weighs each class's labels equally */
  balanced?: boolean;
  /** multiply final scores by the PCC prior (mean LR posterior) / uniform */
  pccFinal?: number;
  /** Saerens EM on: the LP pseudo-labels (iscen), the final scores */
  emLp?: boolean;
  emFinal?: boolean;
  /** sharpen by 1/T before EM */
  emT?: number;
  /** average scores with another variant */
  avgWith?: string;
  /** self-training on C&S outputs: rounds, share of pool per round */
  stcs?: { rounds: number; share: number };
}

async function run(d: Data, seeds: Int32Array, v: Variant): Promise<Float32Array> {
  if (v.avgWith) {
    const one = await run(d, seeds, { ...v, avgWith: undefined });
    const two = await run(d, seeds, variants[v.avgWith]!);
    return one.map((q, i) => 0.5 * q + 0.5 * two[i]!);
  }
  const c = d.classes;
  const n = d.truth.length;
  const x = v.feats === 'r' ? d.raw : d.features;
  const a = affinity(d, v.graph ?? 'f:10:3');
  if (v.lp) return propagateLabels(a, seedMatrix(seeds, c), c, { alpha: v.lpAlpha ?? 0.99, maxIterations: 100 }).scores;
  const l2for = (rows: number): number => (v.l2n ? v.l2n / rows : (v.l2 ?? 1e-4));
  const labelled = seeds.filter((s) => s >= 0).length;
  let p: Float32Array;
  if (v.iscen) {
    const g = affinity(d, v.iscen.graph ?? v.graph ?? 'f:10:3');
    let z = normalize(
      propagateLabels(g, seedMatrix(seeds, c), c, { alpha: v.iscen.alpha, maxIterations: 100 }).scores,
      c,
    );
    let classTarget: Float64Array | undefined;
    if (v.iscen.agree || v.iscen.product || v.iscen.target) {
      const balanced = v.iscen.balancedPrior || v.balanced ? balancedWeights(seeds, c) : undefined;
      const base = await lr(x, seeds, c, 1e-4, balanced);
      if (v.iscen.product)
        z = normalize(
          z.map((q, i) => q * base[i]!),
          c,
        );
      if (v.iscen.agree) {
        for (let i = 0; i < n; i++) {
          let a1 = 0;
          let a2 = 0;
          for (let j = 1; j < c; j++) {
            if (z[i * c + j]! > z[i * c + a1]!) a1 = j;
            if (base[i * c + j]! > base[i * c + a2]!) a2 = j;
          }
          if (a1 !== a2) z.fill(1 / c, i * c, i * c + c); // zero weight
        }
      }
      if (v.iscen.target) {
        classTarget = new Float64Array(c);
        for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) classTarget[j]! += base[i * c + j]! / n;
        if (v.iscen.cmn) {
          const y = seedMatrix(seeds, c);
          for (let i = 0; i < y.length; i++) y[i]! *= classTarget[i % c]! * c;
          z = normalize(propagateLabels(g, y, c, { alpha: v.iscen.alpha, maxIterations: 100 }).scores, c);
        }
      }
    }
    if (v.emLp) {
      z = emPriors(z, c, 50, v.emT ?? 1);
      classTarget = lastPrior;
    }
    if (v.iscen.source && v.iscen.source !== 'lp') {
      const base = await lr(x, seeds, c, 1e-4);
      const cs = normalize(
        propagateLabels(a, clamp(correct(a, base, seeds, c, 0.8), seeds, c), c, { alpha: 0.8, maxIterations: 60 })
          .scores,
        c,
      );
      z = v.iscen.source === 'cs' ? cs : z.map((q, i) => 0.5 * q + 0.5 * cs[i]!);
    }
    const training = new Int32Array(n);
    const weights = new Float32Array(n);
    const counts = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let h = 0;
      for (let j = 0; j < c; j++) {
        const q = z[i * c + j]!;
        if (q > z[i * c + best]!) best = j;
        if (q > 0) h -= q * Math.log(q);
      }
      training[i] = seeds[i]! >= 0 ? seeds[i]! : best;
      weights[i] = seeds[i]! >= 0 ? 1 : Math.max(0, 1 - h / Math.log(c));
      counts[training[i]!]! += 1;
    }
    if (!v.iscen.noBalance)
      for (let i = 0; i < n; i++)
        weights[i]! /= counts[training[i]!]! / (n * (classTarget ? classTarget[training[i]!]! : 1 / c));
    if (v.iscen.labelledShare !== undefined) {
      // Iscen et al.: labelled loss and pseudo-label loss each averaged over their rows
      const share = v.iscen.labelledShare;
      let unl = 0;
      for (let i = 0; i < n; i++) if (seeds[i]! < 0) unl++;
      const perLabel = new Float64Array(c);
      for (const t of seeds) if (t >= 0) perLabel[t]!++;
      for (let i = 0; i < n; i++)
        weights[i] =
          seeds[i]! >= 0 ? (v.balanced ? share / c / perLabel[seeds[i]!]! : share / labelled) : weights[i]! / unl;
    }
    if (v.iscen.sample) {
      // systematic PPS sample of the unlabelled rows; each kept row carries W/m per hit (unbiased loss)
      const m = v.iscen.sample;
      let total = 0;
      for (let i = 0; i < n; i++) if (seeds[i]! < 0) total += weights[i]!;
      const step = total / m;
      let next = step * 0.5;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        if (seeds[i]! >= 0) continue;
        const lo = acc;
        acc += weights[i]!;
        let hits = 0;
        while (next < acc) {
          hits++;
          next += step;
        }
        void lo;
        if (hits === 0) training[i] = -1;
        weights[i] = hits * step;
      }
    }
    const soft = v.iscen.soft ? clamp(z, seeds, c) : undefined;
    p = await lr(x, training, c, l2for(n), weights, soft);
  } else p = await lr(x, seeds, c, l2for(labelled), v.balanced ? balancedWeights(seeds, c) : undefined);
  if (v.st) {
    const per = Math.max(1, Math.round((v.st.share * n) / c));
    let shares: Float64Array | undefined;
    if (v.st.prior) {
      const base = await lr(x, seeds, c, 1e-4, balancedWeights(seeds, c));
      shares = new Float64Array(c);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) shares[j]! += base[i * c + j]!;
      for (let j = 0; j < c; j++) shares[j] = v.st.share * shares[j]!;
    }
    for (let r = 1; r <= v.st.rounds; r++) {
      const training = Int32Array.from(seeds);
      const best = topPerClass(p, seeds, c, shares ? shares.map((m) => r * m) : r * per);
      for (let i = 0; i < n; i++) if (best[i]! >= 0) training[i] = best[i]!;
      p = await lr(x, training, c, l2for(labelled + c * r * per));
    }
  }
  if (v.prior) p = emPriors(p, c);
  if (v.alphaC === 0) return p;
  const corrected = v.skipCorrect ? p : correct(a, p, seeds, c, v.alphaC ?? 0.8);
  const smoothed = propagateLabels(a, clamp(corrected, seeds, c, v.lambda ?? 1), c, {
    alpha: v.alphaS ?? v.alphaC ?? 0.8,
    maxIterations: 60,
  }).scores;
  let out = normalize(smoothed, c);
  if (v.emFinal) out = emPriors(out, c, 50, v.emT ?? 1);
  if (v.pccFinal) {
    const base = await lr(x, seeds, c, 1e-4);
    const prior = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) prior[j]! += base[i * c + j]! / n;
    out = normalize(
      out.map((q, i) => q * Math.pow(prior[i % c]! * c, v.pccFinal!)),
      c,
    );
  }
  if (v.stcs) {
    const per = Math.max(1, Math.round((v.stcs.share * n) / c));
    for (let r = 1; r <= v.stcs.rounds; r++) {
      const training = Int32Array.from(seeds);
      const best = topPerClass(out, seeds, c, r * per);
      for (let i = 0; i < n; i++) if (best[i]! >= 0) training[i] = best[i]!;
      const q = await lr(x, training, c, l2for(labelled + c * r * per));
      const cq = correct(a, q, seeds, c, v.alphaC ?? 0.8);
      out = normalize(
        propagateLabels(a, clamp(cq, seeds, c), c, { alpha: v.alphaS ?? v.alphaC ?? 0.8, maxIterations: 60 }).scores,
        c,
      );
    }
  }
  if (v.mixLp) {
    const lp = normalize(
      propagateLabels(a, seedMatrix(seeds, c), c, { alpha: v.lpAlpha ?? 0.99, maxIterations: 100 }).scores,
      c,
    );
    out = out.map((s, i) => (1 - v.mixLp!) * s + v.mixLp! * lp[i]!);
  }
  return out;
}

const variants: Record<string, Variant> = {
  // Before: logistic regression + Correct and Smooth (alpha 0.8, 10-NN graph, gamma 3), and its self-training variant.
  'before: LR+C&S': {},
  // (self-training: each round adds share * images / classes more pseudo-labels per class; 0.05 is the old 50 per class on CIFAR-10)
  'before: self-training+C&S': { st: { rounds: 3, share: 0.05 } },
  'self-training+C&S, 0.5% per class': { st: { rounds: 3, share: 0.005 } },
  'LR alone': { alphaC: 0 },
  'LP alone, alpha 0.9': { lp: true, graph: 'f:10:3', lpAlpha: 0.9 },
  'LP alone, bench baseline graph': { lp: true, graph: 'r:20:1' },
  // Graph weight and graph of Correct and Smooth.
  'C&S alpha 0.9': { alphaC: 0.9 },
  'C&S alpha 0.95': { alphaC: 0.95 },
  'C&S alpha 0.99': { alphaC: 0.99 },
  'C&S 20-NN graph': { graph: 'f:20:3' },
  'C&S gamma 1': { graph: 'f:10:1' },
  'C&S raw-feature graph': { graph: 'r:20:1' },
  'C&S, LR l2 1e-3': { l2: 1e-3 },
  'C&S, LR l2 0.03/n': { l2n: 0.03 },
  'C&S averaged with LP': { mixLp: 0.5, lpAlpha: 0.9 },
  // Class priors by EM (Saerens et al. 2002).
  'EM priors on LR, then C&S': { prior: true },
  'C&S, then EM priors': { emFinal: true },
  'C&S, then EM priors at T=0.6': { emFinal: true, emT: 0.6 },
  'C&S, then PCC priors': { pccFinal: 1 },
  // Self-training on Correct and Smooth's output: 3 rounds of 5% of the pool.
  'self-training on C&S': { stcs: { rounds: 3, share: 0.05 } },
  // LR retrained on propagated pseudo-labels (Iscen et al. 2019), then C&S.
  'pseudo-labels, row weights': { iscen: { alpha: 0.9 } },
  'pseudo-labels, Iscen loss weights': { iscen: { alpha: 0.9, labelledShare: 1 } },
  'pseudo-labels, soft': { iscen: { alpha: 0.9, soft: true } },
  'pseudo-labels, + self-training on C&S': {
    iscen: { alpha: 0.9, labelledShare: 1 },
    stcs: { rounds: 3, share: 0.05 },
  },
  'pseudo-labels, no class shares': { iscen: { alpha: 0.9, labelledShare: 1, noBalance: true } },
  'pseudo-labels, EM priors': { iscen: { alpha: 0.9, labelledShare: 1 }, emLp: true },
  'pseudo-labels where LP and LR agree': { iscen: { alpha: 0.9, labelledShare: 1, agree: true } },
  'pseudo-labels from LP x LR': { iscen: { alpha: 0.9, labelledShare: 1, product: true } },
  'pseudo-labels, PCC class shares': { iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean' } },
  // PCC shares also as the seeds' masses: the learner's first variant (its prior head class-balanced below).
  'pseudo-labels, PCC shares and seed masses': { iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true } },
  '  same, sampled to 4,096 rows': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true, sample: 4096 },
  },
  '  same, LP alpha 0.8': { iscen: { alpha: 0.8, labelledShare: 1, target: 'lrmean', cmn: true } },
  '  same, LP alpha 0.95': { iscen: { alpha: 0.95, labelledShare: 1, target: 'lrmean', cmn: true } },
  '  same, averaged with LR+C&S': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true },
    avgWith: 'before: LR+C&S',
  },
  '  same, prior from a class-balanced head': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true, balancedPrior: true },
  },
  'before: LR+C&S, class-balanced LR': { balanced: true },
  '  same, class-balanced labels': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true },
    balanced: true,
  },
  // The learner's default now: that variant (class-balanced prior head) averaged with the old self-training.
  '  same, averaged with self-training': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true, balancedPrior: true },
    avgWith: 'before: self-training+C&S',
  },
  '  same, averaged with self-training 0.5%': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true, balancedPrior: true },
    avgWith: 'self-training+C&S, 0.5% per class',
  },
  'self-training+C&S, counts by PCC shares': { st: { rounds: 3, share: 0.05, prior: true } },
  '  same, averaged with self-training by PCC shares': {
    iscen: { alpha: 0.9, labelledShare: 1, target: 'lrmean', cmn: true, balancedPrior: true },
    avgWith: 'self-training+C&S, counts by PCC shares',
  },
};

const names = only.length ? only : Object.keys(variants);
const data: Data[] = [];
for (const dir of dirs) data.push(await load(dir));
// Arguments may be NAME=WORKSPACE[@R].
const table: Record<string, Record<string, number[]>> = {};
for (const d of data) {
  for (const k of labelCounts) {
    const col = `${d.name} K=${k}`;
    for (let seed = 1; seed <= seedCount; seed++) {
      const seeds = drawLabels(d.truth, d.classes, k, seed);
      for (const name of names) {
        const t = performance.now();
        const acc = accuracy(await run(d, seeds, variants[name]!), d.truth, seeds, d.classes);
        ((table[name] ??= {})[col] ??= []).push(acc);
        process.stderr.write(
          `${col} seed ${seed} ${name}: ${(100 * acc).toFixed(1)} (${((performance.now() - t) / 1000).toFixed(1)} s)\n`,
        );
      }
    }
  }
}
const cols = Object.keys(table[names[0]!]!);
process.stdout.write(`| variant | ${cols.join(' | ')} |\n|---|${cols.map(() => '---|').join('')}\n`);
for (const name of names) {
  const row = cols.map((col) => {
    const v = table[name]![col]!;
    return (100 * (v.reduce((a, b) => a + b, 0) / v.length)).toFixed(1);
  });
  process.stdout.write(`| ${name} | ${row.join(' | ')} |\n`);
}
await math.close();
