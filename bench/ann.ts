/**
 * @module Approximate neighbours (HNSW, learn/ann.ts) against the exact search (ort-math.ts Gemm + TopK):
 * build time and recall@20 of the k-NN graph on synthetic 1024-d data, the cost of extending a graph,
 * and on real CIFAR-10 features the recall and the suggestion accuracy with the graph forced approximate.
 *
 *   npm run bench:ann -- [--sizes 50000,100000,200000] [--dim 1024] [--extend 50000]
 *     [--workspace DIR] [--seeds 5] [--labels 4,25] [--ef 64] [--ef-add 128] [--quantization f16|f32] [--threads N] [--skip-scale] [--skip-accuracy]
 *
 * Sizes: clustered vectors like bench/synthetic.ts (10 clusters, ReLU of centre + uniform noise), in
 * Autolabel's feature transform; each size builds the exact graph and the HNSW one side by side in one
 * process, timed in wall and CPU-seconds (process.cpuUsage counts every thread), and the 1M figure is
 * extrapolated: exact as n², HNSW as n·log n from the largest size.
 * `--extend N`: N images plus 2% more: extending the cached exact graph against building it again.
 * `--workspace DIR`: a workspace with embeddings, such as bench:learn's CIFAR-10 pool
 * (`$TMPDIR/autolabel-bench-learn-<key>/workspace`), classes from each image's first folder; labels are
 * drawn per seed as bench:learn draws them (K per class, uniformly at random), and the same draws are
 * fitted with the exact graph and with the HNSW one.
 */
import { join } from 'node:path';
import { type ImageId, type LabelRecord, openWorkspace, seededRandom } from '@autolabel/core';
import {
  applyFeatureTransform,
  buildKnnGraph,
  extendKnnGraph,
  fitFeatureTransform,
  GRAPH_K,
  HnswIndex,
  type KnnGraph,
  Learner,
  matrix,
  type Matrix,
  OrtMath,
  storeOf,
} from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { drawLabels } from './draws.js';

const usage =
  'bench:ann [--sizes 50000,100000,200000] [--dim 1024] [--extend N] [--workspace DIR] [--seeds 5] [--labels 4,25] [--ef 64] [--ef-add 128] [--quantization f16|f32] [--threads N] [--skip-scale] [--skip-accuracy]';
const args = benchArgs(usage, {
  sizes: { type: 'string' },
  dim: { type: 'string' },
  extend: { type: 'string' },
  workspace: { type: 'string' },
  seeds: { type: 'string' },
  labels: { type: 'string' },
  ef: { type: 'string' },
  'ef-add': { type: 'string' },
  quantization: { type: 'string' },
  threads: { type: 'string' },
  'skip-scale': { type: 'boolean' },
  'skip-accuracy': { type: 'boolean' },
});
const list = (value: string | boolean | undefined, fallback: string): number[] =>
  String(value ?? fallback)
    .split(',')
    .filter(Boolean)
    .map((v) => intArg(v, 'sizes/labels', 1));
const sizes = args['skip-scale'] ? [] : list(args.sizes, '50000,100000,200000');
const dim = intArg(args.dim, 'dim', 1024);
const threads = args.threads === undefined ? undefined : intArg(args.threads, 'threads', 2);
const quantization: 'f16' | 'f32' = args.quantization === 'f32' ? 'f32' : 'f16';
const hnsw = {
  quantization,
  expansionAdd: intArg(args['ef-add'], 'ef-add', 128),
  expansionSearch: intArg(args.ef, 'ef', 64),
  threads,
};
const k = GRAPH_K;

interface Timed<T> {
  readonly value: T;
  readonly wall: number;
  readonly cpu: number;
}

