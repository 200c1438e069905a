/**
 * @module The data quality audit against planted problems: on ImageFolder pools it plants (seeded)
 * flipped labels, near-duplicate files and images from another dataset, audits with `ws.audit.run`
 * (the API the CLI and the server call), and reports precision and recall of each kind of finding.
 *
 *   npm run bench:audit -- --images cifar10=../shared/datasets/cifar10/train \
 *     --images tf_flowers=../shared/datasets/tf_flowers/train,../shared/datasets/tf_flowers/val \
 *     --model onnx:../shared/models/mobilenet-v1-imagenet [--per-class 1000] [--noise 0.1]
 *     [--duplicates 200] [--outliers 100] [--seed 1] [--synthetic 50000] [--out docs/bench/audit]
 *
 * Pool: the first `--per-class` images (by name) of each class folder, linked into a cached folder
 * (the same files as bench:learn's pools, whose embeddings are reused by content hash when found).
 * Planted, seeded: `--duplicates` copies of pool images written as new files beside them (in turn
 * resized to 75%, re-encoded as JPEG at quality 50, cropped by 5%), `--outliers` images of the next
 * dataset named linked into random class folders. Labels: every image its folder's class (a user
 * auditing existing labels), with `--noise` of the pool's own images flipped: uniformly to another
 * class ("random"), or to the class most like the true one ("realistic": the nearest class mean).
 * `--synthetic N`: wall and CPU time of a full audit of N synthetic 1024-d labelled vectors.
 */
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import {
  type AuditFinding,
  type AuditKind,
  type ImageId,
  initWorkspace,
  isImageName,
  openWorkspace,
  seededRandom,
  sha256,
  type Workspace,
} from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import sharp from 'sharp';
import { benchArgs, intArg } from './args.js';
import { writeSyntheticWorkspace } from './synthetic.js';

const args = benchArgs('bench:audit --images [NAME=]DIR[,DIR] [--images ...] --model SPEC [options]', {
  images: { type: 'string', multiple: true },
  model: { type: 'string' },
  'per-class': { type: 'string' },
  noise: { type: 'string' },
  duplicates: { type: 'string' },
  outliers: { type: 'string' },
  seed: { type: 'string' },
  synthetic: { type: 'string' },
  'skip-realistic': { type: 'boolean' },
  kinds: { type: 'string' },
  out: { type: 'string' },
});
const imagesArgs = (args.images as unknown as string[] | undefined) ?? [];
const synthetic = args.synthetic === undefined ? undefined : intArg(args.synthetic, 'synthetic', 50_000);
if ((imagesArgs.length === 0 || typeof args.model !== 'string') && synthetic === undefined) {
  process.stderr.write('usage: bench:audit --images [NAME=]DIR[,DIR] --model SPEC [--synthetic N] [options]\n');
  process.exit(2);
}
const spec =
  typeof args.model === 'string' && args.model.startsWith('onnx:')
    ? `onnx:${resolve(args.model.slice(5))}`
    : String(args.model);
const perClass = intArg(args['per-class'], 'per-class', 1000);
const noise = args.noise === undefined ? 0.1 : Number(args.noise);
const duplicateCount = intArg(args.duplicates, 'duplicates', 200);
const outlierCount = intArg(args.outliers, 'outliers', 100);
const seed = intArg(args.seed, 'seed', 1);
const outDir = resolve(String(args.out ?? 'bench-results/audit'));
const TOP_OUTLIERS = 200;
/** `--kinds duplicate,outlier`: audit these kinds only (label-error figures are then left out). */
const kinds = typeof args.kinds === 'string' ? (args.kinds.split(',') as AuditKind[]) : undefined;

