/**
 * @module Worker-thread entry for hub models: transformers.js (onnxruntime-node, CPU) opens the
 * image tower from a cached snapshot folder and never reaches for the network (remote models off,
 * its own file cache off). transformers.js keeps its settings in a module-level `env`; this
 * worker's module instance is its own, so they never leak into the rest of the process. Answers
 * like onnx-worker.ts: `ready`, then one `result` per batch. Started by `hf.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HfDtype } from '../../domain/index.js';
import { float32ToFloat16 } from '../../util/float16.js';
import type { OnnxWorkerInfo } from './onnx-worker.js';
import { describeError, type EmbedRequest, type WorkerReply } from './worker-slot.js';

export interface HfWorkerData {
  /** The snapshot folder in the hub's layout (config.json, onnx/...). */
  readonly dir: string;
  readonly dtype: HfDtype;
  readonly threads: number;
  readonly width: number;
  readonly height: number;
}

/** An output tensor as transformers.js hands it back. */
interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
  to(type: 'float32'): OutputTensor;
}

async function main(port: NonNullable<typeof parentPort>, data: HfWorkerData): Promise<void> {
  const post = (message: WorkerReply<OnnxWorkerInfo>, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  const transformers = await import('@huggingface/transformers');
  const { env, AutoConfig, AutoModel, AutoModelForImageFeatureExtraction, Tensor, LogLevel } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.logLevel = LogLevel.ERROR;
  let model: Awaited<ReturnType<typeof AutoModel.from_pretrained>>;
  let halfInput = false;
  try {
    const config = await AutoConfig.from_pretrained(data.dir, { local_files_only: true });
    // CLIP, SigLIP, jina-clip: the vision tower (vision_model.onnx); anything else: the model itself (model.onnx).
    const Model = AutoModelForImageFeatureExtraction.supports(config.model_type ?? '')
      ? AutoModelForImageFeatureExtraction
      : AutoModel;
    model = await Model.from_pretrained(data.dir, {
      config,
      local_files_only: true,
      device: 'cpu',
      dtype: data.dtype,
      session_options: {
        intraOpNumThreads: data.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      },
    });
    const session = Object.values(model.sessions)[0] as
      { inputNames: readonly string[]; inputMetadata?: readonly { name: string; type?: string }[] } | undefined;
    if (!session?.inputNames.includes('pixel_values')) {
      throw new Error(
        `the model's inputs are [${session?.inputNames.join(', ')}], not pixel_values: not an image model`,
      );
    }
    halfInput = session.inputMetadata?.find((m) => m.name === 'pixel_values')?.type === 'float16';
  } catch (error) {
    post({ type: 'failed', id: null, message: `${data.dir} (${data.dtype}): ${describeError(error)}` });
    return;
  }
  post({ type: 'ready', info: { channelsLast: false } });

  port.on('message', (message: EmbedRequest) => {
    const { id, count } = message;
    const dims = [count, 3, data.height, data.width];
    const values = new Float32Array(message.data, 0, count * 3 * data.height * data.width);
    const pixels = halfInput
      ? new Tensor('float16', float32ToFloat16(values), dims)
      : new Tensor('float32', values, dims);
    (model({ pixel_values: pixels }) as Promise<Record<string, OutputTensor | undefined>>).then(
      (outputs) => {
        // A projected embedding (CLIP) or the pooled one (SigLIP, DINOv2's CLS token), else the token sequence (averaged by the embedder).
        const chosen = outputs.image_embeds ?? outputs.pooler_output ?? outputs.last_hidden_state;
        if (!chosen) {
          post({
            type: 'failed',
            id,
            message: `no image_embeds, pooler_output or last_hidden_state among the outputs`,
          });
          return;
        }
        const tensor = chosen.type === 'float32' ? chosen : chosen.to('float32');
        const features = Float32Array.from(tensor.data);
        post({ type: 'result', id, features: features.buffer, dims: [...tensor.dims], input: message.data }, [
          features.buffer,
          message.data,
        ]);
      },
      (error: unknown) => post({ type: 'failed', id, message: describeError(error) }),
    );
  });
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (worker-slot.ts).
if (parentPort) void main(parentPort, workerData as HfWorkerData);
