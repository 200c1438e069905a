import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedColourWorkspace, runCli } from './testing/cli.js';

// Runs the built CLI (npm run build first) on real images embedded by the tiny ONNX model.
const dir = mkdtempSync(join(tmpdir(), 'autolabel-graph-progress-'));

beforeAll(async () => {
  await embeddedColourWorkspace(dir, 5);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The graph's progress lines on stderr (not a terminal: one line per report, the last at 100%). */
const graphLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('graph: '));

describe('progress while the neighbour graph builds', () => {
  it('next shows the graph build with count, rate and time, then uses the cached graph silently', () => {
    const first = runCli(dir, ['next', '--count', '3']);
    expect(first.code, first.stderr).toBe(0);
    const lines = graphLines(first.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(/^graph: 15\/15 \(100\.0%\), [\d.]+ images\/s/);
    const again = runCli(dir, ['next', '--count', '3']);
    expect(again.code, again.stderr).toBe(0);
    expect(graphLines(again.stderr)).toEqual([]);
  });

  it('suggest after new images were embedded shows the graph brought up to date; --quiet shows nothing', async () => {
    const addImages = async (names: readonly string[]) => {
      for (const [i, name] of names.entries())
        await writeImage(join(dir, 'photos', name), 'png', { color: [200, 40, 200], noise: 70, seed: 90 + i });
      for (const args of [
        ['scan', '-q'],
        ['embed', '-q'],
      ]) {
        const result = runCli(dir, args);
        expect(result.code, result.stderr).toBe(0);
      }
    };
    await addImages(['img_new0.png', 'img_new1.png']);
    for (const [path, label] of [
      ['img_am00.png', 'amber'],
      ['img_az00.png', 'azure'],
    ])
      expect(runCli(dir, ['label', path!, label!]).code).toBe(0);
    const suggested = runCli(dir, ['suggest']);
    expect(suggested.code, suggested.stderr).toBe(0);
    // The graph of 15 images is out of date: extended by the 2 new ones (their count) or built again (all 17).
    expect(graphLines(suggested.stderr).at(-1)).toMatch(/^graph: (2\/2|17\/17) \(100\.0%\), [\d.]+ images\/s/);
    await addImages(['img_new2.png']);
    const quiet = runCli(dir, ['next', '--count', '3', '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});
