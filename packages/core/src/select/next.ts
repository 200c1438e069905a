/**
 * @module What to label next. Cold start: the most typical image of each large cluster no label
 * covers yet (TypiClust, Hacohen et al. 2022). With a fit: the images the model is most torn about,
 * one per cluster so the picks differ, favouring classes with few labels. Each pick says why.
 */
import { AutolabelError } from '../errors.js';
import type { KnnGraph } from '../learn/graph.js';
import { type Matrix, rowOf } from '../learn/matrix.js';
import type { OrtMath } from '../learn/ort-math.js';
import { seededRandom } from '../util/random.js';
import { sphericalKMeans } from '../learn/kmeans.js';

export const NEXT_STRATEGIES = ['auto', 'typical', 'uncertain', 'diverse', 'random'] as const;
export type NextStrategy = (typeof NEXT_STRATEGIES)[number];

export interface NextInput {
  readonly math: OrtMath;
  readonly features: Matrix;
  readonly graph: KnnGraph;
  /** Class index of each labelled row, -1 for unlabelled. */
  readonly seeds: Int32Array;
  readonly classes: readonly string[];
  /** Calibrated probabilities of the latest fit, [rows, classes]; absent before the first fit. */
  readonly probabilities?: Float32Array;
  /**
   * The probabilities have zero-shot from class names in them (zero-shot/): they cover every class
   * before its labels do, so `auto` picks where they are least sure from the start.
   */
  readonly zeroShot?: boolean;
}

export interface Pick {
  readonly row: number;
  readonly strategy: Exclude<NextStrategy, 'auto'>;
  readonly reason: string;
}

/** Median labels per class below which `auto` keeps covering clusters rather than chasing uncertainty. */
const TYPICAL_UNTIL_PER_CLASS = 3;

export function resolveStrategy(strategy: NextStrategy, input: NextInput): Exclude<NextStrategy, 'auto'> {
  if (strategy !== 'auto') return strategy;
  if (!input.probabilities) return 'typical';
  if (input.zeroShot) return 'uncertain';
  const counts = new Array<number>(input.classes.length).fill(0);
  for (const s of input.seeds) if (s >= 0) counts[s]!++;
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)]! < TYPICAL_UNTIL_PER_CLASS ? 'typical' : 'uncertain';
}

export async function pickNext(input: NextInput, count: number, strategy: NextStrategy, seed = 1): Promise<Pick[]> {
  const resolved = resolveStrategy(strategy, input);
  const unlabelled = [...input.seeds.keys()].filter((i) => input.seeds[i]! < 0);
  const want = Math.min(count, unlabelled.length);
  if (want === 0) return [];
  switch (resolved) {
    case 'random':
      return shuffled(unlabelled, seed)
        .slice(0, want)
        .map((row) => ({ row, strategy: 'random', reason: 'random pick (a baseline for comparison)' }));
    case 'typical':
      return pickTypical(input, want, seed);
    case 'diverse':
      return pickDiverse(input, want);
    case 'uncertain':
      if (!input.probabilities) {
        throw new AutolabelError(
          'NOT_ENOUGH_LABELS',
          'uncertain picks need suggestions first: make suggestions, or pick typical images until then',
        );
      }
      return pickUncertain(input, input.probabilities, want, seed);
  }
}

/** Mean cosine similarity to an image's k nearest neighbours: high in dense regions. */
function typicality(graph: KnnGraph, row: number): number {
  let sum = 0;
  for (let j = 0; j < graph.k; j++) sum += graph.scores[row * graph.k + j]!;
  return sum / graph.k;
}

async function pickTypical(input: NextInput, want: number, seed: number): Promise<Pick[]> {
  const labelled = input.seeds.reduce((n, s) => n + (s >= 0 ? 1 : 0), 0);
  const clustering = await sphericalKMeans(input.math, input.features, labelled + want, { seed });
  const covered = new Uint8Array(clustering.k);
  for (let i = 0; i < input.seeds.length; i++) if (input.seeds[i]! >= 0) covered[clustering.assignment[i]!] = 1;
  const best = new Int32Array(clustering.k).fill(-1);
  for (let i = 0; i < input.seeds.length; i++) {
    if (input.seeds[i]! >= 0) continue;
    const c = clustering.assignment[i]!;
    if (best[c]! < 0 || typicality(input.graph, i) > typicality(input.graph, best[c]!)) best[c] = i;
  }
  // Largest uncovered clusters first, then covered ones if there are not enough.
  const order = [...best.keys()]
    .filter((c) => best[c]! >= 0)
    .sort((a, b) => covered[a]! - covered[b]! || clustering.sizes[b]! - clustering.sizes[a]!);
  return order.slice(0, want).map((c) => ({
    row: best[c]!,
    strategy: 'typical',
    reason: `typical of ${covered[c] ? 'a' : 'an unlabelled'} cluster of ${clustering.sizes[c]} images`,
  }));
}

