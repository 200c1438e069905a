/**
 * @module Embedding speed: bare model inference against the end-to-end `embed` job (read, decode,
 * resize, normalise, infer, store) on the same images and model, interleaved round by round (bare,
 * embed, embed, bare, ...) so that the ratio holds while the machine's speed drifts; with CPU-seconds
 * of each and memory over the run.
 *
 * npm run bench:embed -- --images ../shared/datasets/cifar10/train --model onnx:../shared/models/mobilenet-v1-imagenet
 *
 * `--check-resize N` first decodes N of the images both ways decodeRgb can (resized in JavaScript
 * where it reproduces sharp, and by sharp): pixel differences, embedding cosines, CPU-ms of each;
 * and, for the plain JPEGs among them, decoding alone in WebAssembly (image/jpeg.ts) against sharp:
 * whether the bytes are the same, and the CPU-ms of each.
 */
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  decodeJpegInWasm,
  decodeRgb,
  decodesExactlyInWasm,
  initWorkspace,
  isJpeg,
  readJpegHeader,
  isImageName,
  loadEmbedder,
  readImageInfo,
  parseModelSpec,
  takesTensors,
  TensorWriter,
} from '@autolabel/core';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { benchArgs, intArg } from './args.js';

const usage =
  'bench:embed --images DIR --model SPEC [--limit 2000] [--rounds 4] [--batch-size 32] [--threads N[,N...]] [--bare-threads N] [--decode-workers N[,N...]] [--baseline CHECKOUT] [--check-resize N]';
const args = benchArgs(usage, {
  images: { type: 'string' },
  model: { type: 'string' },
  limit: { type: 'string' },
  rounds: { type: 'string' },
  'batch-size': { type: 'string' },
  threads: { type: 'string' },
  'bare-threads': { type: 'string' },
  'decode-workers': { type: 'string' },
  baseline: { type: 'string' },
  'check-resize': { type: 'string' },
});
if (typeof args.images !== 'string' || typeof args.model !== 'string') {
  process.stderr.write(`usage: npm run ${usage}\n`);
  process.exit(2);
}
const imagesDir = resolve(args.images);
const spec = args.model.startsWith('onnx:') ? `onnx:${resolve(args.model.slice(5))}` : args.model;
const limit = intArg(args.limit, 'limit', 2000);
const rounds = intArg(args.rounds, 'rounds', 4);
const batchSize = intArg(args['batch-size'], 'batch-size', 32);
/** A comma-separated list of whole numbers (each end-to-end setting to compare), or [undefined]: the default. */
function listArg(value: string | boolean | undefined, name: string, min: number): (number | undefined)[] {
  if (typeof value !== 'string') return [undefined];
  const list = value.split(',').map(Number);
  if (list.some((n) => !(Number.isInteger(n) && n >= min))) {
    process.stderr.write(`--${name} takes whole numbers of at least ${min}, got ${value}\n`);
    process.exit(2);
  }
  return list;
}
/** Model threads and decode workers of the end-to-end engines: one engine per pair, side by side. */
const threadCounts = listArg(args.threads, 'threads', 1);
const decodeWorkerCounts = listArg(args['decode-workers'], 'decode-workers', 0);
/** Threads of the bare onnxruntime session: all cores (the plain way to run the model) unless told. */
const bareThreads = intArg(args['bare-threads'], 'bare-threads', availableParallelism());

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

