/**
 * @module Resizing packed RGB to a model's input here rather than in libvips, where that is
 * cheaper: bilinear upscaling of images smaller than the input, and sharp's linear downscale
 * reproduced to the rounding (libvips' reduce; its inner loops in WebAssembly, reduce-kernels.ts).
 * Each writes bytes, or a model's float tensor through a TensorWriter (tensor.ts: the same bytes,
 * as the model's floats), without the bytes leaving WebAssembly memory.
 */
import type { TensorWriter } from './tensor.js';
import { alignKernelAddress, kernelsWithMemory, reduceKernelsAvailable } from './reduce-kernels.js';

/** Source coordinate taps for each output position: half-pixel centres, clamped at the edges (as PIL's bilinear). */
function taps(source: number, target: number): { lo: Int32Array; hi: Int32Array; weight: Float32Array } {
  const lo = new Int32Array(target);
  const hi = new Int32Array(target);
  const weight = new Float32Array(target);
  const scale = source / target;
  for (let i = 0; i < target; i++) {
    const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), source - 1);
    const floor = Math.floor(at);
    lo[i] = floor;
    hi[i] = Math.min(floor + 1, source - 1);
    weight[i] = at - floor;
  }
  return { lo, hi, weight };
}

/** The horizontal pass over the source rows: sh rows of dw RGB values, unrounded (into `rows` when given). */
function horizontalPass(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  rows = new Float32Array(sh * dw * 3),
): Float32Array {
  const xs = taps(sw, dw);
  for (let y = 0; y < sh; y++) {
    const srcRow = y * sw * 3;
    const outRow = y * dw * 3;
    for (let x = 0; x < dw; x++) {
      const a = srcRow + xs.lo[x]! * 3;
      const b = srcRow + xs.hi[x]! * 3;
      const w = xs.weight[x]!;
      const o = outRow + x * 3;
      rows[o] = src[a]! + (src[b]! - src[a]!) * w;
      rows[o + 1] = src[a + 1]! + (src[b + 1]! - src[a + 1]!) * w;
      rows[o + 2] = src[a + 2]! + (src[b + 2]! - src[a + 2]!) * w;
    }
  }
  return rows;
}

/** Resizes `src` (sw x sh, RGB) to dw x dh with bilinear interpolation; meant for upscaling (no antialiasing). */
export function resizeBilinearRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  return reduceKernelsAvailable()
    ? resizeBilinearView(src, sw, sh, dw, dh).slice()
    : resizeBilinearScalar(src, sw, sh, dw, dh);
}

/** @internal resizeBilinearRgb in JavaScript alone: where the runtime lacks WebAssembly SIMD (and for tests). */
export function resizeBilinearScalar(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  // Horizontal pass over the source rows, then vertical pass: each output value costs two taps per pass.
  const rows = horizontalPass(src, sw, sh, dw);
  const ys = taps(sh, dh);
  const out = new Uint8Array(dw * dh * 3);
  const stride = dw * 3;
  for (let y = 0; y < dh; y++) {
    const top = ys.lo[y]! * stride;
    const bottom = ys.hi[y]! * stride;
    const w = ys.weight[y]!;
    const o = y * stride;
    for (let i = 0; i < stride; i++) {
      const t = rows[top + i]!;
      // Uint8Array assignment truncates: add 0.5 to round.
      out[o + i] = t + (rows[bottom + i]! - t) * w + 0.5;
    }
  }
  return out;
}

/**
 * resizeBilinearRgb's bytes in the kernels' memory (valid until their next call): the horizontal
 * pass here, the vertical one (most of the work: dh rows, not sh) in WebAssembly, the same values.
 */
function resizeBilinearView(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const stride = dw * 3;
  const rowsAt = 0;
  const outAt = alignKernelAddress(rowsAt + sh * stride * 4 + 64);
  const kernels = kernelsWithMemory(outAt + dh * stride + 64);
  horizontalPass(src, sw, sh, dw, new Float32Array(kernels.memory.buffer, rowsAt, sh * stride));
  const ys = taps(sh, dh);
  for (let y = 0; y < dh; y++) {
    const top = rowsAt + ys.lo[y]! * stride * 4;
    const bottom = rowsAt + ys.hi[y]! * stride * 4;
    kernels.lerp(top, bottom, ys.weight[y]!, outAt + y * stride, stride);
  }
  return new Uint8Array(kernels.memory.buffer, outAt, dh * stride);
}

