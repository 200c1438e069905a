/**
 * @module Embedding speed: bare model inference vs the end-to-end `embed` job (read, decode, resize,
 * infer, store) on the same images and model, plus memory over the run.
 *
 * npm run bench:embed -- --images ../shared/datasets/cifar10/train --model onnx:../shared/models/mobilenet-v1-imagenet
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeRgb, initWorkspace, isImageName, loadEmbedder, parseModelSpec } from '@autolabel/core';
import * as ort from 'onnxruntime-node';
import { benchArgs, intArg } from './args.js';

const args = benchArgs('bench:embed --images DIR --model SPEC [--limit 5000] [--batch-size 32] [--threads N]', {
  images: { type: 'string' },
  model: { type: 'string' },
  limit: { type: 'string' },
  'batch-size': { type: 'string' },
  threads: { type: 'string' },
});
if (typeof args.images !== 'string' || typeof args.model !== 'string') {
  process.stderr.write('usage: npm run bench:embed -- --images DIR --model SPEC [--limit 5000] [--batch-size 32]\n');
  process.exit(2);
}
const imagesDir = resolve(args.images);
const spec = args.model.startsWith('onnx:') ? `onnx:${resolve(args.model.slice(5))}` : args.model;
const limit = intArg(args.limit, 'limit', 5000);
const batchSize = intArg(args['batch-size'], 'batch-size', 32);
const threads = args.threads === undefined ? undefined : intArg(args.threads, 'threads', 2);

/** The first `limit` images, taken round-robin across subfolders so every class is in the sample. */
async function sampleImages(root: string, count: number): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => join(root, e.name))
    .sort();
  const lists = await Promise.all(
    (dirs.length > 0 ? dirs : [root]).map(async (dir) =>
      (await readdir(dir))
        .filter(isImageName)
        .sort()
        .map((name) => join(dir, name)),
    ),
  );
  const picked: string[] = [];
  for (let i = 0; picked.length < count; i++) {
    let any = false;
    for (const list of lists) {
      const file = list[i];
      if (file !== undefined && picked.length < count) {
        picked.push(file);
        any = true;
      }
    }
    if (!any) break;
  }
  return picked;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const files = await sampleImages(imagesDir, limit);
console.log(`images: ${files.length} from ${imagesDir}; model: ${spec}; batch ${batchSize}`);

// Bare inference: one batch of real images, decoded and normalised once, run repeatedly.
const embedder = await loadEmbedder(spec, { threads, batchSize });
const { width, height } = embedder.input;
const pixels = new Uint8Array(batchSize * width * height * 3);
for (let i = 0; i < batchSize; i++) {
  const data = await readFile(files[i % files.length]!);
  pixels.set(await decodeRgb(data, embedder.input, { maxPixels: 1e8 }), i * width * height * 3);
}
const warmup = 2;
const timed = 10;
const parsed = parseModelSpec(spec);
/** Images per second of the model alone on one prepared batch: straight onnxruntime for onnx specs. */
async function bareRate(): Promise<number> {
  if (parsed.kind !== 'onnx') {
    for (let i = 0; i < warmup; i++) await embedder.embed(pixels, batchSize);
    const t0 = performance.now();
    for (let i = 0; i < timed; i++) await embedder.embed(pixels, batchSize);
    return (timed * batchSize) / ((performance.now() - t0) / 1000);
  }
  // Same model file and thread settings, float input prepared in advance.
  const session = await ort.InferenceSession.create(join(parsed.path, 'model.onnx'), {
    intraOpNumThreads: threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor(
    'float32',
    Float32Array.from(pixels, (v) => v / 127.5 - 1),
    [batchSize, height, width, 3],
  ).reshape([batchSize, 3, height, width]);
  const feeds = { [session.inputNames[0]!]: input };
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) await session.run(feeds);
  const rate = (timed * batchSize) / ((performance.now() - t0) / 1000);
  await session.release();
  return rate;
}
// This machine's speed drifts: bare inference is measured before and after the end-to-end run.
const bareBefore = await bareRate();

// End to end: a fresh workspace over links to the sampled files, scanned, then embedded.
const work = await mkdtemp(join(tmpdir(), 'autolabel-bench-'));
try {
  const root = join(work, 'images');
  await mkdir(root);
  await Promise.all(files.map((file, i) => symlink(file, join(root, `${String(i).padStart(7, '0')}.jpg`))));
  const workspace = await initWorkspace({ images: root, workspace: join(work, 'ws'), model: spec });
  await workspace.scan();
  const rss: string[] = [];
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let nextMark = 0.25;
  const result = await workspace.embed({
    embedder,
    batchSize,
    onProgress: (p) => {
      if (p.total && p.done / p.total >= nextMark) {
        rss.push(`${Math.round(nextMark * 100)}%: ${mib(process.memoryUsage().rss)}`);
        nextMark += 0.25;
      }
    },
  });
  clearInterval(sampler);
  await workspace.close();
  const e2e = result.embedded / result.seconds;
  const bareAfter = await bareRate();
  await embedder.close();
  const bare = (bareBefore + bareAfter) / 2;
  console.log(
    `bare inference:        ${bare.toFixed(1)} img/s (before ${bareBefore.toFixed(1)}, after ${bareAfter.toFixed(1)}; ${timed} batches of ${batchSize} after ${warmup} warm-up)`,
  );
  console.log(
    `end-to-end embed:      ${e2e.toFixed(1)} img/s (${result.embedded} images in ${result.seconds.toFixed(1)} s, ${result.skipped} skipped)`,
  );
  console.log(`ratio end-to-end/bare: ${(e2e / bare).toFixed(2)} (target >= 0.80)`);
  console.log(`memory (rss) during embed: ${rss.join(', ')}; peak ${mib(peak)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
