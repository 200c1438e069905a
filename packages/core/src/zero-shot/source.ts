/**
 * @module Where a model's text tower is: in an `onnx:` folder, `text_model.onnx` beside `model.onnx`
 * with `tokenizer.json` (and optionally `tokenizer_config.json`, `config.json`); for an `hf:` model,
 * the repository's `onnx/text_model*.onnx` and tokenizer from the model cache (downloaded once if
 * missing); a builtin model has none.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { formatModelSpec, type HfModelSpec, parseModelSpec } from '../domain/index.js';
import { ensureHfModel, filesFor, hasTextTower, hubSettings, type HubOptions } from '../models/index.js';
import { sha256, sha256File } from '../util/hash.js';
import { readJsonFile } from '../util/json.js';
import type { ProgressListener } from '../util/progress.js';
import type { TextTowerFiles } from './text-tower.js';

export const TEXT_MODEL_FILE = 'text_model.onnx';
export const TOKENIZER_FILE = 'tokenizer.json';
const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export type TextTowerLookup =
  | { readonly found: true; readonly files: TextTowerFiles }
  /** Why the model has no text tower, as a reader would want it said. */
  | { readonly found: false; readonly why: string };

export interface FindTextTowerOptions {
  /** Folder that a relative onnx path is resolved from. */
  readonly baseDir?: string;
  readonly hub?: HubOptions;
  /** hf: download progress, when the text tower is not cached yet. */
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

const configSchema = z.object({ model_type: z.string().optional() }).loose();

/** The text tower of the model a spec names, or why there is none. A download failure throws. */
export async function findTextTower(spec: string, options: FindTextTowerOptions = {}): Promise<TextTowerLookup> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'builtin') {
    return { found: false, why: `${formatModelSpec(parsed)} has no text tower (zero-shot needs a CLIP-like model)` };
  }
  if (parsed.kind === 'hf') return hubTextTower(parsed, options);
  const dir = resolve(options.baseDir ?? process.cwd(), parsed.path);
  const modelPath = join(dir, TEXT_MODEL_FILE);
  const model = await stat(modelPath).catch(() => undefined);
  if (!model?.isFile()) {
    return { found: false, why: `${dir} has no ${TEXT_MODEL_FILE} (zero-shot needs a CLIP-like model's text tower)` };
  }
  const tokenizerPath = join(dir, TOKENIZER_FILE);
  if (!(await exists(tokenizerPath)))
    return { found: false, why: `${dir} has ${TEXT_MODEL_FILE} but no ${TOKENIZER_FILE}` };
  const tokenizerConfigPath = join(dir, TOKENIZER_CONFIG_FILE);
  const hasConfig = await exists(tokenizerConfigPath);
  const configPath = join(dir, 'config.json');
  const modelType = (await exists(configPath))
    ? (await readJsonFile(configPath, configSchema, 'MODEL_INVALID')).model_type
    : undefined;
  // The model file by size and time (hashing hundreds of MB on every suggest would cost more than
  // the cache saves); the tokenizer files by content.
  const tokenizerHashes = [await sha256File(tokenizerPath), hasConfig ? await sha256File(tokenizerConfigPath) : ''];
  const id = `onnx-text:${sha256([modelPath, model.size, model.mtimeMs, ...tokenizerHashes, modelType ?? ''].join('\n'))}`;
  return {
    found: true,
    files: {
      id,
      name: `onnx:${modelPath}`,
      modelPath,
      tokenizerPath,
      ...(hasConfig ? { tokenizerConfigPath } : {}),
      ...(modelType === undefined ? {} : { modelType }),
    },
  };
}

async function hubTextTower(spec: HfModelSpec, options: FindTextTowerOptions): Promise<TextTowerLookup> {
  const settings = hubSettings(options.hub);
  const label = formatModelSpec(spec);
  // The image tower is in the cache already (its embeddings exist): its config says whether a text tower exists, with no request.
  const image = await ensureHfModel(spec, settings, { onProgress: options.onProgress, signal: options.signal });
  if (!hasTextTower(image.config)) {
    return {
      found: false,
      why: `${label} has no text tower (model_type "${image.config.model_type ?? '?'}"; CLIP, SigLIP and jina-clip have one)`,
    };
  }
  const snapshot = await ensureHfModel(spec, settings, {
    parts: ['image', 'text'],
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const textFiles = filesFor(snapshot.config, spec.dtype, 'text');
  const onnx = textFiles.find((path) => path.endsWith('.onnx'))!;
  const hashes = snapshot.files.filter((f) => textFiles.includes(f.path)).map((f) => `${f.path}:${f.sha256}`);
  return {
    found: true,
    files: {
      id: `hf-text:${sha256([label, snapshot.commit ?? '', ...hashes].join('\n'))}`,
      name: `${label} (${onnx})`,
      modelPath: join(snapshot.dir, onnx),
      tokenizerPath: join(snapshot.dir, TOKENIZER_FILE),
      tokenizerConfigPath: join(snapshot.dir, TOKENIZER_CONFIG_FILE),
      ...(snapshot.config.model_type === undefined ? {} : { modelType: snapshot.config.model_type }),
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
