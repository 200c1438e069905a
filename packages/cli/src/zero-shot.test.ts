import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage, writeTinyClipModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, runCliJson, COLOUR_CLASSES } from './testing/cli.js';

// Runs the built CLI (npm run build first): a cold start from class names with a CLIP-like onnx:
// folder (test-utils/tiny-clip.ts), whose towers see colour.
const dir = mkdtempSync(join(tmpdir(), 'autolabel-zero-shot-cli-'));
const truth = new Map<string, string>();
const cli = (args: string[]): CliRun => runCli(dir, args);
const json = <T>(args: string[]): T => runCliJson<T>(dir, args);

function exported(): Map<string, { label: string; status: string }> {
  const rows = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
  return new Map(rows.map((line) => line.split(',')).map((r) => [r[0]!, { label: r[1]!, status: r[2]! }]));
}

beforeAll(async () => {
  let seed = 0;
  for (const [name, color] of Object.entries(COLOUR_CLASSES)) {
    for (let i = 0; i < 8; i++) {
      const path = `${name}${i}.png`;
      await writeImage(join(dir, 'photos', path), 'png', { color, noise: 60, seed: seed++ });
      truth.set(path, name);
    }
  }
  const model = await writeTinyClipModel(join(dir, 'clip'));
  for (const args of [
    ['init', '--images', 'photos', '--model', `onnx:${model.dir}`],
    ['scan', '-q'],
    ['embed', '-q'],
  ]) {
    const result = cli(args);
    if (result.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zero-shot from class names', () => {
  it('needs classes (or labels) first', () => {
    const result = cli(['suggest']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/label a few images of at least two classes/);
  });

  it('suggests from the class names alone, says so, and status says so too', () => {
    for (const name of Object.keys(COLOUR_CLASSES)) expect(cli(['classes', 'add', name]).code).toBe(0);
    const result = cli(['suggest']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Fit 1 \(zero-shot\): 24 suggestions/);
    expect(result.stdout).toMatch(
      /Zero-shot suggestions from the class names \(no labels in two classes yet\), prompts "a photo of a \{\}\."/,
    );
    expect(result.stdout).toMatch(
      /expected by zero-shot from class names, with no labels yet.*; not calibrated \(no labels yet\)/,
    );
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    const rows = exported();
    expect(rows.size).toBe(truth.size);
    for (const [path, row] of rows) {
      expect(row.status).toBe('suggested');
      expect(row.label).toBe(truth.get(path));
    }
    const status = cli(['status']);
    expect(status.stdout).toMatch(
      /Suggestions: 24 \(0 auto\) from fit 1 .* on 0 labels\n {2}zero-shot from the class names/,
    );
  });

  it('next picks where zero-shot is least sure', () => {
    const { picks } = json<{ picks: { path: string; reason: string }[] }>(['next', '--count', '3']);
    expect(picks).toHaveLength(3);
    for (const pick of picks) expect(pick.reason).toMatch(/^model torn between (amber|azure|moss) /);
  });

  it('takes prompt templates from --template, refuses one without {}, and leaves zero-shot out with --no-zero-shot', () => {
    const result = json<{ zeroShot: { templates: string[] } }>([
      'suggest',
      '--template',
      'a {} photo',
      '--template',
      '{}',
    ]);
    expect(result.zeroShot.templates).toEqual(['a {} photo', '{}']);
    const bad = cli(['suggest', '--template', 'a photo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/template "a photo" has no \{\}/);
    const off = cli(['suggest', '--no-zero-shot']);
    expect(off.code).toBe(4);
  });

  it('with labels, records how zero-shot was pooled with the learner', () => {
    for (const [path, label] of truth) if (/[01]\.png$/.test(path)) expect(cli(['label', path, label]).code).toBe(0);
    const result = json<{
      method: string;
      calibratedOn: string;
      zeroShot: { coldStart: boolean; weight: number; byWeight: { weight: number }[]; chosenBy: string };
    }>(['suggest']);
    expect(result.zeroShot.coldStart).toBe(false);
    expect(result.zeroShot.byWeight).toHaveLength(11);
    expect(result.zeroShot.chosenBy).toMatch(/^cross-validated log-loss on 6 labelled images/);
    expect(result.calibratedOn).toBe('labels');
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    for (const [path, row] of exported()) expect(row.label).toBe(truth.get(path));
  });
});