async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return { value, wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const s = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(1)} s wall / ${t.cpu.toFixed(1)} CPU-s`;

/** Clustered non-negative vectors (bench/synthetic.ts's recipe), in the learner's feature transform. */
function syntheticFeatures(n: number, d: number, seed = 7): Matrix {
  const random = seededRandom(seed);
  const classes = 10;
  const centres = Float32Array.from({ length: classes * d }, () => random());
  const raw = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const centre = (i % classes) * d;
    for (let j = 0; j < d; j++) raw[i * d + j] = Math.max(0, centres[centre + j]! + 1.5 * (random() - 0.5));
  }
  const m = matrix(n, d, raw);
  return applyFeatureTransform(fitFeatureTransform(m), m);
}

/** Share of each node's exact k neighbours the other graph has too (recall@k). */
function recall(graph: KnnGraph, exact: KnnGraph): number {
  let hits = 0;
  for (let i = 0; i < exact.nodes; i++) {
    const found = new Set(graph.indices.subarray(i * graph.k, i * graph.k + exact.k));
    for (const t of exact.indices.subarray(i * exact.k, (i + 1) * exact.k)) if (found.has(t)) hits++;
  }
  return hits / (exact.nodes * exact.k);
}

/** The HNSW graph, add and search timed apart (the same steps as approximateKnnGraph, with no file). */
async function hnswGraph(features: Matrix): Promise<{ graph: KnnGraph; add: Timed<void>; search: Timed<void> }> {
  const ids = Int32Array.from({ length: features.rows }, (_, i) => i);
  const index = await HnswIndex.create(features.cols, hnsw);
  const add = await timed(() => index.add(ids, features));
  let graph: KnnGraph | undefined;
  const search = await timed(async () => {
    const found = await index.search(features, k + 1);
    const indices = new Int32Array(features.rows * k);
    const scores = new Float32Array(features.rows * k);
    for (let r = 0; r < features.rows; r++) {
      let w = 0;
      for (let j = 0; j <= k && w < k; j++) {
        const t = found.indices[r * (k + 1) + j]!;
        if (t === r || t < 0) continue;
        indices[r * k + w] = t;
        scores[r * k + w++] = found.scores[r * (k + 1) + j]!;
      }
    }
    graph = { nodes: features.rows, k, indices, scores };
  });
  return { graph: graph!, add, search };
}

async function scale(math: OrtMath): Promise<void> {
  if (sizes.length === 0) return;
  console.log(
    `## Graph build, exact vs HNSW (M=16, efConstruction=${hnsw.expansionAdd}, ef=${hnsw.expansionSearch}, ${quantization}), k=${k}, ${dim}-d synthetic, ${threads ?? 'all'} threads`,
  );
  console.log('| images | exact | HNSW add | HNSW search | HNSW total | CPU ratio exact/HNSW | recall@20 |');
  console.log('|---|---|---|---|---|---|---|');
  const rows: { n: number; exact: number; hnsw: number }[] = [];
  for (const n of sizes) {
    const features = syntheticFeatures(n, dim);
    const exact = await timed(() => buildKnnGraph(math, features, k));
    const approx = await hnswGraph(features);
    const total = { wall: approx.add.wall + approx.search.wall, cpu: approx.add.cpu + approx.search.cpu };
    console.log(
      `| ${n} | ${s(exact)} | ${s(approx.add)} | ${s(approx.search)} | ${s(total)} | ${(exact.cpu / total.cpu).toFixed(2)} | ${recall(approx.graph, exact.value).toFixed(4)} |`,
    );
    rows.push({ n, exact: exact.cpu, hnsw: total.cpu });
  }
  const last = rows.at(-1);
  const before = rows.at(-2);
  if (last) {
    // Exact search is n² by construction; HNSW's growth is measured between the last two sizes
    // (n log n in theory, steeper where recall falls and searches wander), else taken as n log n.
    const m = 1_000_000;
    const exponent = before
      ? Math.log(last.hnsw / before.hnsw) / Math.log(last.n / before.n)
      : Math.log((m * Math.log(m)) / (last.n * Math.log(last.n))) / Math.log(m / last.n);
    const exact = last.exact * (m / last.n) ** 2;
    const approx = last.hnsw * (m / last.n) ** exponent;
    console.log(
      `Estimated at 1M from ${last.n}: exact (x n²) ${(exact / 3600).toFixed(1)} CPU-hours, HNSW (x n^${exponent.toFixed(2)}) ${(approx / 3600).toFixed(1)} CPU-hours`,
    );
  }
}

async function extend(math: OrtMath, n: number): Promise<void> {
  const added = Math.round(n * 0.02);
  const features = syntheticFeatures(n + added, dim, 11);
  const head = matrix(n, dim, features.data.subarray(0, n * dim));
  const cached = await buildKnnGraph(math, head, k);
  const extended = await timed(() => extendKnnGraph(math, cached, features));
  const full = await timed(() => buildKnnGraph(math, features, k));
  console.log(
    `\n## Extending the exact graph of ${n} images by ${added}: ${s(extended)}; building it again: ${s(full)} (${(full.cpu / extended.cpu).toFixed(1)}x the CPU); recall of the extended graph ${recall(extended.value, full.value).toFixed(4)}`,
  );
}

