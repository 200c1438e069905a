/**
 * @module Certified auto-accept, measured the way a user works: plays the user on ImageFolder pools
 * whose labels it hides. From zero labels it labels B picks of `next` (rounds of 20, a fit after
 * each: a full one every 100 labels, quick refits between, as the web app does), then answers V random checks drawn by `verify` (rounds of 50, 50, 100, a fit after each),
 * then asks `suggest --target-precision P`. Everything goes through the workspace API the CLI and
 * the server use, on a real SQLite workspace per run.
 *
 *   npm run bench:certify -- --images ../shared/datasets/tf_flowers/train,../shared/datasets/tf_flowers/val \
 *     --model onnx:../shared/models/mobilenet-v1-imagenet [--per-class 100000] [--seeds 20] \
 *     [--budgets 100,200] [--checks 50,100,200] [--targets 0.9,0.95] [--calibration 4,25]
 *     [--calibration-seeds 5] [--skip-protocol] [--out bench-results/certify]
 *
 * Printed per (B, P, V), over seeds: validity (realised precision of the auto set >= P, worst seed),
 * power (certified coverage / oracle coverage, the largest most-confident-first set whose true
 * precision is >= P), the accuracy estimate (interval covers the truth; midpoint error), effort
 * (images accepted per human action, beside labelling everything and a naive "confidence >= P"
 * threshold), and calibration error before checks (calibrated on chosen labels) and after.
 */
import { existsSync } from 'node:fs';
import { copyFile, cp, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  checkEvidence,
  initWorkspace,
  isImageName,
  type Learner,
  openWorkspace,
  sha256,
  type SuggestResult,
  type Workspace,
} from '@autolabel/core';
import { lineChart } from '@autolabel/core/charts';
import { expectedCalibrationError, storeOf } from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';

const args = benchArgs('bench:certify --images DIR[,DIR] --model SPEC [options]', {
  images: { type: 'string' },
  model: { type: 'string' },
  'per-class': { type: 'string' },
  seeds: { type: 'string' },
  budgets: { type: 'string' },
  checks: { type: 'string' },
  targets: { type: 'string' },
  calibration: { type: 'string' },
  'calibration-seeds': { type: 'string' },
  'skip-protocol': { type: 'boolean' },
  from: { type: 'string' },
  workspace: { type: 'string' },
  out: { type: 'string' },
});
if (typeof args.from !== 'string' && (typeof args.images !== 'string' || typeof args.model !== 'string')) {
  process.stderr.write('usage: npm run bench:certify -- --images DIR[,DIR] --model SPEC [--seeds 20]\n');
  process.exit(2);
}
const roots = String(args.images ?? '')
  .split(',')
  .map((dir) => resolve(dir));
const spec = String(args.model ?? '').startsWith('onnx:')
  ? `onnx:${resolve(String(args.model).slice(5))}`
  : String(args.model ?? '');
const perClass = intArg(args['per-class'], 'per-class', 100_000);
const seedCount = intArg(args.seeds, 'seeds', 20);
const list = (value: string | boolean | undefined, fallback: string): number[] =>
  String(value ?? fallback)
    .split(',')
    .map(Number);
const budgets = list(args.budgets, '100,200');
const checkBudgets = list(args.checks, '50,100,200');
const targets = list(args.targets, '0.9,0.95');
/** Labels per class for the calibration runs (random labels, then 50 random checks). */
const calibrationLabels = list(args.calibration, '4,25');
const CALIBRATION_CHECKS = 50;
const calibrationSeeds = intArg(args['calibration-seeds'], 'calibration-seeds', 5);
const outDir = resolve(String(args.out ?? 'bench-results/certify'));
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const ROUND = 20;

interface Template {
  readonly dir: string;
  readonly truth: Map<string, string>;
  readonly learner: Learner;
}

