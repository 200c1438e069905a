/** @module The contract every Store adapter must keep; each adapter's test file runs it. */
import { describe, expect, it } from 'vitest';
import type { ImageId } from '../domain/index.js';
import type { NewImage, Store } from './store.js';

/** A scanned image for store tests (the adapters' own test files use it too). */
export function image(path: string, contentHash: string, extra: Partial<NewImage> = {}): NewImage {
  return {
    path,
    contentHash,
    size: 100,
    mtimeMs: 1,
    width: 32,
    height: 24,
    format: 'jpeg',
    skipReason: null,
    skipDetail: null,
    ...extra,
  };
}

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    const withStore = async (work: (store: Store) => Promise<void>): Promise<void> => {
      const store = await open();
      try {
        await work(store);
      } finally {
        await store.close();
      }
    };

    it('keeps images, finds them by path and content, and removes them with their labels', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: [image('a.jpg', 'h1'), image('b/c.jpg', 'h2'), image('d.jpg', 'h1')],
          moves: [],
          removals: [],
        });
        expect((await store.listImages()).map((i) => i.path)).toEqual(['a.jpg', 'b/c.jpg', 'd.jpg']);
        const a = await store.findImageByPath('a.jpg');
        expect(a).toMatchObject({ path: 'a.jpg', contentHash: 'h1', size: 100, mtimeMs: 1, width: 32, height: 24 });
        expect((await store.findImagesByHash('h1')).map((i) => i.path)).toEqual(['a.jpg', 'd.jpg']);
        await store.setLabels([{ imageId: a!.id, label: 'cat', source: 'manual' }]);
        await store.applyScan({ upserts: [], moves: [], removals: [a!.id] });
        expect(await store.findImageByPath('a.jpg')).toBeUndefined();
        expect(await store.listLabels()).toEqual([]);
      }));

    it('moves an image with its label; new content at a path drops the label', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
        const a = (await store.findImageByPath('a.jpg'))!;
        const b = (await store.findImageByPath('b.jpg'))!;
        await store.setLabels([
          { imageId: a.id, label: 'cat', source: 'manual' },
          { imageId: b.id, label: 'dog', source: 'import' },
        ]);
        await store.applyScan({
          upserts: [image('b.jpg', 'h3')],
          moves: [{ id: a.id, path: 'z/a.jpg', mtimeMs: 5 }],
          removals: [],
        });
        const labels = await store.listLabels();
        expect(labels.map((l) => [l.path, l.label])).toEqual([['z/a.jpg', 'cat']]);
      }));

    it('takes the last of two upserts of one path in a batch', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('a.jpg', 'h2')], moves: [], removals: [] });
        expect((await store.listImages()).map((i) => [i.path, i.contentHash])).toEqual([['a.jpg', 'h2']]);
      }));

    it('sets labels all or nothing', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
        const a = (await store.findImageByPath('a.jpg'))!;
        await expect(
          store.setLabels([
            { imageId: a.id, label: 'cat', source: 'manual' },
            { imageId: 99999 as ImageId, label: 'dog', source: 'manual' },
          ]),
        ).rejects.toThrow();
        expect(await store.listLabels()).toEqual([]);
        await store.setLabels([{ imageId: a.id, label: 'cat', source: 'manual' }]);
        await store.setLabels([{ imageId: a.id, label: 'lion', source: 'manual' }]);
        expect((await store.listLabels()).map((l) => l.label)).toEqual(['lion']);
        await store.clearLabels([a.id]);
        expect(await store.listLabels()).toEqual([]);
      }));

    it('lists each content once for embedding, stores vectors once, and records failures', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: [image('a.jpg', 'h1'), image('copy-of-a.jpg', 'h1'), image('b.jpg', 'h2'), image('c.jpg', 'h3')],
          moves: [],
          removals: [],
        });
        await store.registerModel({ id: 'm1', spec: 'onnx:/m', dim: 3 });
        expect(await store.countPendingEmbeddings('m1')).toBe(3);
        const pending = await store.listPendingEmbeddings('m1', 0, 10);
        expect(pending.map((p) => p.contentHash)).toEqual(['h1', 'h2', 'h3']);
        const b = pending[1]!;
        await store.putEmbeddings({
          modelId: 'm1',
          dtype: 'float32',
          dim: 3,
          vectors: [{ contentHash: 'h1', vector: Float32Array.of(1, 2, 3) }],
          failures: [{ id: b.id, contentHash: 'h2', reason: 'corrupt', detail: 'bad data' }],
        });
        expect(await store.countPendingEmbeddings('m1')).toBe(1);
        expect((await store.listPendingEmbeddings('m1', 0, 10)).map((p) => p.path)).toEqual(['c.jpg']);
        expect(Array.from((await store.getEmbedding('m1', 'h1'))!)).toEqual([1, 2, 3]);
        // A second model starts from nothing; the first keeps its vectors.
        await store.registerModel({ id: 'm2', spec: 'builtin:x', dim: 2 });
        expect(await store.countPendingEmbeddings('m2')).toBe(2);
        const stats = await store.stats();
        expect(stats.skipped).toEqual([{ path: 'b.jpg', reason: 'corrupt', detail: 'bad data' }]);
        expect(stats.embeddedPerModel).toEqual([
          { modelId: 'm1', spec: 'onnx:/m', embedded: 2 },
          { modelId: 'm2', spec: 'builtin:x', embedded: 0 },
        ]);
        expect(await store.clearDecodeSkips()).toBe(1);
        expect(await store.countPendingEmbeddings('m1')).toBe(2);
      }));

    it('rejects a vector of the wrong length and stores nothing of that batch', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
        await store.registerModel({ id: 'm1', spec: 'onnx:/m', dim: 3 });
        await expect(
          store.putEmbeddings({
            modelId: 'm1',
            dtype: 'float32',
            dim: 3,
            vectors: [
              { contentHash: 'h1', vector: Float32Array.of(1, 2, 3) },
              { contentHash: 'h2', vector: Float32Array.of(1, 2) },
            ],
            failures: [],
          }),
        ).rejects.toThrow(/length 2/);
        expect(await store.getEmbedding('m1', 'h1')).toBeUndefined();
      }));

    it('stores float16 vectors within half precision', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1')], moves: [], removals: [] });
        await store.registerModel({ id: 'm1', spec: 'onnx:/m', dim: 4 });
        const vector = Float32Array.of(0.1234, -3.5, 1000.25, 1e-5);
        await store.putEmbeddings({
          modelId: 'm1',
          dtype: 'float16',
          dim: 4,
          vectors: [{ contentHash: 'h1', vector }],
          failures: [],
        });
        const back = (await store.getEmbedding('m1', 'h1'))!;
        for (let i = 0; i < 4; i++) expect(back[i]).toBeCloseTo(vector[i]!, Math.abs(vector[i]!) > 100 ? -1 : 3);
      }));

    describe('export records and imported labels', () => {
      /** Seven images: a labelled by hand, b accepted, c and d suggested (d certified), e none, f skipped, g imported. */
      const seeded = async (store: Store): Promise<ImageId[]> => {
        const paths = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg', 'f.jpg', 'g.jpg'];
        await store.applyScan({
          upserts: paths.map((p, i) =>
            image(p, `h${i}`, p === 'f.jpg' ? { skipReason: 'corrupt', skipDetail: 'bad' } : {}),
          ),
          moves: [],
          removals: [],
        });
        const ids = await Promise.all(paths.map(async (p) => (await store.findImageByPath(p))!.id));
        const fitId = await store.saveFit(
          { modelId: 'm1', classes: ['cat', 'dog'], labels: 1, summary: {}, head: Uint8Array.of(1) },
          [0, 1, 2, 3].map((k) => ({
            imageId: ids[k]!,
            label: k % 2 === 0 ? 'cat' : 'dog',
            confidence: [0.6, 0.7, 0.8, 0.9][k]!,
            runnerUp: k % 2 === 0 ? 'dog' : 'cat',
            runnerUpConfidence: 0.3 - k / 20,
            status: k === 3 ? ('auto' as const) : ('suggested' as const),
          })),
        );
        expect(fitId).toBeGreaterThan(0);
        await store.setLabels([{ imageId: ids[0]!, label: 'dog', source: 'manual' }]);
        await store.acceptSuggestions([ids[1]!]);
        await store.importLabels([
          { imageId: ids[6]!, label: 'cat', accepted: false, confidence: null, provenance: 'next: uncertain' },
        ]);
        return ids;
      };
      const collect = async <T>(rows: AsyncIterable<T>): Promise<T[]> => {
        const out: T[] = [];
        for await (const row of rows) out.push(row);
        return out;
      };

      it('streams every image in path order, in pages, with its label, suggestion and provenance', () =>
        withStore(async (store) => {
          const ids = await seeded(store);
          const all = await collect(store.exportRecords({}, 2));
          expect(all.map((r) => r.path)).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg', 'f.jpg', 'g.jpg']);
          expect(all[0]).toMatchObject({
            id: ids[0],
            label: 'dog',
            source: 'manual',
            origin: 'chosen',
            confidence: null,
            contentHash: 'h0',
            labeledAt: expect.any(String),
            // A labelled image keeps its suggestion: the model's view of it.
            suggestion: {
              label: 'cat',
              confidence: 0.6,
              runnerUp: 'dog',
              status: 'suggested',
              fitId: expect.any(Number),
            },
          });
          expect(all[1]).toMatchObject({ label: 'dog', source: 'accepted', confidence: 0.7 });
          expect(all[3]).toMatchObject({ label: 'dog', source: null, suggestionStatus: 'auto', confidence: 0.9 });
          expect(all[4]).toMatchObject({ label: null, suggestion: null, skipReason: null });
          expect(all[5]).toMatchObject({ skipReason: 'corrupt' });
          expect(all[6]).toMatchObject({
            label: 'cat',
            source: 'import',
            origin: 'import',
            originDetail: 'next: uncertain',
          });
          expect(await store.countExportRecords()).toBe(7);
        }));

      it('filters by status, label and confidence, as image queries do', () =>
        withStore(async (store) => {
          await seeded(store);
          const paths = async (filter: Parameters<Store['exportRecords']>[0]) =>
            (await collect(store.exportRecords(filter, 1))).map((r) => r.path);
          expect(await paths({ status: ['auto', 'suggested'] })).toEqual(['c.jpg', 'd.jpg']);
          expect(await paths({ status: ['labeled'] })).toEqual(['a.jpg', 'g.jpg']);
          expect(await paths({ label: ['dog'] })).toEqual(['a.jpg', 'b.jpg', 'd.jpg']);
          expect(await paths({ status: ['unlabeled'] })).toEqual(['e.jpg', 'f.jpg']);
          expect(await paths({ minConfidence: 0.75 })).toEqual(['c.jpg', 'd.jpg']);
          expect(await paths({ maxConfidence: 0.75, label: ['dog'] })).toEqual(['b.jpg']);
          expect(await paths({ status: [] })).toEqual([]);
          expect(await store.countExportRecords({ status: ['auto', 'suggested'], minConfidence: 0.85 })).toBe(1);
        }));

      it('imports labels in one go: people’s with their provenance (a drawn check’s answer as verify), accepted ones with their confidence, and classes', () =>
        withStore(async (store) => {
          const ids = await seeded(store);
          const [check] = await store.saveCheckDraw({ fitId: 1, targetPrecision: 0.95, seed: 1, strata: [] }, [
            { imageId: ids[2]!, stratum: 0, suggested: 'cat', confidence: 0.8 },
          ]);
          expect(check).toBeDefined();
          await store.importLabels(
            [
              { imageId: ids[2]!, label: 'cat', accepted: false, confidence: null, provenance: 'chosen' },
              { imageId: ids[3]!, label: 'dog', accepted: true, confidence: 0.9312, provenance: null },
              { imageId: ids[0]!, label: 'cat', accepted: false, confidence: null, provenance: null },
            ],
            ['bird'],
          );
          const byPath = new Map((await store.listLabels()).map((l) => [l.path, l]));
          expect(byPath.get('c.jpg')).toMatchObject({
            source: 'import',
            origin: 'verify',
            originDetail: `draw ${check!.drawId}`,
          });
          expect(byPath.get('d.jpg')).toMatchObject({ source: 'accepted', origin: null, confidence: 0.9312 });
          expect(byPath.get('a.jpg')).toMatchObject({
            label: 'cat',
            source: 'import',
            origin: 'import',
            originDetail: null,
          });
          expect((await store.listClasses()).map((c) => c.name)).toEqual(['bird', 'cat', 'dog']);
        }));

      it("keeps an import file's extras per format, per image and for the file, the latest replacing", () =>
        withStore(async (store) => {
          const ids = await seeded(store);
          await store.saveImportExtras('coco', [
            { imageId: null, data: '{"info":{"year":2017}}' },
            { imageId: ids[0]!, data: '{"image":{"license":3}}' },
            { imageId: ids[1]!, data: '{"image":{"license":1}}' },
          ]);
          await store.saveImportExtras('coco', [{ imageId: ids[1]!, data: '{"image":{"license":2}}' }]);
          await store.saveImportExtras('other', [{ imageId: ids[2]!, data: '{}' }]);
          const kept = await store.importExtras('coco', [null, ids[0]!, ids[1]!, ids[2]!]);
          expect([...kept].sort()).toEqual(
            [
              [null, '{"info":{"year":2017}}'],
              [ids[0], '{"image":{"license":3}}'],
              [ids[1], '{"image":{"license":2}}'],
            ].sort(),
          );
          expect((await store.importExtras('csv', [null, ids[0]!])).size).toBe(0);
        }));
    });

    it('exports one row per image with its label', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('b.jpg', 'h2'), image('a.jpg', 'h1')], moves: [], removals: [] });
        const a = (await store.findImageByPath('a.jpg'))!;
        await store.setLabels([{ imageId: a.id, label: 'cat', source: 'manual' }]);
        expect(await store.exportRows()).toEqual([
          {
            path: 'a.jpg',
            label: 'cat',
            source: 'manual',
            origin: 'chosen',
            suggestionStatus: null,
            confidence: null,
            width: 32,
            height: 24,
          },
          {
            path: 'b.jpg',
            label: null,
            source: null,
            origin: null,
            suggestionStatus: null,
            confidence: null,
            width: 32,
            height: 24,
          },
        ]);
      }));

    it('loads every embedded image of a model as one matrix, sharing vectors between copies', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2'), image('copy.jpg', 'h1'), image('c.jpg', 'h3')],
          moves: [],
          removals: [],
        });
        await store.registerModel({ id: 'm1', spec: 'onnx:/m', dim: 2 });
        await store.putEmbeddings({
          modelId: 'm1',
          dtype: 'float32',
          dim: 2,
          vectors: [
            { contentHash: 'h1', vector: Float32Array.of(1, 2) },
            { contentHash: 'h2', vector: Float32Array.of(3, 4) },
          ],
          failures: [],
        });
        const set = await store.loadEmbeddings('m1');
        const ids = await Promise.all(
          ['a.jpg', 'b.jpg', 'copy.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        expect([...set.imageIds]).toEqual(ids);
        expect([...set.vectors]).toEqual([1, 2, 3, 4, 1, 2]);
        expect((await store.loadEmbeddings('unknown')).imageIds).toHaveLength(0);
        // A page at a time, as the learner reads a big pool: rows after an image id, at most a limit.
        const page = await store.loadEmbeddings('m1', { afterId: ids[0]!, limit: 1 });
        expect([...page.imageIds]).toEqual([ids[1]]);
        expect([...page.vectors]).toEqual([3, 4]);
        const rest = await store.loadEmbeddings('m1', { afterId: ids[1]!, limit: 10 });
        expect([...rest.imageIds]).toEqual([ids[2]]);
        expect((await store.loadEmbeddings('m1', { afterId: ids[2]!, limit: 10 })).imageIds).toHaveLength(0);
      }));

    it('keeps the suggestions of the latest fit only, and accepts them into labels', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2'), image('c.jpg', 'h3')],
          moves: [],
          removals: [],
        });
        const [a, b, c] = await Promise.all(
          ['a.jpg', 'b.jpg', 'c.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        const fit = {
          modelId: 'm1',
          classes: ['cat', 'dog'],
          labels: 2,
          summary: { method: 'x' },
          head: Uint8Array.of(1, 2, 3),
        };
        const suggest = (imageId: ImageId, label: string, confidence: number) =>
          ({
            imageId,
            label,
            confidence,
            runnerUp: 'dog',
            runnerUpConfidence: 1 - confidence,
            status: 'suggested',
          }) as const;
        await store.saveFit(fit, [suggest(a!, 'cat', 0.6), suggest(b!, 'cat', 0.7)]);
        const second = await store.saveFit({ ...fit, labels: 3 }, [suggest(b!, 'cat', 0.9), suggest(c!, 'dog', 0.8)]);
        expect((await store.latestFit())?.id).toBe(second);
        expect((await store.latestFit())?.head).toEqual(Uint8Array.of(1, 2, 3));
        expect((await store.listFits()).map((f) => f.labels)).toEqual([2, 3]);
        expect((await store.listSuggestions()).map((s) => [s.path, s.confidence, s.fitId])).toEqual([
          ['b.jpg', 0.9, second],
          ['c.jpg', 0.8, second],
        ]);
        // A person labels c before accepting: c keeps the person's label.
        await store.setLabels([{ imageId: c!, label: 'cat', source: 'manual' }]);
        expect((await store.listSuggestions()).map((s) => s.path)).toEqual(['b.jpg']);
        const classes: unknown[] = [];
        await store.visitImageClasses((...row) => classes.push(row));
        // c's label hides its suggestion; a has neither (the first fit's suggestion is gone).
        expect(classes.sort((x, y) => String(x).localeCompare(String(y)))).toEqual(
          [
            [b, 'cat', null, 'suggested'],
            [c, 'cat', 'manual', null],
          ].sort((x, y) => String(x).localeCompare(String(y))),
        );
        expect(await store.acceptSuggestions([b!, c!])).toBe(1);
        const accepted: unknown[] = [];
        await store.visitImageClasses((...row) => accepted.push(row));
        expect(accepted).toContainEqual([b, 'cat', 'accepted', null]);
        expect(accepted).toHaveLength(2);
        const labels = await store.listLabels();
        expect(labels.map((l) => [l.path, l.label, l.source, l.confidence])).toEqual([
          ['b.jpg', 'cat', 'accepted', 0.9],
          ['c.jpg', 'cat', 'manual', null],
        ]);
      }));

    it('saves one fit at a time: saves started together all finish, and the suggestions all belong to the latest', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
        const [a, b] = await Promise.all(['a.jpg', 'b.jpg'].map(async (p) => (await store.findImageByPath(p))!.id));
        const fit = { modelId: 'm1', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(1) };
        const suggest = (imageId: ImageId, label: string) =>
          ({ imageId, label, confidence: 0.8, runnerUp: null, runnerUpConfidence: null, status: 'suggested' }) as const;
        const saves = [[suggest(a!, 'cat')], [suggest(a!, 'dog'), suggest(b!, 'dog')], [suggest(b!, 'cat')]];
        const ids = await Promise.all(saves.map((suggestions) => store.saveFit(fit, suggestions)));
        expect(new Set(ids).size).toBe(3);
        const latest = Math.max(...ids);
        expect((await store.latestFit())?.id).toBe(latest);
        expect((await store.listFits()).map((f) => f.id)).toEqual([...ids].sort((x, y) => x - y));
        // The suggestions are all the latest fit's, and all of them: no mix of two saves.
        const suggestions = await store.listSuggestions();
        expect(suggestions.map((s) => [s.fitId, s.imageId, s.label]).sort()).toEqual(
          saves[ids.indexOf(latest)]!.map((s) => [latest, s.imageId, s.label]).sort(),
        );
        // Nothing holds the lock once the saves are done.
        const free = await Promise.race([
          store.waitForFitLock().then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
        ]);
        expect(free).toBe(true);
      }));

    it('pages images by status, label and confidence', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: ['a', 'b', 'c', 'd'].map((name, i) => image(`${name}.jpg`, `h${i}`)),
          moves: [],
          removals: [],
        });
        const [a, b, c] = await Promise.all(
          ['a.jpg', 'b.jpg', 'c.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        await store.saveFit({ modelId: 'm', classes: ['cat', 'dog'], labels: 1, summary: {}, head: Uint8Array.of(0) }, [
          { imageId: b!, label: 'dog', confidence: 0.97, runnerUp: 'cat', runnerUpConfidence: 0.03, status: 'auto' },
          {
            imageId: c!,
            label: 'cat',
            confidence: 0.55,
            runnerUp: 'dog',
            runnerUpConfidence: 0.45,
            status: 'suggested',
          },
        ]);
        await store.setLabels([{ imageId: a!, label: 'cat', source: 'manual' }]);
        const all = await store.queryImages({ offset: 0, limit: 10 });
        expect(all.total).toBe(4);
        expect(all.items.map((i) => [i.path, i.status, i.label])).toEqual([
          ['a.jpg', 'labeled', 'cat'],
          ['b.jpg', 'auto', 'dog'],
          ['c.jpg', 'suggested', 'cat'],
          ['d.jpg', 'unlabeled', null],
        ]);
        const unsure = await store.queryImages({ sort: 'confidence', maxConfidence: 0.99, offset: 0, limit: 1 });
        expect(unsure).toMatchObject({ total: 2, items: [{ path: 'c.jpg', confidence: 0.55, runnerUp: 'dog' }] });
        expect((await store.queryImages({ label: 'cat', offset: 1, limit: 5 })).items.map((i) => i.path)).toEqual([
          'c.jpg',
        ]);
        expect((await store.queryImages({ status: 'auto', offset: 0, limit: 5 })).items.map((i) => i.id)).toEqual([b]);
        expect(await store.statusCounts()).toEqual({ labeled: 1, accepted: 0, auto: 1, suggested: 1, unlabeled: 1 });
        const histogram = await store.confidenceHistogram(10);
        expect(histogram[5]).toBe(1); // 0.55
        expect(histogram[9]).toBe(1); // 0.97
        expect(histogram.reduce((sum, n) => sum + n)).toBe(2);
      }));

    it('adds, renames, merges and deletes classes with a clear rule for their labels', () =>
      withStore(async (store) => {
        await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
        const [a, b] = await Promise.all(['a.jpg', 'b.jpg'].map(async (p) => (await store.findImageByPath(p))!.id));
        await store.addClass('bird');
        await store.setLabels([
          { imageId: a!, label: 'cat', source: 'manual' },
          { imageId: b!, label: 'kitty', source: 'manual' },
        ]);
        expect((await store.listClasses()).map((c) => [c.name, c.labeled])).toEqual([
          ['bird', 0],
          ['cat', 1],
          ['kitty', 1],
        ]);
        await expect(store.renameClass('kitty', 'cat')).rejects.toThrow(/exists already: merge/);
        expect(await store.mergeClass('kitty', 'cat')).toBe(1);
        await store.renameClass('cat', 'feline');
        expect((await store.listLabels()).map((l) => l.label)).toEqual(['feline', 'feline']);
        await expect(store.deleteClass('feline', false)).rejects.toThrow(/has 2 labels/);
        await expect(store.renameClass('nope', 'x')).rejects.toThrow(/no class "nope"/);
        expect(await store.deleteClass('feline', true)).toBe(2);
        expect(await store.listLabels()).toEqual([]);
        expect((await store.listClasses()).map((c) => c.name)).toEqual(['bird']);
      }));

    it('records how each labelled image was chosen: a random check, a next pick, an import, or by hand', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((p, i) => image(p, `h${i}`)),
          moves: [],
          removals: [],
        });
        const [a, b, c, d] = await Promise.all(
          ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        await store.recordPicks([{ imageId: b!, strategy: 'uncertain' }]);
        const strata = [{ name: 'frame' as const, minConfidence: 0, maxConfidence: 1, population: 2, drawn: 1 }];
        const [check] = await store.saveCheckDraw({ fitId: 1, targetPrecision: 0.95, seed: 1, strata }, [
          { imageId: a!, stratum: 0, suggested: 'cat', confidence: 0.9 },
        ]);
        expect(check).toMatchObject({ path: 'a.jpg', suggested: 'cat', answer: null, skipped: false });
        await store.setLabels([
          { imageId: a!, label: 'dog', source: 'manual' },
          { imageId: b!, label: 'cat', source: 'manual' },
          { imageId: c!, label: 'cat', source: 'import' },
          { imageId: d!, label: 'cat', source: 'manual' },
        ]);
        const labels = await store.listLabels();
        expect(labels.map((l) => [l.path, l.origin, l.originDetail])).toEqual([
          ['a.jpg', 'verify', `draw ${check!.drawId}`],
          ['b.jpg', 'next', 'uncertain'],
          ['c.jpg', 'import', null],
          ['d.jpg', 'chosen', null],
        ]);
        expect((await store.listChecks())[0]).toMatchObject({ answer: 'dog' });
        expect((await store.exportRows()).map((r) => r.origin)).toEqual(['verify', 'next', 'import', 'chosen']);
        const page = await store.queryImages({ offset: 0, limit: 10 });
        expect(page.items.map((i) => i.origin)).toEqual(['verify', 'next', 'import', 'chosen']);
      }));

    it('hands each open check to one verifier at a time, and never an answered or skipped one', () =>
      withStore(async (store) => {
        await store.applyScan({
          upserts: ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((p, i) => image(p, `h${i}`)),
          moves: [],
          removals: [],
        });
        const ids = await Promise.all(
          ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        const strata = [{ name: 'frame' as const, minConfidence: 0, maxConfidence: 1, population: 4, drawn: 3 }];
        // d is labelled meanwhile: it is left out of the draw.
        await store.setLabels([{ imageId: ids[3]!, label: 'cat', source: 'manual' }]);
        const drawn = await store.saveCheckDraw(
          { fitId: 1, targetPrecision: 0.9, seed: 1, strata },
          ids.map((imageId) => ({ imageId, stratum: 0, suggested: 'cat', confidence: 0.8 })),
        );
        expect(drawn.map((c) => c.path)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
        // Drawing an image twice is refused quietly.
        const again = await store.saveCheckDraw({ fitId: 1, targetPrecision: 0.9, seed: 2, strata }, [
          { imageId: ids[0]!, stratum: 0, suggested: 'cat', confidence: 0.8 },
        ]);
        expect(again).toEqual([]);
        const first = await store.claimCheck('tab-1', 60_000);
        const second = await store.claimCheck('tab-2', 60_000);
        expect(first!.id).not.toBe(second!.id);
        // The same tab asking again gets its own check back.
        expect((await store.claimCheck('tab-1', 60_000))!.id).toBe(first!.id);
        await store.skipCheck(first!.id);
        await store.setLabels([{ imageId: second!.imageId, label: 'dog', source: 'manual' }]);
        const third = await store.claimCheck('tab-1', 60_000);
        expect([first!.id, second!.id]).not.toContain(third!.id);
        expect(await store.claimCheck('tab-3', 60_000)).toBeUndefined();
        // An expired claim is handed to someone else.
        expect((await store.claimCheck('tab-3', -1))!.id).toBe(third!.id);
        await store.retireChecks([second!.id], 7);
        const checks = await store.listChecks();
        expect(checks.map((c) => [c.skipped, c.answer, c.retiredByFit])).toEqual([
          [true, null, null],
          [false, 'dog', 7],
          [false, null, null],
        ]);
        await expect(store.skipCheck(999)).rejects.toThrow(/no check with id 999/);
      }));

    describe('data quality audit', () => {
      it('keeps perceptual hashes by content', () =>
        withStore(async (store) => {
          await store.putPerceptualHashes([
            { contentHash: 'h1', hash: '0123456789abcdef' },
            { contentHash: 'h2', hash: 'fedcba9876543210' },
          ]);
          await store.putPerceptualHashes([{ contentHash: 'h2', hash: '0000000000000000' }]);
          const found = await store.getPerceptualHashes(['h2', 'h1', 'h3']);
          expect([...found].sort((a, b) => a.contentHash.localeCompare(b.contentHash))).toEqual([
            { contentHash: 'h1', hash: '0123456789abcdef' },
            { contentHash: 'h2', hash: '0000000000000000' },
          ]);
          expect(await store.getPerceptualHashes([])).toEqual([]);
        }));

      it('replaces the findings of the kinds audited, and keeps dismissals by finding id', () =>
        withStore(async (store) => {
          await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
          const [a, b] = (await store.listImages()).map((i) => i.id);
          expect(await store.latestAudit()).toBeUndefined();
          await store.saveAudit({ kinds: ['duplicate', 'outlier'], notes: [] }, [
            { id: 'dup1', kind: 'duplicate', score: 0.9, imageIds: [a!, b!], detail: { exact: true } },
            { id: 'out1', kind: 'outlier', score: 0.5, imageIds: [b!], detail: { distanceRatio: 2 } },
          ]);
          await store.dismissAuditFindings(['dup1']);
          // A later audit of outliers only: the duplicate stays, the outliers are replaced.
          await store.saveAudit({ kinds: ['outlier'], notes: ['a note'] }, [
            { id: 'out2', kind: 'outlier', score: 0.95, imageIds: [a!], detail: { distanceRatio: 3 } },
          ]);
          expect(await store.listAuditFindings()).toEqual([
            {
              id: 'out2',
              kind: 'outlier',
              score: 0.95,
              imageIds: [a!],
              detail: { distanceRatio: 3 },
              dismissed: false,
            },
            { id: 'dup1', kind: 'duplicate', score: 0.9, imageIds: [a!, b!], detail: { exact: true }, dismissed: true },
          ]);
          expect(await store.latestAudit()).toMatchObject({ kinds: ['outlier'], notes: ['a note'] });
          // Found again later with the same id (the same data): still dismissed.
          await store.saveAudit({ kinds: ['duplicate'], notes: [] }, [
            { id: 'dup1', kind: 'duplicate', score: 0.8, imageIds: [a!, b!], detail: {} },
          ]);
          expect((await store.listAuditFindings()).find((f) => f.id === 'dup1')).toMatchObject({ dismissed: true });
        }));

      it('leaves excluded images out of learning and export until they are included again', () =>
        withStore(async (store) => {
          await store.applyScan({ upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2')], moves: [], removals: [] });
          const [a, b] = (await store.listImages()).map((i) => i.id);
          await store.registerModel({ id: 'm', spec: 'builtin:m', dim: 2 });
          await store.putEmbeddings({
            modelId: 'm',
            dtype: 'float32',
            dim: 2,
            vectors: [
              { contentHash: 'h1', vector: Float32Array.from([1, 0]) },
              { contentHash: 'h2', vector: Float32Array.from([0, 1]) },
            ],
            failures: [],
          });
          await store.setLabels([{ imageId: b!, label: 'cat', source: 'manual' }]);
          await store.setExcluded([b!], true);
          expect(await store.listExcluded()).toEqual([b]);
          expect(Array.from((await store.loadEmbeddings('m')).imageIds)).toEqual([a]);
          expect(Array.from((await store.loadEmbeddings('m', { includeExcluded: true })).imageIds)).toEqual([a, b]);
          expect((await store.exportRows()).map((r) => r.path)).toEqual(['a.jpg']);
          const records = [];
          for await (const r of store.exportRecords()) records.push(r.path);
          expect(records).toEqual(['a.jpg']);
          expect(await store.countExportRecords()).toBe(1);
          // Labels stay: an excluded image keeps what a person said about it.
          expect((await store.listLabels()).map((l) => l.path)).toEqual(['b.jpg']);
          await store.setExcluded([b!], false);
          expect(await store.listExcluded()).toEqual([]);
          expect(await store.countExportRecords()).toBe(2);
          // A removed image is no longer excluded.
          await store.setExcluded([a!], true);
          await store.applyScan({ upserts: [], moves: [], removals: [a!] });
          expect(await store.listExcluded()).toEqual([]);
        }));
    });

    describe('undo of label changes', () => {
      /** Images a.jpg, b.jpg, c.jpg, each with a suggestion of a fit; b labelled by a person (a `next` pick), c imported. */
      const seeded = async (store: Store): Promise<ImageId[]> => {
        await store.applyScan({
          upserts: [image('a.jpg', 'h1'), image('b.jpg', 'h2'), image('c.jpg', 'h3')],
          moves: [],
          removals: [],
        });
        const ids = await Promise.all(
          ['a.jpg', 'b.jpg', 'c.jpg'].map(async (p) => (await store.findImageByPath(p))!.id),
        );
        const fit = { modelId: 'm1', classes: ['dress', 'pants'], labels: 2, summary: {}, head: Uint8Array.of(1) };
        await store.saveFit(
          fit,
          ids.map((imageId, k) => ({
            imageId,
            label: 'dress',
            confidence: 0.9 - k / 10,
            runnerUp: 'pants',
            runnerUpConfidence: 0.1,
            status: 'suggested' as const,
          })),
        );
        await store.recordPicks([{ imageId: ids[1]!, strategy: 'uncertainty' }]);
        await store.setLabels([
          { imageId: ids[1]!, label: 'pants', source: 'manual' },
          { imageId: ids[2]!, label: 'skirt', source: 'import' },
        ]);
        return ids;
      };
      const rows = async (store: Store) =>
        (await store.listLabels()).map(({ path, label, source, confidence, origin, originDetail, createdAt }) => ({
          path,
          label,
          source,
          confidence,
          origin,
          originDetail,
          createdAt,
        }));

      it('puts back exactly the label rows a change replaced: suggestions again, and people’s labels with their origin', () =>
        withStore(async (store) => {
          const [a, b, c] = await seeded(store);
          const before = await rows(store);
          const accepted = await store.changeLabels({ accept: [a!, b!] });
          // b has a person's label: accepting leaves it, so the change is a's alone.
          expect(accepted).toMatchObject({ accepted: 1, imageIds: [a] });
          const relabel = await store.changeLabels({
            set: [{ imageId: b!, label: 'dress', source: 'manual' }],
            clear: [c!],
          });
          expect(relabel.imageIds).toEqual([b, c]);
          expect((await store.listLabels()).map((l) => [l.path, l.label, l.source])).toEqual([
            ['a.jpg', 'dress', 'accepted'],
            ['b.jpg', 'dress', 'manual'],
          ]);
          expect(await store.undoLabelChanges([relabel.id!])).toEqual({ changeIds: [relabel.id], imageIds: [b, c] });
          expect(await store.undoLabelChanges([accepted.id!])).toEqual({ changeIds: [accepted.id], imageIds: [a] });
          expect(await rows(store)).toEqual(before);
          expect((await store.listLabels()).find((l) => l.imageId === b)).toMatchObject({
            origin: 'next',
            originDetail: 'uncertainty',
          });
          // a is a suggestion again: its suggestion was kept all along.
          expect((await store.listSuggestions()).map((s) => s.path)).toEqual(['a.jpg']);
          expect((await store.queryImages({ ids: [a!], offset: 0, limit: 1 })).items[0]).toMatchObject({
            status: 'suggested',
            label: 'dress',
            runnerUp: 'pants',
          });
        }));

      it('records nothing for a change that changes nothing', () =>
        withStore(async (store) => {
          const [, b] = await seeded(store);
          expect(await store.changeLabels({ set: [{ imageId: b!, label: 'pants', source: 'manual' }] })).toEqual({
            id: null,
            imageIds: [],
            accepted: 0,
          });
        }));

      it('refuses, changing nothing, when an image was changed again since, and undoes a change only once', () =>
        withStore(async (store) => {
          const [a, b] = await seeded(store);
          const change = await store.changeLabels({
            accept: [a!],
            set: [{ imageId: b!, label: 'dress', source: 'manual' }],
          });
          await store.setLabels([{ imageId: a!, label: 'pants', source: 'manual' }]);
          const after = await rows(store);
          await expect(store.undoLabelChanges([change.id!])).rejects.toMatchObject({
            code: 'UNDO_CONFLICT',
            message: expect.stringMatching(/1 of the 2 images .*a\.jpg is labelled "pants".*nothing was undone/),
          });
          expect(await rows(store)).toEqual(after);
          // Changed back by hand: a new row (given a millisecond later at least), not the one the change wrote.
          await store.clearLabels([a!]);
          await new Promise((resolve) => setTimeout(resolve, 5));
          await store.changeLabels({ accept: [a!] });
          await expect(store.undoLabelChanges([change.id!])).rejects.toMatchObject({ code: 'UNDO_CONFLICT' });

          const clear = await store.changeLabels({ clear: [b!] });
          await store.undoLabelChanges([clear.id!]);
          await expect(store.undoLabelChanges([clear.id!])).rejects.toMatchObject({
            code: 'UNDO_CONFLICT',
            message: expect.stringMatching(/undone already/),
          });
          await expect(store.undoLabelChanges([9999])).rejects.toMatchObject({ code: 'CHANGE_NOT_FOUND' });
        }));

      it('undoes several changes of the same images newest first, in one go', () =>
        withStore(async (store) => {
          const [a, b] = await seeded(store);
          const before = await rows(store);
          const first = await store.changeLabels({ accept: [a!] });
          const second = await store.changeLabels({ set: [{ imageId: a!, label: 'pants', source: 'manual' }] });
          const third = await store.changeLabels({ clear: [b!] });
          expect(await store.undoLabelChanges([first.id!, third.id!, second.id!])).toEqual({
            changeIds: [third.id, second.id, first.id],
            imageIds: [b, a],
          });
          expect(await rows(store)).toEqual(before);
        }));

      it('refuses an undo for an image removed since', () =>
        withStore(async (store) => {
          const [a] = await seeded(store);
          const change = await store.changeLabels({ accept: [a!] });
          await store.applyScan({ upserts: [], moves: [], removals: [a!] });
          await expect(store.undoLabelChanges([change.id!])).rejects.toMatchObject({
            code: 'UNDO_CONFLICT',
            message: expect.stringMatching(/no longer in the workspace/),
          });
        }));

      it('keeps the latest 100 changes', () =>
        withStore(async (store) => {
          const [a] = await seeded(store);
          const ids: number[] = [];
          for (let k = 0; k < 101; k++) {
            const label = k % 2 === 0 ? 'dress' : 'pants';
            ids.push((await store.changeLabels({ set: [{ imageId: a!, label, source: 'manual' }] })).id!);
          }
          await expect(store.undoLabelChanges([ids[0]!])).rejects.toMatchObject({ code: 'CHANGE_NOT_FOUND' });
          // The latest set 'dress' over 'pants'.
          await store.undoLabelChanges([ids[100]!]);
          expect((await store.listLabels()).find((l) => l.imageId === a)?.label).toBe('pants');
        }));
    });

    describe('named locks', () => {
      it('lets one holder take a lock at a time, this process included, until it is released', () =>
        withStore(async (store) => {
          const refit = await store.tryLock('refit');
          expect(refit?.name).toBe('refit');
          expect(await store.tryLock('refit')).toBeUndefined();
          // Other names are other locks.
          const other = await store.tryLock('index');
          expect(other).toBeDefined();
          await refit!.release();
          await refit!.release();
          const again = await store.tryLock('refit');
          expect(again).toBeDefined();
          await again!.release();
          await other!.release();
        }));

      it('runs work under a lock one at a time, waits for the holder, and refuses naming it when the wait runs out', () =>
        withStore(async (store) => {
          const held = (await store.tryLock('refit'))!;
          await expect(store.withLock('refit', async () => 'ran', { waitMs: 200 })).rejects.toThrow(
            /lock "refit".*another process.*after waiting 0\.2 s/,
          );
          setTimeout(() => void held.release(), 150);
          const started = Date.now();
          expect(await store.withLock('refit', async () => 'ran', { waitMs: 10_000 })).toBe('ran');
          expect(Date.now() - started).toBeGreaterThanOrEqual(100);
          // Work started together runs one at a time, and the lock is free after work that threw.
          let running = 0;
          let most = 0;
          const work = async (): Promise<void> => {
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setTimeout(resolve, 30));
            running--;
          };
          await Promise.all([1, 2, 3].map(() => store.withLock('refit', work, { waitMs: 10_000 })));
          expect(most).toBe(1);
          await expect(store.withLock('refit', () => Promise.reject(new Error('refit failed')))).rejects.toThrow(
            'refit failed',
          );
          const free = await store.tryLock('refit');
          expect(free).toBeDefined();
          await free!.release();
        }));
    });
  });
}
