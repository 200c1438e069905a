import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-ort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A fresh process, as a user's: core's learn entry (built), one matrix product in onnxruntime.
const learnEntry = fileURLToPath(new URL('../../dist/learn-entry.js', import.meta.url));
const script = `
const { OrtMath, matrix } = await import(${JSON.stringify(learnEntry)});
const math = new OrtMath({ threads: 1 });
const product = await math.gemm(matrix(1, 2, Float32Array.of(1, 2)), matrix(2, 1, Float32Array.of(3, 4)));
await math.close();
console.log(product.data[0]);
`;

/** Runs the script with its own home and temporary folder; returns what it left in each. */
function run(name: string, telemetry: string | undefined): string[] {
  const home = join(dir, name, 'home');
  const temp = join(dir, name, 'tmp');
  mkdirSync(home, { recursive: true });
  mkdirSync(temp, { recursive: true });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TMPDIR: temp };
  if (telemetry !== undefined) env.ORT_DISABLE_TELEMETRY = telemetry;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.stdout.trim()).toBe('11');
  return [home, temp].flatMap((folder) => readdirSync(folder, { recursive: true, encoding: 'utf8' }));
}

describe('onnxruntime telemetry', () => {
  it('is off: a process that runs a model leaves nothing in its home or temporary folder', () => {
    expect(run('default', undefined)).toEqual([]);
  });

  it('stays the user’s to turn on (ORT_DISABLE_TELEMETRY=0), which shows what it writes otherwise', () => {
    const left = run('opted-in', '0');
    expect(left).toContain(join('.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime', 'onnxruntime.db'));
    expect(left.some((file) => /^mat-debug-\d+\.log$/.test(file))).toBe(true);
  });
});
