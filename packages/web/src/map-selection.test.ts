// Lasso and box selection on the embedding map (app/map-selection.ts, HitIndex.inRect), here because
// tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { HitIndex } from '../app/map-hit-index.js';
import {
  extendPath,
  insidePolygon,
  MapSelection,
  pointsInBox,
  pointsInPolygon,
  polygonBounds,
} from '../app/map-selection.js';

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` points spread over a little more than [-1, 1]² (a layout may overshoot), ids from 100. */
function scatter(count: number, seed: number): HitIndex {
  const next = random(seed);
  const ids = Array.from({ length: count }, (_, i) => 100 + i);
  const xy = Array.from({ length: 2 * count }, () => next() * 2.2 - 1.1);
  return new HitIndex(ids, xy);
}

/** An L shape (concave): the square [0, 2]² without its top-right quarter. */
const L_SHAPE = [0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2];

describe('insidePolygon', () => {
  it('tells inside from outside, in the hollow of a concave lasso too', () => {
    expect(insidePolygon(0.5, 0.5, L_SHAPE)).toBe(true);
    expect(insidePolygon(1.5, 0.5, L_SHAPE)).toBe(true);
    expect(insidePolygon(0.5, 1.5, L_SHAPE)).toBe(true);
    expect(insidePolygon(1.5, 1.5, L_SHAPE)).toBe(false); // the missing quarter
    expect(insidePolygon(-0.1, 0.5, L_SHAPE)).toBe(false);
    expect(insidePolygon(2.5, 0.5, L_SHAPE)).toBe(false);
  });

  it('follows the even-odd rule where a lasso crosses itself (a figure eight)', () => {
    // Two triangles meeting at (1, 1): inside each lobe, outside between them.
    const eight = [0, 0, 2, 2, 2, 0, 0, 2];
    expect(insidePolygon(0.3, 1, eight)).toBe(true);
    expect(insidePolygon(1.7, 1, eight)).toBe(true);
    expect(insidePolygon(1, 0.3, eight)).toBe(false);
    expect(insidePolygon(1, 1.7, eight)).toBe(false);
  });

  it('holds nothing with fewer than three vertices', () => {
    expect(insidePolygon(0, 0, [])).toBe(false);
    expect(insidePolygon(0.5, 0, [0, 0, 1, 0])).toBe(false);
  });

  it('bounds a polygon', () => {
    expect(polygonBounds(L_SHAPE)).toEqual([0, 0, 2, 2]);
  });
});

describe('pointsInPolygon and pointsInBox', () => {
  const index = scatter(5000, 7);
  const scanInside = (test: (x: number, y: number) => boolean) =>
    Array.from({ length: index.count }, (_, i) => i).filter((i) => test(index.x[i]!, index.y[i]!));

  it('finds exactly the points a scan of every point finds, for a concave lasso', () => {
    const lasso = [-0.9, -0.8, 0.7, -0.9, 0.2, 0.1, 0.8, 0.6, -0.5, 0.9, -0.2, 0.0];
    const found = [...pointsInPolygon(index, lasso)];
    expect(found.length).toBeGreaterThan(300);
    expect(found).toEqual(scanInside((x, y) => insidePolygon(x, y, lasso)));
  });

  it('finds points past the data square when the lasso reaches there', () => {
    const lasso = [0.95, 0.95, 1.2, 0.95, 1.2, 1.2, 0.95, 1.2];
    const found = [...pointsInPolygon(index, lasso)];
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(scanInside((x, y) => x > 0.95 && x < 1.2 && y > 0.95 && y < 1.2));
  });

  it('finds nothing in a lasso of two vertices or far from every point', () => {
    expect(pointsInPolygon(index, [0, 0, 0.5, 0.5])).toHaveLength(0);
    expect(pointsInPolygon(index, [5, 5, 6, 5, 6, 6])).toHaveLength(0);
  });

  it('finds the points of a box drawn from any corner, edges included', () => {
    const expected = scanInside((x, y) => x >= -0.3 && x <= 0.45 && y >= -0.6 && y <= 0.1);
    expect([...pointsInBox(index, -0.3, 0.1, 0.45, -0.6)]).toEqual(expected);
    expect([...pointsInBox(index, 0.45, -0.6, -0.3, 0.1)]).toEqual(expected);
    const edge = new HitIndex([1, 2, 3], [0, 0, 0.5, 0.5, 0.51, 0.5]);
    expect([...pointsInBox(edge, 0, 0, 0.5, 0.5)]).toEqual([0, 1]);
  });
});

describe('extendPath', () => {
  it('drops vertices closer than the step to the last one', () => {
    const path = [0, 0];
    expect(extendPath(path, 1, 1)).toBe(false);
    expect(extendPath(path, 3, 0)).toBe(true);
    expect(extendPath(path, 4, 0)).toBe(false);
    expect(extendPath(path, 6, 0)).toBe(true);
    expect(path).toEqual([0, 0, 3, 0, 6, 0]);
  });
});

describe('MapSelection', () => {
  const index = new HitIndex([10, 20, 30, 40], [0, 0, 0.1, 0, 0.5, 0.5, -0.5, -0.5]);

  it('keeps image ids: replaced by a lasso, added to with Ctrl, toggled by Shift-click, cleared', () => {
    const selection = new MapSelection();
    selection.choose(index, Int32Array.from([0, 1]), false);
    expect(selection.ids().sort()).toEqual([10, 20]);
    selection.choose(index, [2], false);
    expect(selection.ids()).toEqual([30]);
    selection.choose(index, [3], true);
    expect(selection.ids().sort()).toEqual([30, 40]);
    selection.toggle(30);
    selection.toggle(10);
    expect(selection.ids().sort()).toEqual([10, 40]);
    expect(selection.has(40)).toBe(true);
    expect([...selection.mask(index)]).toEqual([1, 0, 0, 1]);
    selection.clear();
    expect(selection.size).toBe(0);
  });

  it('masks by id, so a reloaded map with other point order shows the same images selected', () => {
    const selection = new MapSelection();
    selection.choose(index, [0, 2], false);
    const reloaded = new HitIndex([30, 99, 10], [0.5, 0.5, 0, 0, 0, 0]);
    expect([...selection.mask(reloaded)]).toEqual([1, 0, 1]);
  });
});
