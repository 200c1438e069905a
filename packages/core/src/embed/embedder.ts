/** @module The Embedder port: turns batches of decoded RGB images into feature vectors. */

/** How images are prepared for a model: decoded to RGB, resized, then normalised by the embedder. */
export interface ImageInputSpec {
  /** Model input width and height in pixels. */
  readonly width: number;
  readonly height: number;
  /** How the decoded image is fit into width x height (sharp semantics). */
  readonly fit: 'fill' | 'cover' | 'contain';
  /** sharp resize kernel. */
  readonly kernel: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
}

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
