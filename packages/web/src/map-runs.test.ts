// The embedding map's dot colours and sizes (app/map-runs.ts), here because tests are collected from packages/*/src.
import type { ImageStatus } from '@autolabel/core';
import { describe, expect, it } from 'vitest';
import { classColor, ClassColors, UNLABELED } from '../app/class-colors.js';
import { PointClasses } from '../app/map-classes.js';
import { colorRuns, dotSize } from '../app/map-runs.js';

describe('map dots', () => {
  const points: readonly (readonly [string | null, ImageStatus])[] = [
    ['dog', 'suggested'],
    ['cat', 'labeled'],
    [null, 'unlabeled'],
    ['dog', 'accepted'],
    ['cat', 'auto'],
  ];
  // Point 5: its class has not arrived yet.
  const classes = PointClasses.unknown(points.length + 1);
  points.forEach(([label, status], i) => classes.set(i, label, status));
  const { runs, counts, unlabeled } = colorRuns(classes, new ClassColors(() => ['cat', 'dog']));
  /** The run drawing point i (the last one, which is on top). */
  const runOf = (i: number) => runs.findLast((run) => run.points.includes(i))!;

  it('draws images with no label or suggestion grey, and first, under the rest', () => {
    expect(runs[0]!.color).toBe(UNLABELED);
    expect([...runs[0]!.points]).toEqual([2, 5]);
    expect(unlabeled).toBe(2);
  });

  it('colours each dot by its class, suggestion or label alike', () => {
    expect(runOf(0).color).toBe(classColor(1));
    expect(runOf(3).color).toBe(classColor(1));
    expect(runOf(1).color).toBe(classColor(0));
    expect(runOf(4).color).toBe(classColor(0));
  });

  it('draws the labels people gave or accepted larger, and on top of every suggestion', () => {
    expect(runOf(1).size).toBeGreaterThan(runOf(4).size);
    expect(runOf(3).size).toBeGreaterThan(runOf(0).size);
    const lastSuggestion = Math.max(runs.indexOf(runOf(0)), runs.indexOf(runOf(4)));
    expect(runs.indexOf(runOf(1))).toBeGreaterThan(lastSuggestion);
    expect(runs.indexOf(runOf(3))).toBeGreaterThan(lastSuggestion);
    // Each point drawn once.
    expect(runs.reduce((n, run) => n + run.points.length, 0)).toBe(classes.count);
  });

  it('counts the dots of each class for the legend', () => {
    expect(counts.get(0)).toBe(2);
    expect(counts.get(1)).toBe(2);
  });

  it('shrinks the dots as there are more of them', () => {
    expect(dotSize(100)).toBeGreaterThan(dotSize(10_000));
    expect(dotSize(10_000)).toBeGreaterThan(dotSize(50_000));
    expect(dotSize(50_000)).toBeGreaterThanOrEqual(3);
  });
});
