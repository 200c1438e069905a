/**
 * @module A tiny Hugging Face hub for tests: model repositories written at test time in the hub's
 * layout (config.json, preprocessor_config.json, onnx/*.onnx; for CLIP-like ones also
 * onnx/text_model.onnx, tokenizer.json, tokenizer_config.json), served from 127.0.0.1 the way
 * huggingface.co serves them (`/REPO/resolve/REVISION/PATH`; LFS files redirect to a CDN on another
 * origin, with X-Linked-Size and X-Linked-Etag = sha256), with faults to inject: a dropped
 * connection, a stall, a corrupt or mis-sized file, a slow line.
 *
 * The towers see colour: the image tower embeds the mean (normalised) colour of an image, W·rgb,
 * and the text tower embeds a phrase as the mean of its words' rows, where a colour word's row is
 * W·rgb(colour) and every other word's is zero. So "a photo of amber" points where amber images
 * do, and zero-shot from class names must pick the right colour class.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { onnxGraph } from '@autolabel/core/learn';
import { seededRandom } from './images.js';

const { encodeModel, FLOAT, INT64, floatInitializer, intAttr, intsAttr, valueInfo } = onnxGraph;

export type TinyHubKind = 'clip' | 'dinov2';

/** Colour words of the text tower's vocabulary, as RGB. */
export const TINY_HUB_COLOURS: Readonly<Record<string, readonly [number, number, number]>> = {
  amber: [210, 130, 30],
  azure: [40, 100, 210],
  moss: [70, 160, 60],
  red: [220, 30, 30],
  blue: [30, 30, 220],
  green: [30, 200, 30],
};

/** Words that carry no colour (prompt templates), each a zero row. */
const TEMPLATE_WORDS = ['a', 'an', 'the', 'photo', 'picture', 'of', 'image', 'this', 'is', 'colour', 'color'];

export interface TinyHubModelOptions {
  /** Repository id, `owner/name`. Default `tiny/clip` or `tiny/dinov2`. */
  readonly repo?: string;
  /**
   * clip: onnx/vision_model.onnx + onnx/text_model.onnx + tokenizer (model_type clip);
   * dinov2: onnx/model.onnx only (model_type dinov2). Default clip.
   */
  readonly kind?: TinyHubKind;
  /** Square input side. Default 32. */
  readonly inputSize?: number;
  /** Embedding length. Default 16. */
  readonly featureDim?: number;
  /** Weight types written (fp32 is model.onnx; the others get the transformers.js suffix, with other weights). Default fp32 only. */
  readonly dtypes?: readonly ('fp32' | 'fp16' | 'q8')[];
  /** Seed of the projection W. Default 1. */
  readonly seed?: number;
}

export interface TinyHubModel {
  readonly repo: string;
  /** The repository folder: `root/owner/name`. */
  readonly dir: string;
  /** Every file written, as repository paths. */
  readonly files: readonly string[];
  readonly featureDim: number;
  readonly inputSize: number;
}

const SUFFIX = { fp32: '', fp16: '_fp16', q8: '_quantized' } as const;

