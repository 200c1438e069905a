/**
 * @module A large workspace on one machine, stage by stage: wall seconds, CPU-seconds and peak memory.
 *
 *   npm run bench:scale -- --images 100000,300000 --dim 1024 [--dtype float16] [--json] [--keep DIR]
 *
 * Each size gets a synthetic workspace (bench/synthetic.ts: 10 clusters, 250 labels, image rows with
 * no files), written by a child process of its own; a second child then runs the stages through the
 * workspace API, so its peak RSS is that size's alone: graph (load the embeddings, the features, the
 * k-NN graph), fit (the first cross-validated fit and its suggestions), quickRefit (one new label, then
 * the server's refit: warm-started, calibration kept, only changed suggestions written), save (every
 * suggestion written afresh, what each refit cost before), status, export (csv), map (the server's
 * map layout) and gridPaint (the grid's first page). Peak RSS is per stage: the kernel's high-water
 * mark is reset before each (/proc/self/clear_refs). `--json` prints one object per size.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TARGET_PRECISION, type ImageId, openWorkspace, projectLearnerMap } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { writeSyntheticWorkspace } from './synthetic.js';

const args = benchArgs('bench:scale --images N[,N...] [--dim 1024] [--dtype float32|float16] [--json] [--keep DIR]', {
  images: { type: 'string' },
  dim: { type: 'string' },
  dtype: { type: 'string' },
  json: { type: 'boolean' },
  keep: { type: 'string' },
  // Internal: the child processes.
  generate: { type: 'string' },
  stages: { type: 'string' },
});

const CLASSES = Array.from({ length: 10 }, (_, i) => `class-${i}`);
const LABELLED = 250;
const STAGES = ['graph', 'fit', 'quickRefit', 'save', 'status', 'export', 'map', 'gridPaint'] as const;
type Stage = (typeof STAGES)[number];

interface StageFigures {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
}

interface SizeResult {
  readonly images: number;
  readonly dim: number;
  readonly dtype: string;
  readonly stages: Record<Stage, StageFigures>;
  /** Steady memory after the graph stage, above the process before it, per image. */
  readonly bytesPerImage: number;
  readonly notes: Readonly<Record<string, number | string>>;
}

