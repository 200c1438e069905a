/**
 * @module The text tower of a CLIP-like model: `text_model.onnx` run with onnxruntime-node, its
 * tokenizer (`tokenizer.json`, `tokenizer_config.json`) run by transformers.js's tokenizer classes,
 * built from the files directly (no hub lookup, no change to transformers.js's global settings).
 * Both runtimes load when a tower is opened, never when core is imported.
 */
import { readFile } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import { AutolabelError, messageOf } from '../errors.js';
import { type Matrix, matrix } from '../learn/matrix.js';
import { loadOnnxRuntime } from '../util/onnxruntime.js';

/** The files of one text tower, and what names it. */
export interface TextTowerFiles {
  /** What its embeddings depend on (the files' identity): the cache key. */
  readonly id: string;
  /** How messages name it, e.g. `onnx:/models/clip/text_model.onnx`. */
  readonly name: string;
  readonly modelPath: string;
  readonly tokenizerPath: string;
  readonly tokenizerConfigPath?: string;
  /** config.json's model_type, when there is one: SigLIP's tower expects prompts padded to full length. */
  readonly modelType?: string;
}

export interface TextTower {
  readonly files: TextTowerFiles;
  /** One embedding per text, row-major [texts, dim], as the tower outputs it (not normalised). */
  embed(texts: readonly string[]): Promise<Matrix>;
  close(): Promise<void>;
}

export interface TextTowerOptions {
  /** onnxruntime intra-op threads; its default otherwise. */
  readonly threads?: number;
}

/** What a tokenizer call gives with `return_tensor: false`. */
interface Encoding {
  readonly input_ids: readonly number[];
  readonly attention_mask: readonly number[];
}
type Tokenize = (
  text: string,
  options: { return_tensor: false; padding: boolean | 'max_length'; truncation: boolean; max_length?: number },
) => Encoding;

/** Outputs a text tower's embedding may be called, best first (CLIP: text_embeds; SigLIP: pooler_output). */
const EMBEDDING_OUTPUTS = ['text_embeds', 'pooler_output', 'sentence_embedding'];
/** SigLIP's prompt length when its tokenizer does not say. */
const SIGLIP_LENGTH = 64;