/** Writes a tiny model repository under `root` (the hub's root folder: `root/owner/name/...`). */
export async function writeTinyHubModel(root: string, options: TinyHubModelOptions = {}): Promise<TinyHubModel> {
  const kind = options.kind ?? 'clip';
  const repo = options.repo ?? `tiny/${kind}`;
  const inputSize = options.inputSize ?? 32;
  const featureDim = options.featureDim ?? 16;
  const dir = join(root, repo);
  const files: string[] = [];
  const write = async (path: string, data: string | Uint8Array): Promise<void> => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
    files.push(path);
  };
  const config =
    kind === 'clip'
      ? {
          model_type: 'clip',
          architectures: ['CLIPModel'],
          projection_dim: featureDim,
          text_config: { model_type: 'clip_text_model', hidden_size: featureDim },
          vision_config: { model_type: 'clip_vision_model', image_size: inputSize },
        }
      : { model_type: 'dinov2', architectures: ['Dinov2Model'], hidden_size: featureDim, image_size: inputSize };
  await write('config.json', json(config));
  await write('preprocessor_config.json', json(preprocessorConfig(inputSize)));
  for (const dtype of options.dtypes ?? ['fp32']) {
    // Other weights per dtype, so each dtype embeds differently (as quantised weights would).
    const projection = projectionMatrix(featureDim, (options.seed ?? 1) + (dtype === 'fp32' ? 0 : dtype.length * 7));
    const name = kind === 'clip' ? 'vision_model' : 'model';
    await write(`onnx/${name}${SUFFIX[dtype]}.onnx`, imageTower(inputSize, featureDim, projection, kind));
    if (kind === 'clip') await write(`onnx/text_model${SUFFIX[dtype]}.onnx`, textTower(featureDim, projection));
  }
  if (kind === 'clip') {
    await write('tokenizer.json', json(tokenizer()));
    await write(
      'tokenizer_config.json',
      json({ tokenizer_class: 'PreTrainedTokenizer', unk_token: '[UNK]', pad_token: '[PAD]', model_max_length: 16 }),
    );
  }
  return { repo, dir, files, featureDim, inputSize };
}

/** The vocabulary of the text tower: [PAD], [UNK], template words, colour words. */
export function tinyHubVocabulary(): string[] {
  return ['[PAD]', '[UNK]', ...TEMPLATE_WORDS, ...Object.keys(TINY_HUB_COLOURS)];
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function preprocessorConfig(inputSize: number): Record<string, unknown> {
  return {
    image_processor_type: 'CLIPImageProcessor',
    do_resize: true,
    size: { shortest_edge: inputSize },
    do_center_crop: true,
    crop_size: { height: inputSize, width: inputSize },
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}

/** W, 3 x D, row-major: uniform in [-1, 1]. */
function projectionMatrix(featureDim: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: 3 * featureDim }, () => random() * 2 - 1);
}

/** pixel_values [N,3,S,S] -> mean colour [N,3] -> x W -> image_embeds [N,D] (dinov2: pooler_output + last_hidden_state [N,1,D]). */
function imageTower(size: number, featureDim: number, projection: Float32Array, kind: TinyHubKind): Uint8Array {
  const output = kind === 'clip' ? 'image_embeds' : 'pooler_output';
  const nodes: onnxGraph.NodeProto[] = [
    { opType: 'GlobalAveragePool', name: 'pool', input: ['pixel_values'], output: ['pooled'] },
    { opType: 'Flatten', name: 'flatten', input: ['pooled'], output: ['colour'], attribute: [intAttr('axis', 1)] },
    { opType: 'MatMul', name: 'project', input: ['colour', 'projection'], output: [output] },
  ];
  const outputs = [valueInfo(output, FLOAT, ['batch', featureDim])];
  if (kind === 'dinov2') {
    nodes.push({
      opType: 'Unsqueeze',
      name: 'tokens',
      input: [output, 'token_axis'],
      output: ['last_hidden_state'],
    });
    outputs.push(valueInfo('last_hidden_state', FLOAT, ['batch', 1, featureDim]));
  }
  return encodeModel({
    name: `tiny_${kind}_image_tower`,
    producerName: '@autolabel/test-utils',
    nodes,
    initializers: [
      floatInitializer('projection', [3, featureDim], projection),
      ...(kind === 'dinov2' ? [onnxGraph.int64Initializer('token_axis', [1], [1])] : []),
    ],
    inputs: [valueInfo('pixel_values', FLOAT, ['batch', 3, size, size])],
    outputs,
  });
}

