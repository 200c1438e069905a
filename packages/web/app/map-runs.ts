/**
 * @module Which colour and size each dot of the embedding map is drawn in, and in what order: grey for
 * images with neither label nor suggestion first, then suggestions in their class's colour, then the
 * labels people gave (or accepted), larger and on top. Pure; the map view draws the runs and the legend.
 */
import { hasLabel, IMAGE_STATUSES } from '@autolabel/core/domain';
import { classColor, type ClassColors, UNLABELED } from './class-colors.js';
import type { PointClasses } from './map-classes.js';

/** Points of one colour and size, drawn in one run. */
export interface Run {
  readonly color: string;
  /** Side in CSS pixels. */
  readonly size: number;
  readonly points: Int32Array;
}

export interface Coloring {
  /** In drawing order: later runs cover earlier ones. */
  readonly runs: readonly Run[];
  /** Dots per class, by the class's position in `ClassColors`. */
  readonly counts: ReadonlyMap<number, number>;
  /** Dots with neither a label nor a suggestion (or whose class has not arrived). */
  readonly unlabeled: number;
}

/** Dots shrink as their number grows: big enough to see a few dozen, small enough not to hide 50,000. */
export function dotSize(count: number): number {
  return count > 20_000 ? 3 : count > 2_000 ? 4 : 6;
}

/**
 * The runs for every point, given its class and status. One counting sort over (labelled or not,
 * colour): two passes over the points, a million of them in milliseconds.
 */
export function colorRuns(classes: PointClasses, colors: ClassColors): Coloring {
  const count = classes.count;
  // Each class name's colour position, once per class instead of once per point.
  const colorOf = Int32Array.from(classes.names, (name) => colors.indexOf(name));
  const colorsUsed = colorOf.reduce((n, c) => Math.max(n, c + 1), 0);
  const labeled = Uint8Array.from(IMAGE_STATUSES, (status) => (hasLabel(status) ? 1 : 0));
  // Bucket 0: grey; 1 + c: suggestions of colour c; 1 + colorsUsed + c: labels of colour c.
  const bucketOf = (i: number): number => {
    const c = classes.classOf[i]!;
    return c === 0 ? 0 : 1 + colorOf[c - 1]! + (labeled[classes.status[i]!] ? colorsUsed : 0);
  };
  const start = new Int32Array(2 + 2 * colorsUsed);
  for (let i = 0; i < count; i++) start[bucketOf(i) + 1]!++;
  for (let b = 1; b < start.length; b++) start[b]! += start[b - 1]!;
  const order = new Int32Array(count);
  const fill = start.slice(0, -1);
  for (let i = 0; i < count; i++) order[fill[bucketOf(i)]!++] = i;
  const points = (b: number) => order.subarray(start[b]!, start[b + 1]!);
  const counts = new Map<number, number>();
  const dot = dotSize(count);
  const runs: Run[] = [{ color: UNLABELED, size: dot, points: points(0) }];
  const suggestedRuns: Run[] = [];
  const labeledRuns: Run[] = [];
  for (let c = 0; c < colorsUsed; c++) {
    const suggested = points(1 + c);
    const byPerson = points(1 + colorsUsed + c);
    if (suggested.length + byPerson.length > 0) counts.set(c, suggested.length + byPerson.length);
    if (suggested.length > 0) suggestedRuns.push({ color: classColor(c), size: dot, points: suggested });
    if (byPerson.length > 0) labeledRuns.push({ color: classColor(c), size: dot + 3, points: byPerson });
  }
  runs.push(...suggestedRuns, ...labeledRuns);
  return { runs, counts, unlabeled: runs[0]!.points.length };
}