async function realData(dir: string): Promise<void> {
  const ws = await openWorkspace(dir);
  let embeddings;
  let truth: Int32Array;
  let classNames: string[];
  try {
    embeddings = await storeOf(ws).loadEmbeddings(await ws.modelId());
    const records = new Map((await storeOf(ws).listImages()).map((image) => [image.id as number, image]));
    const folders = [...embeddings.imageIds].map((id) => records.get(id)!.path.split('/')[0]!);
    classNames = [...new Set(folders)].sort();
    truth = Int32Array.from(folders, (f) => classNames.indexOf(f));
  } finally {
    await ws.close();
  }
  const n = embeddings.imageIds.length;
  console.log(`\n## ${dir}: ${n} images x ${embeddings.dim}-d (${embeddings.modelId}), ${classNames.length} classes`);
  const open = (neighbours: 'exact' | 'approximate') =>
    timed(() => Learner.create(embeddings, { neighbours, threads, hnsw }));
  const exact = await open('exact');
  const approx = await open('approximate');
  console.log(
    `graph: exact ${s(exact)}, HNSW (${quantization}, ef ${hnsw.expansionSearch}) ${s(approx)}; recall@20 of HNSW ${recall(approx.value.graph, exact.value.graph).toFixed(4)}, recall@10 (the propagation graph) ${recall(approx.value.graph, { ...exact.value.graph, k: 10, indices: firstK(exact.value.graph, 10) }).toFixed(4)}`,
  );
  try {
    if (!args['skip-accuracy']) await accuracy(exact.value, approx.value, embeddings.imageIds, truth, classNames);
  } finally {
    await exact.value.close();
    await approx.value.close();
  }
}

/** Suggestion accuracy on the unlabelled images, the same label draws fitted with either learner's graph. */
async function accuracy(
  exact: Learner,
  approx: Learner,
  imageIds: Int32Array,
  truth: Int32Array,
  classNames: readonly string[],
): Promise<void> {
  const n = imageIds.length;
  const seedCount = intArg(args.seeds, 'seeds', 5);
  console.log('| labels/class | seed | exact graph | HNSW graph | difference (points) |');
  console.log('|---|---|---|---|---|');
  for (const perClass of list(args.labels, '4,25')) {
    const diffs: number[] = [];
    const accs: [number[], number[]] = [[], []];
    for (let seed = 1; seed <= seedCount; seed++) {
      const seeds = drawLabels(truth, classNames.length, perClass, seed);
      const labels: LabelRecord[] = [];
      seeds.forEach((c, row) => {
        if (c >= 0)
          labels.push({
            imageId: imageIds[row]! as ImageId,
            path: '',
            label: classNames[c]!,
            source: 'manual',
            createdAt: '',
            updatedAt: '',
            confidence: null,
            origin: 'chosen',
            originDetail: null,
          });
      });
      const scores: number[] = [];
      for (const learner of [exact, approx]) {
        const fit = await learner.fit(labels, { seed });
        const c = fit.classes.length;
        let right = 0;
        let total = 0;
        for (let i = 0; i < n; i++) {
          if (seeds[i]! >= 0) continue;
          let best = 0;
          for (let j = 1; j < c; j++) if (fit.probabilities[i * c + j]! > fit.probabilities[i * c + best]!) best = j;
          total++;
          if (classNames.indexOf(fit.classes[best]!) === truth[i]) right++;
        }
        scores.push((100 * right) / total);
      }
      accs[0].push(scores[0]!);
      accs[1].push(scores[1]!);
      diffs.push(scores[1]! - scores[0]!);
      console.log(
        `| ${perClass} | ${seed} | ${scores[0]!.toFixed(2)} | ${scores[1]!.toFixed(2)} | ${(scores[1]! - scores[0]!).toFixed(2)} |`,
      );
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `| ${perClass} | mean | ${mean(accs[0]).toFixed(2)} | ${mean(accs[1]).toFixed(2)} | ${mean(diffs).toFixed(2)} (worst ${Math.min(...diffs).toFixed(2)}) |`,
    );
  }
}

function firstK(graph: KnnGraph, kk: number): Int32Array {
  const out = new Int32Array(graph.nodes * kk);
  for (let i = 0; i < graph.nodes; i++) out.set(graph.indices.subarray(i * graph.k, i * graph.k + kk), i * kk);
  return out;
}

const math = new OrtMath({ threads });
try {
  console.log(`# bench:ann, ${new Date().toISOString()}, node ${process.version}`);
  if (typeof args.workspace === 'string') await realData(join(args.workspace));
  if (args.extend !== undefined) await extend(math, intArg(args.extend, 'extend', 50_000));
  await scale(math);
} finally {
  await math.close();
}
