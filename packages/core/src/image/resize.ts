/**
 * @module Resizing packed RGB to a model's input in JavaScript, where it is cheaper than libvips:
 * bilinear upscaling of images smaller than the input, and sharp's linear downscale (libvips'
 * reduce) reproduced to the rounding. Each writes bytes, or straight into a model's float tensor
 * through a lookup table (the same bytes, looked up), saving a pass over the image.
 */

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

/** The horizontal pass over the source rows: sh rows of dw RGB values, unrounded. */
function horizontalPass(src: Uint8Array, sw: number, sh: number, dw: number): Float32Array {
  const xs = taps(sw, dw);
  const rows = new Float32Array(sh * dw * 3);
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
 * resizeBilinearRgb's bytes, written as image `at` of a float tensor: value = lut[c * 256 + byte],
 * planar (NCHW) unless `channelsLast`.
 */
export function resizeBilinearTensor(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  lut: Float32Array,
  channelsLast: boolean,
  out: Float32Array,
  at: number,
): void {
  const rows = horizontalPass(src, sw, sh, dw);
  const ys = taps(sh, dh);
  const stride = dw * 3;
  const plane = dw * dh;
  const base = at * plane * 3;
  // Where channel c of pixel p goes: base + p * step + c * gap.
  const step = channelsLast ? 3 : 1;
  const gap = channelsLast ? 1 : plane;
  for (let y = 0; y < dh; y++) {
    const top = ys.lo[y]! * stride;
    const bottom = ys.hi[y]! * stride;
    const w = ys.weight[y]!;
    for (let x = 0, i = 0, o = base + y * dw * step; x < dw; x++, i += 3, o += step) {
      // As resizeBilinearRgb rounds into a byte (the value is in [0.5, 255.5]), then the lookup.
      const r = rows[top + i]!;
      const g = rows[top + i + 1]!;
      const b = rows[top + i + 2]!;
      out[o] = lut[(r + (rows[bottom + i]! - r) * w + 0.5) | 0]!;
      out[o + gap] = lut[256 + ((g + (rows[bottom + i + 1]! - g) * w + 0.5) | 0)]!;
      out[o + 2 * gap] = lut[512 + ((b + (rows[bottom + i + 2]! - b) * w + 0.5) | 0)]!;
    }
  }
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

/** The vertical reduce: sh rows of sw RGB pixels to dh rows, rounded to bytes. */
function reduceRows(src: Uint8Array, sw: number, sh: number, dh: number): Uint8Array {
  const { n, index, weight } = reduceTaps(sh, dh);
  const stride = sw * 3;
  const out = new Uint8Array(stride * dh);
  for (let y = 0, k = 0; y < dh; y++, k += n) {
    const o = y * stride;
    // The common masks unrolled (factors below 1.5 take 3 taps, below 2.5 take 5).
    if (n === 3) {
      const a = index[k]! * stride - o;
      const b = index[k + 1]! * stride - o;
      const c = index[k + 2]! * stride - o;
      const wa = weight[k]!;
      const wb = weight[k + 1]!;
      const wc = weight[k + 2]!;
      for (let i = o, end = o + stride; i < end; i++) {
        out[i] = (HALF + wa * src[a + i]! + wb * src[b + i]! + wc * src[c + i]!) >> SHIFT;
      }
    } else if (n === 5) {
      const a = index[k]! * stride - o;
      const b = index[k + 1]! * stride - o;
      const c = index[k + 2]! * stride - o;
      const d = index[k + 3]! * stride - o;
      const e = index[k + 4]! * stride - o;
      const wa = weight[k]!;
      const wb = weight[k + 1]!;
      const wc = weight[k + 2]!;
      const wd = weight[k + 3]!;
      const we = weight[k + 4]!;
      for (let i = o, end = o + stride; i < end; i++) {
        out[i] =
          (HALF + wa * src[a + i]! + wb * src[b + i]! + wc * src[c + i]! + wd * src[d + i]! + we * src[e + i]!) >>
          SHIFT;
      }
    } else {
      for (let i = 0; i < stride; i++) {
        let sum = HALF;
        for (let t = 0; t < n; t++) sum += weight[k + t]! * src[index[k + t]! * stride + i]!;
        out[o + i] = sum >> SHIFT;
      }
    }
  }
  return out;
}

/** The horizontal reduce: sh rows of sw RGB pixels to dw pixels each, rounded to bytes. */
function reduceColumns(src: Uint8Array, sw: number, sh: number, dw: number): Uint8Array {
  const { n, index, weight } = reduceTaps(sw, dw);
  for (let i = 0; i < index.length; i++) index[i] = index[i]! * 3;
  const out = new Uint8Array(dw * sh * 3);
  for (let y = 0; y < sh; y++) {
    const row = y * sw * 3;
    let o = y * dw * 3;
    if (n === 3) {
      for (let k = 0, end = dw * 3; k < end; k += 3, o += 3) {
        const a = row + index[k]!;
        const b = row + index[k + 1]!;
        const c = row + index[k + 2]!;
        const wa = weight[k]!;
        const wb = weight[k + 1]!;
        const wc = weight[k + 2]!;
        out[o] = (HALF + wa * src[a]! + wb * src[b]! + wc * src[c]!) >> SHIFT;
        out[o + 1] = (HALF + wa * src[a + 1]! + wb * src[b + 1]! + wc * src[c + 1]!) >> SHIFT;
        out[o + 2] = (HALF + wa * src[a + 2]! + wb * src[b + 2]! + wc * src[c + 2]!) >> SHIFT;
      }
    } else if (n === 5) {
      for (let k = 0, end = dw * 5; k < end; k += 5, o += 3) {
        const a = row + index[k]!;
        const b = row + index[k + 1]!;
        const c = row + index[k + 2]!;
        const d = row + index[k + 3]!;
        const e = row + index[k + 4]!;
        const wa = weight[k]!;
        const wb = weight[k + 1]!;
        const wc = weight[k + 2]!;
        const wd = weight[k + 3]!;
        const we = weight[k + 4]!;
        for (let ch = 0; ch < 3; ch++) {
          out[o + ch] =
            (HALF +
              wa * src[a + ch]! +
              wb * src[b + ch]! +
              wc * src[c + ch]! +
              wd * src[d + ch]! +
              we * src[e + ch]!) >>
            SHIFT;
        }
      }
    } else {
      for (let x = 0, k = 0; x < dw; x++, k += n, o += 3) {
        let r = HALF;
        let g = HALF;
        let b = HALF;
        for (let t = 0; t < n; t++) {
          const p = row + index[k + t]!;
          const w = weight[k + t]!;
          r += w * src[p]!;
          g += w * src[p + 1]!;
          b += w * src[p + 2]!;
        }
        out[o] = r >> SHIFT;
        out[o + 1] = g >> SHIFT;
        out[o + 2] = b >> SHIFT;
      }
    }
  }
  return out;
}

/**
 * libvips' bilinear affine where vips_resize enlarges an axis and reduces (or keeps) the other:
 * source position o / scale - 0.5 on each axis (so a kept axis moves half a pixel: libvips' own
 * offset), float32 weights truncated to 12 bits, one rounding for the four taps.
 */
function affineBilinear(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const f = Math.fround;
  const out = new Uint8Array(dw * dh * 3);
  const xs = 1 / (dw / sw);
  const ys = 1 / (dh / sh);
  const x0 = new Int32Array(dw);
  const x1 = new Int32Array(dw);
  const fx = new Float32Array(dw);
  for (let x = 0; x < dw; x++) {
    const at = x * xs - 0.5;
    const i = Math.floor(at);
    fx[x] = at - i;
    x0[x] = Math.min(Math.max(i, 0), sw - 1) * 3;
    x1[x] = Math.min(Math.max(i + 1, 0), sw - 1) * 3;
  }
  for (let y = 0; y < dh; y++) {
    const at = y * ys - 0.5;
    const i = Math.floor(at);
    const fy = f(at - i);
    const top = Math.min(Math.max(i, 0), sh - 1) * sw * 3;
    const bottom = Math.min(Math.max(i + 1, 0), sh - 1) * sw * 3;
    const yd = f(1 - fy);
    for (let x = 0, o = y * dw * 3; x < dw; x++, o += 3) {
      const X = fx[x]!;
      const c4 = f(fy * X);
      const c2 = f(yd * X);
      const c3 = f(fy - c4);
      const c1 = f(yd - c2);
      const s1 = (ONE * c1) | 0;
      const s2 = (ONE * c2) | 0;
      const s3 = (ONE * c3) | 0;
      const s4 = (ONE * c4) | 0;
      const p1 = top + x0[x]!;
      const p2 = top + x1[x]!;
      const p3 = bottom + x0[x]!;
      const p4 = bottom + x1[x]!;
      for (let c = 0; c < 3; c++) {
        out[o + c] = (s1 * src[p1 + c]! + s2 * src[p2 + c]! + s3 * src[p3 + c]! + s4 * src[p4 + c]! + HALF) >> SHIFT;
      }
    }
  }
  return out;
}

/**
 * sharp's `resize(dw, dh, { fit: 'fill', kernel: 'linear' })` of decoded RGB, byte for byte where
 * libvips does no integer pre-shrink (resizesLinearInJs): an axis reduced, neither by a factor of 4
 * or more (vips_resize's gap of 2), the other reduced, kept or enlarged.
 */
export function resizeLinearRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  let pixels = src;
  let w = sw;
  let h = sh;
  if (h > dh) {
    pixels = reduceRows(pixels, w, h, dh);
    h = dh;
  }
  if (w > dw) {
    pixels = reduceColumns(pixels, w, h, dw);
    w = dw;
  }
  if (w === dw && h === dh) return pixels;
  return affineBilinear(pixels, w, h, dw, dh);
}

/** resizeLinearRgb's bytes, written as image `at` of a float tensor as resizeBilinearTensor writes its own. */
export function resizeLinearTensor(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  lut: Float32Array,
  channelsLast: boolean,
  out: Float32Array,
  at: number,
): void {
  const rgb = resizeLinearRgb(src, sw, sh, dw, dh);
  const plane = dw * dh;
  const base = at * plane * 3;
  const step = channelsLast ? 3 : 1;
  const gap = channelsLast ? 1 : plane;
  for (let p = 0, i = 0, o = base; p < plane; p++, i += 3, o += step) {
    out[o] = lut[rgb[i]!]!;
    out[o + gap] = lut[256 + rgb[i + 1]!]!;
    out[o + 2 * gap] = lut[512 + rgb[i + 2]!]!;
  }
}

/** Whether resizeLinearRgb reproduces sharp for this resize (see there): an axis shrinks, neither by 4 or more. */
export function resizesLinearInJs(sw: number, sh: number, dw: number, dh: number): boolean {
  return (sw > dw || sh > dh) && sw < 4 * dw && sh < 4 * dh;
}
