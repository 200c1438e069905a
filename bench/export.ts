/**
 * @module Exporting a large workspace in every format through the workspace API: time and peak memory.
 *
 *   npm run bench:export -- [--images 100000] [--million] [--formats csv,jsonl,...] [--out docs/bench/export]
 *
 * The workspace is synthetic (image rows only, no files, as bench:import): every image has a
 * suggestion in one of 10 classes, 10% are labelled by hand and 10% accepted; the image files are
 * hard links to one small file per 1,000 images, so folder formats make real (hard) links. Every
 * format with an export direction is run, each in a child process of its own with a 64 MiB V8 heap
 * limit, so its peak memory (VmHWM) is the export's alone and an export that held rows in memory
 * would fail. `--million` adds a run at 1,000,000 images, to show that memory does not grow with
 * the workspace.
 */
import { spawnSync } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  type ImageId,
  initWorkspace,
  type NewImage,
  openWorkspace,
} from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { syntheticImage } from './synthetic.js';

const args = benchArgs('bench:export [--images 100000] [--million] [--formats csv,jsonl,...] [--out DIR]', {
  images: { type: 'string' },
  million: { type: 'boolean' },
  formats: { type: 'string' },
  out: { type: 'string' },
  'export-from': { type: 'string' },
  format: { type: 'string' },
});

function memoryMiB(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

interface Figures {
  readonly format: ExportFormat;
  readonly images: number;
  readonly written: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** RSS with the workspace open, before the export. */
  readonly opened: number;
  readonly peak: number;
  readonly bytes: number;
}

/** Bytes of the regular files under `dir` that are text (lists, class indices), not linked images. */
function textBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.txt')) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

if (typeof args['export-from'] === 'string') {
  // The child: one export, then its own figures as JSON.
  const dir = args['export-from'];
  const format = String(args.format) as ExportFormat;
  const ws = await openWorkspace(join(dir, 'ws'));
  const opened = memoryMiB('VmRSS');
  const out = join(dir, `out-${format}`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await ws.export({ format, out });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const peak = memoryMiB('VmHWM');
  await ws.close();
  const bytes = statSync(out).isDirectory() ? textBytes(out) : statSync(out).size;
  const figures = {
    format,
    images: 0,
    written: result.images,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    opened,
    peak,
    bytes,
  } satisfies Figures;
  process.stdout.write(JSON.stringify(figures));
  process.exit(0);
}

const CLASSES = Array.from({ length: 10 }, (_, i) => `class ${i}`);
/**
 * Each export runs with this much V8 heap at most: one that kept rows would run out at 1,000,000
 * images. (Unbounded, V8 lets garbage pile up before collecting, and peak RSS says little.)
 */
const HEAP_MIB = 64;

async function buildWorkspace(dir: string, count: number): Promise<number> {
  const started = performance.now();
  mkdirSync(join(dir, 'images'), { recursive: true });
  const ws = await initWorkspace({ images: join(dir, 'images'), workspace: join(dir, 'ws') });
  const store = storeOf(ws);
  const path = (i: number): string =>
    `img/${String(Math.floor(i / 1000)).padStart(4, '0')}/${String(i).padStart(7, '0')}.jpg`;
  // One file per folder of 1,000, the rest hard links to it: real files to link to, cheap to make.
  for (let i = 0; i < count; i++) {
    const file = join(dir, 'images', path(i));
    if (i % 1000 === 0) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'not a JPEG: the export never reads it');
    } else linkSync(join(dir, 'images', path(i - (i % 1000))), file);
  }
  for (let start = 0; start < count; start += 50_000) {
    const upserts: NewImage[] = [];
    for (let i = start; i < Math.min(count, start + 50_000); i++) upserts.push(syntheticImage(path(i), i));
    await store.applyScan({ upserts, moves: [], removals: [] });
  }
  // Image ids are 1..count in insertion order (a fresh database).
  await store.saveFit(
    { modelId: 'synthetic', classes: CLASSES, labels: 0, summary: {}, head: Uint8Array.of(0) },
    Array.from({ length: count }, (_, i) => {
      const confidence = 0.3 + 0.7 * (((i * 7919) % 1000) / 1000);
      return {
        imageId: (i + 1) as ImageId,
        label: CLASSES[i % 10]!,
        confidence,
        runnerUp: CLASSES[(i + 1) % 10]!,
        runnerUpConfidence: (1 - confidence) / 2,
        status: confidence > 0.9 ? ('auto' as const) : ('suggested' as const),
      };
    }),
  );
  for (let start = 0; start < count; start += 100_000) {
    const labels = [];
    for (let i = start; i < Math.min(count, start + 100_000); i += 10) {
      labels.push({ imageId: (i + 1) as ImageId, label: CLASSES[i % 10]!, source: 'manual' as const });
    }
    await store.setLabels(labels);
    const accept: ImageId[] = [];
    for (let i = start + 5; i < Math.min(count, start + 100_000); i += 10) accept.push((i + 1) as ImageId);
    await store.acceptSuggestions(accept);
  }
  await ws.close();
  return (performance.now() - started) / 1000;
}

