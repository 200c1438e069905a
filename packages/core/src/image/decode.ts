/** @module Decoding image files into what models and stores need: header facts and resized RGB pixels. */
import type { default as Sharp, Metadata } from 'sharp';
import type { ImageInputSpec, SkipReason } from '../domain/index.js';
import { messageOf } from '../errors.js';
import {
  decodeJpegInWasm,
  decodesExactlyInWasm,
  isJpeg,
  type JpegHeader,
  jpegUpright,
  readJpegHeader,
} from './jpeg.js';
import { resizeBilinearRgb, resizeLinearRgb, resizesLinearInJs } from './resize.js';
import { ImageSkipError } from './skip.js';

/** sharp (libvips, a native add-on) loads with the first image read, not when core is imported. */
async function loadSharp(): Promise<typeof Sharp> {
  return (await import('sharp')).default;
}

export interface ImageInfo {
  /** Width and height as displayed, after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  /** sharp's format name: jpeg, png, webp, gif, tiff, heif, ... */
  readonly format: string;
}

export interface DecodeOptions {
  /** Largest width * height accepted; larger images are skipped as decompression bombs. */
  readonly maxPixels: number;
}

/** Reads the header of an image in memory; throws ImageSkipError for anything that is not a usable image. */
export async function readImageInfo(data: Buffer, options: DecodeOptions): Promise<ImageInfo> {
  if (data.length === 0) throw new ImageSkipError({ reason: 'empty-file', detail: '0 bytes' });
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw toSkipError(error);
  }
  if (!meta.format || !meta.width || !meta.height) {
    throw new ImageSkipError({ reason: 'not-an-image', detail: 'no image dimensions in the header' });
  }
  // A multi-page image (animation) is read page by page; the pixel cap applies to one page.
  const pageHeight = meta.pageHeight ?? meta.height;
  if (meta.width * pageHeight > options.maxPixels) {
    throw new ImageSkipError({
      reason: 'too-large',
      detail: `${meta.width}x${pageHeight} pixels exceeds the limit of ${options.maxPixels}`,
    });
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  return {
    width: swapped ? pageHeight : meta.width,
    height: swapped ? meta.width : pageHeight,
    format: meta.format,
  };
}

/**
 * Decoded RGB (HWC) at the model's input size, or at its own size when JavaScript resizes it
 * (resize.ts): bilinearly up when it is no larger than the input, else as sharp's linear downscale.
 */
