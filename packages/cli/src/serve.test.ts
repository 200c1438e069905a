// `autolabel serve` as a user runs it: a port in use is a clear message and a usage exit status, not a trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, expect, it } from 'vitest';
import { EXIT } from './exit-codes.js';
import { runCli } from './testing/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('says a port is in use and exits with the usage status', async () => {
  await writeImage(join(dir, 'photos', 'a.png'), 'png', { color: [10, 20, 30] });
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8 });
  expect(runCli(dir, ['init', '--images', 'photos', '--model', `onnx:${model.dir}`]).code).toBe(0);
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    // Not runCli: were the port free after all, serve would run until killed, so this one has a timeout.
    const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'serve', '--port', String(port)], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toContain(`port ${port} is in use: pass --port`);
    expect(run.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
    expect(run.status).toBe(EXIT.usage);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
}, 60_000);
