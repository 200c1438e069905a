/**
 * @module Worker-thread entry for ONNX embedders: owns one onnxruntime session, so inference runs
 * off the main thread (onnxruntime-node's `run` blocks its caller) while the main thread decodes,
 * resizes and stores. Started by `onnx.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { describeError, type EmbedRequest, type WorkerReply } from './worker-slot.js';

export interface OnnxWorkerData {
  readonly modelPath: string;
  readonly threads: number;
  /**
   * Threads to use instead when the model proves light (see LIGHT_MODEL_CPU_MS): the cores left
   * over go to decoding images. Unset: `threads`, whatever the model costs.
   */
  readonly lightThreads?: number;
  readonly spinning: boolean;
  readonly width: number;
  readonly height: number;
}

export interface OnnxWorkerInfo {
  /** The model takes NHWC input (channels last) rather than NCHW. */
  readonly channelsLast: boolean;
  /** Intra-op threads the session runs with. */
  readonly threads?: number;
}

/**
 * A model that costs less than this many CPU-milliseconds an image (wall time of one image at a
 * time times threads: an overestimate) is light: decoding a photo (2-3 CPU-ms for a 384 px JPEG)
 * is then a large share of the work, and the embed job runs faster when the model leaves the
 * decoders some cores than when its threads and theirs contend for all of them. MobileNetV1 at
 * 224 px measured 10-28 here (2-core VM, loaded); CLIP and DINOv2 ViTs cost several times more.
 */
const LIGHT_MODEL_CPU_MS = 50;

async function main(port: NonNullable<typeof parentPort>, data: OnnxWorkerData): Promise<void> {
  const post = (message: WorkerReply<OnnxWorkerInfo>, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  const open = (threads: number): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(data.modelPath, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Spinning intra-op threads steal the cores that decode the next batch.
      extra: { session: { intra_op: { allow_spinning: data.spinning ? '1' : '0' } } },
    });
  let session: ort.InferenceSession;
  let threads = data.threads;
  try {
    session = await open(threads);
  } catch (error) {
    post({ type: 'failed', id: null, message: `${data.modelPath} is not a valid ONNX model: ${describeError(error)}` });
    return;
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (inputName === undefined || outputName === undefined) {
    post({ type: 'failed', id: null, message: `${data.modelPath} has no input or no output` });
    return;
  }
  const meta = session.inputMetadata[0];
  const shape = meta?.isTensor ? meta.shape : [];
  const channelsLast = shape.length === 4 && shape[3] === 3 && shape[1] !== 3;
  const dimsOf = (count: number): number[] =>
    channelsLast ? [count, data.height, data.width, 3] : [count, 3, data.height, data.width];
  if (data.lightThreads !== undefined && data.lightThreads < threads) {
    // One blank image, best of three runs after a warm-up; a model that fails here fails the probe after.
    const image = { [inputName]: new ort.Tensor('float32', new Float32Array(3 * data.height * data.width), dimsOf(1)) };
    const cost = await session.run(image).then(
      async () => {
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          await session.run(image);
          best = Math.min(best, performance.now() - started);
        }
        return best * threads;
      },
      () => Infinity,
    );
    if (cost < LIGHT_MODEL_CPU_MS) {
      await session.release();
      threads = data.lightThreads;
      session = await open(threads);
    }
  }
  post({ type: 'ready', info: { channelsLast, threads } });

  port.on('message', (message: EmbedRequest) => {
    const { id, count } = message;
    const dims = dimsOf(count);
    // The buffer may hold room for more images than this batch (the pipeline reuses it).
    const values = new Float32Array(message.data, 0, count * 3 * data.height * data.width);
    session.run({ [inputName]: new ort.Tensor('float32', values, dims) }).then(
      (result) => {
        const output = result[outputName];
        if (output?.type !== 'float32') {
          post({ type: 'failed', id, message: `first output ${outputName} is ${output?.type}, expected float32` });
          return;
        }
        const values = output.data as Float32Array;
        const owned =
          values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
        const buffer = owned.buffer as ArrayBuffer;
        post({ type: 'result', id, features: buffer, dims: output.dims, input: message.data }, [buffer, message.data]);
      },
      (error: unknown) => post({ type: 'failed', id, message: describeError(error) }),
    );
  });
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (worker-slot.ts).
if (parentPort) void main(parentPort, workerData as OnnxWorkerData);
