import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGE_STATUSES, imageStatus, type ImageStatus, type SuggestionStatus } from '../../domain/index.js';
import type { NewImage } from '../store.js';
import { openSqliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const image = (path: string, skipped = false): NewImage => ({
  path,
  contentHash: path,
  size: 1,
  mtimeMs: 1,
  width: 1,
  height: 1,
  format: 'jpeg',
  skipReason: skipped ? 'corrupt' : null,
  skipDetail: skipped ? 'truncated' : null,
});

describe('image status in SQL', () => {
  it('is what imageStatus derives, for every status, in queries, counts and classes', async () => {
    const store = openSqliteStore(join(dir, 'status.db'));
    try {
      const paths = ['none', 'suggested', 'auto', 'manual', 'import', 'accepted', 'over', 'skipped'];
      await store.applyScan({ upserts: paths.map((p) => image(p, p === 'skipped')), moves: [], removals: [] });
      const id = async (path: string) => (await store.findImageByPath(path))!.id;
      const suggestion = async (path: string, label: string, status: SuggestionStatus) => ({
        imageId: await id(path),
        label,
        confidence: 0.7,
        runnerUp: null,
        runnerUpConfidence: null,
        status,
      });
      await store.saveFit({ modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: new Uint8Array(1) }, [
        await suggestion('suggested', 'cat', 'suggested'),
        await suggestion('auto', 'dog', 'auto'),
        await suggestion('accepted', 'cat', 'auto'),
        await suggestion('over', 'cat', 'auto'),
      ]);
      await store.setLabels([
        { imageId: await id('manual'), label: 'dog', source: 'manual' },
        { imageId: await id('import'), label: 'cat', source: 'import' },
        { imageId: await id('over'), label: 'dog', source: 'manual' },
        { imageId: await id('skipped'), label: 'dog', source: 'manual' },
      ]);
      expect(await store.acceptSuggestions([await id('accepted')])).toBe(1);

      const derived = new Map((await store.exportRows()).map((row) => [row.path, { row, status: imageStatus(row) }]));
      const page = await store.queryImages({ offset: 0, limit: 100 });
      expect(Object.fromEntries(page.items.map((item) => [item.path, item.status]))).toEqual({
        none: 'unlabeled',
        suggested: 'suggested',
        auto: 'auto',
        manual: 'labeled',
        import: 'labeled',
        accepted: 'accepted',
        over: 'labeled',
      });
      for (const item of page.items) expect(item.status).toBe(derived.get(item.path)!.status);
      for (const status of IMAGE_STATUSES) {
        const filtered = await store.queryImages({ status, offset: 0, limit: 100 });
        expect(filtered.items.map((item) => item.path)).toEqual(
          page.items.filter((item) => item.status === status).map((item) => item.path),
        );
      }

      const counts = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>;
      for (const [path, { status }] of derived) if (path !== 'skipped') counts[status]++;
      expect(await store.statusCounts()).toEqual(counts);

      // Classes count every image with a label or a suggestion, skipped ones included.
      const perClass = new Map<string, Record<ImageStatus, number>>();
      for (const { row, status } of derived.values()) {
        if (row.label === null) continue;
        const tally = perClass.get(row.label) ?? { labeled: 0, accepted: 0, auto: 0, suggested: 0, unlabeled: 0 };
        tally[status]++;
        perClass.set(row.label, tally);
      }
      expect(await store.listClasses()).toEqual(
        [...perClass].map(([name, { labeled, accepted, auto, suggested }]) => ({
          name,
          labeled,
          accepted,
          auto,
          suggested,
        })),
      );
      expect((await store.listClasses()).map((c) => [c.name, c.labeled, c.accepted, c.auto, c.suggested])).toEqual([
        ['cat', 1, 1, 0, 1],
        ['dog', 3, 0, 1, 0],
      ]);
    } finally {
      await store.close();
    }
  });
});
