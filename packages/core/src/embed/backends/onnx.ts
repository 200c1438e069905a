/** @module ONNX image models run with onnxruntime-node: any model whose input is pixel values and whose first output is a feature vector or a feature map. */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { AutolabelError, messageOf } from '../../errors.js';
import { sha256 } from '../../util/hash.js';
import { readJsonFile } from '../../util/json.js';
import type { Embedder, ImageInputSpec } from '../embedder.js';
import { PIXEL_INPUT, withPixelInput } from './onnx-graph.js';

/** PIL resample codes used by Hugging Face image processors, mapped to sharp kernels. */
const RESAMPLE_KERNELS: Record<number, ImageInputSpec['kernel']> = {
  0: 'nearest',
  1: 'lanczos3',
  2: 'linear',
  3: 'cubic',
  4: 'linear',
  5: 'linear',
};

const triple = z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]);

/** The subset of a Hugging Face `preprocessor_config.json` an image feature extractor needs. */
export const preprocessorConfigSchema = z.object({
  do_resize: z.boolean().default(true),
  size: z.union([
    z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
    z.object({ shortest_edge: z.number().int().positive() }),
  ]),
  do_center_crop: z.boolean().optional(),
  crop_size: z
    .union([z.object({ height: z.number().int().positive(), width: z.number().int().positive() }), z.number()])
    .optional(),
  resample: z.number().int().min(0).max(5).default(2),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: triple.default([0.5, 0.5, 0.5]),
  image_std: triple.default([0.5, 0.5, 0.5]),
  feature_dim: z.number().int().positive().optional(),
});

export type PreprocessorConfig = z.infer<typeof preprocessorConfigSchema>;

export interface OnnxEmbedderOptions {
  /** Intra-op threads; all cores by default. */
  readonly threads?: number;
  readonly batchSize?: number;
  /** Normalise pixels inside the ONNX graph (default) rather than in JavaScript. */
  readonly normaliseInGraph?: boolean;
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

  let modelBytes: Uint8Array;
  try {
    modelBytes = await readFile(modelPath);
  } catch (error) {
    throw new AutolabelError('MODEL_NOT_FOUND', `cannot read ${modelPath}: ${messageOf(error)}`, { cause: error });
  }
  const normalisation = normalisationOf(config);
  // Normalising inside the graph lets onnxruntime do it on all cores; JavaScript is the fallback.
  let wrapped: Uint8Array | undefined;
  try {
    if (options.normaliseInGraph !== false)
      wrapped = withPixelInput(modelBytes, { height: input.height, width: input.width, ...normalisation });
  } catch {
    wrapped = undefined;
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(wrapped ?? modelBytes, sessionOptions);
  } catch (error) {
    if (wrapped === undefined) {
      throw new AutolabelError('MODEL_INVALID', `${modelPath} is not a valid ONNX model: ${messageOf(error)}`, {
        cause: error,
      });
    }
    wrapped = undefined;
    session = await ort.InferenceSession.create(modelBytes, sessionOptions).catch((plain: unknown) => {
      throw new AutolabelError('MODEL_INVALID', `${modelPath} is not a valid ONNX model: ${messageOf(plain)}`, {
        cause: plain,
      });
    });
  }
  const modelId = `onnx:${sha256(sha256(modelBytes) + JSON.stringify(config)).slice(0, 16)}`;
  const embedder = new OnnxEmbedder(session, {
    modelId,
    name: `onnx:${folder}`,
    input,
    normalisation,
    pixelInput: wrapped !== undefined,
    batchSize: options.batchSize ?? 32,
  });
  // Learn the feature size by running one blank image, so a model whose config omits it still works.
  const probe = await embedder.embed(new Uint8Array(input.width * input.height * 3), 1);
  embedder.setDim(probe.length, config.feature_dim, configPath);
  return embedder;
}

function inputSpecOf(config: PreprocessorConfig, configPath: string): ImageInputSpec {
  const kernel = RESAMPLE_KERNELS[config.resample] ?? 'linear';
  if (!config.do_resize) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `${configPath}: do_resize=false is not supported (batches need one size)`,
    );
  }
  if ('height' in config.size) return { width: config.size.width, height: config.size.height, fit: 'fill', kernel };
  // shortest_edge + center crop: approximated by a cover resize straight to the crop size.
  const crop = config.crop_size;
  const side = crop === undefined ? config.size.shortest_edge : typeof crop === 'number' ? crop : crop.width;
  const height = crop !== undefined && typeof crop !== 'number' ? crop.height : side;
  return { width: side, height, fit: 'cover', kernel };
}

/** Rescale and normalise folded into one multiply-add per channel: value = pixel * scale + offset. */
function normalisationOf(config: PreprocessorConfig): { scale: number[]; offset: number[] } {
  const rescale = config.do_rescale ? config.rescale_factor : 1;
  const mean = config.do_normalize ? channelValues(config.image_mean) : [0, 0, 0];
  const std = config.do_normalize ? channelValues(config.image_std) : [1, 1, 1];
  return {
    scale: [0, 1, 2].map((c) => rescale / (std[c] ?? 1)),
    offset: [0, 1, 2].map((c) => -(mean[c] ?? 0) / (std[c] ?? 1)),
  };
}

