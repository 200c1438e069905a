import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../util/random.js';
import { matrix, normalizeRows } from './matrix.js';
import { OrtMath } from './ort-math.js';
import { SharedMemoryMath } from './shared-math.js';

const plain = new OrtMath({ threads: 1 });
const shared = new SharedMemoryMath({ threads: 1 });
afterAll(async () => {
  await plain.close();
  await shared.close();
});

describe('matrices in shared memory', () => {
  // More rows than a block (8,192), so blocks and the merge of their top k are exercised.
  const random = seededRandom(5);
  const rows = 9000;
  const dim = 8;
  const values = normalizeRows(
    matrix(
      rows,
      dim,
      Float32Array.from({ length: rows * dim }, () => random() - 0.5),
    ),
  );
  const inShared = new Float32Array(new SharedArrayBuffer(values.data.byteLength));
  inShared.set(values.data);
  const sharedMatrix = matrix(rows, dim, inShared);

  it('finds the nearest neighbours onnxruntime finds on an ordinary copy', async () => {
    const expected = await plain.topK(values, values, 5);
    const found = await shared.topK(sharedMatrix, sharedMatrix, 5);
    expect(found.k).toBe(5);
    expect(found.scores.every((s, i) => Math.abs(s - expected.scores[i]!) < 1e-5)).toBe(true);
    // Neighbours agree but where two are equally near.
    const same = found.indices.filter((index, i) => index === expected.indices[i]).length;
    expect(same / found.indices.length).toBeGreaterThan(0.999);
  });

  it('multiplies as onnxruntime does', async () => {
    const b = matrix(
      dim,
      3,
      Float32Array.from({ length: dim * 3 }, () => random()),
    );
    const expected = await plain.gemm(values, b);
    const product = await shared.gemm(sharedMatrix, b);
    expect([product.rows, product.cols]).toEqual([rows, 3]);
    expect(product.data.every((v, i) => Math.abs(v - expected.data[i]!) < 1e-5)).toBe(true);
  });
});