/** input_ids [N,L] -> rows of E [V,D] -> mean over L -> text_embeds [N,D]; a colour word's row is W·rgb. */
function textTower(featureDim: number, projection: Float32Array): Uint8Array {
  const vocabulary = tinyHubVocabulary();
  const table = new Float32Array(vocabulary.length * featureDim);
  vocabulary.forEach((word, row) => {
    const rgb = TINY_HUB_COLOURS[word];
    if (!rgb) return;
    // The same normalisation as the image tower's input: x / 127.5 - 1.
    const colour = rgb.map((v) => v / 127.5 - 1);
    for (let d = 0; d < featureDim; d++) {
      let sum = 0;
      for (let c = 0; c < 3; c++) sum += colour[c]! * projection[c * featureDim + d]!;
      table[row * featureDim + d] = sum;
    }
  });
  return encodeModel({
    name: 'tiny_clip_text_tower',
    producerName: '@autolabel/test-utils',
    nodes: [
      {
        opType: 'Gather',
        name: 'embed',
        input: ['embeddings', 'input_ids'],
        output: ['tokens'],
        attribute: [intAttr('axis', 0)],
      },
      {
        opType: 'ReduceMean',
        name: 'mean',
        input: ['tokens'],
        output: ['text_embeds'],
        attribute: [intsAttr('axes', [1]), intAttr('keepdims', 0)],
      },
    ],
    initializers: [floatInitializer('embeddings', [vocabulary.length, featureDim], table)],
    inputs: [valueInfo('input_ids', INT64, ['batch', 'sequence'])],
    outputs: [valueInfo('text_embeds', FLOAT, ['batch', featureDim])],
  });
}

/** A WordPiece tokenizer whose vocabulary is whole words: lower-cased, split on whitespace and punctuation. */
function tokenizer(): Record<string, unknown> {
  const vocabulary = tinyHubVocabulary();
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]')],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocabulary.map((word, id) => [word, id])),
    },
  };
}

/** One request the tiny hub answered. */
export interface TinyHubRequest {
  /** `hub` for resolve URLs, `cdn` for the LFS file store they redirect to. */
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  /** The repository path of the file asked for. */
  readonly file: string;
  readonly range: string | undefined;
  readonly status: number;
}

/** Faults and conditions, each changeable while the hub runs. */
export interface TinyHubFaults {
  /** path -> bytes after which the CDN closes the connection, short of the file's end, once. */
  readonly dropOnce: Map<string, number>;
  /** path -> bytes after which the CDN stops sending and leaves the connection open (until close). */
  readonly stall: Map<string, number>;
  /** Files the CDN serves with one byte changed (same size): a sha256 mismatch. */
  readonly corrupt: Set<string>;
  /** path -> bytes added to the size the hub announces (X-Linked-Size): a size mismatch. */
  readonly sizeLie: Map<string, number>;
  /** Bytes per second the CDN sends at most (0: no limit). */
  bytesPerSecond: number;
}

export interface TinyHub {
  /** What HF_ENDPOINT or HubOptions.endpoint is set to: `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The commit every revision resolves to (X-Repo-Commit). */
  readonly commit: string;
  readonly requests: TinyHubRequest[];
  readonly faults: TinyHubFaults;
  close(): Promise<void>;
}

const COMMIT = 'c0ffee0000000000000000000000000000000001';

