/** @module Decoding image files into what models and stores need: header facts and resized RGB pixels. */
import type { default as Sharp, Metadata } from 'sharp';
import type { ImageInputSpec, SkipReason } from '../domain/index.js';
import { messageOf } from '../errors.js';
import { resizeBilinearRgb } from './resize.js';
import { ImageSkipError } from './skip.js';

/** sharp (libvips, a native add-on) loads with the first image read, not when core is imported. */
async function loadSharp(): Promise<typeof Sharp> {
  return (await import('sharp')).default;
}

/** Loads the decoder ahead of the first image (a decode worker does, before it says it is ready). */
export async function preloadDecoder(): Promise<void> {
  await loadSharp();
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

/** Decoded RGB (HWC) at the model's input size, or smaller when it is to be upscaled bilinearly (resize.ts). */
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
 * upscaling costs several times more); anything else is resized by sharp, with shrink-on-load.
 */
export async function decodeRgb(
  data: Buffer,
  input: ImageInputSpec,
  options: DecodeOptions,
  size?: { readonly width: number | null; readonly height: number | null },
): Promise<Uint8Array> {
  const decoded = await decodeRgbForUpscale(data, input, options, size);
  if (decoded.width === input.width && decoded.height === input.height) return decoded.pixels;
  return resizeBilinearRgb(decoded.pixels, decoded.width, decoded.height, input.width, input.height);
}

/**
 * decodeRgb without its last step: an image no larger than the input comes back at its own size,
 * for the caller to upscale bilinearly (into a model's tensor, say) as decodeRgb would.
 */
export async function decodeRgbForUpscale(
  data: Buffer,
  input: ImageInputSpec,
  options: DecodeOptions,
  size?: { readonly width: number | null; readonly height: number | null },
): Promise<DecodedRgb> {
  if (data.length === 0) throw new ImageSkipError({ reason: 'empty-file', detail: '0 bytes' });
  const upscale =
    input.fit === 'fill' &&
    input.kernel === 'linear' &&
    size?.width != null &&
    size.height != null &&
    size.width <= input.width &&
    size.height <= input.height;
  const sharp = await loadSharp();
  try {
    let image = sharp(data, { limitInputPixels: options.maxPixels, failOn: 'truncated', pages: 1, autoOrient: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb');
    if (!upscale) {
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
    if (upscale && info.width <= input.width && info.height <= input.height) {
      return { pixels: rgb, width: info.width, height: info.height };
    }
    // The recorded size was stale (the file changed since the scan): let sharp resize.
    return await decodeRgbForUpscale(data, input, options);
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
