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
  readonly spinning: boolean;
  readonly width: number;
  readonly height: number;
}

export interface OnnxWorkerInfo {
  /** The model takes NHWC input (channels last) rather than NCHW. */
  readonly channelsLast: boolean;
}

async function main(port: NonNullable<typeof parentPort>, data: OnnxWorkerData): Promise<void> {
  const post = (message: WorkerReply<OnnxWorkerInfo>, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.modelPath, {
      intraOpNumThreads: data.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Spinning intra-op threads steal the cores that decode the next batch.
      extra: { session: { intra_op: { allow_spinning: data.spinning ? '1' : '0' } } },
    });
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
  post({ type: 'ready', info: { channelsLast } });

  port.on('message', (message: EmbedRequest) => {
    const { id, count } = message;
    const dims = channelsLast ? [count, data.height, data.width, 3] : [count, 3, data.height, data.width];
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
