/** @module ONNX image models run with onnxruntime-node: any model whose input is pixel values and whose first output is a feature vector or a feature map. */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AutolabelError, messageOf } from '../../errors.js';
import { sha256, sha256File } from '../../util/hash.js';
import { readJsonFile } from '../../util/json.js';
import type { ImageInputSpec } from '../../domain/index.js';
import { decodeShare } from '../decode-pool.js';
import type { TensorEmbedder } from '../embedder.js';
import { inputSpecOf, normalisationOf, preprocessorConfigSchema } from '../preprocessor.js';
import { type TensorFormat, TensorWriter } from '../../image/tensor.js';
import type { OnnxWorkerData, OnnxWorkerInfo } from './onnx-worker.js';
import { WorkerSlot, workerUrl } from './worker-slot.js';

export interface OnnxEmbedderOptions {
  /**
   * Intra-op threads. By default all cores, or, for a light model (onnx-worker.ts), all but the
   * decode pool's share (a core in four, at least one): the embed job runs faster that way.
   */
  readonly threads?: number;
  readonly batchSize?: number;
  /** Let idle onnxruntime threads spin (lowest latency when nothing else runs); off by default. */
  readonly spinning?: boolean;
}

export async function loadOnnxEmbedder(dir: string, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
  const folder = resolve(dir);
  const modelPath = join(folder, 'model.onnx');
  const configPath = join(folder, 'preprocessor_config.json');
  await stat(modelPath).catch((error: unknown) => {
    throw new AutolabelError('MODEL_NOT_FOUND', `no model.onnx in ${folder}: ${messageOf(error)}`, { cause: error });
  });
  const config = await readJsonFile(configPath, preprocessorConfigSchema, 'MODEL_INVALID');
  const input = inputSpecOf(config, configPath);
  const modelId = `onnx:${sha256((await sha256File(modelPath)) + JSON.stringify(config)).slice(0, 16)}`;
  const cores = availableParallelism();
  const share = options.threads === undefined ? decodeShare(cores) : 0;
  const workerData: OnnxWorkerData = {
    modelPath,
    threads: options.threads ?? cores,
    lightThreads: share > 0 ? cores - share : undefined,
    spinning: options.spinning ?? false,
    width: input.width,
    height: input.height,
  };
  // onnxruntime-node's run() blocks its thread: in a worker, the rest of the job goes on meanwhile.
  const slot = new WorkerSlot<OnnxWorkerInfo>(new Worker(workerUrl('onnx-worker.js'), { workerData }));
  return startWorkerEmbedder(slot, {
    modelId,
    name: `onnx:${folder}`,
    input,
    normalisation: normalisationOf(config),
    batchSize: options.batchSize ?? 32,
    featureDim: config.feature_dim,
    configPath,
  });
}

/**
 * An embedder over a model worker that answers like onnx-worker.ts (the hf backend's worker does
 * too), once it is ready and one probe image has given the feature size.
 */
export async function startWorkerEmbedder(
  slot: WorkerSlot<OnnxWorkerInfo>,
  meta: {
    readonly modelId: string;
    readonly name: string;
    readonly input: ImageInputSpec;
    readonly normalisation: { scale: readonly number[]; offset: readonly number[] };
    readonly batchSize: number;
    /** The feature size the model's config declares, checked against the probe. */
    readonly featureDim: number | undefined;
    readonly configPath: string;
  },
): Promise<OnnxEmbedder> {
  let info: OnnxWorkerInfo;
  try {
    info = await slot.ready;
  } catch (error) {
    await slot.terminate();
    throw new AutolabelError('MODEL_INVALID', messageOf(error), { cause: error });
  }
  const embedder = new OnnxEmbedder(slot, { ...meta, channelsLast: info.channelsLast, threads: info.threads ?? null });
  try {
    // Learn the feature size by running one blank image, so a model whose config omits it still works.
    const probe = await embedder.embed(new Uint8Array(meta.input.width * meta.input.height * 3), 1);
    embedder.setDim(probe.length, meta.featureDim, meta.configPath);
  } catch (error) {
    await embedder.close();
    throw error;
  }
  return embedder;
}

