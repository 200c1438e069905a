/**
 * The newcomer's path as the README tells it: a global install from the clone, then Autolabel run
 * from a folder of one's own photos outside the repository, with `autolabel` found on PATH.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, writeColourPhotos } from './testing/cli.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const home = realpathSync(mkdtempSync(join(tmpdir(), 'autolabel-newcomer-')));
const prefix = join(home, 'global');
const photos = join(home, 'my-photos');
let truth: Map<string, string>;
let model: string;

/** The environment of a shell, not of the npm script running the tests (no npm_* variables). */
const shellEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
  PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
});

/** `autolabel ...` as typed in a terminal in `cwd`: the global command on PATH. */
const autolabel = (cwd: string, ...args: string[]): CliRun => {
  const result = spawnSync('autolabel', args, { cwd, env: shellEnv(), encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
};
const ok = (cwd: string, ...args: string[]): string => {
  const result = autolabel(cwd, ...args);
  if (result.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
};

beforeAll(async () => {
  // The README's install step, into a prefix of our own instead of the machine's.
  const install = spawnSync('npm', ['install', '-g', './packages/cli', '--prefix', prefix], {
    cwd: repo,
    env: shellEnv(),
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`npm install -g failed: ${install.stderr}`);
  truth = await writeColourPhotos(photos, 8);
  model = (await writeTinyOnnxModel(join(home, 'models', 'tiny'), { featureDim: 24 })).dir;
}, 120_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('inside the repository', () => {
  it('runs with npx without npm warnings (the install stays offline-safe through allowScripts)', () => {
    const run = spawnSync('npx', ['autolabel', '--version'], { cwd: repo, env: shellEnv(), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/npm warn/i);
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(manifest.allowScripts['onnxruntime-node']).toBe(false);
  });
});

describe('after npm install -g ./packages/cli', () => {
  it('runs from a folder outside the repository, and says its version', () => {
    expect(photos.startsWith(repo)).toBe(false);
    const version = JSON.parse(readFileSync(join(repo, 'packages', 'cli', 'package.json'), 'utf8')).version;
    expect(ok(photos, '--version').trim()).toBe(version);
    // No workspace yet: the error says what to do, as a command.
    const none = autolabel(photos, 'status');
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^hint: run autolabel init --images DIR/m);
  });

  it('labels the photos: init, scan, embed, next, label, suggest, classes, export', () => {
    expect(ok(photos, 'init', '--images', '.', '--model', `onnx:${model}`)).toMatch(
      /^Created workspace .*\.autolabel/m,
    );
    expect(ok(photos, 'scan')).toMatch(/24 added/);
    expect(ok(photos, 'embed', '-q')).toMatch(/^Embedded 24 images/m);
    const { picks } = JSON.parse(ok(photos, 'next', '--count', '9', '--json')) as { picks: { path: string }[] };
    expect(picks).toHaveLength(9);
    for (const { path } of picks) expect(ok(photos, 'label', path, truth.get(path)!)).toContain(path);
    // Enough to tell classes apart; if next's picks missed one, label one of it by hand.
    for (const name of new Set(truth.values())) {
      if (!picks.some(({ path }) => truth.get(path) === name)) {
        const path = [...truth].find(([, label]) => label === name)![0];
        ok(photos, 'label', path, name);
      }
    }
    const suggest = JSON.parse(ok(photos, 'suggest', '-q', '--json')) as { suggestions: number };
    expect(suggest.suggestions).toBeGreaterThan(10);
    const classes = ok(photos, 'classes');
    expect(classes.split('\n')[0]).toMatch(/^class\s+labeled\s+accepted\s+auto\s+suggested$/);
    expect(classes).toMatch(/^amber\s+\d+/m);
    ok(photos, 'export', '--out', 'labels.csv');
    const csv = readFileSync(join(photos, 'labels.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit');
    expect(csv).toHaveLength(25);
  });
});
