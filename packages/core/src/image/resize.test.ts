import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRgb } from './decode.js';
import { TensorWriter } from './tensor.js';
import type { ImageInputSpec } from '../domain/index.js';
import {
  resizeBilinearRgb,
  resizeBilinearScalar,
  resizeBilinearTensor,
  resizeLinearRgb,
  resizeLinearTensor,
  resizesLinearInJs,
} from './resize.js';

describe('resizeBilinearRgb', () => {
  it('interpolates between pixel centres and keeps the edges', () => {
    // One row, two pixels: black and white, doubled to four.
    const out = resizeBilinearRgb(Uint8Array.of(0, 0, 0, 200, 100, 40), 2, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40]);
  });

  it.each([
    [32, 32, 224, 224],
    [7, 5, 19, 13],
    [1, 1, 3, 2],
    [100, 37, 101, 300],
  ])('gives the bytes of its JavaScript loop in WebAssembly (%i x %i to %i x %i)', (sw, sh, dw, dh) => {
    const src = Uint8Array.from({ length: sw * sh * 3 }, (_, i) => (i * 89 + (i >> 5) * 13) % 256);
    expect(Buffer.from(resizeBilinearRgb(src, sw, sh, dw, dh)).equals(resizeBilinearScalar(src, sw, sh, dw, dh))).toBe(
      true,
    );
  });

  it('is the identity at the same size', () => {
    const src = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 29) % 256);
    expect(Array.from(resizeBilinearRgb(src, 5, 3, 5, 3))).toEqual(Array.from(src));
  });
});

