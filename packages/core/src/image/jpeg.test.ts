import { describe, expect, it } from 'vitest';
import type { Sharp } from 'sharp';
import { encodeImage, seededRandom } from '@autolabel/test-utils';
import type { ImageInputSpec } from '../domain/index.js';
import { decodeRgb, decodeRgbForResize, readImageInfo } from './decode.js';
import { decodeJpegInWasm, decodesExactlyInWasm, readJpegHeader } from './jpeg.js';
import { ImageSkipError } from './skip.js';

const limits = { maxPixels: 100_000_000 };
const input: ImageInputSpec = { width: 64, height: 64, fit: 'fill', kernel: 'linear' };

/** A photo-like RGB image: smooth gradients plus seeded noise, so every DCT coefficient matters. */
async function photo(width: number, height: number, seed = 1): Promise<Sharp> {
  const sharp = (await import('sharp')).default;
  const random = seededRandom(seed);
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.min(255, Math.round((x / width) * 200 + random() * 55));
      raw[i + 1] = Math.min(255, Math.round((y / height) * 200 + random() * 55));
      raw[i + 2] = Math.min(255, Math.round(((x + y) % 97) * 2 + random() * 60));
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

/** sharp's own decode of a file, as decode.ts asks it for an image it resizes in JavaScript. */
async function sharpDecode(data: Buffer): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(data, { failOn: 'truncated', pages: 1, autoOrient: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer();
}

describe('JPEG decoding in WebAssembly', () => {
  it.each<[string, (image: Sharp) => Sharp]>([
    ['baseline 4:2:0', (image) => image.jpeg({ quality: 80 })],
    ['progressive', (image) => image.jpeg({ quality: 85, progressive: true })],
    ['4:4:4 at quality 100', (image) => image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })],
    ['mozjpeg-optimised', (image) => image.jpeg({ mozjpeg: true })],
    ['greyscale', (image) => image.greyscale().jpeg()],
  ])('gives the bytes sharp decodes from a %s JPEG', async (_, encode) => {
    for (const [width, height] of [
      [97, 61],
      [160, 120],
    ] as const) {
      const data = await encode(await photo(width, height)).toBuffer();
      expect(decodesExactlyInWasm(readJpegHeader(data), limits.maxPixels)).toBe(true);
      const decoded = await decodeJpegInWasm(data);
      expect(decoded).not.toBeNull();
      expect([decoded!.width, decoded!.height]).toEqual([width, height]);
      expect(Buffer.from(decoded!.pixels).equals(await sharpDecode(data))).toBe(true);
    }
  });

  it('leaves to sharp what sharp would change: an EXIF rotation, a colour profile, CMYK, too many pixels', async () => {
    const base = await photo(80, 60);
    const rotated = readJpegHeader(await base.clone().jpeg().withMetadata({ orientation: 6 }).toBuffer());
    expect(rotated.orientation).toBe(6);
    expect(decodesExactlyInWasm(rotated, limits.maxPixels)).toBe(false);
    const profiled = readJpegHeader(await base.clone().withIccProfile('p3').jpeg().toBuffer());
    expect(profiled.iccProfile).toBe(true);
    expect(decodesExactlyInWasm(profiled, limits.maxPixels)).toBe(false);
    const cmyk = readJpegHeader(await encodeImage('cmyk-jpeg'));
    expect(cmyk.frame?.components).toBe(4);
    expect(decodesExactlyInWasm(cmyk, limits.maxPixels)).toBe(false);
    const plain = readJpegHeader(await base.clone().jpeg().toBuffer());
    expect(plain.frame).toMatchObject({ width: 80, height: 60, components: 3, precision: 8 });
    expect(decodesExactlyInWasm(plain, 80 * 60)).toBe(true);
    expect(decodesExactlyInWasm(plain, 80 * 60 - 1)).toBe(false);
  });

  it('hands a truncated or garbled file back to sharp, and decodes the next file as before', async () => {
    const data = await (await photo(96, 64)).jpeg().toBuffer();
    expect(await decodeJpegInWasm(data.subarray(0, data.length >> 1))).toBeNull();
    expect(
      await decodeJpegInWasm(Buffer.concat([data.subarray(0, 400), Buffer.from('not the rest of a JPEG')])),
    ).toBeNull();
    const again = await decodeJpegInWasm(data);
    expect(again && Buffer.from(again.pixels).equals(await sharpDecode(data))).toBe(true);
  });

  it('keeps what a user sees: the same skip for a truncated JPEG, and the same pixels, with or without the scanned size', async () => {
    const data = await (await photo(120, 90, 7)).jpeg().toBuffer();
    const size = await readImageInfo(data, limits);
    // With the size, decode.ts takes the WebAssembly path; without it, sharp decodes and resizes.
    const viaWasm = await decodeRgbForResize(data, input, limits, size);
    expect(Buffer.from(viaWasm.pixels).equals(await sharpDecode(data))).toBe(true);
    expect((await decodeRgb(data, input, limits, size)).length).toBe(64 * 64 * 3);

    const truncated = await encodeImage('truncated-jpeg');
    const reasons = await Promise.all(
      [undefined, { width: 16, height: 16 }].map((scanned) =>
        decodeRgb(truncated, input, limits, scanned).then(
          () => 'decoded',
          (error: unknown) => (error instanceof ImageSkipError ? error.skip.reason : 'threw'),
        ),
      ),
    );
    expect(reasons).toEqual(['corrupt', 'corrupt']);
  });
});
