/** @module The Embedder port: turns batches of decoded RGB images into feature vectors. */
import type { ImageInputSpec } from '../domain/index.js';
import type { TensorFormat } from '../image/tensor.js';

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

/**
 * An embedder that also takes model-ready float32 tensors, so the embed pipeline's decode workers
 * can write them and the model's thread only runs the model.
 */
export interface TensorEmbedder extends Embedder {
  readonly tensorFormat: TensorFormat;
  /**
   * Runs the first `count` images of `tensor` (laid out as `tensorFormat` says). Its buffer is
   * transferred to the model and handed back with the features, to be filled again.
   */
  embedTensor(tensor: Float32Array, count: number): Promise<{ features: Float32Array; tensor: Float32Array }>;
}

export function takesTensors(embedder: Embedder): embedder is TensorEmbedder {
  return 'embedTensor' in embedder && 'tensorFormat' in embedder;
}
