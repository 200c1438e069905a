/**
 * @module Which colour and size each dot of the embedding map is drawn in, and in what order: grey for
 * images with neither label nor suggestion first, then suggestions in their class's colour, then the
 * labels people gave (or accepted), larger and on top. Pure; the map view draws the runs and the legend.
 */
import type { ImageItem } from '@autolabel/core';
import { hasLabel } from '@autolabel/core/domain';
import { classColor, type ClassColors, UNLABELED } from './class-colors.js';

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
  /** Dots with neither a label nor a suggestion (or whose row has not arrived). */
  readonly unlabeled: number;
}

/** Dots shrink as their number grows: big enough to see a few dozen, small enough not to hide 50,000. */
export function dotSize(count: number): number {
  return count > 20_000 ? 3 : count > 2_000 ? 4 : 6;
}

/** The runs for points `ids` (point i is image ids[i]), given each image's row where it has arrived. */
export function colorRuns(
  ids: Int32Array,
  itemOf: (id: number) => Pick<ImageItem, 'label' | 'status'> | undefined,
  colors: ClassColors,
): Coloring {
  const grey: number[] = [];
  const suggested = new Map<number, number[]>();
  const labeled = new Map<number, number[]>();
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) {
    const item = itemOf(ids[i]!);
    if (!item?.label) {
      grey.push(i);
      continue;
    }
    const cls = colors.indexOf(item.label);
    counts.set(cls, (counts.get(cls) ?? 0) + 1);
    const byPerson = hasLabel(item.status);
    const group = byPerson ? labeled : suggested;
    let list = group.get(cls);
    if (!list) group.set(cls, (list = []));
    list.push(i);
  }
  const dot = dotSize(ids.length);
  const runs: Run[] = [{ color: UNLABELED, size: dot, points: Int32Array.from(grey) }];
  for (const [cls, list] of suggested) runs.push({ color: classColor(cls), size: dot, points: Int32Array.from(list) });
  for (const [cls, list] of labeled)
    runs.push({ color: classColor(cls), size: dot + 3, points: Int32Array.from(list) });
  return { runs, counts, unlabeled: grey.length };
}
