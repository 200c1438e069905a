/**
 * @module Stratified, seeded train/val/test splits, streamed: each class is split in the given
 * fractions exactly (largest remainder), and which images go where is a uniformly random choice,
 * made one row at a time in path order (sequential sampling without replacement, Knuth's
 * Algorithm S generalised to several parts), so memory holds counts per class only.
 */
import { AutolabelError } from '../errors.js';
import { seededRandom } from '../util/random.js';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export const DEFAULT_SPLIT: readonly number[] = [0.8, 0.1, 0.1];

/** Parses `0.8,0.1,0.1` (train, val, test; test may be left out): non-negative fractions that sum to 1. */
export function parseSplit(value: string | readonly number[]): number[] {
  const parts = typeof value === 'string' ? value.split(',').map((p) => Number(p.trim())) : [...value];
  const sum = parts.reduce((a, b) => a + b, 0);
  if (
    parts.length < 2 ||
    parts.length > SPLIT_NAMES.length ||
    parts.some((p) => !Number.isFinite(p) || p < 0) ||
    Math.abs(sum - 1) > 1e-6
  ) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `split: "${String(value)}" must be 2 or 3 fractions for train, val (and test) that sum to 1, e.g. 0.8,0.1,0.1`,
    );
  }
  return parts;
}

/** How many of `count` images each part gets: floors, then the largest remainders get one more. */
export function partSizes(count: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => f * count);
  const sizes = exact.map(Math.floor);
  let left = count - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    sizes[i]!++;
    left--;
  }
  return sizes;
}

/** Rows per class, unlabelled rows left out: a first pass over an export, for a `StratifiedSplitter`. */
export async function labelCounts(
  rows: AsyncIterable<{ readonly label: string | null }>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const row of rows) {
    if (row.label !== null) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
  }
  return counts;
}

/** Assigns rows of each class to parts as they come; call `assign` once per row, in a stable order. */
export class StratifiedSplitter {
  readonly #left = new Map<string, number[]>();
  readonly #random: () => number;

  /** `counts`: rows per class that will be assigned. */
  constructor(counts: ReadonlyMap<string, number>, fractions: readonly number[], seed: number) {
    for (const [name, count] of counts) this.#left.set(name, partSizes(count, fractions));
    this.#random = seededRandom(seed);
  }

  /**
   * Counts a row of `label` into `part`, the part its duplicate group went to (groupOf): from that
   * part's room where it has some, else from another's, so the class's shares stay as near as they can.
   */
  take(label: string, part: number): number {
    const left = this.#left.get(label);
    if (!left) return part;
    const from = left[part]! > 0 ? part : left.findIndex((n) => n > 0);
    if (from >= 0) left[from]!--;
    return part;
  }

  /** The part (index into the fractions) of the next row of `label`. */
  assign(label: string): number {
    const left = this.#left.get(label);
    const total = left?.reduce((a, b) => a + b, 0) ?? 0;
    // A row the count did not see (a label given while the export ran) goes to the first part.
    if (!left || total === 0) return 0;
    let r = this.#random() * total;
    for (let part = 0; part < left.length; part++) {
      if (r < left[part]! || part === left.length - 1) {
        // The last part is reached only when it still has room (r < total), or by rounding.
        const chosen = left[part]! > 0 ? part : left.findIndex((n) => n > 0);
        left[chosen]!--;
        return chosen;
      }
      r -= left[part]!;
    }
    throw new Error('unreachable');
  }
}
