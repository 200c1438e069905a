/**
 * @module Start-up cost of the CLI: wall and CPU seconds of `autolabel --help`, `label` and `status`
 * next to a bare `node -e 0`, and which heavy packages each command loads.
 *
 *   npm run bench:startup -- [--repeats 15] [--baseline <repo dir>] [--out docs/bench/startup]
 *
 * A tiny workspace (a few 32 x 32 PNGs, `init` then `scan`) is made in a temporary folder for each
 * checkout's CLI. With `--baseline`, the same commands run from another (built) checkout's CLI too,
 * interleaved with this one's round by round, so before and after share the machine's state; the
 * table gives medians and the ratio baseline / this.
 *
 * Each run is timed by bash's `time` keyword, which reads getrusage(RUSAGE_CHILDREN) around the
 * command: CPU seconds are user + sys of the command's process and every thread it ran, to the
 * millisecond. Which packages a command loads comes from one more run per command with a module
 * hook (ESM loads) and require.cache at exit (CommonJS and native add-ons).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { benchArgs, intArg } from './args.js';

const USAGE = 'bench:startup [--repeats 15] [--baseline <repo dir>] [--out docs/bench/startup]';
const args = benchArgs(USAGE, {
  repeats: { type: 'string' },
  baseline: { type: 'string' },
  out: { type: 'string' },
});
const repeats = intArg(args.repeats, 'repeats', 15);
const outDir = resolve(typeof args.out === 'string' ? args.out : 'docs/bench/startup');
const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Packages whose loading is the start-up cost worth naming (the list, plus the server's). */
const HEAVY = [
  'onnxruntime-node',
  'onnx-proto',
  'sharp',
  'better-sqlite3',
  'umap-js',
  '@tensorflow/tfjs',
  '@autolabel/server',
  'hono',
  'zod',
  'commander',
] as const;

interface Checkout {
  readonly name: string;
  readonly root: string;
  readonly cli: string;
  readonly revision: string;
  /** A folder holding this checkout's own workspace (`.autolabel`) over the shared images. */
  readonly cwd: string;
}

interface Command {
  readonly name: string;
  /** Whether it runs a checkout's CLI (else it is the same for every checkout: run once a round). */
  readonly perCheckout: boolean;
  readonly argv: (checkout: Checkout, round: number) => readonly string[];
}

const COMMANDS: readonly Command[] = [
  { name: 'node -e 0', perCheckout: false, argv: () => ['-e', '0'] },
  { name: 'autolabel --help', perCheckout: true, argv: (c) => [c.cli, '--help'] },
  // Alternate the class so every run writes a change.
  { name: 'autolabel label', perCheckout: true, argv: (c, i) => [c.cli, 'label', 'img-0.png', i % 2 ? 'cat' : 'dog'] },
  { name: 'autolabel status', perCheckout: true, argv: (c) => [c.cli, 'status'] },
];

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

// The command's stdout goes nowhere and its stderr to ours (captured); `time` reports on the group's stderr -> stdout.
const TIMED = 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&3; } 3>&2 2>&1';

function timed(argv: readonly string[], cwd: string): Sample {
  const run = spawnSync('bash', ['-c', TIMED, 'timed', process.execPath, ...argv], { cwd, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`node ${argv.join(' ')} (in ${cwd}) exited with ${run.status ?? run.signal}:\n${run.stderr}`);
  }
  const figures = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(run.stdout);
  if (!figures) throw new Error(`no timing from bash for node ${argv.join(' ')}: ${JSON.stringify(run.stdout)}`);
  return { wall: Number(figures[1]), cpu: Number(figures[2]) + Number(figures[3]) };
}

function node(argv: readonly string[], cwd: string): string {
  const run = spawnSync(process.execPath, argv, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`node ${argv.join(' ')} (in ${cwd}) failed:\n${run.stderr}`);
  return run.stdout;
}

