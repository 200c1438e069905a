/** @module The Embedder port: turns batches of decoded RGB images into feature vectors. */
import type { ImageInputSpec } from '../domain/index.js';

/**
 * A loaded model. `embed` takes `count` images packed as uint8 RGB, row-major HWC,
 * each `width * height * 3` bytes, and returns `count * dim` float32 values, row-major.
 */
export interface Embedder {
  /** Stable identity of the model and its preprocessing: the key embeddings are stored under. */
  readonly modelId: string;
  /** Human-readable name, e.g. the spec it was loaded from. */
  readonly name: string;
  readonly dim: number;
  readonly input: ImageInputSpec;
  /** Preferred number of images per `embed` call. */
  readonly batchSize: number;
  embed(pixels: Uint8Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}