/** resizeBilinearRgb's bytes, written as image `at` of a float tensor by `writer`. */
export function resizeBilinearTensor(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  writer: TensorWriter,
  out: Float32Array,
  at: number,
): void {
  if (!reduceKernelsAvailable()) {
    writer.write(resizeBilinearScalar(src, sw, sh, dw, dh), 1, dw * dh, out, at);
    return;
  }
  const rgb = resizeBilinearView(src, sw, sh, dw, dh);
  writer.writeFromKernels(rgb.byteOffset, dw * dh, out, at);
}

// libvips' linear resize, as sharp runs it for `fit: 'fill', kernel: 'linear'` (vips_resize: a
// vertical then a horizontal reduce, then a bilinear affine where an axis grows). The constants and
// rounding are libvips' (resample/reducev.cpp, reduceh.cpp, templates.h, interpolate.c): mask
// positions in 1/64 pixel, weights in 1/4096 truncated, each pass rounded to a byte.

/** VIPS_TRANSFORM_SCALE: a reduce mask is tabulated for source positions in steps of 1/64 pixel. */
const MASK_STEPS = 64;
/** VIPS_INTERPOLATE_SHIFT: weights are fixed point with 12 fractional bits. */
const SHIFT = 12;
const ONE = 1 << SHIFT;
const HALF = ONE >> 1;

/** C's rint(): halves go to the even neighbour. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One axis of libvips' reduce with the triangle (linear) kernel widened by the factor: for each
 * output position, `n` source indices (clamped at the edges, as vips_embed's copy extension) and
 * their fixed-point weights.
 */
function reduceTaps(source: number, target: number): { n: number; index: Int32Array; weight: Int32Array } {
  // The factor as libvips sees it: sharp passes a scale of 1 / (source / target), and reduce inverts it.
  const shrink = 1 / (1 / (source / target));
  const n = 2 * rint(shrink) + 1;
  const half = (n - 1) / 2;
  const offset = (1 + (target * shrink - source)) / 2 - 1;
  const index = new Int32Array(target * n);
  const weight = new Int32Array(target * n);
  const mask = new Float64Array(n);
  for (let o = 0; o < target; o++) {
    const at = (o + 0.5) * shrink - 0.5 - offset;
    const first = Math.trunc(at);
    // The position snapped to the mask table (ty in reducev.cpp), 0..64 sixty-fourths.
    const x = ((((at * MASK_STEPS * 2) | 0) & (MASK_STEPS * 2 - 1)) + 1) >> 1;
    const centre = x / MASK_STEPS + n / 2 - 1;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs((i - centre) / shrink);
      mask[i] = d < 1 ? 1 - d : 0;
      sum += mask[i]!;
    }
    for (let i = 0; i < n; i++) {
      weight[o * n + i] = Math.trunc((mask[i]! / sum) * ONE);
      index[o * n + i] = Math.min(Math.max(first - half + i, 0), source - 1);
    }
  }
  return { n, index, weight };
}

/** Writes taps as the kernels read them: i32 pairs (address or offset, weight) from `at`. */
function writeTaps(
  memory: ArrayBuffer,
  at: number,
  index: Int32Array,
  weight: Int32Array,
  address: (i: number) => number,
): void {
  const pairs = new Int32Array(memory, at, index.length * 2);
  for (let i = 0; i < index.length; i++) {
    pairs[2 * i] = address(index[i]!);
    pairs[2 * i + 1] = weight[i]!;
  }
}

/**
 * libvips' bilinear weights (interpolate.c: float32, truncated to 12 bits) of the four taps
 * (x0y0, x1y0, x0y1, x1y1) at fractions X, Y.
 */
function bilinearWeights(X: number, Y: number): [number, number, number, number] {
  const f = Math.fround;
  const x = f(X);
  const y = f(Y);
  const yd = f(1 - y);
  const c4 = f(y * x);
  const c2 = f(yd * x);
  const c3 = f(y - c4);
  const c1 = f(yd - c2);
  return [(ONE * c1) | 0, (ONE * c2) | 0, (ONE * c3) | 0, (ONE * c4) | 0];
}

/**
 * sharp's `resize(dw, dh, { fit: 'fill', kernel: 'linear' })` of decoded RGB, byte for byte where
 * libvips does no integer pre-shrink (resizesLinearInJs): vips_resize's vertical reduce, its
 * horizontal reduce, then where an axis grows its bilinear affine, which samples the source at
 * o / scale - 0.5 on each axis (so the axis it keeps moves half a pixel: libvips' own offset).
 * Every pass rounds to bytes, as libvips' do; the loops run in WebAssembly memory.
 */
export function resizeLinearRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  return resizeLinearView(src, sw, sh, dw, dh).slice();
}