/** Puts `files` into `dir` as hard links (a copy across file systems): the scan never follows links out of the images folder. */
async function placeImages(files: readonly string[], dir: string, first: number): Promise<void> {
  await Promise.all(
    files.map(async (file, i) => {
      const target = join(dir, `${String(first + i).padStart(7, '0')}.jpg`);
      await link(file, target).catch(() => copyFile(file, target));
    }),
  );
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Tally {
  images: number;
  seconds: number;
  cpu: number;
}
const tally = (): Tally => ({ images: 0, seconds: 0, cpu: 0 });
const rate = (t: Tally): number => t.images / t.seconds;

/** One engine's end-to-end embed over a workspace that grows by one round of images at a time. */
interface EndToEnd {
  readonly label: string;
  /** Adds `files` to the images folder, scans, and embeds them: the embed job's images, seconds and CPU-seconds. */
  round(files: readonly string[], first: number): Promise<Tally & { skipped: number }>;
  close(): Promise<void>;
}

/** The embedder-facing subset of a core build: this checkout's, or a baseline's (`--baseline`). */
interface CoreLike {
  initWorkspace: typeof initWorkspace;
  loadEmbedder: typeof loadEmbedder;
}

async function endToEnd(
  core: CoreLike,
  label: string,
  work: string,
  threads: number | undefined,
  decodeWorkers: number | undefined,
): Promise<EndToEnd> {
  const root = join(work, 'images');
  await mkdir(root, { recursive: true });
  const embedder = await core.loadEmbedder(spec, { threads, batchSize });
  const workspace = await core.initWorkspace({ images: root, workspace: join(work, 'ws'), model: spec });
  // The first batches of a fresh embedder and store pay one-off costs; keep them out of round 1.
  await embedder.embed(new Uint8Array(batchSize * embedder.input.width * embedder.input.height * 3), batchSize);
  return {
    label,
    async round(files, first) {
      await placeImages(files, root, first);
      await workspace.scan();
      const options = decodeWorkers === undefined ? { embedder, batchSize } : { embedder, batchSize, decodeWorkers };
      const c0 = cpuSeconds();
      const result = await workspace.embed(options);
      const cpu = cpuSeconds() - c0;
      return { images: result.embedded, seconds: result.seconds, cpu, skipped: result.skipped };
    },
    async close() {
      await workspace.close();
      await embedder.close();
    },
  };
}

const files = await sampleImages(imagesDir, limit);
const perRound = Math.ceil(files.length / rounds);
console.log(
  `images: ${files.length} from ${imagesDir}, ${rounds} rounds of ${perRound}; model: ${spec}; batch ${batchSize}; ` +
    `bare: ${parseModelSpec(spec).kind === 'onnx' ? `onnxruntime on ${bareThreads} threads` : 'the embedder on prepared pixels'}; ${availableParallelism()} cores`,
);

// Bare inference: one batch of real images, decoded and normalised once, run as often as a round has batches.
const parsed = parseModelSpec(spec);
const probe = await loadEmbedder(spec, { threads: bareThreads, batchSize });
const { width, height } = probe.input;
const pixels = new Uint8Array(batchSize * width * height * 3);
for (let i = 0; i < batchSize; i++) {
  const data = await readFile(files[i % files.length]!);
  pixels.set(await decodeRgb(data, probe.input, { maxPixels: 1e8 }), i * width * height * 3);
}
let bareBatch: () => Promise<void>;
let closeBare: () => Promise<void>;
if (parsed.kind === 'onnx' && takesTensors(probe)) {
  // Straight onnxruntime on the same model file, without spinning as the embedder.
  const format = probe.tensorFormat;
  await probe.close();
  const session = await ort.InferenceSession.create(join(parsed.path, 'model.onnx'), {
    intraOpNumThreads: bareThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const values = new Float32Array(pixels.length);
  new TensorWriter(format).write(pixels, batchSize, width * height, values);
  const dims = format.channelsLast ? [batchSize, height, width, 3] : [batchSize, 3, height, width];
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', values, dims) };
  bareBatch = async () => void (await session.run(feeds));
  closeBare = () => session.release();
} else {
  // Other backends: the embedder itself on prepared pixels.
  bareBatch = async () => void (await probe.embed(pixels, batchSize));
  closeBare = () => probe.close();
}
for (let i = 0; i < 2; i++) await bareBatch();

if (args['check-resize'] !== undefined)
  await checkResize(files.slice(0, intArg(args['check-resize'], 'check-resize', 200)));

/**
 * decodeRgb given the scanned size (JavaScript resizes what it reproduces) against decodeRgb without
 * it (sharp resizes): largest and mean absolute pixel difference, the lowest embedding cosine, and
 * the CPU-ms of each way, one image at a time.
 */
async function checkResize(sample: readonly string[]): Promise<void> {
  const embedder = await loadEmbedder(spec, { threads: bareThreads, batchSize: 1 });
  const input = embedder.input;
  const values = input.width * input.height * 3;
  const limits = { maxPixels: 1e8 };
  let shrunk = 0;
  let max = 0;
  let sum = 0;
  let lowest = 1;
  let jsCpu = 0;
  let sharpCpu = 0;
  let decodeCpu = 0;
  let wasmImages = 0;
  let wasmSame = 0;
  let wasmCpu = 0;
  let wasmSharpCpu = 0;
  for (const file of sample) {
    const data = await readFile(file);
    const size = await readImageInfo(data, limits);
    const c0 = cpuSeconds();
    const viaJs = await decodeRgb(data, input, limits, size);
    const c1 = cpuSeconds();
    const viaSharp = await decodeRgb(data, input, limits);
    const c2 = cpuSeconds();
    // Decoding alone, as decodeRgb asks it of sharp (the floor of any resize).
    const decodedBySharp = await sharp(data, { failOn: 'truncated', pages: 1, autoOrient: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
    const c3 = cpuSeconds();
    decodeCpu += c3 - c2;
    if (isJpeg(data) && decodesExactlyInWasm(readJpegHeader(data), limits.maxPixels)) {
      const inWasm = await decodeJpegInWasm(data);
      wasmCpu += cpuSeconds() - c3;
      wasmSharpCpu += c3 - c2;
      wasmImages += 1;
      if (inWasm && Buffer.from(inWasm.pixels).equals(decodedBySharp)) wasmSame += 1;
    }
    sharpCpu += c2 - c1;
    jsCpu += c1 - c0;
    if (size.width > input.width || size.height > input.height) shrunk += 1;
    let diff = 0;
    for (let i = 0; i < values; i++) {
      const d = Math.abs(viaJs[i]! - viaSharp[i]!);
      diff += d;
      if (d > max) max = d;
    }
    sum += diff / values;
    const a = await embedder.embed(viaJs, 1);
    const b = await embedder.embed(viaSharp, 1);
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
    lowest = Math.min(lowest, dot / Math.sqrt(na * nb));
  }
  await embedder.close();
  const n = sample.length;
  console.log(
    `resize check, ${n} images (${shrunk} larger than the input on an axis): JavaScript against sharp, max abs diff ${max}, ` +
      `mean ${(sum / n).toFixed(4)} levels; lowest embedding cosine ${lowest.toFixed(6)}; ` +
      `decode + resize ${((jsCpu / n) * 1000).toFixed(2)} CPU-ms against sharp's ${((sharpCpu / n) * 1000).toFixed(2)} ` +
      `(decoding alone ${((decodeCpu / n) * 1000).toFixed(2)})`,
  );
  if (wasmImages > 0) {
    console.log(
      `JPEG decode check, ${wasmImages} plain JPEGs: WebAssembly gave sharp's bytes for ${wasmSame}; ` +
        `${((wasmCpu / wasmImages) * 1000).toFixed(2)} CPU-ms against sharp's ${((wasmSharpCpu / wasmImages) * 1000).toFixed(2)}`,
    );
  }
}

const work = await mkdtemp(join(tmpdir(), 'autolabel-bench-'));
try {
  const engines: EndToEnd[] = [];
  for (const t of threadCounts) {
    for (const w of decodeWorkerCounts) {
      const label = ['embed', t === undefined ? '' : `t=${t}`, w === undefined ? '' : `w=${w}`].join(' ').trim();
      const dir = join(work, `current-${engines.length}`);
      engines.push(await endToEnd({ initWorkspace, loadEmbedder }, label, dir, t, w));
    }
  }
  if (typeof args.baseline === 'string') {
    const baseline = (await import(join(resolve(args.baseline), 'packages/core/dist/index.js'))) as CoreLike;
    engines.push(await endToEnd(baseline, 'baseline', join(work, 'baseline'), threadCounts[0], undefined));
  }
  const bare = tally();
  const totals = new Map(engines.map((e) => [e.label, tally()]));
  const ratios = new Map<string, number[]>(engines.map((e) => [e.label, []]));
  const rss: string[] = [];
  let peak = process.memoryUsage().rss;
  // rss() alone: memoryUsage() also reads the heap statistics (0.6 ms a call on the loaded 2-core VM).
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  let skipped = 0;

  for (let r = 0; r < rounds; r++) {
    const chunk = files.slice(r * perRound, (r + 1) * perRound);
    if (chunk.length === 0) break;
    const batches = Math.ceil(chunk.length / batchSize);
    const runBare = async (): Promise<Tally> => {
      const c0 = cpuSeconds();
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) await bareBatch();
      return { images: batches * batchSize, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
    };
    const runEngine = async (engine: EndToEnd): Promise<Tally> => {
      const result = await engine.round(chunk, r * perRound);
      skipped += engine === engines[0] ? result.skipped : 0;
      return result;
    };
    // ABBA order: bare first on even rounds, last on odd ones, so a steady drift cancels out.
    const order = r % 2 === 0 ? ['bare', ...engines.map((e) => e.label)] : [...engines.map((e) => e.label), 'bare'];
    let roundBare: Tally | undefined;
    const roundRates = new Map<string, Tally>();
    for (const step of order) {
      if (step === 'bare') {
        roundBare = await runBare();
        bare.images += roundBare.images;
        bare.seconds += roundBare.seconds;
        bare.cpu += roundBare.cpu;
      } else {
        const engine = engines.find((e) => e.label === step)!;
        const t = await runEngine(engine);
        const total = totals.get(step)!;
        total.images += t.images;
        total.seconds += t.seconds;
        total.cpu += t.cpu;
        roundRates.set(step, t);
      }
    }
    rss.push(mib(process.memoryUsage().rss));
    const parts = [`bare ${rate(roundBare!).toFixed(1)}`];
    for (const [label, t] of roundRates) {
      ratios.get(label)!.push(rate(t) / rate(roundBare!));
      parts.push(`${label} ${rate(t).toFixed(1)} (${(rate(t) / rate(roundBare!)).toFixed(2)})`);
    }
    console.log(`round ${r + 1}: ${parts.join(', ')} img/s`);
  }
  clearInterval(sampler);
  for (const engine of engines) await engine.close();
  await closeBare();

  const ms = (t: Tally): string => `${((t.cpu / t.images) * 1000).toFixed(2)} CPU-ms/img`;
  console.log(
    `bare inference:   ${rate(bare).toFixed(1)} img/s (${bare.images} images in ${bare.seconds.toFixed(1)} s; ${bare.cpu.toFixed(1)} CPU-s, ${ms(bare)})`,
  );
  for (const engine of engines) {
    const t = totals.get(engine.label)!;
    const sorted = [...ratios.get(engine.label)!].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `${engine.label.padEnd(14)} end to end: ${rate(t).toFixed(1)} img/s (${t.images} images in ${t.seconds.toFixed(1)} s; ${t.cpu.toFixed(1)} CPU-s, ${ms(t)})`,
    );
    console.log(
      `${engine.label.padEnd(14)} ratio to bare: ${(rate(t) / rate(bare)).toFixed(3)} overall; per round median ${median.toFixed(2)}, ${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)} (target >= 0.85)`,
    );
  }
  console.log(`skipped: ${skipped}; memory (rss) after each round: ${rss.join(', ')}; peak ${mib(peak)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