/**
 * Hard and symbolic links per second this file system makes to the images, one at a time with
 * nothing else of ours going on: the floor under the folder formats' figures.
 */
function linkRates(dir: string): { hard: number; symbolic: number } {
  const rate = (make: (source: string, target: string) => void): number => {
    const folder = join(dir, 'link-rate');
    mkdirSync(folder);
    const started = performance.now();
    for (let i = 0; i < 5_000; i++) {
      const source = join(
        dir,
        'images',
        `img/${String(Math.floor(i / 1000)).padStart(4, '0')}/${String(i).padStart(7, '0')}.jpg`,
      );
      make(source, join(folder, `${i}.jpg`));
    }
    const seconds = (performance.now() - started) / 1000;
    rmSync(folder, { recursive: true, force: true });
    return 5_000 / seconds;
  };
  return { hard: rate(linkSync), symbolic: rate(symlinkSync) };
}

const sizes = [intArg(args.images, 'images', 100_000), ...(args.million ? [1_000_000] : [])];
const formats = (typeof args.formats === 'string' ? args.formats.split(',') : EXPORT_FORMATS) as ExportFormat[];
for (const f of formats) {
  if (!(EXPORT_FORMATS as readonly string[]).includes(f)) {
    process.stderr.write(`--formats: unknown format ${f} (formats: ${EXPORT_FORMATS.join(', ')})\n`);
    process.exit(2);
  }
}
const results: Figures[] = [];
const rates: { images: number; hardLinksPerSecond: number; symlinksPerSecond: number }[] = [];
const log = (line: string): void => void process.stdout.write(`${line}\n`);
log(
  `bench:export: ${formats.join(', ')} at ${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} images, ${HEAP_MIB} MiB V8 heap per export`,
);
for (const count of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-bench-export-'));
  try {
    const built = await buildWorkspace(dir, count);
    const links = linkRates(dir);
    rates.push({
      images: count,
      hardLinksPerSecond: Math.round(links.hard),
      symlinksPerSecond: Math.round(links.symbolic),
    });
    log(
      `\n${count.toLocaleString('en-US')} images (workspace built in ${built.toFixed(1)} s; this file system makes ` +
        `${Math.round(links.hard).toLocaleString('en-US')} hard links/s and ${Math.round(links.symbolic).toLocaleString('en-US')} symbolic links/s, one at a time)`,
    );
    log('format         written    seconds  CPU-s  img/s      opened MiB  peak MiB  output');
    for (const format of formats) {
      const child = spawnSync(
        process.execPath,
        [`--max-old-space-size=${HEAP_MIB}`, fileURLToPath(import.meta.url), '--export-from', dir, '--format', format],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      if (child.status !== 0) throw new Error(`the ${format} export child failed: ${child.stderr}`);
      const r = { ...(JSON.parse(child.stdout) as Figures), images: count };
      results.push(r);
      const mib = `${(r.bytes / 2 ** 20).toFixed(1)} MiB`;
      const output = ['imagefolder', 'yolo-cls'].includes(format)
        ? 'links'
        : format === 'voc'
          ? `links, lists ${mib}`
          : mib;
      log(
        `${format.padEnd(13)} ${String(r.written).padStart(8)} ${r.seconds.toFixed(2).padStart(10)} ${r.cpuSeconds
          .toFixed(1)
          .padStart(6)} ${Math.round(r.written / r.seconds)
          .toLocaleString('en-US')
          .padStart(9)} ${r.opened.toFixed(0).padStart(14)} ${r.peak.toFixed(0).padStart(9)}  ${output}`,
      );
      rmSync(join(dir, `out-${format}`), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (typeof args.out === 'string') {
  mkdirSync(args.out, { recursive: true });
  writeFileSync(
    join(args.out, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), heapMiB: HEAP_MIB, linkRates: rates, results }, null, 2)}\n`,
  );
  log(`\nWrote ${join(args.out, 'results.json')}`);
}
