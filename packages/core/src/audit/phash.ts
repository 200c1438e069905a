/**
 * @module Perceptual hashes for near-exact copies: the DCT hash ("pHash", Zauner 2010): a 32x32 grey
 * thumbnail, its 2-D DCT-II, and one bit per coefficient of the lowest 8x8 frequencies (DC left out of
 * the median), set when it is above their median. Resizing and re-encoding move few bits; a 5% crop some.
 */
import { readFile } from 'node:fs/promises';
import type { default as Sharp } from 'sharp';

const SIDE = 32;
const LOW = 8;

async function loadSharp(): Promise<typeof Sharp> {
  return (await import('sharp')).default;
}

/** DCT-II basis, [LOW, SIDE]: cos(pi (2x + 1) u / 2N). */
const BASIS = (() => {
  const out = new Float64Array(LOW * SIDE);
  for (let u = 0; u < LOW; u++)
    for (let x = 0; x < SIDE; x++) out[u * SIDE + x] = Math.cos((Math.PI * (2 * x + 1) * u) / (2 * SIDE));
  return out;
})();

/** The 64-bit hash of 32x32 grey pixels (row-major), as 16 hex digits. */
export function dctHash(grey: Uint8Array): string {
  // Rows first (SIDE x LOW), then columns: only the LOW x LOW corner is computed.
  const rows = new Float64Array(SIDE * LOW);
  for (let y = 0; y < SIDE; y++)
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < SIDE; x++) s += grey[y * SIDE + x]! * BASIS[u * SIDE + x]!;
      rows[y * LOW + u] = s;
    }
  const coeffs = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++)
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < SIDE; y++) s += rows[y * LOW + u]! * BASIS[v * SIDE + y]!;
      coeffs[v * LOW + u] = s;
    }
  const sorted = [...coeffs.subarray(1)].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) value = (value << 1) | (coeffs[nibble * 4 + b]! > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/** The hash of an image file (any format sharp reads; first frame, orientation applied). */
export async function perceptualHash(file: string, maxPixels: number): Promise<string> {
  return perceptualHashOf(await readFile(file), maxPixels);
}

/** The hash of an image's bytes. */
export async function perceptualHashOf(data: Buffer, maxPixels: number): Promise<string> {
  const sharp = await loadSharp();
  const { data: pixels } = await sharp(data, { limitInputPixels: maxPixels, pages: 1, autoOrient: true })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(SIDE, SIDE, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return dctHash(new Uint8Array(pixels.buffer, pixels.byteOffset, SIDE * SIDE));
}

/** A hash as two 32-bit halves, for fast Hamming distances. */
export function hashWords(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0];
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits that differ between two hashes given as words (`hashWords`), at offsets 2a and 2b of `words`. */
export function hammingAt(words: Uint32Array, a: number, b: number): number {
  return popcount((words[2 * a]! ^ words[2 * b]!) >>> 0) + popcount((words[2 * a + 1]! ^ words[2 * b + 1]!) >>> 0);
}
