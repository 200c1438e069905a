import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite.js';
import { storeContract } from './store.contract.js';
import type { NewImage } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => openSqliteStore(join(dir, `store-${n++}.db`)));

const image = (path: string, contentHash: string): NewImage => ({
  path,
  contentHash,
  size: 1,
  mtimeMs: 1,
  width: 1,
  height: 1,
  format: 'png',
  skipReason: null,
  skipDetail: null,
});

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
});
