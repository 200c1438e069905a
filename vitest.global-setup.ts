/**
 * @module vitest globalSetup: tests load worker scripts, the CLI's bin, the test fixtures and the
 * review app from build output (dist/), so every run first brings dist up to date with src. Without
 * this, a test run after editing a worker tests the old worker.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);

/** The TypeScript packages whose dist tests load; `tsc -b` does nothing for those already up to date. */
const TS_PROJECTS = ['packages/core', 'packages/test-utils', 'packages/server', 'packages/cli'];
/** What the review app's build is made from; core's dist holds the charts it bundles (its .js: types and maps do not count). */
const WEB_INPUTS = ['packages/web/app', 'packages/web/index.html', 'packages/web/vite.config.ts', 'packages/core/dist'];
const WEB_BUILT = 'packages/web/dist/index.html';

/** typescript's ExitStatus.DiagnosticsPresent_OutputsGenerated: type errors, but every file emitted. */
const TSC_EMITTED_WITH_ERRORS = 2;

function buildPackages(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = ['-b', ...TS_PROJECTS];
  const run = spawnSync(process.execPath, [tsc, ...args], { cwd: root, encoding: 'utf8' });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  if (run.status === 0) return;
  if (run.status === TSC_EMITTED_WITH_ERRORS) {
    // dist matches src (tsc emits despite type errors); the type errors are typecheck's to fail on.
    const lines = output.split('\n');
    const more = lines.length > 30 ? `\n... ${lines.length - 30} more lines: npm run typecheck` : '';
    console.warn(
      `test setup: \`tsc ${args.join(' ')}\` built dist with type errors:\n${lines.slice(0, 30).join('\n')}${more}`,
    );
    return;
  }
  throw new Error(
    `test setup: \`tsc ${args.join(' ')}\` failed (exit ${run.status ?? run.signal}), so dist may be older than src ` +
      `and the tests would run old code:\n${output || run.error?.message}`,
  );
}

/** The newest file under the given paths (declarations and source maps aside), with its modification time. */
function newest(paths: readonly string[]): { path: string; mtimeMs: number } | undefined {
  let found: { path: string; mtimeMs: number } | undefined;
  const visit = (path: string): void => {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return;
    if (info.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!/\.(d\.ts|map)$/.test(path) && (!found || info.mtimeMs > found.mtimeMs)) {
      found = { path, mtimeMs: info.mtimeMs };
    }
  };
  for (const path of paths) visit(join(root, path));
  return found;
}

/** Rebuilds the review app when it is missing or older than a file it is built from (vite build: under a second). */
async function buildWebApp(): Promise<void> {
  const built = join(root, WEB_BUILT);
  const source = newest(WEB_INPUTS);
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : -Infinity;
  if (source === undefined || source.mtimeMs <= builtAt) return;
  const why = Number.isFinite(builtAt)
    ? `${relative(root, source.path)} is newer than ${WEB_BUILT}`
    : `${WEB_BUILT} is missing`;
  console.warn(`test setup: building the review app (${why})`);
  const { build } = await import('vite');
  await build({ root: join(root, 'packages/web'), logLevel: 'warn' });
}

async function bringDistUpToDate(): Promise<void> {
  buildPackages();
  await buildWebApp();
}

export default async function setup(project: TestProject): Promise<void> {
  await bringDistUpToDate();
  // Watch mode: each rerun after an edit builds again before it runs.
  project.onTestsRerun(bringDistUpToDate);
}
