/** @module Why a file under the images root was not embedded: a skip reason plus a readable detail, and the error that carries it. */
import { SKIP_REASONS, type SkipReason } from '../domain/index.js';

export interface Skip {
  readonly reason: SkipReason;
  /** The underlying message (e.g. from libvips or the file system). */
  readonly detail: string;
}

export class ImageSkipError extends Error {
  override readonly name = 'ImageSkipError';
  constructor(
    readonly skip: Skip,
    options?: { cause?: unknown },
  ) {
    super(`${SKIP_REASONS[skip.reason]}: ${skip.detail}`, options);
  }
}