export async function openTextTower(files: TextTowerFiles, options: TextTowerOptions = {}): Promise<TextTower> {
  const tokenize = await loadTokenizer(files);
  const ort = await loadOnnxRuntime();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.modelPath, {
      ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw new AutolabelError('MODEL_INVALID', `${files.modelPath} is not a valid ONNX model: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const known = new Set(['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);
  const unknown = session.inputNames.filter((name) => !known.has(name));
  if (!session.inputNames.includes('input_ids') || unknown.length > 0) {
    await session.release();
    throw new AutolabelError(
      'MODEL_UNSUPPORTED',
      `${files.name}: a text tower takes input_ids (and optionally attention_mask, token_type_ids, position_ids); this one takes ${session.inputNames.join(', ')}`,
    );
  }
  const meta = new Map(
    session.inputMetadata.map((m) => [m.name, m.isTensor ? { type: m.type, shape: m.shape } : undefined]),
  );
  // A fixed sequence length in the graph, or SigLIP (trained on prompts padded to full length): pad to it.
  const declared = meta.get('input_ids')?.shape[1];
  const fixed = typeof declared === 'number' && declared > 0 ? declared : undefined;
  const outputName = EMBEDDING_OUTPUTS.find((name) => session.outputNames.includes(name)) ?? session.outputNames[0]!;

  const encode = (text: string): Encoding => {
    const padTo = fixed ?? (files.modelType === 'siglip' ? SIGLIP_LENGTH : undefined);
    try {
      return tokenize(text, {
        return_tensor: false,
        padding: padTo === undefined ? false : 'max_length',
        truncation: true,
        ...(padTo === undefined ? {} : { max_length: padTo }),
      });
    } catch (error) {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${files.tokenizerPath} cannot tokenize "${text}": ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  };
  const intTensor = (name: string, values: readonly number[]): Ort.Tensor => {
    const dims = [1, values.length];
    return meta.get(name)?.type === 'int32'
      ? new ort.Tensor('int32', Int32Array.from(values), dims)
      : new ort.Tensor(
          'int64',
          BigInt64Array.from(values, (v) => BigInt(v)),
          dims,
        );
  };

  return {
    files,
    // One prompt per run: no padding, so towers that pool at the end token (CLIP) need no mask.
    async embed(texts) {
      let dim = 0;
      let out = new Float32Array(0);
      for (const [i, text] of texts.entries()) {
        const { input_ids: ids, attention_mask: mask } = encode(text);
        const feeds: Record<string, Ort.Tensor> = {};
        for (const name of session.inputNames) {
          const values =
            name === 'input_ids'
              ? ids
              : name === 'attention_mask'
                ? mask
                : name === 'position_ids'
                  ? ids.map((_, t) => t)
                  : ids.map(() => 0);
          feeds[name] = intTensor(name, values);
        }
        let result: Ort.InferenceSession.OnnxValueMapType;
        try {
          result = await session.run(feeds);
        } catch (error) {
          throw new AutolabelError('MODEL_RUN_FAILED', `${files.name} failed on "${text}": ${messageOf(error)}`, {
            cause: error,
          });
        }
        const vector = pooled(result[outputName]!, mask, files.name);
        if (i === 0) {
          dim = vector.length;
          out = new Float32Array(texts.length * dim);
        }
        out.set(vector, i * dim);
      }
      return matrix(texts.length, dim, out);
    },
    async close() {
      await session.release();
    },
  };
}

/** The embedding of one prompt: [1, D] as is, [1, T, D] averaged over the tokens the mask keeps. */
function pooled(output: Ort.Tensor, mask: readonly number[], name: string): Float32Array {
  if (output.type !== 'float32') {
    throw new AutolabelError('MODEL_UNSUPPORTED', `${name}: its embedding output is ${output.type}, not float32`);
  }
  const values = output.data as Float32Array;
  const dims = output.dims;
  if (dims.length === 2 && dims[0] === 1) return Float32Array.from(values);
  if (dims.length === 3 && dims[0] === 1 && dims[1] === mask.length) {
    const d = dims[2]!;
    const sum = new Float32Array(d);
    let kept = 0;
    for (let t = 0; t < mask.length; t++) {
      if (!mask[t]) continue;
      kept++;
      for (let j = 0; j < d; j++) sum[j]! += values[t * d + j]!;
    }
    for (let j = 0; j < d; j++) sum[j]! /= Math.max(1, kept);
    return sum;
  }
  throw new AutolabelError(
    'MODEL_UNSUPPORTED',
    `${name}: its embedding output has shape [${dims.join(',')}]; expected [1,D] or [1,tokens,D]`,
  );
}

/** The tokenizer class tokenizer_config.json names (CLIPTokenizer, SiglipTokenizer, ...), built from the files. */
async function loadTokenizer(files: TextTowerFiles): Promise<Tokenize> {
  const json = async (path: string): Promise<unknown> => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as unknown;
    } catch (error) {
      throw new AutolabelError('MODEL_INVALID', `cannot read the tokenizer file ${path}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  };
  const tokenizerJson = await json(files.tokenizerPath);
  const config = (files.tokenizerConfigPath ? await json(files.tokenizerConfigPath) : {}) as {
    tokenizer_class?: unknown;
  };
  const transformers = await import('@huggingface/transformers');
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const named = (transformers as unknown as Record<string, unknown>)[name];
  const Tokenizer =
    typeof named === 'function' && named.prototype instanceof transformers.PreTrainedTokenizer
      ? (named as typeof transformers.PreTrainedTokenizer)
      : transformers.PreTrainedTokenizer;
  try {
    const tokenizer = new Tokenizer(tokenizerJson as object, config);
    return tokenizer as unknown as Tokenize;
  } catch (error) {
    throw new AutolabelError('MODEL_INVALID', `${files.tokenizerPath} is not a tokenizer: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