function revisionOf(root: string): string {
  const head = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown revision';
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes' : ''}`;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The package a loaded file belongs to: the innermost node_modules entry, or a workspace package. */
function packageOf(path: string): string | undefined {
  const inModules = [...path.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1);
  if (inModules) return inModules[1];
  const workspace = /\/packages\/([^/]+)\//.exec(path);
  return workspace ? `@autolabel/${workspace[1]}` : undefined;
}

const TRACE_HOOKS = `
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.AUTOLABEL_STARTUP_TRACE, fileURLToPath(url) + '\\n');
  return next(url, context);
}
`;
const TRACE_REGISTER = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('./trace-hooks.mjs', import.meta.url);
process.on('exit', () => {
  const files = Object.keys(createRequire(import.meta.url).cache);
  appendFileSync(process.env.AUTOLABEL_STARTUP_TRACE, files.join('\\n') + '\\n');
});
`;

interface Loaded {
  readonly files: number;
  readonly heavy: readonly string[];
}

function traceLoads(argv: readonly string[], cwd: string, tmp: string): Loaded {
  const out = join(tmp, 'trace.txt');
  writeFileSync(out, '');
  const run = spawnSync(process.execPath, ['--import', join(tmp, 'trace-register.mjs'), ...argv], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AUTOLABEL_STARTUP_TRACE: out },
  });
  if (run.status !== 0) throw new Error(`traced node ${argv.join(' ')} failed:\n${run.stderr}`);
  const files = new Set(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('/') && !line.startsWith(tmp)),
  );
  const packages = new Set([...files].map(packageOf));
  return { files: files.size, heavy: HEAVY.filter((name) => packages.has(name)) };
}

async function writePngs(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const colours = [
    [200, 40, 40],
    [40, 200, 40],
    [40, 40, 200],
    [200, 200, 40],
  ] as const;
  for (const [i, [r, g, b]] of colours.entries()) {
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r, g, b } } })
      .png()
      .toFile(join(dir, `img-${i}.png`));
  }
}

function checkoutAt(name: string, root: string, tmp: string): Checkout {
  const cli = join(root, 'packages/cli/bin/autolabel.js');
  if (!existsSync(cli) || !existsSync(join(root, 'packages/cli/dist/main.js'))) {
    throw new Error(`${root} has no built CLI: run \`npx tsc -b packages/core packages/server packages/cli\` there`);
  }
  const cwd = join(tmp, `ws-${name}`);
  mkdirSync(cwd);
  node([cli, 'init', '--images', '../images'], cwd);
  node([cli, 'scan'], cwd);
  return { name, root, cli, revision: revisionOf(root), cwd };
}

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'autolabel-bench-startup-')));
try {
  writeFileSync(join(tmp, 'trace-hooks.mjs'), TRACE_HOOKS);
  writeFileSync(join(tmp, 'trace-register.mjs'), TRACE_REGISTER);
  await writePngs(join(tmp, 'images'));
  const checkouts = [checkoutAt('this', REPO, tmp)];
  if (typeof args.baseline === 'string') checkouts.push(checkoutAt('baseline', resolve(args.baseline), tmp));

  // Other work on the machine moves wall time most; the 1-minute load average before and after says how much there was.
  const loadBefore = loadavg()[0]!;
  const samples = new Map<string, Sample[]>();
  const key = (command: Command, checkout: Checkout): string =>
    command.perCheckout ? `${command.name}\0${checkout.name}` : command.name;
  // Round 0 warms the page cache and is not kept; odd rounds run the checkouts in reverse order.
  for (let round = 0; round <= repeats; round++) {
    for (const command of COMMANDS) {
      const order = command.perCheckout ? (round % 2 ? [...checkouts].reverse() : checkouts) : [checkouts[0]!];
      for (const checkout of order) {
        const sample = timed(command.argv(checkout, round), checkout.cwd);
        if (round === 0) continue;
        const list = samples.get(key(command, checkout)) ?? [];
        list.push(sample);
        samples.set(key(command, checkout), list);
      }
    }
    if (round > 0) process.stderr.write(`\rround ${round}/${repeats}`);
  }
  process.stderr.write('\n');
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;

  const rows = COMMANDS.map((command) => ({
    command: command.name,
    byCheckout: (command.perCheckout ? checkouts : [checkouts[0]!]).map((checkout) => {
      const list = samples.get(key(command, checkout))!;
      return {
        checkout: checkout.name,
        medianWallSeconds: median(list.map((s) => s.wall)),
        medianCpuSeconds: median(list.map((s) => s.cpu)),
        loaded: traceLoads(command.argv(checkout, 0), checkout.cwd, tmp),
        wallSeconds: list.map((s) => s.wall),
        cpuSeconds: list.map((s) => s.cpu),
      };
    }),
  }));

  const machine = `${platform()} ${release()}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  const s = (x: number): string => x.toFixed(3);
  const ratio = (before: number, after: number): string => (after > 0 ? `${(before / after).toFixed(2)}x` : '-');
  const header = ['command', ...checkouts.flatMap((c) => [`${c.name} wall s`, `${c.name} CPU s`])];
  if (checkouts.length > 1) header.push('wall baseline/this', 'CPU baseline/this');
  const table = rows.map((row) => {
    const cells = [row.command];
    for (const checkout of checkouts) {
      const r = row.byCheckout.find((b) => b.checkout === checkout.name);
      cells.push(r ? s(r.medianWallSeconds) : '', r ? s(r.medianCpuSeconds) : '');
    }
    const [mine, base] = row.byCheckout;
    if (checkouts.length > 1) {
      cells.push(
        base ? ratio(base.medianWallSeconds, mine!.medianWallSeconds) : '',
        base ? ratio(base.medianCpuSeconds, mine!.medianCpuSeconds) : '',
      );
    }
    return cells;
  });
  const loads = rows.flatMap((row) =>
    row.byCheckout
      .filter(() => row.command !== 'node -e 0')
      .map((r) => [row.command, r.checkout, String(r.loaded.files), r.loaded.heavy.join(', ') || '-']),
  );

  const widths = header.map((h, i) => Math.max(h.length, ...table.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const lines = [
    `bench:startup: medians of ${repeats} interleaved runs each; ${machine}; ${load}`,
    ...checkouts.map((c) => `  ${c.name}: ${c.root} (${c.revision})`),
    '',
    line(header),
    ...table.map(line),
    '',
    'loaded (one traced run each): files, heavy packages',
    ...loads.map(([command, checkout, files, heavy]) => `  ${command} [${checkout}]: ${files} files; ${heavy}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString();
  writeFileSync(
    join(outDir, 'results.json'),
    `${JSON.stringify(
      {
        date,
        machine,
        load,
        repeats,
        checkouts: checkouts.map(({ name, root, revision }) => ({ name, root, revision })),
        rows,
      },
      null,
      1,
    )}\n`,
  );
  const md = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  writeFileSync(
    join(outDir, 'summary.md'),
    [
      '# CLI start-up',
      '',
      `\`npm run bench:startup -- --repeats ${repeats}${checkouts.length > 1 ? ' --baseline <checkout>' : ''}\`, ${date.slice(0, 10)}.`,
      `Medians of ${repeats} interleaved runs; CPU is user + sys of the command's process. Machine: ${machine}; ${load}.`,
      '',
      ...checkouts.map((c) => `- ${c.name}: ${c.revision}`),
      '',
      md(header),
      md(header.map((_, i) => (i === 0 ? '---' : '---:'))),
      ...table.map(md),
      '',
      'Packages loaded (one traced run each):',
      '',
      md(['command', 'checkout', 'files', 'heavy packages loaded']),
      md(['---', '---', '---:', '---']),
      ...loads.map(md),
      '',
    ].join('\n'),
  );
  process.stdout.write(`\nwrote ${join(outDir, 'results.json')} and summary.md\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
