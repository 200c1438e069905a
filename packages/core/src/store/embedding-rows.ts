/** @module Float32 rows of an embedding set, whatever precision it is held in (float16 is converted per block). */
import { float16ToFloat32 } from '../util/float16.js';
import type { EmbeddingSet } from './store.js';

/** Rows `start` .. `start + rows` of `set` as float32, row-major, written into `out` (a new array by default). */
export function embeddingRows(
  set: Pick<EmbeddingSet, 'dim' | 'vectors'>,
  start: number,
  rows: number,
  out: Float32Array = new Float32Array(rows * set.dim),
): Float32Array {
  const block = set.vectors.subarray(start * set.dim, (start + rows) * set.dim);
  if (block instanceof Uint16Array) return float16ToFloat32(block, out);
  out.set(block);
  return out;
}
