/** @module Loading an Embedder from a model spec. */
import { resolve } from 'node:path';
import type { Embedder } from './embedder.js';
import { parseModelSpec } from './spec.js';

export interface LoadEmbedderOptions {
  /** Folder that relative onnx paths are resolved from. */
  readonly baseDir?: string;
  /** Threads (onnx) or worker processes (builtin); all cores by default. */
  readonly threads?: number;
  readonly batchSize?: number;
}

export async function loadEmbedder(spec: string, options: LoadEmbedderOptions = {}): Promise<Embedder> {
  const parsed = parseModelSpec(spec);
  // Backends load their runtimes (onnxruntime, tfjs) only when a model of theirs is asked for.
  if (parsed.kind === 'onnx') {
    const { loadOnnxEmbedder } = await import('./backends/onnx.js');
    return loadOnnxEmbedder(resolve(options.baseDir ?? process.cwd(), parsed.path), options);
  }
  const { loadBuiltinEmbedder } = await import('./backends/tfjs.js');
  return loadBuiltinEmbedder(parsed.name, options);
}
