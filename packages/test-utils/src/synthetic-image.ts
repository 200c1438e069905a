/** @module Image rows with no file behind them, for tests and benchmarks that fill a store directly. */
import type { NewImage } from '@autolabel/core';

/** An image row with no file behind it (scan never sees it; imports and the server only look it up). */
export function syntheticImage(path: string, index: number): NewImage {
  return {
    path,
    contentHash: `hash-${index}`,
    size: 1000,
    mtimeMs: 1,
    width: 32,
    height: 32,
    format: 'jpeg',
    skipReason: null,
    skipDetail: null,
  };
}