/** Serves the repositories under `root` (written by writeTinyHubModel) on 127.0.0.1, ports chosen by the system. */
export async function serveTinyHub(root: string): Promise<TinyHub> {
  const requests: TinyHubRequest[] = [];
  const faults: TinyHubFaults = {
    dropOnce: new Map(),
    stall: new Map(),
    corrupt: new Set(),
    sizeLie: new Map(),
    bytesPerSecond: 0,
  };
  const hung = new Set<ServerResponse>();
  const cdn = createServer((req, res) => {
    void serveCdn(root, req, res, faults, requests, hung);
  });
  const cdnUrl = await listen(cdn);
  const hub = createServer((req, res) => {
    void serveHub(root, req, res, cdnUrl, faults, requests);
  });
  const endpoint = await listen(hub);
  return {
    endpoint,
    commit: COMMIT,
    requests,
    faults,
    async close() {
      for (const res of hung) res.destroy();
      await Promise.all([hub, cdn].map((server) => close(server)));
    },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const RESOLVE = /^\/([\w.-]+\/[\w.-]+)\/resolve\/([^/]+)\/(.+)$/;
const isLfs = (path: string): boolean => /\.onnx(_data(_\d+)?)?$/.test(path);

async function serveHub(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  cdnUrl: string,
  faults: TinyHubFaults,
  requests: TinyHubRequest[],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://hub');
  const match = RESOLVE.exec(url.pathname);
  const file = match ? decodeURIComponent(match[3]!) : url.pathname;
  const answer = (status: number, headers: Record<string, string | number>, body?: Buffer): void => {
    requests.push({ server: 'hub', method: req.method ?? '', file, range: req.headers.range, status });
    res.writeHead(status, { 'x-repo-commit': COMMIT, ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (!match) return answer(404, {});
  const repo = match[1]!;
  const revision = decodeURIComponent(match[2]!);
  if (!(await stat(join(root, repo)).catch(() => undefined))?.isDirectory()) {
    return answer(401, { 'x-error-code': 'RepoNotFound' });
  }
  if (revision !== 'main' && revision !== COMMIT) return answer(404, { 'x-error-code': 'RevisionNotFound' });
  const data = await readFile(join(root, repo, file)).catch(() => undefined);
  if (!data) return answer(404, { 'x-error-code': 'EntryNotFound' });
  if (isLfs(file)) {
    const sha256 = createHash('sha256').update(data).digest('hex');
    return answer(302, {
      location: `${cdnUrl}/lfs/${repo}/${file}`,
      'x-linked-size': data.length + (faults.sizeLie.get(file) ?? 0),
      'x-linked-etag': `"${sha256}"`,
      etag: `"${sha256}"`,
    });
  }
  // A small file's etag is its git blob id.
  const blob = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
  return answer(200, { 'content-length': data.length, etag: `"${blob}"`, 'content-type': 'application/json' }, data);
}

async function serveCdn(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  faults: TinyHubFaults,
  requests: TinyHubRequest[],
  hung: Set<ServerResponse>,
): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://cdn').pathname).replace(/^\/lfs\//, '');
  const [owner = '', name = '', ...rest] = path.split('/');
  const file = rest.join('/');
  const log = (status: number): void => {
    requests.push({ server: 'cdn', method: req.method ?? '', file, range: req.headers.range, status });
  };
  let data = await readFile(join(root, owner, name, file)).catch(() => undefined);
  if (!data) {
    log(404);
    res.writeHead(404).end();
    return;
  }
  if (faults.corrupt.has(file)) {
    data = Buffer.from(data);
    const middle = data.length >> 1;
    data[middle] = data[middle]! ^ 0xff;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start >= data.length && range) {
    log(416);
    res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
    return;
  }
  const status = range ? 206 : 200;
  log(status);
  res.writeHead(status, {
    'content-length': data.length - start,
    'accept-ranges': 'bytes',
    ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = data.subarray(start);
  const drop = faults.dropOnce.get(file);
  if (drop !== undefined) faults.dropOnce.delete(file);
  const stallAt = faults.stall.get(file);
  const chunk = 16 * 1024;
  for (let sent = 0; sent < body.length;) {
    if (drop !== undefined && start + sent >= drop) {
      // What was sent arrives (and is read: a client drops what it had not read when the stream breaks),
      // then the connection closes short of Content-Length.
      await new Promise((resolve) => res.write('', resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      res.socket?.end();
      return;
    }
    if (stallAt !== undefined && start + sent >= stallAt) {
      // Headers and some bytes sent, then silence with the connection open.
      hung.add(res);
      return;
    }
    let end = Math.min(body.length, sent + chunk);
    if (drop !== undefined && start + sent < drop) end = Math.min(end, drop - start);
    if (stallAt !== undefined && start + sent < stallAt) end = Math.min(end, stallAt - start);
    const piece = body.subarray(sent, end);
    if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
    sent = end;
    if (faults.bytesPerSecond > 0) {
      await new Promise((resolve) => setTimeout(resolve, (1000 * piece.length) / faults.bytesPerSecond));
    }
    if (res.destroyed) return;
  }
  res.end();
}
