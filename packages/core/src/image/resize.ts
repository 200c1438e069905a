/**
 * @module Bilinear upscaling of packed RGB in JavaScript: for images smaller than the model input it
 * is several times cheaper than libvips' affine path. It writes bytes, or straight into a model's
 * float tensor through a lookup table (the same bytes, looked up), saving a pass over the image.
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
