import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite.js';
import { storeContract } from './store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => openSqliteStore(join(dir, `store-${n++}.db`)));

describe('sqlite store', () => {
  it('keeps data across reopen (a real file, WAL)', async () => {
    const file = join(dir, 'reopen.db');
    const first = openSqliteStore(file);
    await first.applyScan({
      upserts: [
        {
          path: 'a.jpg',
          contentHash: 'h',
          size: 1,
          mtimeMs: 1,
          width: 1,
          height: 1,
          format: 'png',
          skipReason: null,
          skipDetail: null,
        },
      ],
      moves: [],
      removals: [],
    });
    await first.close();
    const second = openSqliteStore(file);
    expect((await second.listImages()).map((i) => i.path)).toEqual(['a.jpg']);
    await second.close();
  });
});