/** resizeLinearRgb's bytes as a view of the kernels' memory, valid until their next call. */
function resizeLinearView(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const w = Math.min(sw, dw);
  const h = Math.min(sh, dh);
  const vertical = h < sh ? reduceTaps(sh, h) : null;
  const horizontal = w < sw ? reduceTaps(sw, w) : null;
  // Layout: taps, then the source and each pass's bytes, with slack around each.
  const verticalAt = 0;
  const horizontalAt = verticalAt + (vertical?.index.length ?? 0) * 8;
  const affineAt = horizontalAt + (horizontal?.index.length ?? 0) * 8;
  const srcAt = affineAt + 2 * 4 * 8 * dw + 32;
  const midAt = srcAt + src.length + 32;
  const reducedAt = midAt + sw * h * 3 + 32;
  const outAt = reducedAt + w * h * 3 + 32;
  const end = outAt + dw * dh * 3 + 32;
  const kernels = kernelsWithMemory(end);
  const memory = kernels.memory.buffer;
  new Uint8Array(memory, srcAt, src.length).set(src);

  let at = srcAt;
  if (vertical) {
    const stride = sw * 3;
    writeTaps(memory, verticalAt, vertical.index, vertical.weight, (row) => srcAt + row * stride);
    for (let y = 0; y < h; y++) kernels.rows(verticalAt + y * vertical.n * 8, vertical.n, midAt + y * stride, stride);
    at = midAt;
  }
  if (horizontal) {
    writeTaps(memory, horizontalAt, horizontal.index, horizontal.weight, (column) => column * 3);
    kernels.cols(horizontalAt, horizontal.n, at, sw * 3, h, w, reducedAt);
    at = reducedAt;
  }
  if (w === dw && h === dh) return new Uint8Array(memory, at, dw * dh * 3);

  const stride = w * 3;
  const taps = new Int32Array(memory, affineAt, 2 * 4 * 2 * dw);
  if (w === dw) {
    // Rows grow, columns are kept: an output row mixes two source rows, each at columns x - 1 and
    // x (the half pixel), with one set of weights.
    const scale = 1 / (dh / h);
    const out = new Uint8Array(memory, outAt, dw * dh * 3);
    const source = new Uint8Array(memory, at, stride * h);
    for (let y = 0; y < dh; y++) {
      const position = y * scale - 0.5;
      const i = Math.floor(position);
      const top = Math.min(Math.max(i, 0), h - 1) * stride;
      const bottom = Math.min(Math.max(i + 1, 0), h - 1) * stride;
      const [s1, s2, s3, s4] = bilinearWeights(0.5, position - i);
      taps.set([at + top - 3, s1, at + top, s2, at + bottom - 3, s3, at + bottom, s4]);
      kernels.rows(affineAt, 4, outAt + y * stride, stride);
      // Column 0's left tap is column 0 itself (libvips extends the edge), not the byte before it.
      for (let c = 0; c < 3; c++) {
        out[y * stride + c] = ((s1 + s2) * source[top + c]! + (s3 + s4) * source[bottom + c]! + HALF) >> SHIFT;
      }
    }
  } else {
    // Columns grow, rows are kept: output row y mixes source rows y - 1 and y (the half pixel) with
    // weights by column; row 0's two rows are both row 0.
    const scale = 1 / (dw / w);
    for (let x = 0; x < dw; x++) {
      const position = x * scale - 0.5;
      const i = Math.floor(position);
      const x0 = Math.min(Math.max(i, 0), w - 1) * 3;
      const x1 = Math.min(Math.max(i + 1, 0), w - 1) * 3;
      const [s1, s2, s3, s4] = bilinearWeights(position - i, 0.5);
      taps.set([x0, s1, x1, s2, x0, s3, x1, s4], x * 8);
      taps.set([x0, s1, x1, s2, stride + x0, s3, stride + x1, s4], (dw + x) * 8);
    }
    kernels.cols(affineAt, 4, at, stride, 1, dw, outAt);
    if (dh > 1) kernels.cols(affineAt + dw * 32, 4, at, stride, dh - 1, dw, outAt + dw * 3);
  }
  return new Uint8Array(memory, outAt, dw * dh * 3);
}

/** resizeLinearRgb's bytes, written as image `at` of a float tensor by `writer`, without leaving the kernels' memory. */
export function resizeLinearTensor(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  writer: TensorWriter,
  out: Float32Array,
  at: number,
): void {
  const rgb = resizeLinearView(src, sw, sh, dw, dh);
  writer.writeFromKernels(rgb.byteOffset, dw * dh, out, at);
}

/** Whether resizeLinearRgb reproduces sharp for this resize (see there): an axis shrinks, neither by 4 or more. */
export function resizesLinearInJs(sw: number, sh: number, dw: number, dh: number): boolean {
  return (sw > dw || sh > dh) && sw < 4 * dw && sh < 4 * dh && reduceKernelsAvailable();
}
