import { describe, expect, it } from 'vitest';
import { parseSplit, partSizes, StratifiedSplitter } from './split.js';

describe('splits', () => {
  it('parse two or three fractions that sum to 1', () => {
    expect(parseSplit('0.8,0.1,0.1')).toEqual([0.8, 0.1, 0.1]);
    expect(parseSplit('0.7, 0.3')).toEqual([0.7, 0.3]);
    for (const bad of ['0.8,0.1', '1', '0.5,0.5,0,0', '-0.1,1.1', 'a,b']) {
      expect(() => parseSplit(bad)).toThrow(/split: .* must be 2 or 3 fractions .* sum to 1/);
    }
  });

  it('size parts by the largest remainder, so every image lands somewhere', () => {
    expect(partSizes(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(partSizes(7, [0.8, 0.1, 0.1])).toEqual([5, 1, 1]);
    expect(partSizes(1, [0.8, 0.1, 0.1])).toEqual([1, 0, 0]);
    expect(partSizes(0, [0.5, 0.5])).toEqual([0, 0]);
  });

  it('split each class exactly, at random, the same way for the same seed', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 'rare' : 'common'));
    const counts = new Map([
      ['common', 900],
      ['rare', 100],
    ]);
    const assign = (seed: number): number[] => {
      const splitter = new StratifiedSplitter(counts, [0.8, 0.1, 0.1], seed);
      return rows.map((label) => splitter.assign(label));
    };
    const parts = assign(7);
    const tally = (label: string) =>
      [0, 1, 2].map((p) => parts.filter((part, i) => part === p && rows[i] === label).length);
    expect(tally('common')).toEqual([720, 90, 90]);
    expect(tally('rare')).toEqual([80, 10, 10]);
    expect(assign(7)).toEqual(parts);
    expect(assign(8)).not.toEqual(parts);
    // Random, not in order: the val images of a class are spread over the whole list.
    const val = parts.flatMap((p, i) => (p === 1 ? [i] : []));
    expect(val[0]!).toBeLessThan(200);
    expect(val.at(-1)!).toBeGreaterThan(800);
  });
});
