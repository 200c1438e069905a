import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRgb } from './decode.js';
import { tensorLut, writeTensor } from '../embed/tensor.js';
import { resizeBilinearRgb, resizeBilinearTensor } from './resize.js';

describe('resizeBilinearRgb', () => {
  it('interpolates between pixel centres and keeps the edges', () => {
    // One row, two pixels: black and white, doubled to four.
    const out = resizeBilinearRgb(Uint8Array.of(0, 0, 0, 200, 100, 40), 2, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40]);
  });

  it('is the identity at the same size', () => {
    const src = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 29) % 256);
    expect(Array.from(resizeBilinearRgb(src, 5, 3, 5, 3))).toEqual(Array.from(src));
  });
});

describe('resizeBilinearTensor', () => {
  it.each([false, true])(
    'writes exactly the bytes of resizeBilinearRgb, looked up (channels last: %s)',
    (channelsLast) => {
      const src = Uint8Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 53 + 11) % 256);
      const lut = tensorLut({ channelsLast, scale: [1 / 58, 1 / 57, 1 / 57.5], offset: [-2.1, -2.0, -1.8] });
      const want = new Float32Array(2 * 19 * 13 * 3);
      writeTensor(resizeBilinearRgb(src, 7, 5, 19, 13), 1, 19 * 13, lut, channelsLast, want, 1);
      const got = new Float32Array(want.length);
      resizeBilinearTensor(src, 7, 5, 19, 13, lut, channelsLast, got, 1);
      expect(Array.from(got)).toEqual(Array.from(want));
    },
  );
});

describe('decodeRgb of images smaller than the model input', () => {
  it('upscales in JavaScript to within a few levels of libvips', async () => {
    const input = { width: 96, height: 80, fit: 'fill', kernel: 'linear' } as const;
    // A smooth image (gradients plus a soft blob), as photos mostly are.
    const raw = new Uint8Array(24 * 20 * 3);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 24; x++) {
        const blob = 120 * Math.exp(-((x - 12) ** 2 + (y - 8) ** 2) / 30);
        raw.set([x * 10, y * 12, 60 + blob], (y * 24 + x) * 3);
      }
    }
    const data = await sharp(raw, { raw: { width: 24, height: 20, channels: 3 } })
      .png()
      .toBuffer();
    const viaJs = await decodeRgb(data, input, { maxPixels: 1e8 }, { width: 24, height: 20 });
    const viaSharp = await decodeRgb(data, input, { maxPixels: 1e8 });
    expect(viaJs.length).toBe(96 * 80 * 3);
    let total = 0;
    for (let i = 0; i < viaJs.length; i++) total += Math.abs(viaJs[i]! - viaSharp[i]!);
    expect(total / viaJs.length).toBeLessThan(2);
  });

  it('falls back to sharp when the recorded size is stale', async () => {
    const input = { width: 32, height: 32, fit: 'fill', kernel: 'linear' } as const;
    const data = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const pixels = await decodeRgb(data, input, { maxPixels: 1e8 }, { width: 10, height: 10 });
    expect(pixels.length).toBe(32 * 32 * 3);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([255, 0, 0]);
  });
});
