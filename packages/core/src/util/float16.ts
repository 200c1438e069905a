/** @module IEEE 754 half-precision packing for compact embedding storage (Node 20 has no Float16Array). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> 0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    if ((mant >>> (shift - 1)) & 1 && (half & 1 || mant & ((1 << (shift - 1)) - 1))) half++;
    return sign | half;
  }
  // Round to nearest even.
  let half = sign | (e << 10) | (mant >>> 13);
  if (mant & 0x1000 && (half & 1 || mant & 0xfff)) half++;
  return half;
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]!);
  return out;
}

export function float16ToFloat32(
  values: Uint16Array,
  out: Float32Array = new Float32Array(values.length),
  offset = 0,
): Float32Array {
  const table = halfTable();
  for (let i = 0; i < values.length; i++) out[offset + i] = table[values[i]!]!;
  return out;
}

let table: Float32Array | undefined;

/** Every half-precision value as float32, built on first use (256 KiB): a lookup per value instead of arithmetic. */
function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = fromHalf(h);
  }
  return table;
}
