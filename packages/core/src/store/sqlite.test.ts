import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite/index.js';
import { IN_PLACE_MIN_ROWS } from './sqlite/fits.js';
import { image, storeContract } from './store.contract.js';
import type { ImageId } from '../domain/index.js';
import { embeddingRows } from './embedding-rows.js';
import type { Store } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => openSqliteStore(join(dir, `store-${n++}.db`)));

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Another process that holds the fit-save lock of `file`, as a saving Autolabel does: its own pid and
 * host, and a heartbeat refreshed every 50 ms (unless `beating` is false); it lets go after
 * `releaseAfterMs`, if given. Resolves once it holds the lock.
 */
async function lockHolder(
  file: string,
  { beating, releaseAfterMs }: { beating: boolean; releaseAfterMs?: number },
): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    let ns = '';
    try { ns = require('node:fs').readlinkSync('/proc/self/ns/pid'); } catch {}
    const db = new Database(${JSON.stringify(file)});
    const now = Date.now();
    db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('fit-save', 'child', process.pid, require('node:os').hostname(), ns, now, now);
    const beat = setInterval(() => { if (${beating}) db.prepare('UPDATE locks SET heartbeat_at = ?').run(Date.now()); }, 50);
    if (${releaseAfterMs ?? -1} >= 0) setTimeout(() => { clearInterval(beat); db.exec('DELETE FROM locks'); }, ${releaseAfterMs ?? 0});
    setInterval(() => {}, 1000);
    process.stdout.write('held');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exit;
}

