/**
 * @module A tiny CLIP-like `onnx:` model folder for zero-shot tests: the tiny hub's colour-seeing
 * towers (tiny-hub.ts: the image tower embeds an image's mean colour as W·rgb, the text tower a
 * colour word as W·rgb of that colour) laid out as an onnx: folder: model.onnx (the image tower, its
 * one output the joint-space embedding), text_model.onnx, tokenizer.json, tokenizer_config.json,
 * config.json and preprocessor_config.json. Zero-shot from colour names must then pick each colour
 * image's colour.
 *
 * `rotateWords` makes a tower that reads each of those words as the next one ("red" embeds as
 * "green" would): a pipeline that really reads class names through the text tower follows it.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tinyHubVocabulary, TINY_HUB_COLOURS, writeTinyHubModel } from './tiny-hub.js';

export interface TinyClipOptions {
  /** Square input side. Default 32. */
  readonly inputSize?: number;
  /** Joint embedding length. Default 16. */
  readonly featureDim?: number;
  /** Seed of the shared projection W. Default 1. */
  readonly seed?: number;
  /** Colour words the tokenizer reads as the next in the list (the last as the first). */
  readonly rotateWords?: readonly string[];
}

export interface TinyClipModel {
  readonly dir: string;
  readonly featureDim: number;
  readonly inputSize: number;
  /** The colour words the text tower knows, with their RGB. */
  readonly colours: Readonly<Record<string, readonly [number, number, number]>>;
}

/** Writes the folder `dir` (created if missing) and returns what it holds. */
export async function writeTinyClipModel(dir: string, options: TinyClipOptions = {}): Promise<TinyClipModel> {
  await mkdir(dir, { recursive: true });
  const root = await mkdtemp(join(dir, '.hub-'));
  try {
    const hub = await writeTinyHubModel(root, {
      kind: 'clip',
      repo: 'tiny/clip',
      inputSize: options.inputSize,
      featureDim: options.featureDim,
      seed: options.seed,
    });
    const copies: [string, string][] = [
      ['onnx/vision_model.onnx', 'model.onnx'],
      ['onnx/text_model.onnx', 'text_model.onnx'],
      ['tokenizer_config.json', 'tokenizer_config.json'],
      ['config.json', 'config.json'],
      ['preprocessor_config.json', 'preprocessor_config.json'],
    ];
    for (const [from, to] of copies) await copyFile(join(hub.dir, from), join(dir, to));
    const tokenizer = JSON.parse(await readFile(join(hub.dir, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number> };
    };
    const rotate = options.rotateWords ?? [];
    const known = new Set(tinyHubVocabulary());
    for (const word of rotate)
      if (!known.has(word)) throw new Error(`"${word}" is not in the tiny text tower's vocabulary`);
    const ids = rotate.map((word) => tokenizer.model.vocab[word]!);
    rotate.forEach((word, i) => (tokenizer.model.vocab[word] = ids[(i + 1) % ids.length]!));
    await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizer, null, 2)}\n`);
    return { dir, featureDim: hub.featureDim, inputSize: hub.inputSize, colours: TINY_HUB_COLOURS };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
