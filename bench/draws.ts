/** @module The label draw every learning benchmark shares, so their figures come from the same labels. */
import { seededRandom } from '@autolabel/core';

/**
 * bench:learn's draw: `perClass` labelled rows of each class, uniformly at random, seeded by `seed`
 * and `perClass`; -1 for the rest.
 */
export function drawLabels(truth: Int32Array, classes: number, perClass: number, seed: number): Int32Array {
  const random = seededRandom(seed * 7919 + perClass);
  const seeds = new Int32Array(truth.length).fill(-1);
  for (let c = 0; c < classes; c++) {
    const rows = [...truth.keys()].filter((i) => truth[i] === c);
    for (let t = 0; t < perClass && t < rows.length; t++) {
      const j = t + Math.floor(random() * (rows.length - t));
      [rows[t], rows[j]] = [rows[j]!, rows[t]!];
      seeds[rows[t]!] = c;
    }
  }
  return seeds;
}
