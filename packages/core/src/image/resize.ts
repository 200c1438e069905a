/** @module Bilinear upscaling of packed RGB in JavaScript: for images smaller than the model input it is several times cheaper than libvips' affine path. */

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

/** Resizes `src` (sw x sh, RGB) to dw x dh with bilinear interpolation; meant for upscaling (no antialiasing). */
export function resizeBilinearRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const xs = taps(sw, dw);
  const ys = taps(sh, dh);
  // Horizontal pass over the source rows, then vertical pass: each output value costs two taps per pass.
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