describe('sqlite store', () => {
  it('keeps data across reopen (a real file, WAL)', async () => {
    const file = join(dir, 'reopen.db');
    const first = openSqliteStore(file);
    await first.applyScan({ upserts: [image('a.jpg', 'h')], moves: [], removals: [] });
    await first.close();
    const second = openSqliteStore(file);
    expect((await second.listImages()).map((i) => i.path)).toEqual(['a.jpg']);
    await second.close();
  });

  it('keeps the previous suggestions when a save dies half-way, and the next save cleans up', async () => {
    const file = join(dir, 'crash.db');
    const store = openSqliteStore(file);
    await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
    const a = (await store.findImageByPath('a.jpg'))!.id;
    const fit = { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) };
    const suggestion = {
      imageId: a,
      label: 'cat',
      confidence: 0.9,
      runnerUp: 'dog',
      runnerUpConfidence: 0.1,
      status: 'suggested',
    } as const;
    const first = await store.saveFit(fit, [suggestion]);
    await store.close();
    // What a process killed between the chunks and the swap leaves behind: an incomplete fit and a half table.
    const raw = new Database(file);
    raw.exec(`INSERT INTO fits (model_id, classes, labels, summary, head, complete, created_at)
              VALUES ('m', '[]', 3, '{}', x'00', 0, '2020-01-01T00:00:00.000Z');
              CREATE TABLE suggestions_next (image_id INTEGER PRIMARY KEY, fit_id INTEGER, label TEXT, confidence REAL,
                runner_up TEXT, runner_up_confidence REAL, status TEXT);
              INSERT INTO suggestions_next VALUES (${a}, 2, 'dog', 0.5, 'cat', 0.5, 'suggested');`);
    raw.close();
    const reopened = openSqliteStore(file);
    expect((await reopened.latestFit())?.id).toBe(first);
    expect((await reopened.listSuggestions()).map((s) => [s.label, s.fitId])).toEqual([['cat', first]]);
    const next = await reopened.saveFit(fit, [{ ...suggestion, label: 'dog' }]);
    expect((await reopened.listFits()).map((f) => f.id)).toEqual([first, next]);
    expect((await reopened.listSuggestions()).map((s) => [s.label, s.fitId])).toEqual([['dog', next]]);
    await reopened.close();
  });

  describe('the fit-save lock, against another process', () => {
    const fit = { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) };
    const setUp = async (name: string, options: Parameters<typeof openSqliteStore>[1]) => {
      const file = join(dir, `${name}.db`);
      const store = openSqliteStore(file, options);
      await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
      const a = (await store.findImageByPath('a.jpg'))!.id;
      const suggestion = (label: string) =>
        ({ imageId: a, label, confidence: 0.9, runnerUp: null, runnerUpConfidence: null, status: 'auto' }) as const;
      const first = await store.saveFit(fit, [suggestion('cat')]);
      return { file, store, first, suggestion };
    };
    const labels = async (store: Store) => (await store.listSuggestions()).map((s) => [s.label, s.fitId]);

    it('waits for a live saver, fails naming it when the wait runs out, and takes over at once when it dies', async () => {
      const { file, store, first, suggestion } = await setUp('live', { lockWaitMs: 400 });
      const holder = await lockHolder(file, { beating: true });
      try {
        const started = Date.now();
        await expect(store.saveFit(fit, [suggestion('dog')])).rejects.toThrow(
          new RegExp(
            `cannot save a fit in .*live\\.db: another process \\(pid ${holder.pid} on .+\\) has been saving one since .*, and still was after waiting 0\\.4 s`,
          ),
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(400);
        await expect(store.waitForFitLock()).rejects.toThrow(/another process/);
        expect(await labels(store)).toEqual([['cat', first]]);
      } finally {
        await killed(holder);
      }
      // Its heartbeat is fresh, but its process is gone: no wait.
      const started = Date.now();
      const next = await store.saveFit(fit, [suggestion('dog')]);
      expect(Date.now() - started).toBeLessThan(400);
      expect(await labels(store)).toEqual([['dog', next]]);
      await store.close();
    });

    it('takes over a lock whose holder runs but has shown no sign of life for too long', async () => {
      const { file, store, suggestion } = await setUp('stale', { lockWaitMs: 10_000, lockStaleMs: 300 });
      const holder = await lockHolder(file, { beating: false });
      try {
        const started = Date.now();
        const next = await store.saveFit(fit, [suggestion('dog')]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(await labels(store)).toEqual([['dog', next]]);
        // The lock is released after the save, whoever held it before.
        const raw = new Database(file, { readonly: true });
        expect(raw.prepare('SELECT count(*) AS n FROM locks').get()).toEqual({ n: 0 });
        raw.close();
      } finally {
        await killed(holder);
      }
      await store.close();
    });

    it('waits for a live saver to finish, then saves', async () => {
      const { file, store, suggestion } = await setUp('wait', { lockWaitMs: 10_000 });
      const holder = await lockHolder(file, { beating: true, releaseAfterMs: 300 });
      try {
        const started = Date.now();
        const next = await store.saveFit(fit, [suggestion('dog')]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(holder.exitCode).toBeNull();
        expect(await labels(store)).toEqual([['dog', next]]);
      } finally {
        await killed(holder);
      }
      await store.close();
    });
  });

  it('holds a named lock against every connection to the file, until released or its store closed', async () => {
    const file = join(dir, 'named-lock.db');
    const one = openSqliteStore(file);
    const two = openSqliteStore(file, { lockWaitMs: 200 });
    const lock = (await one.tryLock('refit'))!;
    expect(await two.tryLock('refit')).toBeUndefined();
    await expect(two.withLock('refit', async () => 1)).rejects.toThrow(
      new RegExp(
        `cannot take the lock "refit" in .*named-lock\\.db: another process \\(pid ${process.pid} on .+\\) has held it since`,
      ),
    );
    await lock.release();
    expect(await two.withLock('refit', async () => 'ran')).toBe('ran');
    expect(await two.tryLock('refit')).toBeDefined();
    await two.close();
    const after = await one.tryLock('refit');
    expect(after).toBeDefined();
    await one.close();
  });

  it('tells the holder of a named lock when another process took it over', async () => {
    const file = join(dir, 'lost-lock.db');
    const store = openSqliteStore(file, { lockStaleMs: 200 });
    const lock = (await store.tryLock('refit'))!;
    expect(lock.signal.aborted).toBe(false);
    // What a process that found the heartbeat stale writes when it takes the lock over.
    const raw = new Database(file);
    raw.prepare(`UPDATE locks SET owner = 'other' WHERE name = 'lock:refit'`).run();
    raw.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lock.signal.aborted).toBe(true);
    expect(String(lock.signal.reason)).toMatch(
      /lost the lock "refit" in .*lost-lock\.db: another process took it over/,
    );
    await lock.release();
    await store.close();
  });

  describe('read-only', () => {
    it('reads, and refuses every write naming the read-only folder', async () => {
      const file = join(dir, 'readonly.db');
      const writable = openSqliteStore(file);
      await writable.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
      const a = (await writable.findImageByPath('a.jpg'))!.id;
      await writable.setLabels([{ imageId: a, label: 'cat', source: 'manual' }]);
      await writable.close();
      // Closed by the last connection: nothing but the database file, so a read-only folder can read it.
      expect(existsSync(`${file}-wal`) || existsSync(`${file}-shm`)).toBe(false);
      const store = openSqliteStore(file, { readOnly: true });
      expect((await store.listLabels()).map((l) => [l.path, l.label])).toEqual([['a.jpg', 'cat']]);
      expect((await store.stats()).images).toBe(1);
      await expect(store.setLabels([{ imageId: a, label: 'dog', source: 'manual' }])).rejects.toThrow(
        /cannot set labels: the workspace folder .* is read-only, so readonly\.db was opened for reading only/,
      );
      await expect(store.waitForFitLock()).rejects.toThrow(/read-only/);
      await store.close();
    });

    it('says an older database must be opened writable once to be upgraded', async () => {
      const file = join(dir, 'old.db');
      await openSqliteStore(file).close();
      const raw = new Database(file);
      // Back to schema version 5: the tables of every later migration dropped.
      raw.exec(`DROP TABLE locks; DROP TABLE label_change_rows; DROP TABLE label_changes;
        DROP TABLE perceptual_hashes; DROP TABLE audit_runs; DROP TABLE audit_findings; DROP TABLE audit_dismissals;
        DROP TABLE excluded_images; DROP TABLE import_extras; PRAGMA user_version = 5;`);
      raw.close();
      expect(() => openSqliteStore(file, { readOnly: true })).toThrow(
        /schema version 5, older than this Autolabel \(\d+\), and its folder .* is read-only: open the workspace once where it is writable to upgrade it/,
      );
      const upgraded = openSqliteStore(file);
      await upgraded.waitForFitLock();
      await upgraded.close();
      await openSqliteStore(file, { readOnly: true }).close();
    });
  });
});

