/** @module Test image generators: plain images of distinguishable "classes" and every awkward file an image tool meets. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { seededRandom } from '@autolabel/core';

export const IMAGE_KINDS = [
  'jpeg',
  'png',
  'webp',
  'tiff',
  // 4-channel CMYK JPEG, as print workflows produce.
  'cmyk-jpeg',
  // 16 bits per channel RGB PNG.
  'png16',
  // Single-channel JPEG.
  'gray-jpeg',
  // RGBA PNG, left half fully transparent.
  'alpha-png',
  // JPEG with EXIF orientation 6: displayed as height x width.
  'rotated-jpeg',
  // 3 frames: red, green, blue.
  'animated-gif',
  // Valid header, entropy-coded data cut in half.
  'truncated-jpeg',
  // Zero bytes.
  'empty',
  // Plain text; give it a .jpg name to test extension trust.
  'text',
  // Valid 1-bit PNG whose header claims width x height pixels (default 256 M) in about 30 KB.
  'png-bomb',
] as const;

export type ImageKind = (typeof IMAGE_KINDS)[number];

/** A file extension that suits each kind (the misleading one for 'text' and 'empty'). */
export const IMAGE_KIND_EXTENSION: Readonly<Record<ImageKind, string>> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  tiff: '.tiff',
  'cmyk-jpeg': '.jpg',
  png16: '.png',
  'gray-jpeg': '.jpg',
  'alpha-png': '.png',
  'rotated-jpeg': '.jpg',
  'animated-gif': '.gif',
  'truncated-jpeg': '.jpg',
  empty: '.jpg',
  text: '.jpg',
  'png-bomb': '.png',
};

export type Rgb = readonly [number, number, number];

/** 'stripes' and 'checker' alternate `color` with black in 8-pixel bands/squares. */
export type ImagePattern = 'solid' | 'stripes' | 'checker';

export interface ImageOptions {
  /** Stored size in pixels, before EXIF orientation. Default 64 x 48; 16000 x 16000 for 'png-bomb'. */
  readonly width?: number;
  readonly height?: number;
  /** Default [200, 40, 40] (red). */
  readonly color?: Rgb;
  readonly pattern?: ImagePattern;
  /** Amplitude of uniform per-channel noise, 0-255; default 0. */
  readonly noise?: number;
  readonly seed?: number;
}

export { seededRandom };

const FRAME_COLORS: readonly Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
];

/** Writes an image of the given kind to `path` (parent folders are created) and returns `path`. */
export async function writeImage(path: string, kind: ImageKind, options: ImageOptions = {}): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await encodeImage(kind, options));
  return path;
}

/** The bytes writeImage would write. */
export async function encodeImage(kind: ImageKind, options: ImageOptions = {}): Promise<Buffer> {
  const width = options.width ?? (kind === 'png-bomb' ? 16000 : 64);
  const height = options.height ?? (kind === 'png-bomb' ? 16000 : 48);
  const raw = { width, height, channels: 3 } as const;
  const plain = (): Sharp => sharp(rgbPixels(width, height, options), { raw });

  switch (kind) {
    case 'jpeg':
      return plain().jpeg().toBuffer();
    case 'png':
      return plain().png().toBuffer();
    case 'webp':
      return plain().webp().toBuffer();
    case 'tiff':
      return plain().tiff().toBuffer();
    case 'cmyk-jpeg':
      return plain().toColourspace('cmyk').jpeg().toBuffer();
    case 'png16':
      return plain().toColourspace('rgb16').png().toBuffer();
    case 'gray-jpeg':
      // grayscale() alone still writes 3 identical channels; 'b-w' writes one.
      return plain().toColourspace('b-w').jpeg().toBuffer();
    case 'alpha-png': {
      const rgb = rgbPixels(width, height, options);
      const rgba = Buffer.alloc(width * height * 4);
      for (let i = 0; i < width * height; i++) {
        rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
        rgba[i * 4 + 3] = i % width < width / 2 ? 0 : 255;
      }
      return sharp(rgba, { raw: { width, height, channels: 4 } })
        .png()
        .toBuffer();
    }
    case 'rotated-jpeg':
      // withExif({ IFD0: { Orientation: '6' } }) is silently dropped in sharp 0.35; this works.
      return plain().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    case 'animated-gif': {
      const frames = Buffer.concat(FRAME_COLORS.map((color) => rgbPixels(width, height, { ...options, color })));
      // Frames must differ: the GIF encoder merges identical consecutive frames.
      return sharp(frames, { raw: { ...raw, height: height * 3, pageHeight: height } })
        .gif({ delay: [100, 100, 100], loop: 0 })
        .toBuffer();
    }
    case 'truncated-jpeg':
      return truncateJpeg(await plain().jpeg().toBuffer());
    case 'empty':
      return Buffer.alloc(0);
    case 'text':
      return Buffer.from('This is a text file, not an image.\n', 'utf8');
    case 'png-bomb':
      return pngBomb(width, height);
  }
}

function rgbPixels(width: number, height: number, options: ImageOptions): Buffer {
  const color = options.color ?? [200, 40, 40];
  const pattern = options.pattern ?? 'solid';
  const noise = options.noise ?? 0;
  const random = seededRandom(options.seed ?? 1);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const on =
        pattern === 'solid' ||
        (pattern === 'stripes' && (x >> 3) % 2 === 0) ||
        (pattern === 'checker' && ((x >> 3) + (y >> 3)) % 2 === 0);
      const offset = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const jitter = noise === 0 ? 0 : (random() * 2 - 1) * noise;
        pixels[offset + c] = clampByte((on ? (color[c] ?? 0) : 0) + jitter);
      }
    }
  }
  return pixels;
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

/** Cuts halfway through the entropy-coded data after the last SOS marker, so the header still parses. */
function truncateJpeg(jpeg: Buffer): Buffer {
  const sos = jpeg.lastIndexOf(Buffer.from([0xff, 0xda]));
  if (sos < 0) throw new Error('truncateJpeg: no SOS marker in the encoded JPEG');
  return Buffer.from(jpeg.subarray(0, sos + Math.ceil((jpeg.length - sos) / 2)));
}

/**
 * A complete, valid 1-bit grayscale PNG of all-black rows: deflate squeezes the zero rows about
 * 1000:1, so 16000 x 16000 (under sharp's default 268 M pixel limit, so only the caller's own
 * cap stops it) takes about 30 KB and decodes to 256 MB or more.
 */
function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grayscale; compression, filter and interlace bytes stay 0
  // Each row: filter byte 0 (None) then ceil(width / 8) bytes of zero bits.
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

// zlib.crc32 only exists from Node 20.15; the project supports 20.9.
let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use), bytewise with a 256-entry table. */
function crc32(data: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
