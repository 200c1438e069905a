// Two `autolabel serve` processes on one PostgreSQL store, as behind one address: a label written to
// either is seen by both, and refits run one at a time (the store's refit lock): while it is held
// elsewhere, neither server saves a fit; once it is free, both do, one after the other.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openWorkspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { testPostgres, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, writeColourPhotos } from './testing/cli.js';

const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const postgres = await testPostgres();
const server = postgres.server;

interface Serve {
  readonly url: string;
  readonly child: ChildProcess;
}

async function serve(cwd: string): Promise<Serve> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!.replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`autolabel serve exited with ${code}: ${output}`)));
  });
  return { url, child };
}

interface ModelState {
  readonly fitId: number | null;
  readonly state: string;
  readonly message: string | null;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function label(base: string, items: { imageId: number; label: string }[]): Promise<void> {
  const response = await fetch(`${base}/api/labels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

const model = async (base: string): Promise<ModelState> =>
  (await getJson<{ model: ModelState }>(`${base}/api/stats`)).model;

if (!server) {
  describe.skip(`two autolabel serve on one store (skipped: ${postgres.skip})`, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const name = `autolabel_servers_${process.pid}_${randomBytes(4).toString('hex')}`;
  await sql(server.url, `CREATE DATABASE ${name}`);
  const storeUrl = Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-servers-'));
  const servers: Serve[] = [];
  afterAll(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
  });

  describe('two autolabel serve on one store', () => {
    it('see each other’s labels, and refit one at a time', async () => {
      const truth = await writeColourPhotos(join(dir, 'photos'), 4);
      const tiny = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 16 });
      expect(runCli(dir, ['init', '--images', 'photos', '--model', `onnx:${tiny.dir}`, '--store', storeUrl]).code).toBe(
        0,
      );
      expect(runCli(dir, ['scan', '-q']).code).toBe(0);
      expect(runCli(dir, ['embed', '-q']).code).toBe(0);
      servers.push(await serve(dir), await serve(dir));
      const [a, b] = servers as [Serve, Serve];

      // The test holds the refit lock, as a third server in the middle of a refit would.
      const ws = await openWorkspace(join(dir, '.autolabel'));
      const lock = await storeOf(ws).tryLock('refit');
      expect(lock).toBeDefined();
      try {
        const page = await getJson<{ items: { id: number; path: string }[] }>(`${a.url}/api/images?limit=100`);
        const idOf = new Map(page.items.map((item) => [item.path, item.id]));
        const pick = (cls: string, n: number): { imageId: number; label: string }[] =>
          [...truth]
            .filter(([, c]) => c === cls)
            .slice(0, n)
            .map(([path]) => ({ imageId: idOf.get(path)!, label: cls }));
        const toA = [...pick('amber', 2), ...pick('moss', 2)];
        const toB = pick('azure', 2);
        await label(a.url, toA);
        await label(b.url, toB);
        // Each label is seen by both servers, whichever one it was written to.
        const ids = [...toA, ...toB].map((item) => item.imageId).join(',');
        for (const s of [a, b]) {
          const seen = await getJson<{ items: { id: number; label: string | null; status: string }[] }>(
            `${s.url}/api/images?ids=${ids}`,
          );
          expect(new Map(seen.items.map((item) => [item.id, item.label]))).toEqual(
            new Map([...toA, ...toB].map((item) => [item.imageId, item.label])),
          );
        }
        // Both servers want to refit (their debounce is 0.3 s), but the lock is held: no fit is saved.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        for (const s of [a, b]) expect(await model(s.url)).toMatchObject({ fitId: null, state: 'fitting' });
        expect((await sql(storeUrl, 'SELECT count(*)::int AS n FROM fits')).rows[0]).toEqual({ n: 0 });
      } finally {
        await lock!.release();
        await ws.close();
      }
      // Free again: both refit, one after the other, each saving its own fit; and each server then shows
      // the latest, its own or the other's (a server watches the store for fits it did not make).
      let states: ModelState[] = [];
      for (let i = 0; i < 300; i++) {
        states = await Promise.all([model(a.url), model(b.url)]);
        if (states.every((s) => s.state === 'idle' && s.fitId === 2)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(states.map((s) => [s.state, s.fitId])).toEqual([
        ['idle', 2],
        ['idle', 2],
      ]);
      expect((await sql(storeUrl, 'SELECT id FROM fits ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
      // And either server answers with suggestions for the images nobody labelled.
      const open = await getJson<{ total: number; items: { label: string | null }[] }>(
        `${b.url}/api/images?status=suggested&limit=100`,
      );
      expect(open.total).toBe(truth.size - 6);
    }, 120_000);
  });
}
