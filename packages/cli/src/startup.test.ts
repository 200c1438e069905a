// The commands run most often start without the heavy runtimes: `--help`, `label` and `status` load
// no onnxruntime, sharp, umap, ONNX schema, transformers.js or server (bench:startup measures what that saves).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeImage } from '@autolabel/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './testing/cli.js';

const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'autolabel-startup-'));
const HEAVY = [
  'onnxruntime-node',
  'onnx-proto',
  'sharp',
  'umap-js',
  '@tensorflow/tfjs',
  '@huggingface/transformers',
  'hono',
  '@autolabel/server',
];

// Every module the ESM loader loads (CommonJS packages imported from ESM included), one path a line.
const HOOKS = `
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.AUTOLABEL_LOAD_TRACE, fileURLToPath(url) + '\\n');
  return next(url, context);
}
`;

/** The heavy packages (of HEAVY) that running the built CLI with `args` loads. */
function heavyLoaded(args: readonly string[]): string[] {
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, '');
  const run = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), bin, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, AUTOLABEL_LOAD_TRACE: trace },
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const packages = new Set<string>();
  for (const path of readFileSync(trace, 'utf8').split('\n')) {
    const inModules = [...path.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1)?.[1];
    if (inModules) packages.add(inModules);
    if (/\/packages\/server\//.test(path)) packages.add('@autolabel/server');
  }
  return HEAVY.filter((name) => packages.has(name));
}

beforeAll(async () => {
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(
    join(dir, 'register.mjs'),
    "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
  );
  await writeImage(join(dir, 'photos', 'a.png'), 'png', { color: [200, 40, 40] });
  await writeImage(join(dir, 'photos', 'b.png'), 'png', { color: [40, 40, 200] });
  expect(runCli(dir, ['init', '--images', 'photos']).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// First: label needs the images scan finds.
it('scan loads sharp to read image headers (the trace sees what is loaded)', () => {
  expect(heavyLoaded(['--quiet', 'scan'])).toEqual(['sharp']);
}, 30_000);

it.each([[['--help']], [['label', 'a.png', 'red']], [['status']]])(
  'autolabel %j loads none of the heavy packages',
  (args) => {
    expect(heavyLoaded(args)).toEqual([]);
  },
  30_000,
);
