import { describe, expect, it } from 'vitest';
import { tensorLut, writeTensor } from './tensor.js';

describe('writeTensor', () => {
  const format = { scale: [1 / 255, 2 / 255, 0.5], offset: [-0.5, 0, 1] };
  // Two 2x1 images: pixel values 10*image + 3*pixel + channel.
  const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => 10 * Math.floor(i / 6) + i);
  const value = (n: number, p: number, c: number): number =>
    Math.fround(pixels[n * 6 + p * 3 + c]! * format.scale[c]! + format.offset[c]!);

  it('writes NCHW planes per image, at the given image of the batch', () => {
    const out = new Float32Array(3 * 2 * 3);
    writeTensor(pixels, 2, 2, tensorLut({ channelsLast: false, ...format }), false, out, 1);
    expect(Array.from(out.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) for (let p = 0; p < 2; p++) expect(out[(n + 1) * 6 + c * 2 + p]).toBe(value(n, p, c));
  });

  it('keeps HWC order for a channels-last model', () => {
    const out = new Float32Array(2 * 2 * 3);
    writeTensor(pixels, 2, 2, tensorLut({ channelsLast: true, ...format }), true, out);
    for (let n = 0; n < 2; n++)
      for (let p = 0; p < 2; p++) for (let c = 0; c < 3; c++) expect(out[n * 6 + p * 3 + c]).toBe(value(n, p, c));
  });
});
