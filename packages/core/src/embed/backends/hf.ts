/**
 * @module Hugging Face hub image models (`hf:REPO[@REVISION][:DTYPE]`): DINOv2, CLIP, SigLIP,
 * MobileCLIP image towers and the like, run by transformers.js on onnxruntime-node (CPU) in a
 * worker thread. The files come from the model cache (models/), downloaded first if missing;
 * images are resized and normalised here as the repository's preprocessor_config.json says, the
 * same way as for onnx: folders.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatModelSpec, type HfModelSpec } from '../../domain/index.js';
import { ensureHfModel, hubSettings, type HubOptions } from '../../models/index.js';
import { sha256 } from '../../util/hash.js';
import { readJsonFile } from '../../util/json.js';
import type { ProgressListener } from '../../util/progress.js';
import { inputSpecOf, normalisationOf, preprocessorConfigSchema } from '../preprocessor.js';
import type { HfWorkerData } from './hf-worker.js';
import { type OnnxEmbedder, startWorkerEmbedder } from './onnx.js';
import type { OnnxWorkerInfo } from './onnx-worker.js';
import { WorkerSlot, workerUrl } from './worker-slot.js';

export interface HfEmbedderOptions {
  /** Intra-op threads; all cores by default. */
  readonly threads?: number;
  readonly batchSize?: number;
  /** Where the cache is and how the hub is reached (defaults from the environment). */
  readonly hub?: HubOptions;
  /** Download progress, in bytes, when the model is not cached yet. */
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export async function loadHfEmbedder(spec: HfModelSpec, options: HfEmbedderOptions = {}): Promise<OnnxEmbedder> {
  const snapshot = await ensureHfModel(spec, hubSettings(options.hub), {
    parts: ['image'],
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const configPath = join(snapshot.dir, 'preprocessor_config.json');
  const config = await readJsonFile(configPath, preprocessorConfigSchema, 'MODEL_INVALID');
  const input = inputSpecOf(config, configPath);
  // The files' hashes (from the manifest, checked at download) and the preprocessing name the model.
  const files = snapshot.files.map((f) => `${f.path}:${f.sha256}`).join('\n');
  const modelId = `hf:${sha256(`${spec.dtype}\n${files}\n${JSON.stringify(config)}`).slice(0, 16)}`;
  const workerData: HfWorkerData = {
    dir: snapshot.dir,
    dtype: spec.dtype,
    threads: options.threads ?? availableParallelism(),
    width: input.width,
    height: input.height,
  };
  const slot = new WorkerSlot<OnnxWorkerInfo>(new Worker(workerUrl('hf-worker.js'), { workerData }));
  return startWorkerEmbedder(slot, {
    modelId,
    name: formatModelSpec(spec),
    input,
    normalisation: normalisationOf(config),
    batchSize: options.batchSize ?? 32,
    featureDim: config.feature_dim,
    configPath,
  });
}
