/**
 * @module Model-ready float32 tensors from decoded RGB bytes: the layout a model takes (NCHW or
 * NHWC) and its rescale and normalisation. The embed pipeline's decode workers write them; an
 * embedder given bytes writes them the same way.
 */
import {
  alignKernelAddress as align,
  type Exports,
  kernelsWithMemory,
  reduceKernelsAvailable,
} from './reduce-kernels.js';

/** How a model takes its pixels as float32. */
export interface TensorFormat {
  /** NHWC (channels last) rather than NCHW. */
  readonly channelsLast: boolean;
  /** Per channel c: value = byte * scale[c] + offset[c]. */
  readonly scale: readonly number[];
  readonly offset: readonly number[];
}

/** Per channel c, the model value of byte v is lut[c * 256 + v]. */
export function tensorLut(format: TensorFormat): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const scale = format.scale[c] ?? 1;
    const offset = format.offset[c] ?? 0;
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = v * scale + offset;
  }
  return lut;
}

/** Bytes a kernel call may write past the values it was asked for (floats: 47 values; planes: 15 bytes). */
const SLACK = 48 * 4;

/**
 * Writes images of packed RGB bytes into a float tensor in a model's layout and normalisation:
 * value = byte * scale[c] + offset[c], NCHW planes unless channels last. The same floats as a
 * lookup in tensorLut, computed in WebAssembly SIMD (reduce-kernels.ts) at about 0.4 of the
 * lookup's CPU; the lookup where the runtime lacks SIMD.
 */
export class TensorWriter {
  readonly format: TensorFormat;
  /** tensorLut's table, for runtimes without SIMD. */
  readonly #lut: Float32Array;
  /** The kernels' f64 pairs of scales then offsets, for planes (one channel each) or channels last (period 6). */
  readonly #patterns: Float64Array[];

  constructor(format: TensorFormat) {
    this.format = format;
    this.#lut = tensorLut(format);
    const pairs = (channels: number[]): Float64Array =>
      Float64Array.from([...channels.map((c) => format.scale[c] ?? 1), ...channels.map((c) => format.offset[c] ?? 0)]);
    this.#patterns = format.channelsLast
      ? [pairs([0, 1, 2, 0, 1, 2])]
      : [0, 1, 2].map((c) => pairs([c, c, c, c, c, c]));
  }

  /**
   * Writes `count` images of packed HWC bytes (`plane` pixels each) into `out` as images `first`,
   * `first + 1`, ... of a batch.
   */
  write(pixels: Uint8Array, count: number, plane: number, out: Float32Array, first = 0): void {
    if (!reduceKernelsAvailable()) {
      writeTensor(pixels, count, plane, this.#lut, this.format.channelsLast, out, first);
      return;
    }
    const bytes = plane * 3;
    for (let n = 0; n < count; n++) {
      const kernels = kernelsWithMemory(align(bytes + SLACK));
      new Uint8Array(kernels.memory.buffer, 0, bytes).set(pixels.subarray(n * bytes, (n + 1) * bytes));
      this.writeFromKernels(0, plane, out, first + n);
    }
  }

  /**
   * Writes one image of packed HWC bytes that lies in the kernels' memory at `at` (a resize's
   * output) as image `index` of `out`; the memory past those bytes is scratch.
   */
  writeFromKernels(at: number, plane: number, out: Float32Array, index: number): void {
    const base = index * plane * 3;
    const patternAt = align(at + plane * 3 + SLACK);
    if (this.format.channelsLast) {
      const floatsAt = patternAt + 128;
      const kernels = kernelsWithMemory(floatsAt + plane * 12 + SLACK);
      this.#convert(kernels, at, plane * 3, floatsAt, patternAt, this.#patterns[0]!, out, base);
      return;
    }
    const stride = align(plane + SLACK);
    const planesAt = patternAt + 128;
    const floatsAt = planesAt + 3 * stride;
    const kernels = kernelsWithMemory(floatsAt + plane * 4 + SLACK);
    kernels.planes(at, plane, planesAt, stride);
    for (let c = 0; c < 3; c++) {
      this.#convert(
        kernels,
        planesAt + c * stride,
        plane,
        floatsAt,
        patternAt,
        this.#patterns[c]!,
        out,
        base + c * plane,
      );
    }
  }

  #convert(
    kernels: Exports,
    src: number,
    n: number,
    floatsAt: number,
    patternAt: number,
    pattern: Float64Array,
    out: Float32Array,
    base: number,
  ): void {
    new Float64Array(kernels.memory.buffer, patternAt, pattern.length).set(pattern);
    kernels.floats(src, n, floatsAt, patternAt);
    out.set(new Float32Array(kernels.memory.buffer, floatsAt, n), base);
  }
}

/** TensorWriter's floats by table lookup, in JavaScript: where the runtime lacks WebAssembly SIMD. */
function writeTensor(
  pixels: Uint8Array,
  count: number,
  plane: number,
  lut: Float32Array,
  channelsLast: boolean,
  out: Float32Array,
  first = 0,
): void {
  const values = count * plane * 3;
  const base = first * plane * 3;
  if (channelsLast) {
    for (let i = 0, o = base; i < values; i += 3, o += 3) {
      out[o] = lut[pixels[i]!]!;
      out[o + 1] = lut[256 + pixels[i + 1]!]!;
      out[o + 2] = lut[512 + pixels[i + 2]!]!;
    }
    return;
  }
  for (let n = 0; n < count; n++) {
    const r = base + n * plane * 3;
    const g = r + plane;
    const b = g + plane;
    for (let p = 0, q = n * plane * 3; p < plane; p++, q += 3) {
      out[r + p] = lut[pixels[q]!]!;
      out[g + p] = lut[256 + pixels[q + 1]!]!;
      out[b + p] = lut[512 + pixels[q + 2]!]!;
    }
  }
}
