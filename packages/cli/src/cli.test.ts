import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

// Runs the built CLI (npm run build first), as a user would.
const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'autolabel-cli-'));
const images = join(dir, 'photos');
let model: string;

function cli(args: string[], cwd = dir): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function embeddingCount(workspace: string): number {
  const db = new Database(join(workspace, 'autolabel.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Waits until the workspace has at least `n` embeddings stored, then returns the child still running. */
async function whenEmbedded(child: ChildProcess, workspace: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`embed exited (${child.exitCode}) before ${n} embeddings were stored`);
    try {
      if (embeddingCount(workspace) >= n) return;
    } catch {
      // The database may not exist yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out waiting for embeddings');
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

beforeAll(async () => {
  for (let i = 0; i < 6; i++) {
    await writeImage(join(images, 'cats', `cat ${i}.jpg`), 'jpeg', { color: [200, 120, 40], noise: 40, seed: i });
    await writeImage(join(images, 'dogs', `dög_${i}.png`), 'png', { color: [40, 90, 200], noise: 40, seed: 50 + i });
  }
  await writeImage(join(images, 'odd', 'cmyk.jpg'), 'cmyk-jpeg');
  await writeImage(join(images, 'odd', 'gray.jpg'), 'gray-jpeg');
  await writeImage(join(images, 'odd', 'alpha.png'), 'alpha-png');
  await writeImage(join(images, 'odd', 'rotated.jpg'), 'rotated-jpeg');
  await writeImage(join(images, 'odd', 'anim.gif'), 'animated-gif');
  await writeImage(join(images, 'odd', 'deep.png'), 'png16');
  await writeImage(join(images, 'bad', 'truncated.jpg'), 'truncated-jpeg');
  await writeImage(join(images, 'bad', 'empty.jpg'), 'empty');
  await writeImage(join(images, 'bad', 'notes.jpg'), 'text');
  await writeImage(join(images, 'bad', 'bomb.png'), 'png-bomb');
  model = (await writeTinyOnnxModel(join(dir, 'model'))).dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('autolabel CLI', () => {
  it('runs the whole job: init, scan, embed, import, label, status, export', () => {
    const init = cli(['init', '--images', 'photos', '--model', `onnx:${model}`]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(join(dir, '.autolabel'));

    const scan = cli(['scan', '--json']);
    expect(scan.code, scan.stderr).toBe(0);
    expect(JSON.parse(scan.stdout)).toMatchObject({ added: 22, skipped: 3 });

    const embed = cli(['embed', '--batch-size', '4']);
    expect(embed.code, embed.stderr).toBe(0);
    expect(embed.stdout).toMatch(/Embedded 18 images .* img\/s\); 1 skipped/);
    expect(embed.stderr).toMatch(/embed: 19\/19 \(100\.0%\), [\d.]+ img\/s/);

    writeFileSync(
      join(dir, 'labels.csv'),
      'image,label\ncats/cat 0.jpg,cat\ndogs/dög_0.png,dog\n"cats/cat 1.jpg",cat\n',
    );
    const imported = cli(['import', 'labels.csv']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Imported 3 labels in 2 classes');

    expect(cli(['label', 'dogs/dög_1.png', 'dog']).code).toBe(0);

    const status = cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('22 images, 18 embedded, 4 skipped, 4 labelled');
    expect(status.stdout).toMatch(/cat\s+2/);
    expect(status.stdout).toMatch(/dog\s+2/);
    expect(status.stdout).toMatch(/bad\/bomb\.png: too-large/);
    expect(status.stdout).toMatch(/bad\/truncated\.jpg: corrupt/);
    expect(status.stdout).toMatch(/bad\/empty\.jpg: empty-file/);
    expect(status.stdout).toMatch(/bad\/notes\.jpg: not-an-image/);
    const json = JSON.parse(cli(['status', '--json']).stdout);
    expect(json).toMatchObject({ imageCount: 22, embedded: 18, labeled: 4 });

    const exported = cli(['export', '--format', 'csv', '--out', 'out.csv']);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit');
    expect(rows).toContain('cats/cat 0.jpg,cat,labeled,,import,,,,');
    expect(rows).toContain('dogs/dög_1.png,dog,labeled,,chosen,,,,');
    expect(rows).toContain('odd/cmyk.jpg,,unlabeled,,,,,,');
    expect(rows.length).toBe(23);
  });

  it('has --help on every command', () => {
    // The program's own command list (subcommands included), so a new command cannot be missed.
    const io = { stdout: process.stdout, stderr: process.stderr, cwd: dir, signal: new AbortController().signal };
    const commandPaths = (command: Command, parents: readonly string[] = []): string[][] =>
      command.commands.flatMap((c) => [[...parents, c.name()], ...commandPaths(c, [...parents, c.name()])]);
    const commands = commandPaths(buildProgram(io));
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      const help = cli([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: autolabel ${command.join(' ')}`);
      // Every command's help lists the global options; every top-level one shows examples.
      expect(help.stdout, command.join(' ')).toMatch(/^Global Options:\n(.*\n)* {2}--json /m);
      if (command.length === 1) expect(help.stdout, command[0]).toMatch(/^Examples:\n {2}autolabel /m);
    }
    const overview = cli(['--help']).stdout;
    for (const [name] of commands.filter((c) => c.length === 1))
      expect(overview).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('fails with a clear message and exit status, changing nothing', () => {
    writeFileSync(join(dir, 'bad.csv'), 'image,label\ncats/cat 2.jpg,cat\ncats/nope.jpg,cat\n');
    const bad = cli(['import', 'bad.csv']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/bad\.csv: line 3: image "cats\/nope\.jpg" is not in the workspace/);
    expect(cli(['export']).stdout).toContain('cats/cat 2.jpg,,unlabeled,,');

    // A row short of the header's fields is most often a name with an unquoted comma: refused, not guessed.
    writeFileSync(join(dir, 'cols.csv'), 'image,label,colour\ncats/cat 2.jpg,cat\n');
    const cols = cli(['import', 'cols.csv']);
    expect(cols.code).toBe(4);
    expect(cols.stderr).toMatch(/cols\.csv: line 2: 2 fields, but the header has 3/);

    const nowhere = cli(['status'], tmpdir());
    expect(nowhere.code).toBe(3);
    expect(nowhere.stderr).toMatch(/no Autolabel workspace/);
    expect(nowhere.stderr).toMatch(
      /^hint: run autolabel init --images DIR to create a workspace, or pass --workspace$/m,
    );

    const flag = cli(['embed', '--batch-size', 'lots']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--batch-size/);

    const unknown = cli(['frobnicate']);
    expect(unknown.code).toBe(2);

    // A file that is not there is "not found" (3), naming it.
    const missing = cli(['import', 'no-such.csv']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`no such file: ${join(dir, 'no-such.csv')}`);

    // With --json, errors are JSON on stderr too, with the same exit status; stdout stays empty.
    const asJson = cli(['import', 'no-such.csv', '--json']);
    expect(asJson.code).toBe(3);
    expect(asJson.stdout).toBe('');
    expect(JSON.parse(asJson.stderr)).toEqual({
      error: { code: 'FILE_NOT_FOUND', message: `no such file: ${join(dir, 'no-such.csv')}`, exitStatus: 3 },
    });
    const hinted = JSON.parse(cli(['status', '--json'], tmpdir()).stderr);
    expect(hinted.error).toMatchObject({ code: 'WORKSPACE_NOT_FOUND', hint: { action: 'init' }, exitStatus: 3 });
    expect(hinted.error.hint.text).toMatch(/^run autolabel init/);
    const usage = cli(['embed', '--frobnicate', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: "unknown option '--frobnicate'", exitStatus: 2 },
    });

    // A builtin (tfjs) workspace cannot export an ONNX classifier: bad input (4), not a usage error.
    expect(cli(['init', '--images', 'photos', '--workspace', 'builtin-ws']).code).toBe(0);
    const exportModel = cli(['export-model', '--out', 'x.onnx', '--workspace', 'builtin-ws']);
    expect(exportModel.code).toBe(4);
    expect(exportModel.stderr).toMatch(/needs an onnx: backbone/);
  });

  it('manages classes: list, add, rename, merge, remove', () => {
    const list = cli(['classes']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^class\s+labeled\s+accepted\s+auto\s+suggested$/m);
    expect(list.stdout).toMatch(/^cat\s+2\s+0\s+0\s+0$/m);
    expect(cli(['classes', 'add', ' bird ']).stdout).toMatch(/^bird\s+0\s+0\s+0\s+0$/m);
    const taken = cli(['classes', 'rename', 'bird', 'cat']);
    expect(taken.code).toBe(4);
    expect(taken.stderr).toMatch(/cat/);
    expect(cli(['classes', 'rename', 'bird', 'Cat']).code).toBe(0);
    const merged = JSON.parse(cli(['classes', 'merge', 'Cat', 'cat', '--json']).stdout);
    expect(merged.classes.map((c: { name: string }) => c.name)).toEqual(['cat', 'dog']);
    const inUse = cli(['classes', 'remove', 'dog']);
    expect(inUse.code).toBe(4);
    expect(inUse.stderr).toMatch(/--clear-labels|labels/);
    const removed = JSON.parse(cli(['classes', 'remove', 'dog', '--clear-labels', '--json']).stdout);
    expect(removed).toMatchObject({ removedLabels: 2, classes: [{ name: 'cat' }] });
    expect(cli(['classes', 'list']).stdout).not.toMatch(/^dog/m);
  });

  it('loses at most the batch in flight when killed, and the next run embeds only what is missing', async () => {
    const root = mkdtempSync(join(dir, 'kill-'));
    for (let i = 0; i < 300; i++) {
      await writeImage(join(root, 'img', `${i}.png`), 'png', { width: 40, height: 40, noise: 80, seed: 1000 + i });
    }
    const big = (await writeTinyOnnxModel(join(root, 'model'), { inputSize: 160 })).dir;
    expect(cli(['init', '--images', 'img', '--model', `onnx:${big}`], root).code).toBe(0);
    expect(cli(['scan'], root).code).toBe(0);
    const workspace = join(root, '.autolabel');

    const killed = spawn(process.execPath, [bin, 'embed', '--batch-size', '2'], { cwd: root, stdio: 'ignore' });
    await whenEmbedded(killed, workspace, 10);
    killed.kill('SIGKILL');
    expect((await exited(killed)).signal).toBe('SIGKILL');
    const afterKill = embeddingCount(workspace);
    expect(afterKill).toBeGreaterThanOrEqual(10);
    expect(afterKill).toBeLessThan(300);

    const interrupted = spawn(process.execPath, [bin, 'embed', '--batch-size', '2'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    interrupted.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    interrupted.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await whenEmbedded(interrupted, workspace, afterKill + 10);
    interrupted.kill('SIGINT');
    expect((await exited(interrupted)).code).toBe(130);
    expect(output).toMatch(/Stopped: \d+ embedded and saved/);
    const afterInterrupt = embeddingCount(workspace);
    expect(afterInterrupt).toBeLessThan(300);

    const rest = cli(['embed', '--json'], root);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ total: 300 - afterInterrupt, embedded: 300 - afterInterrupt });
    expect(embeddingCount(workspace)).toBe(300);
  });

  // As root, permissions only bite for another user, who must be able to run the CLI from this checkout.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const userCanRun =
    spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(bin)})`], asUser).status === 0;
  if (!userCanRun) {
    console.warn(
      'cli.test.ts: skipping the unreadable-file test: as root it runs the CLI as user nobody (uid 65534), ' +
        `who cannot read ${bin} in this checkout`,
    );
  }

  it.runIf(userCanRun)('records an unreadable file with its reason and embeds the rest', async () => {
    const root = mkdtempSync(join(dir, 'perm-'));
    await writeImage(join(root, 'img', 'ok.jpg'), 'jpeg');
    await writeImage(join(root, 'img', 'locked.jpg'), 'jpeg', { color: [1, 2, 3] });
    chmodSync(join(root, 'img', 'locked.jpg'), 0o000);
    chmodSync(root, 0o777);
    chmodSync(dir, 0o755);
    const run = (args: string[]): { code: number; stdout: string } => {
      const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', ...asUser });
      return { code: result.status ?? -1, stdout: result.stdout };
    };
    expect(run(['init', '--images', 'img', '--model', `onnx:${model}`]).code).toBe(0);
    expect(run(['scan']).code).toBe(0);
    expect(run(['embed']).code).toBe(0);
    const status = JSON.parse(run(['status', '--json']).stdout);
    expect(status.embedded).toBe(1);
    expect(status.skipped).toEqual([
      { path: 'locked.jpg', reason: 'unreadable', detail: expect.stringContaining('EACCES') },
    ]);
  });
});
