import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { buildKnnGraph } from './graph.js';
import { matrix, normalizeRows } from './matrix.js';
import { OrtMath } from './ort-math.js';
import { projectLearnerMap } from './projection.js';

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
