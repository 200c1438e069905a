import { describe, expect, it } from 'vitest';
import { tensorLut, TensorWriter } from './tensor.js';

describe('TensorWriter', () => {
  const format = { scale: [1 / 255, 2 / 255, 0.5], offset: [-0.5, 0, 1] };
  // Two 2x1 images: pixel values 10*image + 3*pixel + channel.
  const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => 10 * Math.floor(i / 6) + i);
  const value = (n: number, p: number, c: number): number =>
    Math.fround(pixels[n * 6 + p * 3 + c]! * format.scale[c]! + format.offset[c]!);

  it('writes NCHW planes per image, at the given image of the batch', () => {
    const out = new Float32Array(3 * 2 * 3);
    new TensorWriter({ channelsLast: false, ...format }).write(pixels, 2, 2, out, 1);
    expect(Array.from(out.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) for (let p = 0; p < 2; p++) expect(out[(n + 1) * 6 + c * 2 + p]).toBe(value(n, p, c));
  });

  it('keeps HWC order for a channels-last model', () => {
    const out = new Float32Array(2 * 2 * 3);
    new TensorWriter({ channelsLast: true, ...format }).write(pixels, 2, 2, out);
    for (let n = 0; n < 2; n++)
      for (let p = 0; p < 2; p++) for (let c = 0; c < 3; c++) expect(out[n * 6 + p * 3 + c]).toBe(value(n, p, c));
  });

  // ImageNet's normalisation, whose floats a single-precision multiply-add would miss by an ulp here and there.
  const imagenet = {
    scale: [1 / 58.395, 1 / 57.12, 1 / 57.375],
    offset: [-123.675 / 58.395, -116.28 / 57.12, -103.53 / 57.375],
  };

  it.each([false, true])(
    'gives every byte of every channel the float of its table, touching nothing else (channels last: %s)',
    (channelsLast) => {
      const writer = new TensorWriter({ channelsLast, ...imagenet });
      const lut = tensorLut({ channelsLast, ...imagenet });
      // 3 images of 331 pixels (no multiple of the kernels' 16 and 48): every byte value in each channel.
      const plane = 331;
      const images = 3;
      const bytes = Uint8Array.from(
        { length: images * plane * 3 },
        (_, i) => (Math.floor(i / 3) * 5 + 85 * (i % 3)) % 256,
      );
      const out = new Float32Array((images + 2) * plane * 3).fill(Number.NaN);
      writer.write(bytes, images, plane, out, 1);
      const want = new Float32Array(out.length).fill(Number.NaN);
      for (let n = 0; n < images; n++)
        for (let p = 0; p < plane; p++)
          for (let c = 0; c < 3; c++) {
            const at = (n + 1) * plane * 3 + (channelsLast ? p * 3 + c : c * plane + p);
            want[at] = lut[c * 256 + bytes[(n * plane + p) * 3 + c]!]!;
          }
      expect(Array.from(out)).toEqual(Array.from(want));
      const seen = new Set(Array.from(bytes.subarray(0, plane * 3), (v, i) => `${i % 3}:${v}`));
      expect(seen.size).toBe(3 * 256);
    },
  );
});
