import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { buildKnnGraph } from './graph.js';
import { matrix, normalizeRows } from './matrix.js';
import { OrtMath } from './ort-math.js';
import { mapSample, MIN_STRATUM_SHARE, projectLearnerMap, stratifiedSample } from './projection.js';

const math = new OrtMath({ threads: 1 });
afterAll(() => math.close());

/** `perClass` unit vectors around each of `classes` well-separated directions. */
function clusters(classes: number, perClass: number, dim: number) {
  const random = seededRandom(3);
  const n = classes * perClass;
  const data = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    truth[i] = i % classes;
    for (let j = 0; j < dim; j++) data[i * dim + j] = (j % classes === truth[i] ? 3 : 0) + random() - 0.5;
  }
  return { features: normalizeRows(matrix(n, dim, data)), truth };
}

describe('the map at scale', () => {
  it('lays out a sample and places every other image beside its neighbours', async () => {
    const { features, truth } = clusters(3, 200, 12);
    const graph = await buildKnnGraph(math, features, 10);
    // A sample of 60 of 600 images, stratified by class: UMAP for those, neighbours for the rest.
    const xy = await projectLearnerMap({ math, features, graph, strata: truth }, { sample: 60 });
    expect(xy).toHaveLength(2 * 600);
    expect([...xy].every((v) => Number.isFinite(v) && Math.abs(v) <= 1.5)).toBe(true);
    // Each placed image lands nearer its own cluster's centre than any other's.
    const centres = [0, 1, 2].map((c) => {
      const rows = [...truth.keys()].filter((i) => truth[i] === c);
      return [0, 1].map((axis) => rows.reduce((sum, i) => sum + xy[2 * i + axis]!, 0) / rows.length);
    });
    let nearest = 0;
    for (let i = 0; i < 600; i++) {
      const distances = centres.map(([x, y]) => Math.hypot(xy[2 * i]! - x!, xy[2 * i + 1]! - y!));
      if (distances.indexOf(Math.min(...distances)) === truth[i]) nearest++;
    }
    expect(nearest / 600).toBeGreaterThan(0.95);
    // Not stacked: images with different neighbours get different places.
    expect(new Set([...xy].map((v) => v.toFixed(5))).size).toBeGreaterThan(1000);
  });
});

/** `sizes[c]` unit vectors around each class's own direction; the truth per row. */
function unevenClusters(sizes: readonly number[], dim: number) {
  const random = seededRandom(5);
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  let row = 0;
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++, row++) {
      truth[row] = c;
      for (let j = 0; j < dim; j++) data[row * dim + j] = (j % sizes.length === c ? 3 : 0) + random() - 0.5;
    }
  });
  return { features: normalizeRows(matrix(n, dim, data)), truth };
}

describe('the map sample', () => {
  // Four classes of 990 images and one of 40 (1%), a sample of 200: a uniform one holds about 2 of the 40.
  const sizes = [990, 990, 990, 990, 40];
  const RARE = 4;
  const rareIn = (rows: Int32Array, truth: Int32Array) => [...rows].filter((r) => truth[r] === RARE).length;

  it('gives a rare class its share by class, or by k-means cell where no class is known; a uniform draw does not', async () => {
    const { features, truth } = unevenClusters(sizes, 10);
    const graph = await buildKnnGraph(math, features, 10);
    const byClass = await mapSample({ math, features, graph, strata: truth }, 200, 1);
    expect(byClass).toHaveLength(200);
    expect(new Set(byClass).size).toBe(200);
    expect(rareIn(byClass, truth)).toBeGreaterThanOrEqual(MIN_STRATUM_SHARE);
    // Each big class its proportional part of what is left: (200 - 5 x 20) x 970/4,020 + 20, about 44.
    for (let c = 0; c < 4; c++) expect([...byClass].filter((r) => truth[r] === c).length).toBeGreaterThanOrEqual(40);
    const byCell = await mapSample({ math, features, graph }, 200, 1);
    expect(rareIn(byCell, truth)).toBeGreaterThanOrEqual(MIN_STRATUM_SHARE);
    // The same again: seeded cells and draws.
    expect(await mapSample({ math, features, graph }, 200, 1)).toEqual(byCell);
    const uniform = stratifiedSample(new Int32Array(truth.length), 200, 1);
    expect(rareIn(uniform, truth)).toBeLessThan(10);
  });

  it('lays the rare class out together, apart from the others', async () => {
    const { features, truth } = unevenClusters(sizes, 10);
    const graph = await buildKnnGraph(math, features, 10);
    const xy = await projectLearnerMap({ math, features, graph }, { sample: 200 });
    const centres = sizes.map((_, c) => {
      const rows = [...truth.keys()].filter((i) => truth[i] === c);
      return [0, 1].map((axis) => rows.reduce((sum, i) => sum + xy[2 * i + axis]!, 0) / rows.length);
    });
    const rare = [...truth.keys()].filter((i) => truth[i] === RARE);
    let home = 0;
    for (const i of rare) {
      const distances = centres.map(([x, y]) => Math.hypot(xy[2 * i]! - x!, xy[2 * i + 1]! - y!));
      if (distances.indexOf(Math.min(...distances)) === RARE) home++;
    }
    expect(home / rare.length).toBeGreaterThan(0.9);
  });
});
