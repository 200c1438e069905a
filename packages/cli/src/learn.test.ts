import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRgb } from '@autolabel/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, runCliJson, embeddedColourWorkspace } from './testing/cli.js';

// Runs the built CLI (npm run build first) through the learning loop a user follows.
const dir = mkdtempSync(join(tmpdir(), 'autolabel-learn-'));
const images = join(dir, 'photos');
let truth: Map<string, string>;
const cli = (args: string[]): CliRun => runCli(dir, args);

const json = <T>(args: string[]): T => runCliJson<T>(dir, args);

function exported(): Map<string, { label: string; status: string; confidence: string }> {
  // The generated names need no CSV quoting.
  const rows = readFileSync(join(dir, 'out.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(','));
  return new Map(rows.map((r) => [r[0]!, { label: r[1]!, status: r[2]!, confidence: r[3]! }]));
}

beforeAll(async () => {
  truth = await embeddedColourWorkspace(dir, 15);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the learning loop', () => {
  it('says what to do when there is nothing to learn from yet', () => {
    const result = cli(['suggest']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/label a few images of at least two classes/);
    // Core says what is wrong; the CLI words what to do as its own commands.
    expect(result.stderr).toMatch(/^hint: label images with autolabel label or autolabel import/m);
  });

  it('recommends typical images of different clusters first, each with a reason', () => {
    const { picks } = json<{ picks: { path: string; strategy: string; reason: string }[] }>(['next', '--count', '6']);
    expect(picks).toHaveLength(6);
    expect(new Set(picks.map((p) => p.path)).size).toBe(6);
    for (const pick of picks) expect(pick.reason).toMatch(/^typical of an unlabelled cluster of \d+ images$/);
    // Six typical picks out of three colour classes cover at least two of them.
    expect(new Set(picks.map((p) => truth.get(p.path))).size).toBeGreaterThanOrEqual(2);
  });

  it('refuses to learn when every label is one class', () => {
    expect(cli(['label', 'img_am00.png', 'amber']).code).toBe(0);
    const result = cli(['suggest']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/all labels are in one class \("amber"\)/);
  });

  it('suggests a label with a confidence for every other image, mostly right', () => {
    for (const [path, label] of truth) if (/0[0-3]\.png$/.test(path)) expect(cli(['label', path, label]).code).toBe(0);
    const result = json<{
      suggestions: number;
      accuracy: { basis: string; note: string };
      auto: number;
      threshold: number | null;
      certificate: { checks: number; next: { checks: number; images: number } | null };
    }>(['suggest', '--target-precision', '0.9']);
    expect(result.suggestions).toBe(truth.size - 12);
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    const rows = exported();
    let right = 0;
    for (const [path, row] of rows) {
      if (/0[0-3]\.png$/.test(path)) {
        expect(row.status).toBe('labeled');
        continue;
      }
      expect(['auto', 'suggested']).toContain(row.status);
      const confidence = Number(row.confidence);
      expect(confidence).toBeGreaterThan(1 / 3);
      expect(confidence).toBeLessThanOrEqual(1);
      if (row.label === truth.get(path)) right++;
    }
    expect(right / (truth.size - 12)).toBeGreaterThan(0.8);
    // Labels people chose certify nothing: only random checks can, and there are none yet.
    expect(result.threshold).toBeNull();
    expect(result.auto).toBe(0);
    expect(result.accuracy.basis).toBe('chosen-labels');
    expect(result.certificate.checks).toBe(0);
    // It says how many checks would help, never more than there are suggestions.
    expect(result.certificate.next?.checks ?? 0).toBeLessThanOrEqual(33);
    const status = cli(['status']).stdout;
    expect(status).toMatch(/Suggestions: 33 \(0 auto\) from fit \d+ .* on 12 labels/);
    expect(status).toMatch(
      /estimated from chosen labels, may be biased; verify 30 random suggestions for an unbiased figure/,
    );
    expect(cli(['suggest', '--target-precision', '0.9']).stdout).toMatch(
      /Auto: none yet\. Only random checks can certify precision 90\.0%, and there are none yet\./,
    );
  });

  it('then recommends the images the model is least sure about', () => {
    const { picks } = json<{ picks: { strategy: string; reason: string }[] }>(['next', '--count', '3']);
    expect(picks.length).toBeGreaterThan(0);
    for (const pick of picks) {
      expect(pick.strategy).toBe('uncertain');
      expect(pick.reason).toMatch(/^model torn between (amber|azure|moss) \d\.\d\d and (amber|azure|moss) \d\.\d\d$/);
    }
  });

  it('writes one ONNX classifier that predicts from pixels what the fit suggests', async () => {
    const result = json<{ out: string; classes: string[] }>(['export-model', '--out', 'classifier.onnx']);
    expect(result.classes).toEqual(['amber', 'azure', 'moss']);
    const session = await ort.InferenceSession.create(join(dir, 'classifier.onnx'));
    try {
      const paths = [...truth.keys()].filter((p) => !/0[0-3]\.png$/.test(p));
      let agree = 0;
      for (const path of paths) {
        const input = { width: 32, height: 32, fit: 'fill', kernel: 'linear' } as const;
        const rgb = await decodeRgb(readFileSync(join(images, path)), input, { maxPixels: 1e8 });
        const pixels = new ort.Tensor('float32', Float32Array.from(rgb), [1, 32, 32, 3]);
        const out = (await session.run({ pixels })).probabilities!.data as Float32Array;
        expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        const predicted = result.classes[out.indexOf(Math.max(...out))];
        if (predicted === truth.get(path)) agree++;
      }
      expect(agree / paths.length).toBeGreaterThan(0.7);
    } finally {
      await session.release();
    }
  });

  it('accepts suggestions into labels, also from a fit older than the newest labels', () => {
    const accepted = json<{ accepted: number }>(['accept', '--min-confidence', '0']);
    expect(accepted.accepted).toBe(truth.size - 12);
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    const statuses = [...exported().values()].map((r) => r.status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(truth.size - 12);
    // Our own export imports back without turning anything into a new kind of label.
    expect(cli(['import', 'out.csv']).code).toBe(0);

    // A label given after the fit does not touch a certificate made on random checks: accept still
    // works, and says so; status says new suggestions are due.
    expect(cli(['label', 'img_am04.png', 'amber']).code).toBe(0);
    const later = cli(['accept', '--auto']);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/Accepted 0 suggestions \(fit \d+\)\. The fit predates \d+ newer labels/);
    expect(cli(['status']).stdout).toMatch(/out of date: labels changed since the suggestions were made/);
    const neither = cli(['accept']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/say which suggestions to accept/);
  });

  it('writes a report page with the plots', () => {
    const result = cli(['report', '--out', 'report']);
    expect(result.code).toBe(0);
    const html = readFileSync(join(dir, 'report', 'index.html'), 'utf8');
    for (const title of [
      'Images per class',
      'Labels over time',
      'Confidence',
      'Precision and coverage',
      'Calibration',
    ]) {
      expect(html).toContain(title);
    }
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(existsSync(join(dir, 'report', 'index.html'))).toBe(true);
  });
});