export interface DecodedRgb {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes an image to packed uint8 RGB (HWC) at the model's input size: first frame of an
 * animation, EXIF orientation applied, any colour space (CMYK, grey, 16-bit, ICC) to 8-bit sRGB,
 * alpha flattened onto white. `size` is the displayed size recorded at scan time: an image no
 * larger than the input is decoded as is and upscaled bilinearly in JavaScript (libvips' affine
 * upscaling costs several times more), and so is one that sharp would shrink with the linear kernel
 * without shrink-on-load, reproducing sharp's pixels (resizeLinearRgb) at under half libvips' cost;
 * anything else is resized by sharp, with shrink-on-load.
 */
export async function decodeRgb(
  data: Buffer,
  input: ImageInputSpec,
  options: DecodeOptions,
  size?: { readonly width: number | null; readonly height: number | null },
): Promise<Uint8Array> {
  const decoded = await decodeRgbForResize(data, input, options, size);
  const { width, height } = input;
  if (decoded.width === width && decoded.height === height) return decoded.pixels;
  if (decoded.width <= width && decoded.height <= height)
    return resizeBilinearRgb(decoded.pixels, decoded.width, decoded.height, width, height);
  return resizeLinearRgb(decoded.pixels, decoded.width, decoded.height, width, height);
}

/** What JavaScript can resize from `width` x `height` to the input, given the file's first bytes (see decodeRgb). */
function resizedInJs(
  data: Buffer,
  jpeg: JpegHeader | null,
  input: ImageInputSpec,
  width: number,
  height: number,
): 'up' | 'down' | null {
  if (input.fit !== 'fill' || input.kernel !== 'linear') return null;
  if (width <= input.width && height <= input.height) return 'up';
  if (!resizesLinearInJs(width, height, input.width, input.height)) return null;
  // sharp's shrink-on-load (pipeline.cc): a JPEG shrunk by 3 or more on both axes decodes at half
  // size; WebP, SVG and PDF load scaled. Only formats loaded at full size are resized here, and only
  // as stored: sharp resizes before it applies an EXIF orientation, which moves libvips' rounding.
  if (jpeg) return Math.min(width / input.width, height / input.height) < 3 && jpegUpright(jpeg) ? 'down' : null;
  // A 16-bit PNG: sharp resizes before it reduces to 8 bits (within a level, but not the same bytes).
  return isPng(data) && data[24]! <= 8 && pngUpright(data) ? 'down' : null;
}

const isPng = (data: Buffer): boolean =>
  data.length > 8 && data.readUInt32BE(0) === 0x89504e47 && data.readUInt32BE(4) === 0x0d0a1a0a;

/** Whether a PNG carries no EXIF (an eXIf chunk before its image data), so no orientation either. */
function pngUpright(data: Buffer): boolean {
  let at = 8;
  while (at + 8 <= data.length) {
    const type = data.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') return true;
    if (type === 'eXIf') return false;
    at += 12 + data.readUInt32BE(at);
  }
  return false;
}

/**
 * decodeRgb without its last step: an image JavaScript resizes comes back at its own size, for the
 * caller to resize (into a model's tensor, say) as decodeRgb would.
 */
export async function decodeRgbForResize(
  data: Buffer,
  input: ImageInputSpec,
  options: DecodeOptions,
  size?: { readonly width: number | null; readonly height: number | null },
): Promise<DecodedRgb> {
  if (data.length === 0) throw new ImageSkipError({ reason: 'empty-file', detail: '0 bytes' });
  // Only a recorded size lets JavaScript resize (and so mozjpeg decode): read the header for it alone.
  const jpeg = size && isJpeg(data) ? readJpegHeader(data) : null;
  const inJs =
    size?.width != null && size.height != null && resizedInJs(data, jpeg, input, size.width, size.height) !== null;
  // Decoded at its own size either way, so a plain JPEG need not go through libvips (jpeg.ts).
  if (inJs && jpeg && decodesExactlyInWasm(jpeg, options.maxPixels)) {
    const decoded = await decodeJpegInWasm(data);
    if (decoded && resizedInJs(data, jpeg, input, decoded.width, decoded.height) !== null) return decoded;
  }
  const sharp = await loadSharp();
  try {
    let image = sharp(data, { limitInputPixels: options.maxPixels, failOn: 'truncated', pages: 1, autoOrient: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb');
    if (!inJs) {
      image = image.resize(input.width, input.height, { fit: input.fit, kernel: input.kernel, background: '#000000' });
    }
    const { data: pixels, info } = await image
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || pixels.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels, ${pixels.length} bytes; expected packed RGB`);
    }
    const rgb = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    if (info.width === input.width && info.height === input.height)
      return { pixels: rgb, width: input.width, height: input.height };
    if (inJs && resizedInJs(data, jpeg, input, info.width, info.height) !== null) {
      return { pixels: rgb, width: info.width, height: info.height };
    }
    // The recorded size was stale (the file changed since the scan): let sharp resize.
    return await decodeRgbForResize(data, input, options);
  } catch (error) {
    throw toSkipError(error);
  }
}

/** Maps libvips/sharp failures onto skip reasons a person can act on. */
export function toSkipError(error: unknown): ImageSkipError {
  if (error instanceof ImageSkipError) return error;
  const detail = messageOf(error).split('\n')[0]?.trim() ?? 'unknown error';
  let reason: SkipReason = 'corrupt';
  if (/unsupported image format|input buffer contains unsupported/i.test(detail)) reason = 'not-an-image';
  else if (/pixel limit/i.test(detail)) reason = 'too-large';
  return new ImageSkipError({ reason, detail }, { cause: error });
}
