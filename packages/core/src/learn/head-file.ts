/** @module The stored linear part of a fit (feature transform + head + class names): what export-model turns into ONNX. */
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import type { FeatureTransform } from './features.js';
import type { LinearHead } from './logistic.js';

export interface StoredHead {
  readonly classes: readonly string[];
  readonly transform: FeatureTransform;
  readonly head: LinearHead;
}

const HeaderSchema = z.object({
  format: z.literal('autolabel-head-v1'),
  classes: z.array(z.string()).min(2),
  power: z.number().positive(),
  dim: z.number().int().positive(),
  /** A PCA-reduced transform (features.ts): the embeddings' width; the projection follows the mean. */
  inputDim: z.number().int().positive().optional(),
});

export function encodeHead(stored: StoredHead): Uint8Array {
  const { head, transform } = stored;
  const projection = transform.projection?.components ?? new Float32Array(0);
  const inputDim = transform.projection ? transform.mean.length : undefined;
  const header = Buffer.from(
    JSON.stringify({
      format: 'autolabel-head-v1',
      classes: stored.classes,
      power: transform.power,
      dim: head.dim,
      inputDim,
    }),
  );
  const before = transform.mean.length + projection.length;
  const floats = new Float32Array(before + head.dim * head.classes + head.classes);
  floats.set(transform.mean, 0);
  floats.set(projection, transform.mean.length);
  floats.set(head.weights, before);
  floats.set(head.bias, before + head.dim * head.classes);
  const out = new Uint8Array(4 + header.length + floats.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(floats.buffer), 4 + header.length);
  return out;
}

export function decodeHead(bytes: Uint8Array): StoredHead {
  try {
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = HeaderSchema.parse(JSON.parse(Buffer.from(bytes.subarray(4, 4 + length)).toString('utf8')));
    const c = header.classes.length;
    const d = header.dim;
    const m = header.inputDim ?? d;
    const before = header.inputDim === undefined ? d : m + m * d;
    const floats = new Float32Array(Uint8Array.from(bytes.subarray(4 + length)).buffer);
    const expected = before + d * c + c;
    if (floats.length !== expected) throw new Error(`expected ${expected} values, found ${floats.length}`);
    const mean = floats.slice(0, m);
    return {
      classes: header.classes,
      transform:
        header.inputDim === undefined
          ? { power: header.power, mean }
          : { power: header.power, mean, projection: { dim: d, components: floats.slice(m, before) } },
      head: { dim: d, classes: c, weights: floats.slice(before, before + d * c), bias: floats.slice(before + d * c) },
    };
  } catch (error) {
    throw new AutolabelError('STORE_FAILED', `the stored model of this fit is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
