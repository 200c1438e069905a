import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, COLOUR_CLASSES, runCli } from './testing/cli.js';

// Faults of a user's machine, against the built CLI (npm run build first): a suggest killed while it
// saves, a full disk under every writing command, a read-only workspace.
const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'autolabel-faults-'));
/** A workspace with embeddings, labels and one fit; each test works on a copy. */
const template = join(dir, 'template');
/** 16 pictures, copied: scan and embed stay quick, and suggest has this many suggestions to save. */
const IMAGES = 1500;
const LABELLED = 8;
const mounts: string[] = [];
let model: string;

const cli = (args: string[]): CliRun => runCli(dir, args);

function run(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status === 0) return null;
  return (result.stderr || result.error?.message || `${command} exited with ${result.status}`).trim();
}

const asRoot = process.getuid?.() === 0;

/** Why no tmpfs can be mounted here (the full-disk tests need one), or null. */
const tmpfsProblem = ((): string | null => {
  if (!asRoot) return 'not root, so no tmpfs can be mounted';
  const probe = mkdtempSync(join(tmpdir(), 'autolabel-mount-probe-'));
  try {
    const problem = run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    if (problem !== null) return `mount -t tmpfs failed: ${problem}`;
    const remount = run('mount', ['-o', 'remount,ro', probe]);
    run('umount', [probe]);
    return remount === null ? null : `mount -o remount,ro failed: ${remount}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();
/** As root, permission bits stop nothing: a read-only workspace needs a read-only mount. Otherwise chmod does. */
const readOnlyProblem = asRoot ? tmpfsProblem : null;
if (tmpfsProblem !== null) console.warn(`faults.test.ts: skipping the full-disk tests: ${tmpfsProblem}`);
if (readOnlyProblem !== null) console.warn(`faults.test.ts: skipping the read-only test: ${readOnlyProblem}`);

function tmpfs(path: string, size: string): void {
  mkdirSync(path, { recursive: true });
  const problem = run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  if (problem !== null) throw new Error(`cannot mount a tmpfs at ${path}: ${problem}`);
  mounts.push(path);
}

/** Fills the file system of `folder` until `leave` bytes are free (a tmpfs counts whole 4 KiB pages). */
function fill(folder: string, leave = 0): void {
  const fd = openSync(join(folder, 'filler'), 'a');
  try {
    for (const block of [Buffer.alloc(1 << 16), Buffer.alloc(512)]) {
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
    if (leave > 0) ftruncateSync(fd, fstatSync(fd).size - leave);
  } finally {
    closeSync(fd);
  }
}

function copyWorkspace(to: string, { cache = true } = {}): string {
  cpSync(template, to, { recursive: true, filter: (path) => cache || basename(path) !== 'cache' });
  return join(to, 'autolabel.db');
}

/** What a second process sees in the database. */
function inspect(file: string): {
  integrity: string;
  labels: number;
  latestFit: number | null;
  suggestionFits: number[];
  openSuggestions: number;
  incompleteFits: number;
  halfTables: string[];
  locks: number;
} {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const value = (sql: string): unknown => db.prepare(sql).pluck().get();
    return {
      integrity: value('PRAGMA integrity_check') as string,
      labels: value('SELECT count(*) FROM labels') as number,
      latestFit: value('SELECT max(id) FROM fits WHERE complete = 1') as number | null,
      suggestionFits: db.prepare('SELECT DISTINCT fit_id FROM suggestions ORDER BY 1').pluck().all() as number[],
      openSuggestions: value(
        'SELECT count(*) FROM suggestions s WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)',
      ) as number,
      incompleteFits: value('SELECT count(*) FROM fits WHERE complete = 0') as number,
      halfTables: db
        .prepare(`SELECT name FROM sqlite_master WHERE name IN ('suggestions_next', 'suggestions_old')`)
        .pluck()
        .all() as string[],
      locks: value(`SELECT count(*) FROM sqlite_master WHERE name = 'locks'`)
        ? (value('SELECT count(*) FROM locks') as number)
        : 0,
    };
  } finally {
    db.close();
  }
}

function temporaryFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'));
}

/** A failure a user can read: non-zero, one line (after any progress lines), no stack trace. */
function expectCleanFailure(result: CliRun, message: RegExp): void {
  expect(result.code, result.stdout).not.toBe(0);
  const progress = /^[\w-]+: \d+\/\d+ \(/;
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((line) => !progress.test(line));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
}

/**
 * Starts `suggest` and kills it (SIGKILL) the moment a second connection sees its save under way: the
 * half-filled table of the new suggestions exists. True when the kill landed before the save finished.
 */
async function killWhileSaving(workspace: string, file: string): Promise<boolean> {
  const child = spawn(process.execPath, [bin, '-w', workspace, 'suggest', '-q'], { cwd: dir, stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const reader = new Database(file, { readonly: true, fileMustExist: true });
  const saving = reader.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'suggestions_next'`).pluck();
  try {
    const deadline = Date.now() + 30_000;
    while (!exited && Date.now() < deadline) {
      // Flat out for 20 ms at a time (the save of the suggestions takes about 10), then let events in.
      const slice = Date.now() + 20;
      while (Date.now() < slice) {
        if (saving.get() === 0) continue;
        child.kill('SIGKILL');
        await exit;
        return saving.get() === 1;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.kill('SIGKILL');
    await exit;
    return false;
  } finally {
    reader.close();
  }
}

beforeAll(async () => {
  const sources: string[] = [];
  for (let i = 0; i < 16; i++) {
    const color = i % 2 === 0 ? COLOUR_CLASSES.amber : COLOUR_CLASSES.azure;
    const options = { width: 8, height: 8, color, noise: 60, seed: i };
    sources.push(await writeImage(join(dir, 'sources', `${i}.png`), 'png', options));
  }
  mkdirSync(join(dir, 'photos'));
  const name = (i: number): string => `img${String(i).padStart(4, '0')}.png`;
  for (let i = 0; i < IMAGES; i++) copyFileSync(sources[i % 16]!, join(dir, 'photos', name(i)));
  const rows = Array.from({ length: LABELLED }, (_, i) => `${name(i)},${i % 2 === 0 ? 'amber' : 'azure'}`);
  writeFileSync(join(dir, 'labels.csv'), `image,label\n${rows.join('\n')}\n`);
  model = (await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8 })).dir;
  for (const args of [
    ['init', '--images', 'photos', '--model', `onnx:${model}`],
    ['scan', '-q'],
    ['embed', '-q'],
    ['import', 'labels.csv'],
    ['suggest', '-q'],
  ]) {
    const result = cli(['-w', 'template', ...args]);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  }
  // Closed in rollback-journal mode: the database file is all there is to copy.
  expect(existsSync(join(template, 'autolabel.db-wal'))).toBe(false);
}, 60_000);

afterAll(() => {
  for (const mount of mounts.reverse()) run('umount', ['-l', mount]);
  rmSync(dir, { recursive: true, force: true });
});

describe('faults', () => {
  it('a suggest killed while it saves leaves the previous fit in force; accept and the next suggest just work', async () => {
    const workspace = join(dir, 'killed');
    const file = copyWorkspace(workspace);
    // One more label, so the fit being saved is not the one in force.
    expect(cli(['-w', workspace, 'label', 'img0008.png', 'amber']).code).toBe(0);
    let before = inspect(file);
    let landed = false;
    for (let attempt = 0; attempt < 5 && !landed; attempt++) {
      before = inspect(file);
      landed = await killWhileSaving(workspace, file);
    }
    expect(landed, 'no kill landed inside a save in 5 tries').toBe(true);

    // Another process sees the previous fit, and only its suggestions.
    const after = inspect(file);
    expect(after.integrity).toBe('ok');
    expect(after.latestFit).toBe(before.latestFit);
    expect(after.suggestionFits).toEqual([before.latestFit]);
    expect(after.labels).toBe(before.labels);
    const accepted = cli(['-w', workspace, 'accept', '--min-confidence', '0', '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ fitId: before.latestFit, accepted: after.openSuggestions });

    // The next suggest takes over the dead process's lock at once and clears what it left.
    const next = cli(['-w', workspace, 'suggest', '-q', '--json']);
    expect(next.code, next.stderr).toBe(0);
    const fitId = (JSON.parse(next.stdout) as { fitId: number }).fitId;
    expect(inspect(file)).toMatchObject({
      integrity: 'ok',
      latestFit: fitId,
      incompleteFits: 0,
      halfTables: [],
      locks: 0,
    });
  });

  it.skipIf(tmpfsProblem !== null)('suggest goes on without its graph cache when the cache cannot be written', () => {
    const workspace = join(dir, 'cache-full');
    const file = copyWorkspace(workspace, { cache: false });
    const cache = join(workspace, 'cache');
    tmpfs(cache, '64k');
    fill(cache);
    const result = cli(['-w', workspace, 'suggest', '-q']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^warning: the neighbour graph was not cached \(cannot write .*graph-[0-9a-f]+\.bin: the disk is full \(ENOSPC\)\); it is built again next time$/m,
    );
    expect(temporaryFiles(cache)).toEqual([]);
    const saved = inspect(file);
    expect(saved.latestFit).toBe(2);
    expect(saved.suggestionFits).toEqual([2]);
  });

  it.skipIf(tmpfsProblem !== null)(
    'a full disk fails every writing command with one clear line, still reads, and loses nothing',
    () => {
      const disk = join(dir, 'disk');
      tmpfs(disk, '16m');
      const workspace = join(disk, 'workspace');
      const file = copyWorkspace(workspace, { cache: false });
      const csv = join(disk, 'out.csv');
      const report = join(disk, 'report', 'index.html');
      expect(cli(['-w', workspace, 'export', '--out', csv]).code).toBe(0);
      expect(cli(['-w', workspace, 'report', '--out', join(disk, 'report')]).code).toBe(0);
      const earlier = { csv: readFileSync(csv, 'utf8'), report: readFileSync(report, 'utf8') };
      const before = inspect(file);
      try {
        fill(disk);
        const status = cli(['-w', workspace, 'status', '--json']);
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ imageCount: IMAGES, labeled: LABELLED });
        expectCleanFailure(
          cli(['-w', workspace, 'label', 'img0009.png', 'amber']),
          /^error: could not change labels in .*autolabel\.db: the disk is full/,
        );
        expectCleanFailure(cli(['-w', workspace, 'suggest', '-q']), /in .*autolabel\.db: the disk is full/);
        expectCleanFailure(
          cli(['-w', workspace, 'export', '--out', csv]),
          /^error: cannot write .*out\.csv: the disk is full \(ENOSPC\)$/,
        );
        expectCleanFailure(
          cli(['-w', workspace, 'report', '--out', join(disk, 'report')]),
          /^error: cannot write .*index\.html: the disk is full \(ENOSPC\)$/,
        );
        expectCleanFailure(
          cli(['-w', join(disk, 'new'), 'init', '--images', 'photos', '--model', `onnx:${model}`]),
          /^error: cannot write .*new\/autolabel\.json: the disk is full \(ENOSPC\)$/,
        );
        rmSync(join(disk, 'filler'));

        // A suggest that gets as far as saving: a connection held open keeps the -shm and -wal files
        // in place, the WAL is emptied, and the disk has room for the lock but not for the graph cache
        // nor the suggestions.
        const keeper = new Database(file);
        try {
          keeper.pragma('journal_mode = WAL');
          keeper.pragma('wal_checkpoint(TRUNCATE)');
          fill(disk, 64 * 1024);
          expectCleanFailure(
            cli(['-w', workspace, 'suggest', '-q']),
            /^error: could not (save suggestions|start saving a fit|finish saving a fit) in .*autolabel\.db: the disk is full/,
          );
        } finally {
          keeper.close();
        }
        expect(temporaryFiles(disk)).toEqual([]);
        expect(readFileSync(csv, 'utf8')).toBe(earlier.csv);
        expect(readFileSync(report, 'utf8')).toBe(earlier.report);
      } finally {
        rmSync(join(disk, 'filler'), { force: true });
      }
      const after = inspect(file);
      expect(after.integrity).toBe('ok');
      expect(after.labels).toBe(before.labels);
      expect(after.latestFit).toBe(before.latestFit);
      expect(after.suggestionFits).toEqual([before.latestFit]);
      // With room again, suggest works without help.
      const again = cli(['-w', workspace, 'suggest', '-q']);
      expect(again.code, again.stderr).toBe(0);
      expect(inspect(file)).toMatchObject({ integrity: 'ok', incompleteFits: 0, halfTables: [], locks: 0 });
    },
  );

  it.skipIf(readOnlyProblem !== null)(
    'a read-only workspace can be read: status and export work, label and suggest say it is read-only',
    () => {
      const folder = join(dir, 'read-only');
      if (asRoot) tmpfs(folder, '16m');
      const workspace = join(folder, 'workspace');
      copyWorkspace(workspace);
      // A database left in WAL mode (by an older Autolabel) cannot be read from a read-only folder: it says so.
      const walFile = copyWorkspace(join(folder, 'wal'));
      const wal = new Database(walFile);
      wal.pragma('journal_mode = WAL');
      wal.close();
      const lock = (mode: number, dirMode: number): void => {
        for (const entry of readdirSync(folder, { recursive: true, encoding: 'utf8' })) {
          const path = join(folder, entry);
          chmodSync(path, statSync(path).isDirectory() ? dirMode : mode);
        }
        chmodSync(folder, dirMode);
      };
      if (asRoot) expect(run('mount', ['-o', 'remount,ro', folder])).toBeNull();
      else lock(0o444, 0o555);
      try {
        const status = cli(['-w', workspace, 'status', '--json']);
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ imageCount: IMAGES, embedded: IMAGES, labeled: LABELLED });
        const exported = cli(['-w', workspace, 'export']);
        expect(exported.code, exported.stderr).toBe(0);
        expect(exported.stdout.trim().split('\n')).toHaveLength(IMAGES + 1);
        expect(exported.stdout).toMatch(/^img0000\.png,amber,labeled,,import,,,,$/m);
        expect(exported.stdout).toMatch(/^img0009\.png,\w+,suggested,[\d.]+,,,\w+,[\d.]+,\d+$/m);
        const out = join(dir, 'read-only-export.csv');
        expect(cli(['-w', workspace, 'export', '--out', out]).code).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe(exported.stdout);

        expectCleanFailure(
          cli(['-w', workspace, 'label', 'img0009.png', 'amber']),
          /^error: cannot change labels: the workspace folder .*workspace is read-only, so autolabel\.db was opened for reading only$/,
        );
        expectCleanFailure(cli(['-w', workspace, 'suggest', '-q']), /the workspace folder .* is read-only/);
        expectCleanFailure(
          cli(['-w', join(folder, 'wal'), 'status']),
          /was left in write-ahead-log mode without its autolabel\.db-shm file .* open the workspace once where its folder is writable/,
        );
      } finally {
        if (!asRoot) lock(0o644, 0o755);
      }
    },
  );
});
