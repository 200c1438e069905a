import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeImage, type ImageKind, writeImage } from '@autolabel/test-utils';
import type { ImageInputSpec } from '../domain/index.js';
import { decodeRgb, readImageInfo } from './decode.js';
import { ImageSkipError } from './skip.js';

const input: ImageInputSpec = { width: 16, height: 16, fit: 'fill', kernel: 'linear' };
const limits = { maxPixels: 100_000_000 };
const dir = mkdtempSync(join(tmpdir(), 'autolabel-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean of each channel over the decoded pixels. */
function means(pixels: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) sum[i % 3]! += pixels[i]!;
  const n = pixels.length / 3;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

async function skipOf(data: Buffer): Promise<string> {
  try {
    await decodeRgb(data, input, limits);
  } catch (error) {
    if (error instanceof ImageSkipError) return error.skip.reason;
    throw error;
  }
  return 'decoded';
}

describe('decodeRgb', () => {
  it.each<[ImageKind, [number, number, number]]>([
    ['jpeg', [200, 40, 40]],
    ['png', [200, 40, 40]],
    ['webp', [200, 40, 40]],
    ['tiff', [200, 40, 40]],
    ['cmyk-jpeg', [200, 40, 40]],
    ['png16', [200, 40, 40]],
  ])('decodes %s to 8-bit sRGB with the right colour', async (kind, expected) => {
    const pixels = await decodeRgb(await encodeImage(kind), input, limits);
    expect(pixels.length).toBe(16 * 16 * 3);
    const [r, g, b] = means(pixels);
    // JPEG and CMYK round trips move colours a little; a channel swap or 16-bit overflow would not be close.
    expect(Math.abs(r - expected[0])).toBeLessThan(25);
    expect(Math.abs(g - expected[1])).toBeLessThan(25);
    expect(Math.abs(b - expected[2])).toBeLessThan(25);
  });

  it('expands grayscale to three equal channels', async () => {
    const pixels = await decodeRgb(await encodeImage('gray-jpeg'), input, limits);
    const [r, g, b] = means(pixels);
    expect(r).toBeCloseTo(g, 0);
    expect(g).toBeCloseTo(b, 0);
  });

  it('flattens transparent pixels onto white', async () => {
    // Left half transparent, right half opaque red.
    const pixels = await decodeRgb(await encodeImage('alpha-png'), input, limits);
    const left = pixels.subarray(8 * 48, 8 * 48 + 3); // row 8, column 0
    const right = pixels.subarray(8 * 48 + 15 * 3, 8 * 48 + 15 * 3 + 3); // row 8, column 15
    expect(Array.from(left)).toEqual([255, 255, 255]);
    expect(right[0]).toBeGreaterThan(150);
    expect(right[2]).toBeLessThan(80);
  });

  it('applies EXIF orientation: header size and pixels as displayed', async () => {
    // Stored 64x48 with the top half red and the bottom half blue, orientation 6 (rotate 90 clockwise):
    // displayed 48x64 with red on the right.
    const file = join(dir, 'rotated.jpg');
    await writeImage(file, 'rotated-jpeg', { width: 64, height: 48, pattern: 'stripes' });
    const info = await readImageInfo(await readFile(file), limits);
    expect([info.width, info.height]).toEqual([48, 64]);
    const sharp = (await import('sharp')).default;
    const halves = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0000ff' } })
      .composite([
        { input: { create: { width: 64, height: 24, channels: 3, background: '#ff0000' } }, top: 0, left: 0 },
      ])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const pixels = await decodeRgb(halves, input, limits);
    const leftMiddle = pixels.subarray((8 * 16 + 1) * 3, (8 * 16 + 1) * 3 + 3);
    const rightMiddle = pixels.subarray((8 * 16 + 14) * 3, (8 * 16 + 14) * 3 + 3);
    expect(leftMiddle[2]).toBeGreaterThan(200); // blue on the left
    expect(rightMiddle[0]).toBeGreaterThan(200); // red on the right
  });

  it('takes the first frame of an animation', async () => {
    const pixels = await decodeRgb(await encodeImage('animated-gif'), input, limits);
    const [r, g, b] = means(pixels);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  it.each<[ImageKind, string]>([
    ['truncated-jpeg', 'corrupt'],
    ['empty', 'empty-file'],
    ['text', 'not-an-image'],
    ['png-bomb', 'too-large'],
  ])('skips %s with reason %s', async (kind, reason) => {
    expect(await skipOf(await encodeImage(kind))).toBe(reason);
  });
});

describe('readImageInfo', () => {
  it('refuses a decompression bomb from its header alone', async () => {
    const bomb = await encodeImage('png-bomb');
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(readImageInfo(bomb, limits)).rejects.toMatchObject({ skip: { reason: 'too-large' } });
  });

  it('reads format and size', async () => {
    expect(await readImageInfo(await encodeImage('png', { width: 20, height: 10 }), limits)).toEqual({
      width: 20,
      height: 10,
      format: 'png',
    });
  });
});
