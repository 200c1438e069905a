/**
 * @module Filling one batch buffer with decoded images: read a file, decode and resize it to the
 * model's input, and write it into its slot as the model takes it (float32 tensor or RGB bytes).
 * A decode worker (decode-worker.ts) runs one; a small job runs one in-process.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageInputSpec } from '../domain/index.js';
import { messageOf } from '../errors.js';
import { type DecodedRgb, decodeRgbForResize } from '../image/decode.js';
import { resizeBilinearRgb, resizeBilinearTensor, resizeLinearRgb, resizeLinearTensor } from '../image/resize.js';
import { ImageSkipError, type Skip } from '../image/skip.js';
import { type TensorFormat, TensorWriter } from '../image/tensor.js';

/** What a batch buffer holds per image: the model's float32 tensor, or packed RGB bytes (HWC). */
export type BatchLayout = { readonly kind: 'tensor'; readonly format: TensorFormat } | { readonly kind: 'bytes' };

export interface BatchDecoderConfig {
  readonly imagesRoot: string;
  readonly input: ImageInputSpec;
  readonly maxPixels: number;
  readonly layout: BatchLayout;
}

/** One image to decode: its path under the images root and the size recorded at scan time. */
export interface DecodeItem {
  readonly path: string;
  readonly width: number | null;
  readonly height: number | null;
}

/** Bytes a batch of `count` images takes in `layout`. */
export function batchBytes(config: BatchDecoderConfig, count: number): number {
  const values = count * config.input.width * config.input.height * 3;
  return config.layout.kind === 'tensor' ? values * Float32Array.BYTES_PER_ELEMENT : values;
}

export class BatchDecoder {
  readonly #config: BatchDecoderConfig;
  readonly #plane: number;
  readonly #writer: TensorWriter | null;
  readonly #buffers = new Map<number, ArrayBuffer>();
  readonly #blockingReads: boolean;

  /**
   * `blockingReads`: read files synchronously: a small file costs a few microseconds that way,
   * against a tenth of a millisecond and more through fs/promises' four round trips on libuv's
   * threads, which sharp's decodes hold (0.026 against 0.088 CPU-ms a 30 kB photo, 2-core VM).
   * Decode workers do, and so does the main thread's lane: while it reads, the model runs in its
   * own thread and libvips goes on with the images already handed to it.
   */
  constructor(config: BatchDecoderConfig, options: { readonly blockingReads?: boolean } = {}) {
    this.#config = config;
    this.#blockingReads = options.blockingReads ?? false;
    this.#plane = config.input.width * config.input.height;
    this.#writer = config.layout.kind === 'tensor' ? new TensorWriter(config.layout.format) : null;
  }

  /** Takes `buffer` to fill as batch `batch`. */
  begin(batch: number, buffer: ArrayBuffer): void {
    this.#buffers.set(batch, buffer);
  }

  /** Decodes `item` into slot `slot` of batch `batch`; a file that cannot be used is a Skip, not an error. */
  async decode(batch: number, slot: number, item: DecodeItem): Promise<Skip | null> {
    let decoded: DecodedRgb;
    try {
      const path = join(this.#config.imagesRoot, item.path);
      const data = this.#blockingReads ? readFileSync(path) : await readFile(path);
      decoded = await decodeRgbForResize(data, this.#config.input, { maxPixels: this.#config.maxPixels }, item);
    } catch (error) {
      if (error instanceof ImageSkipError) return error.skip;
      return { reason: 'unreadable', detail: messageOf(error) };
    }
    const buffer = this.#buffer(batch);
    const { width, height } = this.#config.input;
    const { pixels, width: w, height: h } = decoded;
    const sized = w === width && h === height;
    const up = w <= width && h <= height;
    if (this.#writer) {
      const out = new Float32Array(buffer);
      // An image JavaScript resizes is resized straight into the tensor: decodeRgb's bytes, written.
      if (sized) this.#writer.write(pixels, 1, this.#plane, out, slot);
      else if (up) resizeBilinearTensor(pixels, w, h, width, height, this.#writer, out, slot);
      else resizeLinearTensor(pixels, w, h, width, height, this.#writer, out, slot);
    } else {
      const rgb = sized
        ? pixels
        : up
          ? resizeBilinearRgb(pixels, w, h, width, height)
          : resizeLinearRgb(pixels, w, h, width, height);
      new Uint8Array(buffer).set(rgb, slot * this.#plane * 3);
    }
    return null;
  }

  /**
   * Ends batch `batch` and hands its buffer back with the images of `slots` (ascending) moved to
   * the front, in that order: slots freed by failed images leave no gaps.
   */
  seal(batch: number, slots: readonly number[]): ArrayBuffer {
    const buffer = this.#buffer(batch);
    this.#buffers.delete(batch);
    const values = this.#plane * 3;
    const view = this.#writer ? new Float32Array(buffer) : new Uint8Array(buffer);
    slots.forEach((slot, i) => {
      if (slot !== i) view.copyWithin(i * values, slot * values, (slot + 1) * values);
    });
    return buffer;
  }

  #buffer(batch: number): ArrayBuffer {
    const buffer = this.#buffers.get(batch);
    if (!buffer) throw new Error(`batch ${batch} was not begun`);
    return buffer;
  }
}