export class OnnxEmbedder implements TensorEmbedder {
  readonly modelId: string;
  readonly name: string;
  readonly input: ImageInputSpec;
  readonly batchSize: number;
  readonly tensorFormat: TensorFormat;
  /** The model's intra-op threads, where its worker reports them. */
  readonly threads: number | null;
  #dim = 0;
  readonly #slot: WorkerSlot<OnnxWorkerInfo>;
  readonly #writer: TensorWriter;

  constructor(
    slot: WorkerSlot<OnnxWorkerInfo>,
    meta: {
      modelId: string;
      name: string;
      input: ImageInputSpec;
      channelsLast: boolean;
      threads: number | null;
      normalisation: { scale: readonly number[]; offset: readonly number[] };
      batchSize: number;
    },
  ) {
    this.#slot = slot;
    this.modelId = meta.modelId;
    this.name = meta.name;
    this.input = meta.input;
    this.batchSize = meta.batchSize;
    this.tensorFormat = { channelsLast: meta.channelsLast, ...meta.normalisation };
    this.threads = meta.threads;
    this.#writer = new TensorWriter(this.tensorFormat);
  }

  get dim(): number {
    return this.#dim;
  }

  /** @internal Called once after the probe run. */
  setDim(dim: number, declared: number | undefined, configPath: string): void {
    if (declared !== undefined && declared !== dim) {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${configPath}: feature_dim is ${declared} but the model outputs ${dim} values per image`,
      );
    }
    this.#dim = dim;
  }

  async embed(pixels: Uint8Array, count: number): Promise<Float32Array> {
    const { width, height } = this.input;
    if (pixels.length !== count * width * height * 3) {
      throw new AutolabelError('INVALID_ARGUMENT', `expected ${count * width * height * 3} bytes for ${count} images`);
    }
    const plane = width * height;
    const tensor = new Float32Array(count * plane * 3);
    this.#writer.write(pixels, count, plane, tensor);
    return (await this.embedTensor(tensor, count)).features;
  }

  async embedTensor(tensor: Float32Array, count: number): Promise<{ features: Float32Array; tensor: Float32Array }> {
    const values = count * this.input.width * this.input.height * 3;
    if (tensor.byteOffset !== 0 || tensor.length < values) {
      throw new AutolabelError(
        'INVALID_ARGUMENT',
        `expected a tensor of at least ${values} values from its buffer's start`,
      );
    }
    // The transfer detaches `tensor`: its length is read first.
    const length = tensor.length;
    let result;
    try {
      result = await this.#slot.run(tensor.buffer as ArrayBuffer, count);
    } catch (error) {
      throw new AutolabelError('MODEL_RUN_FAILED', `${this.name} failed on a batch of ${count}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const features = poolFeatures(new Float32Array(result.features), result.dims, count, this.name);
    // A worker that does not hand the buffer back leaves the caller a fresh one of the same size.
    const back = result.input ? new Float32Array(result.input) : new Float32Array(length);
    return { features, tensor: back };
  }

  async close(): Promise<void> {
    await this.#slot.terminate();
  }
}

/** Feature vectors from the first output: [N,D] as is, [N,T,D] averaged over tokens, [N,C,H,W] averaged over H and W. */
function poolFeatures(values: Float32Array, dims: readonly number[], count: number, name: string): Float32Array {
  if (dims[0] !== count) {
    throw new AutolabelError('MODEL_INVALID', `${name}: first output has batch ${dims[0]}, expected ${count}`);
  }
  if (dims.length === 2) return values;
  if (dims.length !== 3 && dims.length !== 4) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `${name}: first output has shape [${dims.join(',')}]; expected 2 to 4 dims`,
    );
  }
  // Rank 3 [N,T,D]: mean over T. Rank 4 [N,C,H,W]: mean over H*W.
  const rank3 = dims.length === 3;
  const dim = rank3 ? dims[2]! : dims[1]!;
  const cells = rank3 ? dims[1]! : dims[2]! * dims[3]!;
  const pooled = new Float32Array(count * dim);
  for (let n = 0; n < count; n++) {
    const base = n * dim * cells;
    for (let c = 0; c < dim; c++) {
      let sum = 0;
      if (rank3) for (let t = 0; t < cells; t++) sum += values[base + t * dim + c]!;
      else for (let k = 0, i = base + c * cells; k < cells; k++, i++) sum += values[i]!;
      pooled[n * dim + c] = sum / cells;
    }
  }
  return pooled;
}