/** A workspace over hard links of the pool's images, embedded once and cached between runs. */
async function prepare(): Promise<Template> {
  const key = sha256(`${roots.join('|')}|${spec}|${perClass}`).slice(0, 12);
  const root = resolve(String(args.workspace ?? join(tmpdir(), `autolabel-bench-certify-${key}`)));
  const images = join(root, 'pool');
  const truth = new Map<string, string>();
  for (const from of roots) {
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      await mkdir(join(images, entry.name), { recursive: true });
      const files = (await readdir(join(from, entry.name))).filter(isImageName).sort().slice(0, perClass);
      for (const file of files) {
        const name = `${basename(from)}-${file}`;
        truth.set(`${entry.name}/${name}`, entry.name);
        const to = join(images, entry.name, name);
        if (!existsSync(to))
          await link(join(from, entry.name, file), to).catch(() => copyFile(join(from, entry.name, file), to));
      }
    }
  }
  const dir = join(root, 'workspace');
  const ws = existsSync(join(dir, 'autolabel.json'))
    ? await openWorkspace(dir)
    : await initWorkspace({ images, workspace: dir, model: spec });
  try {
    await ws.scan();
    await ws.embed({ onProgress: (p) => process.stderr.write(`\rembedding ${p.done}/${p.total}   `) });
    const learner = await ws.openLearner();
    log(`\npool ${learner.size} images, ${new Set(truth.values()).size} classes (${roots.join(', ')})`);
    return { dir, truth, learner };
  } finally {
    await ws.close();
  }
}

/** A fresh copy of a workspace folder: every run starts from the same state and leaves the template alone. */
async function branch(from: string, name: string): Promise<string> {
  const to = join(tmpdir(), `autolabel-bench-certify-run-${process.pid}`, name);
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
  return to;
}

interface Measure {
  readonly seed: number;
  readonly budget: number;
  readonly target: number;
  readonly checks: number;
  readonly poolAccuracy: number;
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly auto: number;
  readonly autoPrecision: number;
  readonly coverage: number;
  readonly oracle: number;
  readonly naive: number;
  readonly naivePrecision: number;
  readonly ece: number;
  readonly calibratedOn: string;
}

/** What the user would find out with the hidden labels: accuracy, auto precision, the oracle set. */
async function measure(ws: Workspace, truth: Map<string, string>, result: SuggestResult, target: number) {
  const suggestions = await ws.suggestions.list();
  const scored = suggestions
    .map((s) => ({ confidence: s.confidence, correct: truth.get(s.path) === s.label, auto: s.status === 'auto' }))
    .sort((a, b) => b.confidence - a.confidence);
  const n = scored.length;
  const right = scored.filter((s) => s.correct).length;
  const auto = scored.filter((s) => s.auto);
  let oracle = 0;
  let ok = 0;
  scored.forEach((s, i) => {
    if (s.correct) ok++;
    if (ok / (i + 1) >= target) oracle = i + 1;
  });
  const naive = scored.filter((s) => s.confidence >= target);
  return {
    poolAccuracy: right / n,
    estimate: result.accuracy.estimate,
    low: result.accuracy.low ?? NaN,
    high: result.accuracy.high ?? NaN,
    auto: auto.length,
    autoPrecision: auto.length === 0 ? NaN : auto.filter((s) => s.correct).length / auto.length,
    coverage: auto.length / n,
    oracle: oracle / n,
    naive: naive.length,
    naivePrecision: naive.length === 0 ? NaN : naive.filter((s) => s.correct).length / naive.length,
    ece: expectedCalibrationError(scored),
    calibratedOn: result.calibratedOn,
  };
}

async function labelPicks(ws: Workspace, template: Template, count: number, seed: number): Promise<void> {
  const picks = await ws.next({ count, seed, learner: template.learner });
  for (const pick of picks) await ws.labels.set([{ image: pick.path, label: template.truth.get(pick.path)! }]);
}

