import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeImage, seededRandom } from '@autolabel/test-utils';
import { duplicateGroups } from './duplicates.js';
import { findLabelErrors } from './label-errors.js';
import { isolatedGroupRatios, outlierRatios } from './outliers.js';
import { hammingAt, hashWords, perceptualHashOf } from './phash.js';

const bits = (a: string, b: string): number => hammingAt(Uint32Array.from([...hashWords(a), ...hashWords(b)]), 0, 1);

describe('perceptual hash', () => {
  it('moves a few bits for a resize or a re-encode, many more for another picture', async () => {
    const original = await encodeImage('png', { width: 160, height: 120, pattern: 'checker', noise: 60, seed: 1 });
    const other = await encodeImage('png', {
      width: 160,
      height: 120,
      pattern: 'stripes',
      color: [40, 90, 200],
      noise: 60,
      seed: 2,
    });
    const hash = await perceptualHashOf(original, 1e8);
    expect(
      bits(hash, await perceptualHashOf(await sharp(original).resize(96, 72).png().toBuffer(), 1e8)),
    ).toBeLessThanOrEqual(10);
    expect(
      bits(hash, await perceptualHashOf(await sharp(original).jpeg({ quality: 40 }).toBuffer(), 1e8)),
    ).toBeLessThanOrEqual(10);
    expect(bits(hash, await perceptualHashOf(other, 1e8))).toBeGreaterThan(16);
  });
});

/** Exact k-NN (cosine) of unit rows, nearest first: what the learner's graph holds. */
function knn(points: Float32Array[], k: number): { neighbours: Int32Array; similarities: Float32Array } {
  const n = points.length;
  const neighbours = new Int32Array(n * k);
  const similarities = new Float32Array(n * k);
  points.forEach((a, i) => {
    const sims = points.map((b, j) => ({ j, s: j === i ? -Infinity : a.reduce((t, x, d) => t + x * b[d]!, 0) }));
    sims.sort((x, y) => y.s - x.s);
    sims.slice(0, k).forEach(({ j, s }, r) => {
      neighbours[i * k + r] = j;
      similarities[i * k + r] = s;
    });
  });
  return { neighbours, similarities };
}

function unit(v: number[]): Float32Array {
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / norm);
}

describe('outliers', () => {
  it('a point far from its cluster, and a small group that keeps to itself, stand out', () => {
    const random = seededRandom(5);
    const around = (centre: number[], spread: number) => unit(centre.map((x) => x + spread * (random() - 0.5)));
    const points = [
      ...Array.from({ length: 200 }, () => around([1, 0, 0, 0, 0, 0], 1.2)),
      ...Array.from({ length: 200 }, () => around([0, 1, 0, 0, 0, 0], 1.2)),
      // A tight group of strays, each other's nearest neighbours.
      ...Array.from({ length: 20 }, () => around([0, 0, 0, 0, 1, 0], 0.2)),
      unit([0, 0, 1, 1, 0, 0]),
    ];
    const k = 10;
    const graph = { rows: points.length, k, ...knn(points, k) };
    // Clusters as k-means would cut them: each blob in pieces, the strays in one.
    const assignment = Int32Array.from(points, (p, i) =>
      i < 200 ? (p[1]! > 0 ? 0 : 1) + (p[2]! > 0 ? 2 : 0) : i < 400 ? 4 + (p[0]! > 0 ? 1 : 0) + (p[2]! > 0 ? 2 : 0) : 8,
    );
    const group = isolatedGroupRatios({ ...graph, clusters: { count: 9, assignment } });
    expect(Math.min(...group.slice(400, 420))).toBeGreaterThan(2);
    expect(Math.max(...group.slice(0, 400))).toBe(1);
    const ratios = outlierRatios({ ...graph, clusters: { count: 9, assignment } });
    const order = [...ratios.keys()].sort((a, b) => ratios[b]! - ratios[a]!);
    expect(new Set(order.slice(0, 21))).toEqual(new Set([...Array.from({ length: 20 }, (_, i) => 400 + i), 420]));
    // Without the clusters the group hides: its members are dense.
    const density = outlierRatios(graph);
    expect(density[420]).toBeGreaterThan(1.5);
    expect(Math.max(...density.slice(400, 420))).toBeLessThan(Math.max(...density.slice(0, 400)));
  });
});

describe('duplicate groups', () => {
  it('joins identical content, near hashes and similar neighbours whose hashes agree, and nothing else', () => {
    // Rows: 0-1 one content; 2-3 hashes 3 bits apart; 4-5 neighbours at cosine 0.9, hashes 16 bits apart;
    // 6-7 neighbours at cosine 0.99 whose hashes differ in 32 bits (two pictures a model sees alike).
    const hashes = [
      '0000000000000000',
      '0000000000000000',
      'ffff0000ffff0000',
      'ffff0000ffff0007',
      'f0f0f0f0f0f0f0f0',
      'f0f00f0ff0f0f0f0',
      '00000000ffffffff',
      'ffffffff00000000',
    ];
    const words = new Uint32Array(hashes.flatMap(hashWords));
    const k = 1;
    const neighbours = Int32Array.from([1, 0, 3, 2, 5, 4, 7, 6]);
    const similarities = Float32Array.from([1, 1, 0.5, 0.5, 0.9, 0.9, 0.99, 0.99]);
    const groups = duplicateGroups({
      rows: 8,
      contentKeys: Int32Array.from([0, 0, 1, 2, 3, 4, 5, 6]),
      hashWords: words,
      hasHash: new Uint8Array(8).fill(1),
      neighbours,
      similarities,
      k,
    });
    expect(groups.map((g) => g.rows)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(groups[0]).toMatchObject({ exact: true, similarity: 1 });
    expect(groups[1]!.exact).toBe(false);
  });
});

describe('label errors', () => {
  it('flags a label the model and the neighbours both contradict, not one the model is unsure of', () => {
    // Three classes; row 0 given class 0 but confidently class 1; row 1 given 0, the model unsure.
    const rows: number[][] = [
      [0.02, 0.95, 0.03],
      [0.4, 0.35, 0.25],
    ];
    const given = [0, 0];
    for (let i = 0; i < 30; i++) {
      const c = i % 3;
      rows.push([0, 1, 2].map((j) => (j === c ? 0.9 : 0.05)));
      given.push(c);
    }
    const votes = rows.map((_, r) => [0, 1, 2].map((j) => (r === 0 ? (j === 1 ? 1 : 0) : j === given[r] ? 1 : 0)));
    const found = findLabelErrors({
      classes: 3,
      probabilities: Float32Array.from(rows.flat()),
      given: Int32Array.from(given),
      neighbourVotes: Float32Array.from(votes.flat()),
    });
    expect(found.map((f) => f.index)).toEqual([0]);
    expect(found[0]).toMatchObject({ likely: 1 });
    expect(found[0]!.score).toBeGreaterThan(0.9);
  });
});