describe('resizing into a tensor', () => {
  const resizes = {
    'bilinear up': { rgb: resizeBilinearRgb, tensor: resizeBilinearTensor, from: [7, 5], to: [19, 13] },
    'linear down': { rgb: resizeLinearRgb, tensor: resizeLinearTensor, from: [61, 47], to: [40, 30] },
  } as const;
  it.each(Object.keys(resizes).flatMap((name) => [false, true].map((channelsLast) => [name, channelsLast] as const)))(
    'writes exactly the bytes of the %s resize (channels last: %s)',
    (name, channelsLast) => {
      const { rgb, tensor, from, to } = resizes[name as keyof typeof resizes];
      const [sw, sh] = from;
      const [dw, dh] = to;
      const src = generated(sw, sh, 30);
      const writer = new TensorWriter({ channelsLast, scale: [1 / 58, 1 / 57, 1 / 57.5], offset: [-2.1, -2.0, -1.8] });
      const want = new Float32Array(2 * dw * dh * 3);
      writer.write(rgb(src, sw, sh, dw, dh), 1, dw * dh, want, 1);
      const got = new Float32Array(want.length);
      tensor(src, sw, sh, dw, dh, writer, got, 1);
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

/** A generated photo-like image: gradients, a soft blob and `noise` levels of deterministic noise. */
function generated(width: number, height: number, noise: number): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const jitter = ((seed >>> 16) % (2 * noise + 1)) - noise;
      const blob = 140 * Math.exp(-((x - width / 3) ** 2 + (y - height / 2) ** 2) / (width * 4));
      const at = (y * width + x) * 3;
      pixels[at] = Math.min(255, Math.max(0, (x * 255) / width + jitter));
      pixels[at + 1] = Math.min(255, Math.max(0, (y * 255) / height - jitter));
      pixels[at + 2] = Math.min(255, Math.max(0, 60 + blob + jitter));
    }
  }
  return pixels;
}

/** Largest and mean absolute difference between two images of bytes. */
function difference(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

describe('resizeLinearRgb', () => {
  it.each([
    [301, 199, 224, 224, 0],
    [301, 199, 224, 224, 40],
    [500, 333, 224, 224, 10],
    [640, 480, 224, 224, 60],
    [250, 251, 224, 224, 255],
    [224, 300, 224, 224, 20],
    [120, 390, 96, 100, 30],
    [333, 90, 160, 160, 5],
  ])('reproduces sharp linear resize of %ix%i to %ix%i (noise %i) to the rounding', async (sw, sh, dw, dh, noise) => {
    expect(resizesLinearInJs(sw, sh, dw, dh)).toBe(true);
    const src = generated(sw, sh, noise);
    const want = await sharp(src, { raw: { width: sw, height: sh, channels: 3 } })
      .resize(dw, dh, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    const { max, mean } = difference(resizeLinearRgb(src, sw, sh, dw, dh), new Uint8Array(want));
    expect(max).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThan(0.5);
  });

  it('leaves libvips its integer pre-shrink (a factor of 4) and enlargement on both axes', () => {
    expect(resizesLinearInJs(896, 500, 224, 224)).toBe(false);
    expect(resizesLinearInJs(895, 500, 224, 224)).toBe(true);
    expect(resizesLinearInJs(200, 200, 224, 224)).toBe(false);
    expect(resizesLinearInJs(224, 224, 224, 224)).toBe(false);
  });
});

describe('decodeRgb of images larger than the model input', () => {
  const limits = { maxPixels: 1e8 };
  const photo = (width: number, height: number, format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> =>
    sharp(generated(width, height, 20), { raw: { width, height, channels: 3 } })
      .toFormat(format)
      .toBuffer();

  it.each<[number, number, 'jpeg' | 'png']>([
    [301, 199, 'jpeg'],
    [500, 375, 'jpeg'],
    [640, 480, 'png'],
  ])('resizes a %ix%i %s in JavaScript to within rounding of sharp', async (width, height, format) => {
    const input: ImageInputSpec = { width: 224, height: 224, fit: 'fill', kernel: 'linear' };
    const data = await photo(width, height, format);
    const viaJs = await decodeRgb(data, input, limits, { width, height });
    const viaSharp = await decodeRgb(data, input, limits);
    const { max, mean } = difference(viaJs, viaSharp);
    expect(max).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThan(0.5);
  });

  it.each<[string, ImageInputSpec, number, number, 'jpeg' | 'png' | 'webp']>([
    ['lanczos3', { width: 224, height: 224, fit: 'fill', kernel: 'lanczos3' }, 500, 375, 'jpeg'],
    ['cubic', { width: 224, height: 224, fit: 'fill', kernel: 'cubic' }, 500, 375, 'png'],
    ['nearest', { width: 224, height: 224, fit: 'fill', kernel: 'nearest' }, 301, 199, 'jpeg'],
    ['cover', { width: 224, height: 224, fit: 'cover', kernel: 'linear' }, 500, 375, 'jpeg'],
    ['JPEG shrink-on-load', { width: 224, height: 224, fit: 'fill', kernel: 'linear' }, 700, 700, 'jpeg'],
    ['WebP scale-on-load', { width: 224, height: 224, fit: 'fill', kernel: 'linear' }, 500, 375, 'webp'],
  ])(
    'leaves %s to sharp: the same pixels with or without the scanned size',
    async (_, input, width, height, format) => {
      const data = await photo(width, height, format);
      const withSize = await decodeRgb(data, input, limits, { width, height });
      const withoutSize = await decodeRgb(data, input, limits);
      expect(withSize.length).toBe(224 * 224 * 3);
      expect(difference(withSize, withoutSize).max).toBe(0);
    },
  );

  it.each([2, 3, 6, 8])('leaves a JPEG with EXIF orientation %i to sharp (it resizes before it rotates)', async (o) => {
    const input: ImageInputSpec = { width: 224, height: 224, fit: 'fill', kernel: 'linear' };
    const data = await sharp(generated(320, 213, 20), { raw: { width: 320, height: 213, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: o })
      .toBuffer();
    const size = o >= 5 ? { width: 213, height: 320 } : { width: 320, height: 213 };
    const withSize = await decodeRgb(data, input, limits, size);
    expect(difference(withSize, await decodeRgb(data, input, limits)).max).toBe(0);
  });

  it('leaves a 16-bit PNG to sharp (it resizes before it reduces to 8 bits)', async () => {
    const input: ImageInputSpec = { width: 224, height: 224, fit: 'fill', kernel: 'linear' };
    const wide = Uint16Array.from(generated(300, 260, 30), (v, i) => v * 257 + (i % 200));
    const data = await sharp(Buffer.from(wide.buffer), { raw: { width: 300, height: 260, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const withSize = await decodeRgb(data, input, limits, { width: 300, height: 260 });
    expect(difference(withSize, await decodeRgb(data, input, limits)).max).toBe(0);
  });

  it('falls back to sharp when a larger image was recorded at a stale size', async () => {
    const input: ImageInputSpec = { width: 64, height: 64, fit: 'fill', kernel: 'linear' };
    const data = await photo(300, 200, 'jpeg');
    const stale = await decodeRgb(data, input, limits, { width: 90, height: 80 });
    expect(difference(stale, await decodeRgb(data, input, limits)).max).toBe(0);
  });
});
