/**
 * @module Importing a large labels CSV through the workspace API: peak memory and time.
 *
 *   npm run bench:import -- [--rows 1000000]
 *
 * The images are rows of a real workspace's SQLite store (no files: an import only looks paths up);
 * the CSV has one `image,label` row per image in 10 classes. The import runs in a child process of
 * its own, so its peak memory (VmHWM) is the import's alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWorkspace, type NewImage, openWorkspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { syntheticImage } from './synthetic.js';

const args = benchArgs('bench:import [--rows 1000000]', {
  rows: { type: 'string' },
  'import-into': { type: 'string' },
});

function peakMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

if (typeof args['import-into'] === 'string') {
  // The child: one import, then its own figures as JSON.
  const dir = args['import-into'];
  const baseline = peakMiB();
  const ws = await openWorkspace(join(dir, 'workspace'));
  const opened = peakMiB();
  const started = performance.now();
  const result = await ws.import(join(dir, 'labels.csv'));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage();
  await ws.close();
  process.stdout.write(
    JSON.stringify({
      imported: result.imported,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      baseline,
      opened,
      peak: peakMiB(),
    }),
  );
  process.exit(0);
}

const rows = intArg(args.rows, 'rows', 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'autolabel-bench-import-'));
try {
  mkdirSync(join(dir, 'images'));
  const ws = await initWorkspace({ images: join(dir, 'images'), workspace: join(dir, 'workspace') });
  const path = (i: number): string => `class-${i % 10}/img_${String(i).padStart(7, '0')}.jpg`;
  for (let start = 0; start < rows; start += 50_000) {
    const upserts: NewImage[] = [];
    for (let i = start; i < Math.min(rows, start + 50_000); i++) upserts.push(syntheticImage(path(i), i));
    await storeOf(ws).applyScan({ upserts, moves: [], removals: [] });
  }
  await ws.close();
  const lines = ['image,label'];
  for (let i = 0; i < rows; i++) lines.push(`${path(i)},class-${i % 10}`);
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--import-into', dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`the import child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout) as {
    imported: number;
    seconds: number;
    cpuSeconds: number;
    baseline: number;
    opened: number;
    peak: number;
  };
  const mib = (readFileSync(join(dir, 'labels.csv')).length / 2 ** 20).toFixed(0);
  process.stdout.write(
    [
      `bench:import: ${r.imported.toLocaleString('en-US')} labels from a ${rows.toLocaleString('en-US')}-row CSV (${mib} MiB)`,
      `  time ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} CPU-s for the whole child, ${Math.round(rows / r.seconds).toLocaleString('en-US')} rows/s`,
      `  peak memory of the importing process ${r.peak.toFixed(0)} MiB (${r.opened.toFixed(0)} MiB with the workspace open, before the import)`,
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
