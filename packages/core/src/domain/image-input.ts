/** @module How images are prepared for a model: the size and resizing an embedder asks the image decoder for. */

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
