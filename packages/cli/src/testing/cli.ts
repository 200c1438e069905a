/** @module Test helpers: the built CLI run as a user runs it, and a folder of colour-class photos to run it on. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImagePattern, type Rgb, writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';

const bin = fileURLToPath(new URL('../../bin/autolabel.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI (npm run build first) in `cwd`. */
export function runCli(cwd: string, args: readonly string[]): CliRun {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export const COLOUR_CLASSES: Readonly<Record<string, Rgb>> = {
  amber: [210, 130, 30],
  azure: [40, 100, 210],
  moss: [70, 160, 60],
};
const PATTERNS: readonly ImagePattern[] = ['solid', 'stripes', 'checker'];

/**
 * Writes `perClass` noisy PNGs of each colour class into `dir` (img_am00.png, img_az00.png, ...) and
 * returns the truth: path -> class.
 */
export async function writeColourPhotos(dir: string, perClass: number): Promise<Map<string, string>> {
  const truth = new Map<string, string>();
  let seed = 0;
  for (const [name, color] of Object.entries(COLOUR_CLASSES)) {
    for (let i = 0; i < perClass; i++) {
      const path = `img_${name.slice(0, 2)}${String(i).padStart(2, '0')}.png`;
      await writeImage(join(dir, path), 'png', {
        color,
        pattern: PATTERNS[i % PATTERNS.length]!,
        noise: 70,
        seed: seed++,
      });
      truth.set(path, name);
    }
  }
  return truth;
}

/** Runs the CLI with --json and parses what it prints; a failure throws with its stderr. */
export function runCliJson<T>(cwd: string, args: readonly string[]): T {
  const result = runCli(cwd, [...args, '--json']);
  if (result.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * A workspace in `dir` over `perClass` colour photos per class (in `dir/photos`), embedded with the
 * tiny ONNX model: what a user has after init, scan and embed. Returns the truth.
 */
export async function embeddedColourWorkspace(dir: string, perClass: number): Promise<Map<string, string>> {
  const truth = await writeColourPhotos(join(dir, 'photos'), perClass);
  const model = await writeTinyOnnxModel(join(dir, 'tiny-model'), { featureDim: 24 });
  for (const args of [
    ['init', '--images', 'photos', '--model', `onnx:${model.dir}`],
    ['scan', '-q'],
    ['embed', '-q'],
  ]) {
    const result = runCli(dir, args);
    if (result.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
  return truth;
}