function memoryMb(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Runs `work` as one stage: wall and CPU time (all threads of the process), and the peak RSS during it. */
async function stage<T>(name: Stage, work: () => Promise<T>): Promise<{ value: T; figures: StageFigures }> {
  global.gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  } catch {
    // Not Linux, or not allowed: the peak is then the process's so far.
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  const figures = {
    wallSeconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: memoryMb('VmHWM'),
  };
  // Progress on stderr while the stages run (the parent passes it through); the figures go to stdout at the end.
  process.stderr.write(`  ${name}: ${JSON.stringify(figures)}\n`);
  return { value, figures };
}

async function runStages(dir: string, dim: number, dtype: string): Promise<SizeResult> {
  const ws = await openWorkspace(join(dir, 'ws'));
  const stages = {} as Record<Stage, StageFigures>;
  const notes: Record<string, number | string> = {};
  try {
    global.gc?.();
    const before = memoryMb('VmRSS');
    const graph = await stage('graph', () => ws.openLearner());
    stages.graph = graph.figures;
    const learner = graph.value;
    const n = learner.size;
    global.gc?.();
    const bytesPerImage = ((memoryMb('VmRSS') - before) * 1024 * 1024) / n;
    notes.graphHow = learner.graphInfo.how;
    // The features' width: reduced by PCA from REDUCE_MIN_ROWS images on (features.ts).
    notes.featureDim = learner.features.cols;
    const fit = await stage('fit', () => ws.suggest({ learner, targetPrecision: DEFAULT_TARGET_PRECISION }));
    stages.fit = fit.figures;
    notes.fitSaveSeconds = fit.value.seconds.save;

    // One new label, as a person gives it in the review app; then the server's refit. A kept workspace
    // (--keep) has the labels of its earlier runs: the new one goes to the first image without one.
    const store = storeOf(ws);
    const labelled = new Set<number>((await store.listLabels()).map((l) => l.imageId));
    let next = (LABELLED + 1) as ImageId;
    while (labelled.has(next)) next++;
    await ws.labels.set([{ image: next, label: CLASSES[(next - 1) % CLASSES.length]! }]);
    const quick = await stage('quickRefit', () =>
      ws.suggest({ learner, quick: true, targetPrecision: DEFAULT_TARGET_PRECISION }),
    );
    stages.quickRefit = quick.figures;
    notes.quickRefitFitSeconds = quick.value.seconds.fit;
    notes.quickRefitSaveSeconds = quick.value.seconds.save;
    // The listed and rewritten suggestions (a million objects each at 1M) are dropped after the save
    // stage, so they are not counted in the later stages' peaks.
    stages.save = await (async () => {
      const stored = await store.listSuggestions();
      notes.quickRefitSuggestionsWritten = stored.filter((s) => s.fitId === quick.value.fitId).length;
      // Every suggestion written afresh (another label for each, so none is left as it is).
      const latest = (await store.latestFit())!;
      const rewritten = stored.map((s) => ({
        imageId: s.imageId,
        label: s.runnerUp ?? s.label,
        confidence: s.runnerUpConfidence ?? s.confidence,
        runnerUp: s.label,
        runnerUpConfidence: s.confidence,
        status: 'suggested' as const,
      }));
      const fitRecord = {
        modelId: latest.modelId,
        classes: latest.classes,
        labels: latest.labels,
        summary: latest.summary,
        head: latest.head,
      };
      notes.saveSuggestions = rewritten.length;
      return (await stage('save', () => store.saveFit(fitRecord, rewritten))).figures;
    })();
    stages.status = (await stage('status', () => ws.status())).figures;
    const out = join(dir, 'export.csv');
    stages.export = (await stage('export', () => ws.export({ format: 'csv', out }))).figures;
    rmSync(out, { force: true });
    const map = await stage('map', () => projectLearnerMap(learner));
    stages.map = map.figures;
    notes.mapPlaced = map.value.filter((v, i) => i % 2 === 0 && Number.isFinite(v)).length;
    stages.gridPaint = (
      await stage('gridPaint', () => ws.images.query({ offset: 0, limit: 200, sort: 'confidence' }))
    ).figures;
    await learner.close();
    return { images: n, dim, dtype, stages, bytesPerImage, notes };
  } finally {
    await ws.close();
  }
}

function child(flag: string, values: string[]): string {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--expose-gc', script, `--${flag}`, ...values], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`${flag} child exited with ${result.status ?? result.signal}`);
  return result.stdout.trim().split('\n').pop()!;
}

const dim = intArg(args.dim, 'dim', 1024);
const dtype = args.dtype === undefined ? 'float32' : String(args.dtype);
if (dtype !== 'float32' && dtype !== 'float16') {
  process.stderr.write(`--dtype must be float32 or float16, got ${dtype}\n`);
  process.exit(2);
}

if (typeof args.generate === 'string') {
  const images = intArg(args.images, 'images', 100_000);
  const started = performance.now();
  await writeSyntheticWorkspace(args.generate, {
    images,
    dim,
    classes: CLASSES,
    labelled: LABELLED,
    dtype,
    buildGraph: false,
  });
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000 })}\n`);
} else if (typeof args.stages === 'string') {
  process.stdout.write(`${JSON.stringify(await runStages(args.stages, dim, dtype))}\n`);
} else {
  const sizes = String(args.images ?? '100000,300000')
    .split(',')
    .map((s) => intArg(s, 'images', 0));
  for (const images of sizes) {
    const dir =
      typeof args.keep === 'string'
        ? join(args.keep, `${images}x${dim}-${dtype}`)
        : mkdtempSync(join(tmpdir(), 'scale-'));
    mkdirSync(dir, { recursive: true });
    try {
      const common = ['--images', String(images), '--dim', String(dim), '--dtype', dtype];
      // --keep: a workspace written before is used again (its graph then comes from the cache).
      const generated = existsSync(join(dir, 'ws'))
        ? { seconds: 0 }
        : (JSON.parse(child('generate', [dir, ...common])) as { seconds: number });
      const result = JSON.parse(child('stages', [dir, ...common])) as SizeResult;
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ ...result, generateSeconds: generated.seconds })}\n`);
        continue;
      }
      process.stdout.write(
        `\n${images.toLocaleString('en')} images x ${dim}-d ${dtype} (workspace written in ${generated.seconds.toFixed(0)} s)\n` +
          `stage        wall s    CPU s   peak RSS MiB\n`,
      );
      for (const name of STAGES) {
        const f = result.stages[name];
        process.stdout.write(
          `${name.padEnd(11)} ${f.wallSeconds.toFixed(2).padStart(8)} ${f.cpuSeconds.toFixed(2).padStart(8)} ${f.peakRssMb.toFixed(0).padStart(10)}\n`,
        );
      }
      process.stdout.write(
        `memory held after the graph stage: ${(result.bytesPerImage / 1024).toFixed(2)} KiB per image\n` +
          `notes: ${JSON.stringify(result.notes)}\n`,
      );
    } finally {
      if (typeof args.keep !== 'string') rmSync(dir, { recursive: true, force: true });
    }
  }
}
