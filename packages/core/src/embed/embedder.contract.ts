/** @module The contract every Embedder backend must keep; each backend's test file runs it. */
import { describe, expect, it } from 'vitest';
import { encodeImage } from '@autolabel/test-utils';
import { decodeRgb } from '../image/decode.js';
import type { Embedder } from './embedder.js';

async function pixelsFor(
  embedder: Embedder,
  colors: readonly (readonly [number, number, number])[],
): Promise<Uint8Array> {
  const size = embedder.input.width * embedder.input.height * 3;
  const out = new Uint8Array(colors.length * size);
  for (let i = 0; i < colors.length; i++) {
    const image = await encodeImage('png', { color: colors[i]!, pattern: 'checker', noise: 20, seed: i + 1 });
    out.set(await decodeRgb(image, embedder.input, { maxPixels: 1e8 }), i * size);
  }
  return out;
}

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
};

export function embedderContract(name: string, load: () => Promise<Embedder>): void {
  describe(`Embedder contract: ${name}`, () => {
    it('embeds a batch: dim values per image, finite, batch equals one by one, distinct images differ', async () => {
      const embedder = await load();
      try {
        expect(embedder.dim).toBeGreaterThan(0);
        expect(embedder.modelId).toMatch(/\S/);
        const colors = [
          [220, 30, 30],
          [30, 30, 220],
          [30, 200, 30],
        ] as const;
        const pixels = await pixelsFor(embedder, colors);
        const batch = await embedder.embed(pixels, 3);
        expect(batch.length).toBe(3 * embedder.dim);
        expect(batch.every(Number.isFinite)).toBe(true);
        const size = embedder.input.width * embedder.input.height * 3;
        for (let i = 0; i < 3; i++) {
          const single = await embedder.embed(pixels.slice(i * size, (i + 1) * size), 1);
          const row = batch.subarray(i * embedder.dim, (i + 1) * embedder.dim);
          expect(cosine(single, row)).toBeGreaterThan(0.9999);
        }
        const first = batch.subarray(0, embedder.dim);
        const second = batch.subarray(embedder.dim, 2 * embedder.dim);
        expect(cosine(first, second)).toBeLessThan(0.9999);
      } finally {
        await embedder.close();
      }
    });

    it('is deterministic across loads: the same id and the same vectors', async () => {
      const a = await load();
      const b = await load();
      try {
        expect(a.modelId).toBe(b.modelId);
        const pixels = await pixelsFor(a, [[120, 90, 200]]);
        const va = await a.embed(pixels, 1);
        const vb = await b.embed(pixels, 1);
        expect(cosine(va, vb)).toBeGreaterThan(0.99999);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
