/**
 * @module JPEG files without libvips: their header read here (orientation, colour profile, frame),
 * and plain ones decoded in WebAssembly by mozjpeg, the library sharp's libvips decodes JPEG with
 * (jSquash's build). It gives the same bytes as sharp's decode at about two thirds of its CPU for a
 * photo, and a tenth for a thumbnail: libvips' pipeline costs about 0.5 CPU-ms an image before
 * any pixel is decoded (bench:embed --check-resize). Anything the two could disagree on (a
 * colour profile, CMYK, an EXIF rotation, a decoder warning) is left to sharp. The Emscripten glue
 * defines a bare `globalThis.ImageData` (width, height, data) where the runtime has none (Node has none).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { DecodedRgb } from './decode.js';
import { alignKernelAddress, kernelsWithMemory, reduceKernelsAvailable } from './reduce-kernels.js';

export const isJpeg = (data: Uint8Array): boolean =>
  data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;

/** What a JPEG's markers before its image data say (JPEG/JFIF, EXIF 2.3, ICC.1 annex B). */
export interface JpegHeader {
  /** The markers were read to the first scan (SOS); false when they run out or break off. */
  readonly complete: boolean;
  /** EXIF IFD0's orientation tag: 1 when there is none, 0 when it cannot be read. */
  readonly orientation: number;
  /** An embedded ICC profile (APP2 ICC_PROFILE), which sharp converts to sRGB through. */
  readonly iccProfile: boolean;
  /** The frame (SOFn): its marker, sample precision, size and number of components. */
  readonly frame: {
    readonly marker: number;
    readonly precision: number;
    readonly width: number;
    readonly height: number;
    readonly components: number;
  } | null;
}

/** Reads a JPEG's header from its first bytes; `complete` is false for anything unreadable. */
export function readJpegHeader(data: Buffer): JpegHeader {
  let orientation = 1;
  let exifSeen = false;
  let iccProfile = false;
  let frame: JpegHeader['frame'] = null;
  let at = 2;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9) break; // no image data
    if (marker === 0xda) return { complete: true, orientation, iccProfile, frame };
    const length = data.readUInt16BE(at + 2);
    const body = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > data.length) break;
    if (marker === 0xe1 && !exifSeen && length >= 16 && data.toString('latin1', body, body + 6) === 'Exif\0\0') {
      exifSeen = true;
      orientation = exifOrientation(data.subarray(body + 6, end));
    } else if (marker === 0xe2 && length >= 16 && data.toString('latin1', body, body + 12) === 'ICC_PROFILE\0') {
      iccProfile = true;
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 8) break;
      frame = {
        marker,
        precision: data[body]!,
        height: data.readUInt16BE(body + 1),
        width: data.readUInt16BE(body + 3),
        components: data[body + 5]!,
      };
    }
    at = end;
  }
  return { complete: false, orientation, iccProfile, frame };
}

/** IFD0's orientation tag of a TIFF structure (EXIF's payload): 1 when absent, 0 when unreadable. */
function exifOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 0;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (i: number): number => (little ? tiff.readUInt16LE(i) : tiff.readUInt16BE(i));
  const u32 = (i: number): number => (little ? tiff.readUInt32LE(i) : tiff.readUInt32BE(i));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 0;
  const entries = u16(ifd);
  for (let e = 0; e < entries; e++) {
    const entry = ifd + 2 + e * 12;
    if (entry + 12 > tiff.length) return 0;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return 1;
}

/** Whether a JPEG is stored as displayed: its header reads, with no EXIF rotation or mirroring. */
export const jpegUpright = (header: JpegHeader): boolean => header.complete && header.orientation === 1;

/**
 * Whether mozjpeg alone gives sharp's decode of this JPEG: upright, 8-bit grey or YCbCr/RGB in a
 * Huffman-coded frame (baseline, extended or progressive), no colour profile, within the pixel cap.
 * sharp (autoOrient, flatten, toColourspace('srgb'), removeAlpha) leaves such pixels as mozjpeg
 * decodes them.
 */
export function decodesExactlyInWasm(header: JpegHeader, maxPixels: number): boolean {
  const frame = header.frame;
  return (
    jpegUpright(header) &&
    !header.iccProfile &&
    frame !== null &&
    (frame.marker === 0xc0 || frame.marker === 0xc1 || frame.marker === 0xc2) &&
    frame.precision === 8 &&
    (frame.components === 1 || frame.components === 3) &&
    frame.width > 0 &&
    frame.height > 0 &&
    frame.width * frame.height <= maxPixels
  );
}