describe('sqlite store at scale', () => {
  const fit = { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) };
  const suggestion = (imageId: ImageId, label: string, confidence: number) =>
    ({ imageId, label, confidence, runnerUp: null, runnerUpConfidence: null, status: 'suggested' }) as const;

  it('writes only the suggestions a fit of a large pool changes: the others keep the fit that made them', async () => {
    const store = openSqliteStore(join(dir, 'changed.db'));
    const names = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'];
    // Enough images for the in-place save (IN_PLACE_MIN_ROWS); the rest keep one suggestion throughout.
    const rest = Array.from({ length: IN_PLACE_MIN_ROWS }, (_, i) => `rest/${i}.jpg`);
    await store.applyScan({
      upserts: [...names, ...rest].map((p, i) => image(p, `h${i}`)),
      moves: [],
      removals: [],
    });
    const [a, b, c, d] = await Promise.all(names.map(async (p) => (await store.findImageByPath(p))!.id));
    const restIds = (await store.listImages()).filter((r) => r.path.startsWith('rest/')).map((r) => r.id);
    const unchanged = restIds.map((id) => suggestion(id, 'dog', 0.5));
    const save = (named: ReturnType<typeof suggestion>[]) => store.saveFit(fit, [...named, ...unchanged]);
    const named = async () =>
      (await store.listSuggestions())
        .filter((s) => names.includes(s.path))
        .map((s) => [s.path, s.label, s.confidence, s.fitId]);
    const first = await save([suggestion(a!, 'cat', 0.9), suggestion(b!, 'cat', 0.8), suggestion(c!, 'dog', 0.7)]);
    // a moves by less than the tolerance, b's confidence changes, c is labelled now (no suggestion), d is new.
    const second = await save([suggestion(a!, 'cat', 0.9002), suggestion(b!, 'cat', 0.6), suggestion(d!, 'dog', 0.75)]);
    expect((await store.latestFit())?.id).toBe(second);
    expect((await named()).sort()).toEqual([
      ['a.jpg', 'cat', 0.9, first],
      ['b.jpg', 'cat', 0.6, second],
      ['d.jpg', 'dog', 0.75, second],
    ]);
    // A change of label is a change, however close the confidence.
    const third = await save([suggestion(a!, 'dog', 0.9), suggestion(b!, 'cat', 0.6), suggestion(d!, 'dog', 0.75)]);
    expect((await named()).map(([path, , , fitId]) => [path, fitId]).sort()).toEqual([
      ['a.jpg', third],
      ['b.jpg', second],
      ['d.jpg', second],
    ]);
    expect(
      new Set((await store.listSuggestions()).filter((s) => s.path.startsWith('rest/')).map((s) => s.fitId)),
    ).toEqual(new Set([first]));
    await store.close();
  });

  it('saves a small pool by a fresh table: every suggestion then carries the new fit', async () => {
    const store = openSqliteStore(join(dir, 'small.db'));
    await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
    const [a, b] = await Promise.all(['a.jpg', 'b.jpg'].map(async (p) => (await store.findImageByPath(p))!.id));
    await store.saveFit(fit, [suggestion(a!, 'cat', 0.9), suggestion(b!, 'dog', 0.8)]);
    const second = await store.saveFit(fit, [suggestion(a!, 'cat', 0.9), suggestion(b!, 'dog', 0.8)]);
    expect((await store.listSuggestions()).map((s) => s.fitId)).toEqual([second, second]);
    await store.close();
  });

  it('saves every suggestion of a fresh table as given, across its transactions and its many-row inserts', async () => {
    const store = openSqliteStore(join(dir, 'fresh-many.db'));
    // Two transactions' worth and a remainder that fills neither a many-row insert nor a chunk.
    const count = 2048 + 3 * 64 + 5;
    await store.applyScan({
      upserts: Array.from({ length: count }, (_, i) => image(`p/${i}.jpg`, `h${i}`)),
      moves: [],
      removals: [],
    });
    const ids = (await store.listImages()).map((r) => r.id);
    const given = ids.map((id, i) => ({
      imageId: id,
      label: i % 3 === 0 ? 'cat' : 'dog',
      confidence: (i % 997) / 997,
      runnerUp: i % 2 === 0 ? 'dog' : null,
      runnerUpConfidence: i % 2 === 0 ? (i % 101) / 1000 : null,
      status: 'suggested' as const,
    }));
    const fitId = await store.saveFit(fit, given);
    const stored = new Map((await store.listSuggestions()).map((s) => [s.imageId, s]));
    expect(stored.size).toBe(count);
    for (const s of given) {
      expect(stored.get(s.imageId)).toMatchObject({ ...s, fitId });
    }
    await store.close();
  });

  it('keeps float16 embeddings in float16 when loading them, and reads them back as float32 rows', async () => {
    const store = openSqliteStore(join(dir, 'half.db'));
    await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
    await store.registerModel({ id: 'm', spec: 'builtin:centernet', dim: 3 });
    await store.putEmbeddings({
      modelId: 'm',
      dtype: 'float16',
      dim: 3,
      vectors: [
        { contentHash: 'h1', vector: Float32Array.of(0.5, -2, 1 / 3) },
        { contentHash: 'h2', vector: Float32Array.of(1, 0, 65504) },
      ],
      failures: [],
    });
    const set = await store.loadEmbeddings('m');
    expect(set.dtype).toBe('float16');
    expect(set.vectors).toBeInstanceOf(Uint16Array);
    expect(set.vectors.byteLength).toBe(2 * 3 * 2);
    const rows = [...embeddingRows(set, 0, 2)];
    expect(rows.slice(0, 2)).toEqual([0.5, -2]);
    expect(rows[2]).toBeCloseTo(1 / 3, 3);
    expect(rows.slice(3)).toEqual([1, 0, 65504]);
    // One float32 row among them: the set is float32, every row converted.
    await store.applyScan({ upserts: [image('c.jpg', 'h3')], moves: [], removals: [] });
    await store.putEmbeddings({
      modelId: 'm',
      dtype: 'float32',
      dim: 3,
      vectors: [{ contentHash: 'h3', vector: Float32Array.of(0.1, 0.2, 0.3) }],
      failures: [],
    });
    const mixed = await store.loadEmbeddings('m');
    expect(mixed.dtype).toBe('float32');
    expect([...mixed.vectors.subarray(0, 2)]).toEqual([0.5, -2]);
    expect(mixed.vectors[6]).toBeCloseTo(0.1, 6);
    await store.close();
  });
});