async function runSeed(template: Template, seed: number, out: Measure[]): Promise<void> {
  const picksDir = await branch(template.dir, `seed-${seed}`);
  let ws = await openWorkspace(picksDir);
  let labelled = 0;
  const at = new Map<number, string>();
  try {
    for (const budget of [...budgets].sort((a, b) => a - b)) {
      while (labelled < budget) {
        await labelPicks(ws, template, Math.min(ROUND, budget - labelled), seed * 1000 + labelled);
        // As in the web app: a full fit now and then, quick refits between (they only steer `next`).
        await ws.suggest({ learner: template.learner, quick: labelled % 100 !== 0 });
        labelled = Math.min(budget, labelled + ROUND);
      }
      await ws.close();
      at.set(budget, await branch(picksDir, `seed-${seed}-b${budget}`));
      ws = await openWorkspace(picksDir);
    }
  } finally {
    await ws.close();
  }
  for (const budget of budgets) {
    for (const target of targets) {
      const dir = await branch(at.get(budget)!, `seed-${seed}-b${budget}-p${target}`);
      const arm = await openWorkspace(dir);
      try {
        const before = await arm.suggest({ learner: template.learner, targetPrecision: target });
        out.push({ seed, budget, target, checks: 0, ...(await measure(arm, template.truth, before, target)) });
        let done = 0;
        for (const v of [...checkBudgets].sort((a, b) => a - b)) {
          const draw = await arm.checks.draw({ count: v - done, targetPrecision: target, seed: seed * 100 + v });
          for (const check of draw.checks) await arm.checks.answer(check.id, template.truth.get(check.path)!);
          done = v;
          const result = await arm.suggest({ learner: template.learner, targetPrecision: target });
          if (process.env.BENCH_DEBUG) {
            log(JSON.stringify(draw.strata));
            const ev = await checkEvidence(storeOf(arm));
            const byDraw = new Map<string, { n: number; w: number; right: number }>();
            for (const e of ev) {
              const key = `${e.check.drawId}:${e.check.stratum}`;
              const cur = byDraw.get(key) ?? { n: 0, w: 0, right: 0 };
              byDraw.set(key, {
                n: cur.n + 1,
                w: cur.w + e.weight,
                right: cur.right + (e.check.answer === e.check.suggested ? 1 : 0),
              });
            }
            log(JSON.stringify([...byDraw]));
            log(JSON.stringify(result.certificate));
          }
          const m = { seed, budget, target, checks: v, ...(await measure(arm, template.truth, result, target)) };
          out.push(m);
          log(
            `seed ${seed} B=${budget} P=${target} V=${v}: pool acc ${pct(m.poolAccuracy)} est ${pct(m.estimate)} [${pct(m.low)}, ${pct(m.high)}] | auto ${m.auto} (${pct(m.coverage)}) precision ${pct(m.autoPrecision)} | oracle ${pct(m.oracle)} | naive ${m.naive} at ${pct(m.naivePrecision)} | ece ${m.ece.toFixed(3)} (${m.calibratedOn})`,
          );
        }
      } finally {
        await arm.close();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  for (const dir of [picksDir, ...at.values()]) await rm(dir, { recursive: true, force: true });
}

interface CalibrationRow {
  readonly seed: number;
  readonly perClass: number;
  readonly accuracy: number;
  readonly confidenceBefore: number;
  readonly eceBefore: number;
  readonly estimateBefore: number;
  readonly confidenceAfter: number;
  readonly eceAfter: number;
  readonly estimateAfter: number;
  readonly calibratedOn: string;
}

/**
 * Calibration before and after random checks: K random labels per class and a fit (its temperature
 * from cross-validation on those labels, the only option before checks existed), then 50 random
 * checks and a fit calibrated on them. ECE and mean confidence on the pool, against its accuracy.
 */
async function calibrationRun(template: Template, seed: number, perClassLabels: number): Promise<CalibrationRow> {
  const dir = await branch(template.dir, `calibration-${seed}-${perClassLabels}`);
  const ws = await openWorkspace(dir);
  try {
    const byClass = new Map<string, string[]>();
    for (const [path, label] of template.truth) byClass.set(label, [...(byClass.get(label) ?? []), path]);
    let state = seed * 7919 + perClassLabels;
    const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const [label, paths] of byClass) {
      const shuffled = [...paths].sort(() => random() - 0.5);
      for (const path of shuffled.slice(0, perClassLabels)) await ws.labels.set([{ image: path, label: label }]);
    }
    const pool = async () => {
      const scored = (await ws.suggestions.list()).map((s) => ({
        confidence: s.confidence,
        correct: template.truth.get(s.path) === s.label,
      }));
      return {
        accuracy: scored.filter((s) => s.correct).length / scored.length,
        confidence: scored.reduce((a, s) => a + s.confidence, 0) / scored.length,
        ece: expectedCalibrationError(scored),
      };
    };
    const before = await ws.suggest({ learner: template.learner });
    const b = await pool();
    const draw = await ws.checks.draw({ count: CALIBRATION_CHECKS, seed, targetPrecision: 0.95 });
    for (const check of draw.checks) await ws.checks.answer(check.id, template.truth.get(check.path)!);
    const after = await ws.suggest({ learner: template.learner });
    const a = await pool();
    return {
      seed,
      perClass: perClassLabels,
      accuracy: b.accuracy,
      confidenceBefore: b.confidence,
      eceBefore: b.ece,
      estimateBefore: before.accuracy.estimate,
      confidenceAfter: a.confidence,
      eceAfter: a.ece,
      estimateAfter: after.accuracy.estimate,
      calibratedOn: after.calibratedOn,
    };
  } finally {
    await ws.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function calibrationReport(rows: readonly CalibrationRow[]): string {
  const lines = [
    `| labels/class | pool accuracy | before checks: mean confidence / ECE / printed estimate | after ${CALIBRATION_CHECKS} random checks: mean confidence / ECE / printed estimate |`,
    '|---|---|---|---|',
  ];
  for (const k of calibrationLabels) {
    const of = rows.filter((r) => r.perClass === k);
    if (of.length === 0) continue;
    const m = (key: keyof CalibrationRow): number => mean(of.map((r) => r[key] as number));
    lines.push(
      `| ${k} | ${pct(m('accuracy'))} | ${pct(m('confidenceBefore'))} / ${m('eceBefore').toFixed(3)} / ${pct(m('estimateBefore'))} | ${pct(m('confidenceAfter'))} / ${m('eceAfter').toFixed(3)} / ${pct(m('estimateAfter'))} |`,
    );
  }
  return lines.join('\n');
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-';
}

function mean(xs: readonly number[]): number {
  const finite = xs.filter(Number.isFinite);
  return finite.length === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

function report(rows: readonly Measure[]): string {
  const lines = [
    `| B | P | V | valid seeds (precision >= P or nothing auto) | worst seed precision | certified / oracle coverage | coverage | oracle | estimate covers truth | mean abs. estimate error | accepted per action (naive: accepted, precision) | ECE |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const budget of budgets) {
    for (const target of targets) {
      for (const v of [0, ...checkBudgets]) {
        const of = rows.filter((r) => r.budget === budget && r.target === target && r.checks === v);
        if (of.length === 0) continue;
        const valid = of.filter((r) => r.auto === 0 || r.autoPrecision >= target).length;
        const worst = Math.min(...of.filter((r) => r.auto > 0).map((r) => r.autoPrecision));
        const power = mean(of.map((r) => (r.oracle > 0 ? r.coverage / r.oracle : NaN)));
        const covered = of.filter((r) => r.low <= r.poolAccuracy && r.poolAccuracy <= r.high).length;
        const error = mean(of.map((r) => Math.abs(r.estimate - r.poolAccuracy)));
        const perAction = mean(of.map((r) => r.auto / (budget + v)));
        const naivePerAction = mean(of.map((r) => r.naive / budget));
        lines.push(
          `| ${budget} | ${target} | ${v} | ${valid}/${of.length} | ${pct(worst)} | ${power.toFixed(2)} | ${pct(mean(of.map((r) => r.coverage)))} | ${pct(mean(of.map((r) => r.oracle)))} | ${v === 0 ? '-' : `${covered}/${of.length}`} | ${(100 * error).toFixed(1)} pts | ${perAction.toFixed(2)} (naive ${naivePerAction.toFixed(2)} at ${pct(mean(of.map((r) => r.naivePrecision)))}) | ${mean(of.map((r) => r.ece)).toFixed(3)} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

async function plots(rows: readonly Measure[], seeds = seedCount): Promise<void> {
  for (const target of targets) {
    const series = budgets.flatMap((budget) => {
      const at = (v: number, key: 'coverage' | 'autoPrecision' | 'oracle') =>
        mean(rows.filter((r) => r.budget === budget && r.target === target && r.checks === v).map((r) => r[key]));
      return [
        { name: `coverage, B=${budget}`, points: checkBudgets.map((v) => ({ x: v, y: at(v, 'coverage') })) },
        {
          name: `oracle coverage, B=${budget}`,
          dashed: true,
          points: checkBudgets.map((v) => ({ x: v, y: at(v, 'oracle') })),
        },
        {
          name: `realised precision, B=${budget}`,
          points: checkBudgets.map((v) => ({ x: v, y: at(v, 'autoPrecision') })),
        },
      ];
    });
    await writeFile(
      join(outDir, `certify-p${target}.svg`),
      lineChart({
        title: `Auto-accept at ${target}, mean of ${seeds} seeds`,
        xLabel: 'random checks',
        yLabel: 'share of the pool / precision',
        series: [
          ...series,
          { name: `target ${target}`, dashed: true, points: checkBudgets.map((v) => ({ x: v, y: target })) },
        ],
        yDomain: [0, 1],
      }),
    );
  }
}

await mkdir(outDir, { recursive: true });
if (typeof args.from === 'string') {
  // Report and plots from a saved run (all seeds done so far), without running anything.
  const saved = JSON.parse(await readFile(resolve(args.from), 'utf8')) as {
    roots: string[];
    spec: string;
    rows: Measure[];
    calibration?: CalibrationRow[];
  };
  const seeds = new Set(saved.rows.map((r) => r.seed)).size;
  await plots(saved.rows, seeds);
  process.stdout.write(`bench:certify on ${saved.roots.join(', ')} with ${saved.spec}, ${seeds} seeds\n\n`);
  process.stdout.write(`${report(saved.rows)}\n\nCalibration\n\n${calibrationReport(saved.calibration ?? [])}\n`);
  process.exit(0);
}
const template = await prepare();
const rows: Measure[] = [];
const calibration: CalibrationRow[] = [];
const started = performance.now();
try {
  for (let seed = Number(process.env.BENCH_FIRST_SEED ?? 1); seed <= seedCount; seed++) {
    if (!args['skip-protocol']) await runSeed(template, seed, rows);
    for (const k of seed <= calibrationSeeds ? calibrationLabels : []) {
      const row = await calibrationRun(template, seed, k);
      calibration.push(row);
      log(
        `seed ${seed} calibration K=${k}: accuracy ${pct(row.accuracy)}, before ${pct(row.confidenceBefore)} ece ${row.eceBefore.toFixed(3)}, after ${pct(row.confidenceAfter)} ece ${row.eceAfter.toFixed(3)} (${row.calibratedOn})`,
      );
    }
    log(`seed ${seed} done (${((performance.now() - started) / 1000).toFixed(0)} s so far)`);
    await writeFile(join(outDir, 'results.json'), JSON.stringify({ roots, spec, rows, calibration }, null, 1));
  }
} finally {
  await template.learner.close();
}
process.stdout.write(`\nbench:certify on ${roots.join(', ')} with ${spec}, ${seedCount} seeds\n`);
if (rows.length > 0) {
  await plots(rows);
  process.stdout.write(`\n${report(rows)}\n`);
}
process.stdout.write(
  `\nCalibration (random labels per class, then random checks)\n\n${calibrationReport(calibration)}\n`,
);
process.stdout.write(`\nPlots and results.json in ${outDir}\n`);