/** jSquash's mozjpeg decoder module (an Emscripten build): RGBA pixels, or an exception on a fatal error. */
interface MozJpegModule {
  decode(
    data: Uint8Array,
    preserveOrientation: boolean,
  ): { data: Uint8ClampedArray; width: number; height: number } | null;
}
type MozJpegFactory = (options: {
  instantiateWasm: (imports: object, done: (instance: object) => void) => object;
  print: (text: string) => void;
  printErr: (text: string) => void;
}) => Promise<MozJpegModule>;

/** The few WebAssembly names used here (the compiler's libraries in this project do not declare them). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** This thread's decoder: compiled once, instantiated again after a fatal error (libjpeg's exit). */
let compiled: Promise<{ factory: MozJpegFactory; wasm: object }> | null = null;
let instance: Promise<MozJpegModule> | null = null;
/** Messages libjpeg printed during the current decode: warnings (a truncated file, corrupt data). */
let messages = 0;

function loadDecoder(): Promise<MozJpegModule> {
  compiled ??= (async () => {
    const require = createRequire(import.meta.url);
    const glue = require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.js');
    const [factory, wasm] = await Promise.all([
      import(pathToFileURL(glue).href).then((m: { default: MozJpegFactory }) => m.default),
      wasmApi().compile(readFileSync(glue.replace(/\.js$/, '.wasm'))),
    ]);
    return { factory, wasm };
  })();
  instance ??= compiled.then(({ factory, wasm }) =>
    factory({
      instantiateWasm: (imports, done) => {
        void wasmApi().instantiate(wasm, imports).then(done);
        return {};
      },
      print: () => void messages++,
      printErr: () => void messages++,
    }),
  );
  return instance;
}

/**
 * The decoder, or null where it cannot load (its WebAssembly missing from the install, say): it only
 * saves CPU, so sharp then decodes every file, as it would have.
 */
async function decoderOrNull(): Promise<MozJpegModule | null> {
  try {
    return await loadDecoder();
  } catch {
    return null; // the rejected load is kept: it is not tried again
  }
}

/** Loads the decoder ahead of the first image (a decode worker does, before it says it is ready). */
export async function preloadJpegDecoder(): Promise<void> {
  await decoderOrNull();
}

/**
 * Decodes a JPEG that decodesExactlyInWasm allows to packed RGB at its own size, on this thread;
 * null when libjpeg warns or fails, for sharp to decode (or refuse) as it would have.
 */
export async function decodeJpegInWasm(data: Buffer): Promise<DecodedRgb | null> {
  const decoder = await decoderOrNull();
  if (!decoder) return null;
  messages = 0;
  let decoded: ReturnType<MozJpegModule['decode']>;
  try {
    decoded = decoder.decode(data, false);
  } catch {
    instance = null; // libjpeg's error_exit ends the Emscripten program: start a fresh one
    return null;
  }
  if (!decoded || messages > 0) return null;
  const { width, height } = decoded;
  const rgba = decoded.data;
  const pixels = width * height;
  if (rgba.length !== pixels * 4) return null;
  return { pixels: packRgb(rgba, pixels), width, height };
}

/** RGBA to packed RGB: in WebAssembly SIMD (about a quarter of the loop's CPU, copies included), else in place here. */
function packRgb(rgba: Uint8ClampedArray, pixels: number): Uint8Array {
  if (reduceKernelsAvailable()) {
    const outAt = alignKernelAddress(rgba.length + 64);
    const kernels = kernelsWithMemory(outAt + pixels * 3 + 64);
    new Uint8Array(kernels.memory.buffer, 0, rgba.length).set(rgba);
    kernels.pack(0, pixels, outAt);
    return new Uint8Array(kernels.memory.buffer, outAt, pixels * 3).slice();
  }
  // In place: each write lands at or before the bytes still to be read.
  const rgb = new Uint8Array(rgba.buffer, rgba.byteOffset, pixels * 3);
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
    rgb[o] = rgba[i]!;
    rgb[o + 1] = rgba[i + 1]!;
    rgb[o + 2] = rgba[i + 2]!;
  }
  return rgb;
}