function channelValues(value: number | readonly number[]): [number, number, number] {
  if (typeof value === 'number') return [value, value, value];
  return [value[0] ?? 0, value[1] ?? 0, value[2] ?? 0];
}

export class OnnxEmbedder implements Embedder {
  readonly modelId: string;
  readonly name: string;
  readonly input: ImageInputSpec;
  readonly batchSize: number;
  #dim = 0;
  readonly #session: ort.InferenceSession;
  readonly #inputName: string;
  readonly #outputName: string;
  readonly #channelsLast: boolean;
  /** The session takes uint8 pixels and normalises in-graph (see onnx-graph.ts). */
  readonly #pixelInput: boolean;
  /** Per channel: value = pixel * scale[c] + offset[c], folding rescale and normalise into one step. */
  readonly #scale: Float32Array;
  readonly #offset: Float32Array;

  constructor(
    session: ort.InferenceSession,
    meta: {
      modelId: string;
      name: string;
      input: ImageInputSpec;
      normalisation: { scale: readonly number[]; offset: readonly number[] };
      pixelInput: boolean;
      batchSize: number;
    },
  ) {
    this.#session = session;
    this.modelId = meta.modelId;
    this.name = meta.name;
    this.input = meta.input;
    this.batchSize = meta.batchSize;
    this.#pixelInput = meta.pixelInput;
    const inputName = meta.pixelInput ? PIXEL_INPUT : session.inputNames[0];
    const outputName = session.outputNames[0];
    if (inputName === undefined || outputName === undefined) {
      throw new AutolabelError('MODEL_INVALID', `${meta.name} has no input or no output`);
    }
    this.#inputName = inputName;
    this.#outputName = outputName;
    const inputMeta = session.inputMetadata[0];
    const shape = inputMeta?.isTensor ? inputMeta.shape : [];
    this.#channelsLast = !meta.pixelInput && shape.length === 4 && shape[3] === 3 && shape[1] !== 3;
    this.#scale = Float32Array.from(meta.normalisation.scale);
    this.#offset = Float32Array.from(meta.normalisation.offset);
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
    const plane = width * height;
    if (pixels.length !== count * plane * 3) {
      throw new AutolabelError('INVALID_ARGUMENT', `expected ${count * plane * 3} bytes for ${count} images`);
    }
    const tensor = this.#pixelInput
      ? new ort.Tensor('uint8', pixels, [count, height, width, 3])
      : this.#normalise(pixels, count);
    let output: ort.Tensor;
    try {
      const result = await this.#session.run({ [this.#inputName]: tensor });
      const value = result[this.#outputName];
      if (value === undefined) throw new Error(`no output ${this.#outputName}`);
      output = value;
    } catch (error) {
      throw new AutolabelError('MODEL_RUN_FAILED', `${this.name} failed on a batch of ${count}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return poolFeatures(output, count, this.name);
  }

  /** HWC bytes to the model's float layout, normalised. */
  #normalise(pixels: Uint8Array, count: number): ort.Tensor {
    const { width, height } = this.input;
    const plane = width * height;
    const data = new Float32Array(count * plane * 3);
    const [s0, s1, s2] = this.#scale as unknown as [number, number, number];
    const [o0, o1, o2] = this.#offset as unknown as [number, number, number];
    if (this.#channelsLast) {
      for (let i = 0; i < data.length; i += 3) {
        data[i] = pixels[i]! * s0 + o0;
        data[i + 1] = pixels[i + 1]! * s1 + o1;
        data[i + 2] = pixels[i + 2]! * s2 + o2;
      }
    } else {
      // HWC bytes -> CHW floats, one image at a time.
      for (let n = 0; n < count; n++) {
        const src = n * plane * 3;
        const r = n * plane * 3;
        const g = r + plane;
        const b = g + plane;
        for (let p = 0, q = src; p < plane; p++, q += 3) {
          data[r + p] = pixels[q]! * s0 + o0;
          data[g + p] = pixels[q + 1]! * s1 + o1;
          data[b + p] = pixels[q + 2]! * s2 + o2;
        }
      }
    }
    const dims = this.#channelsLast ? [count, height, width, 3] : [count, 3, height, width];
    return new ort.Tensor('float32', data, dims);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

/** Feature vectors from the first output: [N,D] as is, [N,T,D] averaged over tokens, [N,C,H,W] averaged over H and W. */
function poolFeatures(output: ort.Tensor, count: number, name: string): Float32Array {
  if (output.type !== 'float32') {
    throw new AutolabelError('MODEL_INVALID', `${name}: first output is ${output.type}, expected float32 features`);
  }
  const values = output.data as Float32Array;
  const dims = output.dims;
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
