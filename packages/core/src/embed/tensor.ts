/**
 * @module Model-ready float32 tensors from decoded RGB bytes: the layout a model takes (NCHW or
 * NHWC) and its rescale and normalisation, one table lookup per value. The embed pipeline's decode
 * workers write them; an embedder given bytes writes them the same way.
 */

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

/**
 * Writes `count` images of packed HWC bytes (`plane` pixels each) into `out` as images `first`,
 * `first + 1`, ... of a batch in the model's layout.
 */
export function writeTensor(
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
