/**
 * @module Worker-thread entry for the builtin tfjs embedders: owns one tfjs runtime on the wasm
 * backend (SIMD, single-threaded) and one graph model, and turns batches of RGB pixels into
 * globally average-pooled feature vectors. Started by `tfjs.ts`, one per core.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { describeError, type EmbedRequest, type WorkerReply } from './worker-slot.js';

/** Tensor layout of a graph input or of a feature map taken from the graph. */
export type TensorLayout = 'nhwc' | 'nchw';

/** What to run in a graph and how to turn its feature maps into one vector per image. */
export interface GraphFeatureSpec {
  /** Node the image tensor is fed into: the placeholder, or any node downstream of it. */
  readonly inputNode: string;
  readonly inputLayout: TensorLayout;
  readonly width: number;
  readonly height: number;
  /** A uint8 value v of channel c (R, G, B) enters the graph as `v * scale[c] + offset[c]`. */
  readonly scale: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
  /** Feature maps to global-average-pool, in output order. */
  readonly outputs: readonly { readonly node: string; readonly layout: TensorLayout }[];
  /** L2-normalise each pooled map (then scale by 1/sqrt(#outputs)) so that concatenated blocks weigh the same. */
  readonly normalizeEach: boolean;
  /** Images per graph execution inside the worker; bounds wasm memory at large input sizes. */
  readonly microBatch: number;
}

export interface TfjsWorkerData {
  /** Folder holding the tfjs-backend-wasm `.wasm` binaries, with a trailing separator. */
  readonly wasmDir: string;
  readonly modelJsonPath: string;
  readonly spec: GraphFeatureSpec;
}

interface ModelJson {
  modelTopology: { node?: GraphNodeJson[] } & Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
}

interface GraphNodeJson {
  op: string;
  attr?: { shape?: { shape?: { dim?: { size?: string }[] } } };
}

/** Reads a converted graph model from disk; no fetch, no network. */
async function readModelArtifacts(modelJsonPath: string): Promise<tf.io.ModelArtifacts> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  // Converted models pin the placeholder to batch 1 at the training size; free every spatial and
  // batch dimension so one graph serves any batch and any input size (all ops are convolutional).
  for (const node of json.modelTopology.node ?? []) {
    if (node.op !== 'Placeholder') continue;
    for (const dim of node.attr?.shape?.shape?.dim ?? []) {
      if (dim.size !== '3') dim.size = '-1';
    }
  }
  const folder = path.dirname(modelJsonPath);
  const files = json.weightsManifest.flatMap((group) => group.paths);
  const buffers = await Promise.all(files.map((file) => readFile(path.join(folder, file))));
  const weightData = new Uint8Array(buffers.reduce((sum, b) => sum + b.byteLength, 0));
  let at = 0;
  for (const buffer of buffers) {
    weightData.set(buffer, at);
    at += buffer.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  };
}

/** Packs uint8 RGB HWC images into the graph's float input, applying the pixel affine map. */
function toInputTensor(pixels: Uint8Array, count: number, spec: GraphFeatureSpec): tf.Tensor4D {
  const { width, height, scale, offset } = spec;
  const plane = width * height;
  const values = new Float32Array(count * plane * 3);
  const nchw = spec.inputLayout === 'nchw';
  for (let n = 0; n < count; n++) {
    const base = n * plane * 3;
    for (let c = 0; c < 3; c++) {
      const a = scale[c]!;
      const b = offset[c]!;
      for (let p = 0; p < plane; p++) {
        values[nchw ? base + c * plane + p : base + p * 3 + c] = pixels[base + p * 3 + c]! * a + b;
      }
    }
  }
  if (!nchw) return tf.tensor4d(values, [count, height, width, 3]);
  return tf.tensor4d(values, [count, 3, height, width]);
}