interface Dataset {
  readonly name: string;
  readonly roots: readonly string[];
}
const datasets: Dataset[] = imagesArgs.map((arg) => {
  const eq = arg.indexOf('=');
  const roots = (eq > 0 ? arg.slice(eq + 1) : arg).split(',').map((p) => resolve(p));
  return { name: eq > 0 ? arg.slice(0, eq) : basename(roots[0]!), roots };
});

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Every image file of a dataset, by class, the first `perClass` of each folder by name (as bench:learn takes them). */
async function datasetFiles(dataset: Dataset): Promise<{ cls: string; file: string; name: string }[]> {
  const out: { cls: string; file: string; name: string }[] = [];
  for (const from of dataset.roots) {
    const dirs = (await readdir(from, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const cls of dirs.sort()) {
      const files = (await readdir(join(from, cls))).filter(isImageName).sort().slice(0, perClass);
      for (const file of files) {
        const name = from === dataset.roots[0] ? file : `${basename(from)}-${file}`;
        out.push({ cls, file: join(from, cls, file), name });
      }
    }
  }
  return out;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}

const VARIANTS = ['resized', 'reencoded', 'cropped'] as const;

/** Writes one near-duplicate of `source` to `target` (without extension); returns the file written. */
async function writeVariant(source: string, target: string, variant: (typeof VARIANTS)[number]): Promise<string> {
  const image = sharp(source);
  const { width = 32, height = 32 } = await image.metadata();
  switch (variant) {
    case 'resized':
      return writeOnce(`${target}.png`, () =>
        sharp(source)
          .resize(Math.max(8, Math.round(width * 0.75)), Math.max(8, Math.round(height * 0.75)))
          .png()
          .toBuffer(),
      );
    case 'reencoded':
      return writeOnce(`${target}.jpg`, () => sharp(source).jpeg({ quality: 50 }).toBuffer());
    case 'cropped': {
      const dx = Math.max(1, Math.round(width * 0.025));
      const dy = Math.max(1, Math.round(height * 0.025));
      return writeOnce(`${target}.png`, () =>
        sharp(source)
          .extract({ left: dx, top: dy, width: width - 2 * dx, height: height - 2 * dy })
          .png()
          .toBuffer(),
      );
    }
  }
}

async function writeOnce(file: string, bytes: () => Promise<Buffer>): Promise<string> {
  if (!existsSync(file)) await writeFile(file, await bytes());
  return file;
}

interface Planted {
  readonly ws: Workspace;
  readonly root: string;
  /** Paths (relative to the pool) by role. */
  readonly truthOf: Map<string, string>;
  readonly duplicates: { readonly copy: string; readonly source: string; readonly variant: string }[];
  readonly outliers: Set<string>;
  readonly classes: readonly string[];
  readonly embedSeconds: number;
}

/** Links the pool, plants copies and outliers (once; cached by key), opens its workspace, embeds what is new. */
async function plant(dataset: Dataset, other: Dataset | undefined): Promise<Planted> {
  const key = sha256(
    `${dataset.roots.join('|')}|${spec}|${perClass}|${duplicateCount}|${outlierCount}|${seed}|${other?.roots.join('|')}`,
  ).slice(0, 12);
  const root = join(tmpdir(), `autolabel-bench-audit-${key}`);
  const pool = join(root, 'pool');
  const random = seededRandom(seed);
  const files = await datasetFiles(dataset);
  const classes = [...new Set(files.map((f) => f.cls))].sort();
  const truthOf = new Map<string, string>();
  for (const f of files) {
    await mkdir(join(pool, f.cls), { recursive: true });
    const to = join(pool, f.cls, f.name);
    if (!existsSync(to)) await link(f.file, to).catch(() => copyFile(f.file, to));
    truthOf.set(`${f.cls}/${f.name}`, f.cls);
  }
  const duplicates: Planted['duplicates'] = [];
  for (const [i, f] of shuffled(files, random).slice(0, duplicateCount).entries()) {
    const variant = VARIANTS[i % VARIANTS.length]!;
    const target = join(pool, f.cls, `zz-dup-${String(i).padStart(4, '0')}-${variant}`);
    const written = await writeVariant(f.file, target, variant);
    duplicates.push({ copy: `${f.cls}/${basename(written)}`, source: `${f.cls}/${f.name}`, variant });
  }
  const outliers = new Set<string>();
  if (other) {
    const strays = shuffled(await datasetFiles(other), random).slice(0, outlierCount);
    for (const [i, f] of strays.entries()) {
      const cls = classes[Math.floor(random() * classes.length)]!;
      const name = `zz-out-${String(i).padStart(4, '0')}${extname(f.file)}`;
      const to = join(pool, cls, name);
      if (!existsSync(to)) await link(f.file, to).catch(() => copyFile(f.file, to));
      outliers.add(`${cls}/${name}`);
    }
  }
  const wsDir = join(root, 'workspace');
  const ws = existsSync(join(wsDir, 'autolabel.json'))
    ? await openWorkspace(wsDir)
    : await initWorkspace({ images: pool, workspace: wsDir, model: spec });
  await ws.scan();
  await reuseEmbeddings(ws);
  const started = performance.now();
  const result = await ws.embed({ onProgress: (p) => process.stderr.write(`\rembedding ${p.done}/${p.total}   `) });
  const embedSeconds = (performance.now() - started) / 1000;
  if (result.embedded > 0) log(`\nembedded ${result.embedded} new images in ${embedSeconds.toFixed(1)} s`);
  return { ws, root, truthOf, duplicates, outliers, classes, embedSeconds };
}

/** Copies the vectors of bench:learn's cached pools (same files, same model) so only planted files are embedded. */
async function reuseEmbeddings(ws: Workspace): Promise<void> {
  const store = storeOf(ws);
  const wanted = new Set((await store.listImages()).map((i) => i.contentHash));
  for (const name of (await readdir(tmpdir())).filter((n) => n.startsWith('autolabel-bench-learn-'))) {
    const dir = join(tmpdir(), name, 'workspace');
    if (!existsSync(join(dir, 'autolabel.json'))) continue;
    const cached = await openWorkspace(dir);
    try {
      if (cached.modelSpec !== ws.modelSpec) continue;
      const modelId = await cached.modelId().catch(() => undefined);
      if (!modelId) continue;
      const from = storeOf(cached);
      const set = await from.loadEmbeddings(modelId);
      const hashOf = new Map((await from.listImages()).map((i) => [i.id as number, i.contentHash]));
      const have = new Set<string>();
      const vectors: { contentHash: string; vector: Float32Array }[] = [];
      set.imageIds.forEach((id, row) => {
        const hash = hashOf.get(id)!;
        if (!wanted.has(hash) || have.has(hash)) return;
        have.add(hash);
        vectors.push({
          contentHash: hash,
          vector: Float32Array.from(set.vectors.subarray(row * set.dim, (row + 1) * set.dim)),
        });
      });
      if (vectors.length === 0) continue;
      await store.registerModel({ id: modelId, spec: ws.modelSpec, dim: set.dim });
      for (let i = 0; i < vectors.length; i += 1000) {
        await store.putEmbeddings({
          modelId,
          dtype: 'float32',
          dim: set.dim,
          vectors: vectors.slice(i, i + 1000),
          failures: [],
        });
      }
      log(`reused ${vectors.length} embeddings from ${dir}`);
    } finally {
      await cached.close();
    }
  }
}

/** Labels every image by its folder, with `noise` of the pool's own images flipped; returns the flipped paths. */
async function giveLabels(
  p: Planted,
  flipTo: (cls: string, random: () => number) => string,
  flipSeed: number,
): Promise<Set<string>> {
  const store = storeOf(p.ws);
  const images = await store.listImages();
  await store.clearLabels(images.map((i) => i.id));
  const random = seededRandom(flipSeed);
  const own = shuffled([...p.truthOf.keys()].sort(), random);
  const flipped = new Set(own.slice(0, Math.round(noise * own.length)));
  const labels = images.flatMap((image) => {
    if (image.skipReason !== null) return [];
    const cls = image.path.split('/')[0]!;
    const label = flipped.has(image.path) ? flipTo(cls, random) : cls;
    return [{ imageId: image.id as ImageId, label, source: 'import' as const }];
  });
  await store.setLabels(labels);
  return flipped;
}

/** For each class, the other class whose mean embedding is most similar (the realistic flip target). */
async function confusableClasses(p: Planted): Promise<Map<string, string>> {
  const store = storeOf(p.ws);
  const set = await store.loadEmbeddings(await p.ws.modelId());
  const pathOf = new Map((await store.listImages()).map((i) => [i.id as number, i.path]));
  const dim = set.dim;
  const means = p.classes.map(() => new Float64Array(dim));
  set.imageIds.forEach((id, row) => {
    const path = pathOf.get(id)!;
    if (!p.truthOf.has(path)) return;
    const m = means[p.classes.indexOf(path.split('/')[0]!)]!;
    for (let j = 0; j < dim; j++) m[j]! += set.vectors[row * dim + j]!;
  });
  const unit = means.map((m) => {
    const norm = Math.sqrt(m.reduce((a, x) => a + x * x, 0)) || 1;
    return m.map((x) => x / norm);
  });
  const out = new Map<string, string>();
  p.classes.forEach((cls, a) => {
    let best = -1;
    let bestSim = -Infinity;
    p.classes.forEach((_, b) => {
      if (a === b) return;
      let s = 0;
      for (let j = 0; j < dim; j++) s += unit[a]![j]! * unit[b]![j]!;
      if (s > bestSim) [best, bestSim] = [b, s];
    });
    out.set(cls, p.classes[best]!);
  });
  return out;
}

interface Timed<T> {
  readonly value: T;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
}

async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, wallSeconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

async function allFindings(ws: Workspace, kind: AuditKind): Promise<AuditFinding[]> {
  return [...(await ws.audit.findings({ kind, limit: 1_000_000, includeDismissed: true })).findings];
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f3 = (x: number): string => x.toFixed(3);

async function labelErrorFigures(p: Planted, flipped: Set<string>): Promise<Record<string, number>> {
  const found = (await allFindings(p.ws, 'label-error')).filter((f) => p.truthOf.has(f.images[0]!));
  const hits = found.filter((f) => flipped.has(f.images[0]!)).length;
  const top = found.slice(0, flipped.size).filter((f) => flipped.has(f.images[0]!)).length;
  return {
    flipped: flipped.size,
    flagged: found.length,
    precision: ratio(hits, found.length),
    recall: ratio(hits, flipped.size),
    precisionAtFlipped: ratio(top, Math.min(flipped.size, found.length)),
  };
}

type Seconds = { readonly wall: number; readonly cpu: number };

interface DatasetResult {
  readonly dataset: string;
  readonly images: number;
  readonly labelErrors: { readonly random: Record<string, number>; readonly realistic?: Record<string, number> };
  readonly duplicates: {
    readonly planted: number;
    readonly recall: number;
    readonly recallByVariant: Record<string, number>;
    readonly groups: number;
    readonly falseGroups: number;
    readonly falseGroupShare: number;
    readonly falseGroupExamples: readonly { readonly images: readonly string[]; readonly score: number }[];
  };
  readonly outliers: { readonly planted: number; readonly recallInTop200: number; readonly listed: number };
  readonly seconds: {
    readonly firstAudit: Seconds;
    readonly secondAudit: Seconds;
    readonly labelErrorsOnly?: Seconds;
    readonly embedPlanted: number;
  };
  readonly notes: readonly string[];
}

interface SyntheticResult {
  readonly images: number;
  readonly dim: number;
  readonly labelled: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly phaseSeconds: Record<string, number>;
  readonly counts: Record<string, number>;
  readonly notes: readonly string[];
}

async function runDataset(dataset: Dataset, other: Dataset | undefined): Promise<DatasetResult> {
  const p = await plant(dataset, other);
  try {
    log(
      `${dataset.name}: ${p.truthOf.size} pool images, ${p.duplicates.length} planted copies, ${p.outliers.size} planted outliers`,
    );
    const flippedRandom = await giveLabels(
      p,
      (cls, random) => {
        const others = p.classes.filter((c) => c !== cls);
        return others[Math.floor(random() * others.length)]!;
      },
      seed + 100,
    );
    // The first audit also computes every perceptual hash; a second one finds them stored.
    const first = await timed(() => p.ws.audit.run({ kinds, onProgress: progressLine }));
    process.stderr.write('\n');
    const again = await timed(() => p.ws.audit.run({ kinds, onProgress: progressLine }));
    process.stderr.write('\n');
    const random = await labelErrorFigures(p, flippedRandom);

    const groups = await allFindings(p.ws, 'duplicate');
    const groupOf = new Map<string, string>();
    for (const g of groups) for (const path of g.images) groupOf.set(path, g.id);
    const foundPairs = p.duplicates.filter(
      (d) => groupOf.get(d.copy) !== undefined && groupOf.get(d.copy) === groupOf.get(d.source),
    );
    const plantedPaths = new Set(p.duplicates.flatMap((d) => [d.copy, d.source]));
    const falseGroups = groups.filter((g) => !g.images.some((path) => plantedPaths.has(path)));
    const byVariant = Object.fromEntries(
      VARIANTS.map((v) => {
        const of = p.duplicates.filter((d) => d.variant === v);
        return [v, ratio(foundPairs.filter((d) => d.variant === v).length, of.length)];
      }),
    );

    const outliers = (await allFindings(p.ws, 'outlier')).filter((f) => !('decodeError' in f && f.decodeError));
    const topOutliers = outliers.slice(0, TOP_OUTLIERS);
    const outlierHits = topOutliers.filter((f) => p.outliers.has(f.images[0]!)).length;

    let realistic: Record<string, number> | undefined;
    let realisticTiming: Timed<unknown> | undefined;
    if (!args['skip-realistic'] && (kinds === undefined || kinds.includes('label-error'))) {
      const confusable = await confusableClasses(p);
      const flippedRealistic = await giveLabels(p, (cls) => confusable.get(cls)!, seed + 200);
      realisticTiming = await timed(() => p.ws.audit.run({ kinds: ['label-error'], onProgress: progressLine }));
      process.stderr.write('\n');
      realistic = { ...(await labelErrorFigures(p, flippedRealistic)), pairs: confusable.size };
      log(`${dataset.name}: realistic flips to ${[...confusable].map(([a, b]) => `${a}->${b}`).join(', ')}`);
    }
    const images = (await storeOf(p.ws).listImages()).length;
    return {
      dataset: dataset.name,
      images,
      labelErrors: { random, realistic },
      duplicates: {
        planted: p.duplicates.length,
        recall: ratio(foundPairs.length, p.duplicates.length),
        recallByVariant: byVariant,
        groups: groups.length,
        falseGroups: falseGroups.length,
        falseGroupShare: ratio(falseGroups.length, groups.length),
        falseGroupExamples: falseGroups.slice(0, 5).map((g) => ({ images: g.images, score: g.score })),
      },
      outliers: {
        planted: p.outliers.size,
        recallInTop200: ratio(outlierHits, p.outliers.size),
        listed: outliers.length,
      },
      seconds: {
        firstAudit: { wall: first.wallSeconds, cpu: first.cpuSeconds },
        secondAudit: { wall: again.wallSeconds, cpu: again.cpuSeconds },
        ...(realisticTiming && {
          labelErrorsOnly: { wall: realisticTiming.wallSeconds, cpu: realisticTiming.cpuSeconds },
        }),
        embedPlanted: p.embedSeconds,
      },
      notes: first.value.notes,
    };
  } finally {
    await p.ws.close();
  }
}

function progressLine(progress: { phase: string; done: number; total: number | null }): void {
  process.stderr.write(`\r${progress.phase}: ${progress.done}/${progress.total ?? '?'}      `);
}

async function syntheticRun(n: number): Promise<SyntheticResult> {
  const dir = join(tmpdir(), `autolabel-bench-audit-synthetic-${n}`);
  await rm(dir, { recursive: true, force: true });
  const classes = Array.from({ length: 10 }, (_, i) => `class${i}`);
  await writeSyntheticWorkspace(dir, { images: n, dim: 1024, classes, labelled: n, buildGraph: false });
  const ws = await openWorkspace(join(dir, 'ws'));
  try {
    const phases = new Map<string, number>();
    let last = performance.now();
    let phase = '';
    const run = await timed(() =>
      ws.audit.run({
        onProgress: (p) => {
          const now = performance.now();
          if (phase) phases.set(phase, (phases.get(phase) ?? 0) + (now - last) / 1000);
          [phase, last] = [p.phase, now];
          progressLine(p);
        },
      }),
    );
    process.stderr.write('\n');
    const counts = (await ws.audit.findings()).counts;
    return {
      images: n,
      dim: 1024,
      labelled: n,
      wallSeconds: run.wallSeconds,
      cpuSeconds: run.cpuSeconds,
      phaseSeconds: Object.fromEntries([...phases].map(([k, v]) => [k, Number(v.toFixed(1))])),
      counts,
      notes: run.value.notes,
    };
  } finally {
    await ws.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(results: readonly DatasetResult[], synth: SyntheticResult | undefined): string {
  const lines = [
    '| dataset | images | label errors, random flips: P / R (flagged) | realistic flips: P / R (flagged) | duplicates: recall (resized / re-encoded / cropped) | false groups | outliers: recall in top 200 | first audit wall / CPU s | again wall / CPU s |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const le = r.labelErrors.random as Record<'precision' | 'recall' | 'flagged', number>;
    const re = r.labelErrors.realistic as Record<'precision' | 'recall' | 'flagged', number> | undefined;
    const d = r.duplicates;
    lines.push(
      `| ${r.dataset} | ${r.images} | ${f3(le.precision)} / ${f3(le.recall)} (${le.flagged}) | ${re ? `${f3(re.precision)} / ${f3(re.recall)} (${re.flagged})` : '-'} | ${f3(d.recall)} (${f3(d.recallByVariant.resized ?? 0)} / ${f3(d.recallByVariant.reencoded ?? 0)} / ${f3(d.recallByVariant.cropped ?? 0)}) | ${d.falseGroups} of ${d.groups} (${(100 * d.falseGroupShare).toFixed(1)}%) | ${f3(r.outliers.recallInTop200)} | ${r.seconds.firstAudit.wall.toFixed(1)} / ${r.seconds.firstAudit.cpu.toFixed(1)} | ${r.seconds.secondAudit.wall.toFixed(1)} / ${r.seconds.secondAudit.cpu.toFixed(1)} |`,
    );
  }
  if (synth) {
    lines.push(
      '',
      `Synthetic: ${synth.images} labelled ${synth.dim}-d vectors, full audit ${synth.wallSeconds.toFixed(1)} s wall, ${synth.cpuSeconds.toFixed(1)} s CPU; phases ${JSON.stringify(synth.phaseSeconds)}`,
    );
  }
  return lines.join('\n');
}

const results: DatasetResult[] = [];
for (const [i, dataset] of datasets.entries()) {
  const other = datasets.length > 1 ? datasets[(i + 1) % datasets.length] : undefined;
  results.push(await runDataset(dataset, other));
}
const synth = synthetic === undefined ? undefined : await syntheticRun(synthetic);
await mkdir(outDir, { recursive: true });
const table = report(results, synth);
await writeFile(
  join(outDir, 'results.json'),
  `${JSON.stringify({ settings: { spec, perClass, noise, duplicateCount, outlierCount, seed }, results, synthetic: synth }, null, 2)}\n`,
);
await writeFile(join(outDir, 'results.md'), `${table}\n`);
process.stdout.write(`${table}\n`);