async function pickUncertain(
  input: NextInput,
  probabilities: Float32Array,
  want: number,
  seed: number,
): Promise<Pick[]> {
  const { classes, seeds } = input;
  const c = classes.length;
  const counts = new Array<number>(c).fill(0);
  for (const s of seeds) if (s >= 0) counts[s]!++;
  const most = Math.max(1, ...counts);
  const clustering = await sphericalKMeans(input.math, input.features, want, { seed });
  const best = new Int32Array(clustering.k).fill(-1);
  const score = new Float64Array(seeds.length);
  // Outliers are uncertain too, but teach little: only images at least as typical as the median compete.
  const typical = new Float64Array(seeds.length);
  for (let i = 0; i < seeds.length; i++) typical[i] = typicality(input.graph, i);
  const unlabelledTypicality = [...typical].filter((_, i) => seeds[i]! < 0).sort((a, b) => a - b);
  const floor = unlabelledTypicality[Math.floor(unlabelledTypicality.length / 2)] ?? -Infinity;
  const tops = new Int32Array(seeds.length * 2);
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i]! >= 0) continue;
    let first = 0;
    let second = -1;
    for (let j = 1; j < c; j++) {
      const p = probabilities[i * c + j]!;
      if (p > probabilities[i * c + first]!) {
        second = first;
        first = j;
      } else if (second < 0 || p > probabilities[i * c + second]!) second = j;
    }
    if (second < 0) second = first;
    tops[2 * i] = first;
    tops[2 * i + 1] = second;
    const margin = probabilities[i * c + first]! - probabilities[i * c + second]!;
    // A small margin between classes with few labels is worth the most.
    const rarity = Math.min(counts[first]!, counts[second]!) / most;
    score[i] = margin * (0.5 + 0.5 * rarity) + (typical[i]! < floor ? 1 : 0);
    const k = clustering.assignment[i]!;
    if (best[k]! < 0 || score[i]! < score[best[k]!]!) best[k] = i;
  }
  const picks = [...best].filter((row) => row >= 0).sort((a, b) => score[a]! - score[b]!);
  const percent = (x: number): string => x.toFixed(2);
  return picks.slice(0, want).map((row) => {
    const first = tops[2 * row]!;
    const second = tops[2 * row + 1]!;
    return {
      row,
      strategy: 'uncertain',
      reason: `model torn between ${classes[first]} ${percent(probabilities[row * c + first]!)} and ${classes[second]} ${percent(probabilities[row * c + second]!)}`,
    };
  });
}

/** Greedy k-center (Sener & Savarese 2018): each pick is the image farthest from every labelled or picked one. */
async function pickDiverse(input: NextInput, want: number): Promise<Pick[]> {
  const { features, seeds } = input;
  const n = features.rows;
  const closest = new Float32Array(n).fill(-1);
  const labelled = [...seeds.keys()].filter((i) => seeds[i]! >= 0);
  if (labelled.length > 0) {
    const base = {
      rows: labelled.length,
      cols: features.cols,
      data: new Float32Array(labelled.length * features.cols),
    };
    labelled.forEach((row, r) => base.data.set(rowOf(features, row), r * features.cols));
    const found = await input.math.topK(features, base, 1);
    for (let i = 0; i < n; i++) closest[i] = found.scores[i]!;
  }
  const picks: Pick[] = [];
  for (let p = 0; p < want; p++) {
    let far = -1;
    for (let i = 0; i < n; i++) if (seeds[i]! < 0 && (far < 0 || closest[i]! < closest[far]!)) far = i;
    if (far < 0 || closest[far]! >= 1) break;
    picks.push({
      row: far,
      strategy: 'diverse',
      reason:
        closest[far]! < 0 && labelled.length === 0 && p === 0
          ? 'first pick: no labelled image yet'
          : `unlike any labelled or picked image (closest similarity ${closest[far]!.toFixed(2)})`,
    });
    const centre = rowOf(features, far);
    for (let i = 0; i < n; i++) {
      const row = rowOf(features, i);
      let dot = 0;
      for (let j = 0; j < row.length; j++) dot += row[j]! * centre[j]!;
      if (dot > closest[i]!) closest[i] = dot;
    }
    closest[far] = 1;
  }
  return picks;
}

function shuffled(rows: number[], seed: number): number[] {
  const random = seededRandom(seed);
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}