/** Runs one micro-batch: global average pooling of each requested map, concatenated per image. */
function embedMicroBatch(model: tf.GraphModel, spec: GraphFeatureSpec, pixels: Uint8Array, count: number): tf.Tensor2D {
  return tf.tidy(() => {
    const input = toInputTensor(pixels, count, spec);
    const nodes = spec.outputs.map((output) => output.node);
    const executed = model.execute({ [spec.inputNode]: input }, nodes);
    const maps = Array.isArray(executed) ? executed : [executed];
    const blockWeight = 1 / Math.sqrt(spec.outputs.length);
    const pooled = maps.map((map, i) => {
      const axes = spec.outputs[i]!.layout === 'nhwc' ? [1, 2] : [2, 3];
      const vector = tf.mean(map, axes).reshape([count, -1]) as tf.Tensor2D;
      if (!spec.normalizeEach) return vector;
      const norm = tf.maximum(tf.norm(vector, 'euclidean', 1, true), 1e-12);
      return tf.mul(tf.div(vector, norm), blockWeight) as tf.Tensor2D;
    });
    return pooled.length === 1 ? pooled[0]! : tf.concat2d(pooled, 1);
  });
}

async function embed(
  model: tf.GraphModel,
  spec: GraphFeatureSpec,
  dim: number,
  pixels: Uint8Array,
  count: number,
): Promise<Float32Array> {
  const imageBytes = spec.width * spec.height * 3;
  const out = new Float32Array(count * dim);
  for (let start = 0; start < count; start += spec.microBatch) {
    const n = Math.min(spec.microBatch, count - start);
    const slice = pixels.subarray(start * imageBytes, (start + n) * imageBytes);
    const features = embedMicroBatch(model, spec, slice, n);
    try {
      out.set(await features.data(), start * dim);
    } finally {
      features.dispose();
    }
  }
  return out;
}

async function main(port: NonNullable<typeof parentPort>, data: TfjsWorkerData): Promise<void> {
  const post = (message: WorkerReply<readonly number[]>, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  try {
    // Parallelism comes from one worker per core; XNNPACK inside each stays on one thread.
    setThreadsCount(1);
    setWasmPaths(data.wasmDir);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialise');
    await tf.ready();
    const model = await tf.loadGraphModel({ load: () => readModelArtifacts(data.modelJsonPath) });
    const { spec } = data;
    // One blank image through the graph gives the output widths and warms up the kernels.
    const dims = await outputDims(model, spec);
    const dim = dims.reduce((sum, d) => sum + d, 0);
    post({ type: 'ready', info: dims });

    // Concurrent requests may interleave at `await data()`; each owns its tensors, so that is safe.
    port.on('message', (message: EmbedRequest) => {
      embed(model, spec, dim, new Uint8Array(message.data), message.count).then(
        (features) => {
          const buffer = features.buffer as ArrayBuffer;
          post({ type: 'result', id: message.id, features: buffer, dims: [message.count, dim] }, [buffer]);
        },
        (error: unknown) => post({ type: 'failed', id: message.id, message: describeError(error) }),
      );
    });
  } catch (error) {
    post({ type: 'failed', id: null, message: describeError(error) });
  }
}

/** Width of each pooled output, so callers that concatenate blocks can split them again. */
async function outputDims(model: tf.GraphModel, spec: GraphFeatureSpec): Promise<number[]> {
  const maps = tf.tidy(() => {
    const input = toInputTensor(new Uint8Array(spec.width * spec.height * 3), 1, spec);
    const executed = model.execute(
      { [spec.inputNode]: input },
      spec.outputs.map((o) => o.node),
    );
    return (Array.isArray(executed) ? executed : [executed]).map((map, i) =>
      tf.mean(map, spec.outputs[i]!.layout === 'nhwc' ? [1, 2] : [2, 3]).reshape([-1]),
    );
  });
  const dims = maps.map((map) => map.shape[0]!);
  tf.dispose(maps);
  return dims;
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (worker-slot.ts).
if (parentPort) void main(parentPort, workerData as TfjsWorkerData);
