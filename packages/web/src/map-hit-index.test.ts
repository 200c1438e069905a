// The embedding map's hover index (app/map-hit-index.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { HitIndex } from '../app/map-hit-index.js';

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The answer by a scan of every point: the nearest within the radius, or -1. */
function scan(index: HitIndex, x: number, y: number, radius: number): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < index.count; i++) {
    const d = (index.x[i]! - x) ** 2 + (index.y[i]! - y) ** 2;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

describe('HitIndex', () => {
  it('finds the image under the cursor, and none where no dot is near', () => {
    const index = new HitIndex([11, 22, 33], [-0.5, -0.5, 0.5, 0.5, 0.52, 0.5]);
    expect(index.ids[index.nearest(-0.49, -0.51, 0.05)]).toBe(11);
    // Of two dots within reach, the closer one.
    expect(index.ids[index.nearest(0.505, 0.5, 0.05)]).toBe(22);
    expect(index.ids[index.nearest(0.518, 0.5, 0.05)]).toBe(33);
    expect(index.nearest(0, 0, 0.05)).toBe(-1);
    expect(index.nearest(-0.5, -0.56, 0.05)).toBe(-1);
    expect(index.nearest(3, 3, 0.05)).toBe(-1);
  });

  it('agrees with a scan of every point, across bucket edges and at the borders', () => {
    const next = random(7);
    const count = 5000;
    const ids = Array.from({ length: count }, (_, i) => 1000 + i);
    const xy = Array.from({ length: 2 * count }, () => next() * 2 - 1);
    // A few on the square's edges and corners, where buckets clamp.
    xy.splice(0, 8, -1, -1, 1, 1, 1, -1, -1, 0.999);
    const index = new HitIndex(ids, xy);
    for (let q = 0; q < 2000; q++) {
      const x = next() * 2.2 - 1.1;
      const y = next() * 2.2 - 1.1;
      const radius = [0.002, 0.01, 0.03, 0.2][q % 4]!;
      expect(index.nearest(x, y, radius)).toBe(scan(index, x, y, radius));
    }
  });

  it('knows where each image is, and which images it does not have', () => {
    const index = new HitIndex([5, 9], [0.1, 0.2, -0.3, -0.4]);
    const i = index.pointOf(9)!;
    expect(index.x[i]).toBeCloseTo(-0.3);
    expect(index.y[i]).toBeCloseTo(-0.4);
    expect(index.pointOf(6)).toBeUndefined();
    expect(index.count).toBe(2);
  });

  it('copes with an empty map', () => {
    const index = new HitIndex([], []);
    expect(index.nearest(0, 0, 1)).toBe(-1);
  });
});
