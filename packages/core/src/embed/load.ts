/** @module Loading an Embedder from a model spec, and fetching a hub model ahead of use. */
import { resolve } from 'node:path';
import { formatModelSpec } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import { ensureHfModel, type HfSnapshot, hubSettings, type HubOptions, type ModelPart } from '../models/index.js';
import type { ProgressListener } from '../util/progress.js';
import type { Embedder } from './embedder.js';
import { parseModelSpec } from './spec.js';

export interface LoadEmbedderOptions {
  /** Folder that relative onnx paths are resolved from. */
  readonly baseDir?: string;
  /**
   * Threads (onnx, hf) or worker processes (builtin); all cores by default (a light onnx model:
   * all but a core in four, left to decoding; see backends/onnx.ts).
   */
  readonly threads?: number;
  readonly batchSize?: number;
  /** hf: models: the cache and the hub (defaults from the environment). */
  readonly hub?: HubOptions;
  /** hf: models: download progress in bytes, when the model is not cached yet. */
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export async function loadEmbedder(spec: string, options: LoadEmbedderOptions = {}): Promise<Embedder> {
  const parsed = parseModelSpec(spec);
  // Backends load their runtimes (onnxruntime, tfjs, transformers.js) only when a model of theirs is asked for.
  if (parsed.kind === 'onnx') {
    const { loadOnnxEmbedder } = await import('./backends/onnx.js');
    return loadOnnxEmbedder(resolve(options.baseDir ?? process.cwd(), parsed.path), options);
  }
  if (parsed.kind === 'hf') {
    const { loadHfEmbedder } = await import('./backends/hf.js');
    return loadHfEmbedder(parsed, options);
  }
  const { loadBuiltinEmbedder } = await import('./backends/tfjs.js');
  return loadBuiltinEmbedder(parsed.name, options);
}

export interface PullOptions {
  readonly hub?: HubOptions;
  /** Also the text tower and its tokenizer (zero-shot from class names). Default: the image tower only. */
  readonly text?: boolean;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** Downloads a hub model into the cache (nothing when it is there already); other specs need no download. */
export async function pullModel(spec: string, options: PullOptions = {}): Promise<HfSnapshot> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind !== 'hf') {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `${formatModelSpec(parsed)} is not downloaded: only hf: models come from a hub (onnx: is a local folder, builtin: ships with Autolabel)`,
    );
  }
  const parts: ModelPart[] = options.text ? ['image', 'text'] : ['image'];
  return ensureHfModel(parsed, hubSettings(options.hub), {
    parts,
    onProgress: options.onProgress,
    signal: options.signal,
  });
}
