import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { testPostgres } from '@autolabel/test-utils';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageId } from '../domain/index.js';
import { openPostgresStore } from './postgres/index.js';
import { lockKey } from './postgres/locks.js';
import { SCHEMA_VERSION } from './postgres/migrations.js';
import { image, storeContract } from './store.contract.js';
import type { StoreLock } from './store.js';

// The server CI started, or one of our own from the local binaries; without either, skipped (never in CI).
const postgres = await testPostgres();
const server = postgres.server;

/** A database of this test file's own on the server, so other test files can share the server. */
async function createDatabase(serverUrl: string): Promise<string> {
  const name = `autolabel_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

const pgModule = createRequire(import.meta.url).resolve('pg');

/** Another process holding the named lock `key` on its own connection, as a store's `tryLock` does; resolves once it holds it. */
async function lockHolder(url: string, key: number): Promise<ChildProcess> {
  const script = `
    const pg = require(${JSON.stringify(pgModule)});
    const client = new pg.Client({ connectionString: ${JSON.stringify(url)} });
    client.connect()
      .then(() => client.query('SELECT pg_advisory_lock($1, $2)', [0x416c6232, ${key}]))
      .then(() => process.stdout.write('held'));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

const coreLearn = createRequire(import.meta.url).resolve('@autolabel/core/learn');

/** A process with a store of its own (core's build) writing as a worker or a server would; resolves with its exit status. */
async function writerProcess(url: string, k: number, ids: readonly number[]): Promise<number | null> {
  const script = `
    const { openPostgresStore } = await import(${JSON.stringify(pathToFileURL(coreLearn).href)});
    const ids = ${JSON.stringify(ids)};
    const k = ${k};
    const store = await openPostgresStore(${JSON.stringify(url)});
    // Images k*100 to k*100+149, wrapping round to 0: each image written by one or two processes.
    for (let start = k * 100; start < k * 100 + 150; start += 25) {
      const vectors = Array.from({ length: 25 }, (_, j) => ({
        contentHash: 'h' + ((start + j) % 300),
        vector: Float32Array.from({ length: 8 }, (_, d) => d + k),
      }));
      await store.putEmbeddings({ modelId: 'm', dtype: 'float32', dim: 8, vectors, failures: [] });
    }
    for (let i = k; i < ids.length; i += 3) {
      await store.changeLabels({ set: [{ imageId: ids[i], label: 'writer-' + k, source: 'manual' }] });
    }
    for (let turn = 0; turn < 4; turn++) {
      await store.withLock('turns', async () => {
        const n = (await store.listClasses()).filter((c) => c.name.startsWith('turn-')).length;
        await new Promise((resolve) => setTimeout(resolve, 20));
        await store.addClass('turn-' + String(n).padStart(2, '0'));
      });
    }
    const suggestions = ids.map((imageId) => ({ imageId, label: 'writer-' + k, confidence: 0.5, runnerUp: null,
      runnerUpConfidence: null, status: 'suggested' }));
    await store.saveFit({ modelId: 'm', classes: ['writer-' + k], labels: 1, summary: {}, head: Uint8Array.of(k) }, suggestions);
    await store.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function killed(child: ChildProcess): Promise<void> {
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exit;
}

if (!server) {
  describe.skip(`postgres store (skipped: ${postgres.skip})`, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const url = await createDatabase(server.url);
  afterAll(async () => {
    const name = new URL(url).pathname.slice(1);
    await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
  });
  /** Each contract test starts from an empty schema. */
  const fresh = async () => {
    await sql(url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    return openPostgresStore(url, { lockWaitMs: 10_000 });
  };

  storeContract('postgres', fresh);

  describe('postgres store', () => {
    it('records its schema version, and refuses a schema newer than it knows', async () => {
      await (await fresh()).close();
      expect((await sql(url, 'SELECT version FROM schema_version')).rows).toEqual([{ version: SCHEMA_VERSION }]);
      // A second open migrates nothing and keeps the data.
      const store = await openPostgresStore(url);
      await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
      await store.close();
      const again = await openPostgresStore(url);
      expect((await again.listImages()).map((i) => i.path)).toEqual(['a.jpg']);
      await again.close();
      await sql(url, 'UPDATE schema_version SET version = $1', [SCHEMA_VERSION + 1]);
      await expect(openPostgresStore(url)).rejects.toMatchObject({
        code: 'WORKSPACE_INVALID',
        message: expect.stringMatching(
          new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this Autolabel \\(${SCHEMA_VERSION}\\)`),
        ),
      });
    });

    it('fails to connect naming the host and port, never the password, and says what to check', async () => {
      const closed = new URL(server.url);
      const port = Number(closed.port) + 1;
      const refused = `postgres://someone:s3cret-pw@127.0.0.1:${port}/nowhere`;
      const error = (await openPostgresStore(refused).catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject({ code: 'STORE_FAILED' });
      expect(error.message).toMatch(
        new RegExp(`PostgreSQL someone@127\\.0\\.0\\.1:${port}/nowhere.*is the server running`),
      );
      expect(error.message).not.toContain('s3cret-pw');
      const missing = new URL(server.url);
      missing.pathname = '/no_such_database';
      missing.password = 'another-secret';
      const absent = (await openPostgresStore(missing.toString()).catch((e: unknown) => e)) as Error;
      expect(absent.message).toMatch(/no_such_database.*does not exist.*create the database first/);
      expect(absent.message).not.toContain('another-secret');
    });

    it('takes concurrent writers on separate connections: each vector once, every label kept', async () => {
      const first = await fresh();
      const second = await openPostgresStore(url);
      try {
        const paths = Array.from({ length: 200 }, (_, k) => `img-${String(k).padStart(3, '0')}.jpg`);
        await first.applyScan({ upserts: paths.map((p, k) => image(p, `h${k}`)), moves: [], removals: [] });
        await first.registerModel({ id: 'm', spec: 'builtin:x', dim: 4 });
        const pending = await first.listPendingEmbeddings('m', 0, 1000);
        const batch = (from: number, to: number) => ({
          modelId: 'm',
          dtype: 'float32' as const,
          dim: 4,
          vectors: pending
            .slice(from, to)
            .map((p, k) => ({ contentHash: p.contentHash, vector: Float32Array.of(k, 1, 2, 3) })),
          failures: [],
        });
        // Overlapping batches, as two workers retrying each other's work would write them.
        await Promise.all([first.putEmbeddings(batch(0, 120)), second.putEmbeddings(batch(80, 200))]);
        expect(await first.countPendingEmbeddings('m')).toBe(0);
        expect((await first.loadEmbeddings('m')).imageIds).toHaveLength(200);
        const ids = pending.map((p) => p.id);
        await Promise.all([
          ...ids.slice(0, 100).map((imageId) => first.setLabels([{ imageId, label: 'cat', source: 'manual' }])),
          ...ids
            .slice(100)
            .map((imageId) => second.changeLabels({ set: [{ imageId, label: 'dog', source: 'manual' }] })),
        ]);
        expect((await second.stats()).labelsPerClass).toEqual([
          { label: 'cat', count: 100 },
          { label: 'dog', count: 100 },
        ]);
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('takes writers in several processes at once: every vector once, every label, one lock holder at a time', async () => {
      const store = await fresh();
      try {
        const paths = Array.from({ length: 300 }, (_, k) => `img-${String(k).padStart(3, '0')}.jpg`);
        await store.applyScan({ upserts: paths.map((p, k) => image(p, `h${k}`)), moves: [], removals: [] });
        await store.registerModel({ id: 'm', spec: 'builtin:x', dim: 8 });
        const ids = (await store.listImages()).map((i) => i.id);
        // Three processes with stores of their own: overlapping embedding batches (a retried job), labels of
        // their own images, a fit each, and a read-then-write under one named lock that a second holder would break.
        const children = [0, 1, 2].map((k) => writerProcess(url, k, ids));
        const exits = await Promise.all(children);
        expect(exits).toEqual([0, 0, 0]);
        expect(await store.countPendingEmbeddings('m')).toBe(0);
        const counted = await sql(url, "SELECT count(*)::int AS n FROM embeddings WHERE model_id = 'm'");
        expect(counted.rows).toEqual([{ n: 300 }]);
        expect((await store.loadEmbeddings('m')).imageIds).toHaveLength(300);
        expect((await store.stats()).labelsPerClass).toEqual([
          { label: 'writer-0', count: 100 },
          { label: 'writer-1', count: 100 },
          { label: 'writer-2', count: 100 },
        ]);
        // 3 processes x 4 turns under the lock: 12 distinct turns, none lost to an overlap.
        const turns = (await store.listClasses()).filter((c) => c.name.startsWith('turn-'));
        expect(turns).toHaveLength(12);
        const fits = await store.listFits();
        expect(fits).toHaveLength(3);
        const latest = fits[fits.length - 1]!;
        // Every suggestion is the latest fit's (all images are labelled, so the table says it, not listSuggestions).
        const suggested = await sql(url, 'SELECT fit_id, count(*)::int AS n FROM suggestions GROUP BY fit_id');
        expect(suggested.rows).toEqual([{ fit_id: latest.id, n: 300 }]);
      } finally {
        await store.close();
      }
    });

    it('keeps the previous fit when a process is killed half-way through saving one, and the next save goes on at once', async () => {
      const store = await fresh();
      try {
        const count = 30_000;
        await store.applyScan({
          upserts: Array.from({ length: count }, (_, k) => image(`img-${k}.jpg`, `h${k}`)),
          moves: [],
          removals: [],
        });
        const ids = (await store.listImages()).map((i) => i.id);
        const fit = { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) };
        const suggest = (label: string) =>
          ids.map((imageId) => ({
            imageId,
            label,
            confidence: 0.5,
            runnerUp: null,
            runnerUpConfidence: null,
            status: 'suggested' as const,
          }));
        const first = await store.saveFit(fit, suggest('cat'));
        const saver = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const { openPostgresStore } = await import(${JSON.stringify(pathToFileURL(coreLearn).href)});
             const store = await openPostgresStore(${JSON.stringify(url)});
             const ids = (await store.listImages()).map((i) => i.id);
             const fit = { ...${JSON.stringify({ ...fit, head: undefined })}, head: Uint8Array.of(0) };
             await store.saveFit(fit, ids.map((imageId) => ({ imageId, label: 'dog', confidence: 0.9,
               runnerUp: null, runnerUpConfidence: null, status: 'suggested' })));
             process.stdout.write('saved');`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let saved = false;
        let exited = false;
        saver.stdout!.on('data', () => (saved = true));
        saver.once('exit', () => (exited = true));
        // Killed while its transaction writes suggestions, as the server shows it.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const { rows } = await sql(
            url,
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE application_name = $1 AND state = 'active' AND query LIKE 'INSERT INTO suggestions%'`,
            [`autolabel pid ${saver.pid} on ${hostname()}`.slice(0, 63)],
          );
          if ((rows[0] as { n: number }).n > 0 || Date.now() > deadline || exited) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect({ saved, exited }).toEqual({ saved: false, exited: false });
        await killed(saver);
        expect((await store.latestFit())?.id).toBe(first);
        const kept = await sql(url, 'SELECT fit_id, label, count(*)::int AS n FROM suggestions GROUP BY 1, 2');
        expect(kept.rows).toEqual([{ fit_id: first, label: 'cat', n: count }]);
        const started = Date.now();
        const next = await store.saveFit(fit, suggest('bird'));
        expect(Date.now() - started).toBeLessThan(10_000);
        expect((await store.listFits()).map((f) => f.id)).toEqual([first, next]);
      } finally {
        await store.close();
      }
    });

    it('waits for another connection saving a fit, names it when the wait runs out, and goes on when it dies', async () => {
      const store = await fresh();
      const quick = await openPostgresStore(url, { lockWaitMs: 300 });
      await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
      const a = (await store.findImageByPath('a.jpg'))!.id;
      const fit = { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) };
      const suggestion = (label: string) =>
        ({ imageId: a, label, confidence: 0.9, runnerUp: null, runnerUpConfidence: null, status: 'auto' }) as const;
      const first = await store.saveFit(fit, [suggestion('cat')]);
      // Another process half-way through a save: it holds the lock, has written its fit and removed the suggestions.
      const holder = new pg.Client({ connectionString: url, application_name: 'autolabel pid 4242 on elsewhere' });
      await holder.connect();
      holder.on('error', () => undefined);
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [0x416c6231, 3]);
        await holder.query(
          `INSERT INTO fits (model_id, classes, labels, summary, head) VALUES ('m', '[]', 9, '{}', '\\x00')`,
        );
        await holder.query('DELETE FROM suggestions');
        await expect(quick.saveFit(fit, [suggestion('dog')])).rejects.toThrow(
          /cannot save a fit in PostgreSQL .*: another process \(pid 4242 on elsewhere, connected from 127\.0\.0\.1, since .*\) has been saving one, and still was after waiting 0\.3 s/,
        );
        // Until it commits, everyone sees the previous fit and its suggestions.
        expect((await store.latestFit())?.id).toBe(first);
        expect((await store.listSuggestions()).map((s) => [s.label, s.fitId])).toEqual([['cat', first]]);
      } finally {
        // The process dies: its connection goes, the server rolls its transaction back and lets go of the lock.
        (holder as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      }
      const started = Date.now();
      const next = await quick.saveFit(fit, [suggestion('dog')]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await store.listFits()).map((f) => f.id)).toEqual([first, next]);
      expect((await store.listSuggestions()).map((s) => [s.label, s.fitId])).toEqual([['dog', next]]);
      await store.close();
      await quick.close();
    });

    it('holds a named lock across connections until released, its store closed, or its process killed', async () => {
      const one = await fresh();
      const two = await openPostgresStore(url);
      try {
        const lock = (await one.tryLock('refit'))!;
        expect(await two.tryLock('refit')).toBeUndefined();
        await expect(two.withLock('refit', async () => 1, { waitMs: 200 })).rejects.toThrow(
          /cannot take the lock "refit" in PostgreSQL .*: another process \(pid \d+ on .*\) holds it/,
        );
        await lock.release();
        expect(await two.tryLock('refit')).toBeDefined();
        await two.close();
        const after = (await one.tryLock('refit'))!;
        expect(after).toBeDefined();
        await after.release();
        // Another process takes it as a PostgresStore does (its own connection), and is killed holding it.
        const holder = await lockHolder(url, lockKey('refit'));
        expect(await one.tryLock('refit')).toBeUndefined();
        await killed(holder);
        const deadline = Date.now() + 5000;
        let free: StoreLock | undefined;
        while (!free && Date.now() < deadline) free = await one.tryLock('refit');
        expect(free).toBeDefined();
        await free!.release();
      } finally {
        await one.close();
      }
    });

    it('tells the holder of a named lock when it is lost with its connection (a server restart, a killed session)', async () => {
      const one = await fresh();
      try {
        const lock = (await one.tryLock('refit'))!;
        expect(lock.signal.aborted).toBe(false);
        const { rows } = await sql(
          url,
          `SELECT pg_terminate_backend(pid) AS done FROM pg_locks
           WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted`,
          [0x416c6232, lockKey('refit')],
        );
        expect(rows).toEqual([{ done: true }]);
        const reason = await new Promise<unknown>((resolve) =>
          lock.signal.aborted
            ? resolve(lock.signal.reason)
            : lock.signal.addEventListener('abort', () => resolve(lock.signal.reason)),
        );
        expect(String(reason)).toMatch(/lost the lock "refit" in PostgreSQL .*: its connection to the server/);
        const again = (await one.tryLock('refit'))!;
        expect(again.signal.aborted).toBe(false);
        await again.release();
        await lock.release();
      } finally {
        await one.close();
      }
    });

    it('keeps ids, labels and vectors the same when reopened (one store for every process)', async () => {
      const store = await fresh();
      await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
      await store.registerModel({ id: 'm', spec: 'builtin:x', dim: 2 });
      await store.putEmbeddings({
        modelId: 'm',
        dtype: 'float16',
        dim: 2,
        vectors: [{ contentHash: 'h1', vector: Float32Array.of(0.5, -2) }],
        failures: [],
      });
      const id = (await store.findImageByPath('a.jpg'))!.id;
      await store.setLabels([{ imageId: id, label: 'cat', source: 'manual' }]);
      await store.close();
      const reopened = await openPostgresStore(url);
      const set = await reopened.loadEmbeddings('m');
      expect(set).toMatchObject({ dtype: 'float16', dim: 2 });
      expect([...set.imageIds]).toEqual([id as ImageId]);
      expect([...(await reopened.getEmbedding('m', 'h1'))!]).toEqual([0.5, -2]);
      expect((await reopened.listLabels()).map((l) => l.label)).toEqual(['cat']);
      await reopened.close();
    });
  });
}
