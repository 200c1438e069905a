import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagesPage, StatsResponse, Workspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { type Rgb, writeImage } from '@autolabel/test-utils';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { LiveModel } from './live-model.js';
import { type Served, served, writeColourPhotos } from './testing/served.js';

const COLORS: Readonly<Record<string, Rgb>> = { amber: [210, 130, 30], azure: [40, 100, 210] };
let server: Served;
let dir: string;
let workspace: Workspace;
let live: LiveModel;
let app: Served['app'];
let ids: ReadonlyMap<string, number>;
const json = <T>(response: Response): Promise<T> => server.json<T>(response);
const send = (path: string, method: string, body: unknown): Promise<Response> => server.send(path, method, body);

beforeAll(async () => {
  server = await served('server', {
    photos: async (photos) => {
      await writeColourPhotos(photos, COLORS, 10, { width: 300, height: 200 });
      await writeImage(join(photos, 'scan.tiff'), 'tiff', { color: [90, 90, 90] });
    },
  });
  ({ dir, workspace, live, app, ids } = server);
}, 60_000);

afterAll(() => server.close());

describe('images', () => {
  it('pages and filters images', async () => {
    const page = await json<ImagesPage>(await app.request('/api/images?limit=5&offset=2'));
    expect(page.total).toBe(21);
    expect(page.items.map((i) => i.path)).toEqual([
      'amber-2.png',
      'amber-3.png',
      'amber-4.png',
      'amber-5.png',
      'amber-6.png',
    ]);
    expect(page.items[0]).toMatchObject({ status: 'unlabeled', label: null, width: 300, height: 200 });
  });

  it('looks images up by id', async () => {
    const wanted = [ids.get('azure-3.png')!, ids.get('amber-1.png')!];
    const page = await json<ImagesPage>(await app.request(`/api/images?ids=${wanted.join(',')}`));
    expect(page.items.map((i) => i.id).sort()).toEqual([...wanted].sort());
  });

  it.each([
    ['/api/images?ids=1,x', 'ids'],
    ['/api/images?limit=0', 'limit'],
    ['/api/images?status=maybe', 'status'],
    ['/api/images?minConfidence=2', 'minConfidence'],
    ['/api/images?sort=size', 'sort'],
    ['/api/images/abc/thumbnail', 'id'],
    ['/api/images/1/thumbnail?size=5000', 'size'],
    ['/api/next?strategy=best', 'strategy'],
    ['/api/export?format=xml', 'format'],
    ['/api/export?where=status%3Dmaybe', 'where'],
    ['/api/export?status=maybe', 'status'],
    ['/api/export?format=csv&split=0.8,0.2', 'split'],
    ['/api/export?format=yolo-cls&split=2', 'split'],
  ])('answers %s with 400 naming the field', async (path, field) => {
    const response = await app.request(path);
    expect(response.status).toBe(400);
    expect((await json<{ error: { field: string } }>(response)).error.field).toBe(field);
  });

  it('serves thumbnails and full images with the right content type', async () => {
    const thumb = await app.request(`/api/images/${ids.get('amber-0.png')}/thumbnail?size=64`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([64, 43]);
    const again = await app.request(`/api/images/${ids.get('amber-0.png')}/thumbnail?size=64`); // from the disk cache
    expect(Buffer.from(await again.arrayBuffer()).length).toBeGreaterThan(100);
    const png = await app.request(`/api/images/${ids.get('amber-0.png')}/file`);
    expect(png.headers.get('content-type')).toBe('image/png');
    // A TIFF, which browsers do not show, comes as JPEG.
    const tiff = await app.request(`/api/images/${ids.get('scan.tiff')}/file`);
    expect(tiff.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await tiff.arrayBuffer())).metadata()).format).toBe('jpeg');
  });

  it('answers unknown images and routes with 404', async () => {
    expect((await app.request('/api/images/9999/thumbnail')).status).toBe(404);
    expect((await send('/api/images/9999/label', 'PUT', { label: 'x' })).status).toBe(404);
    expect((await app.request('/api/nothing')).status).toBe(404);
  });
});

describe('labels, suggestions and events', () => {
  it('rejects bad labels with 400 and changes nothing', async () => {
    const id = ids.get('amber-0.png')!;
    const bad = await send(`/api/images/${id}/label`, 'PUT', { label: 'cats/dogs' });
    expect(bad.status).toBe(400);
    expect((await json<{ error: { code: string } }>(bad)).error.code).toBe('LABEL_INVALID');
    expect((await send(`/api/images/${id}/label`, 'PUT', { name: 'x' })).status).toBe(400);
    const notJson = await app.request(`/api/images/${id}/label`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: 'cat',
    });
    expect(notJson.status).toBe(400);
    const bulk = await send('/api/labels', 'POST', {
      items: [
        { imageId: id, label: 'amber' },
        { imageId: 9999, label: 'x' },
      ],
    });
    expect(bulk.status).toBe(404);
    expect(await storeOf(workspace).listLabels()).toEqual([]);
  });

  it('saves labels at once and pushes new suggestions to listeners without a reload', async () => {
    const events: { type: string; model?: { fitId: number | null; state: string } }[] = [];
    const stream = await app.request('/api/events');
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = stream.body!.getReader();
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value);
        for (const match of buffer.matchAll(/^data: (.*)$/gm))
          events.push(JSON.parse(match[1]!) as (typeof events)[number]);
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        if (events.some((e) => e.type === 'model' && e.model?.fitId != null)) return;
      }
    })();
    for (const name of ['amber-0.png', 'amber-1.png', 'amber-2.png']) {
      expect((await send(`/api/images/${ids.get(name)}/label`, 'PUT', { label: 'amber' })).status).toBe(200);
    }
    const bulk = await send('/api/labels', 'POST', {
      items: ['azure-0.png', 'azure-1.png', 'azure-2.png'].map((name) => ({ imageId: ids.get(name), label: 'azure' })),
    });
    expect(await json(bulk)).toEqual({ labeled: 3, cleared: 0, warnings: [], changeId: expect.any(Number) });
    await reading;
    await reader.cancel();
    expect(events.map((e) => e.type)).toContain('labels');
    const fitted = events.find((e) => e.model?.fitId != null)!;
    expect(fitted.model!.state).toBe('idle');

    const page = await json<ImagesPage>(await app.request('/api/images?status=suggested&sort=-confidence&limit=100'));
    expect(page.total).toBe(15); // 21 images, 6 labelled
    const right = page.items.filter((i) => i.path.startsWith(i.label!)).length;
    expect(right / page.items.length).toBeGreaterThan(0.8);
    const stats = await json<StatsResponse>(await app.request('/api/stats'));
    expect(stats.byStatus).toMatchObject({ labeled: 6, suggested: 15 });
    expect(stats.model.fitId).toBe(fitted.model!.fitId);
    // No random checks yet: the figure rests on chosen labels and says so; the curve plots it.
    expect(stats.model.accuracy).toMatchObject({ basis: 'chosen-labels', checks: 0, low: null });
    expect(stats.model.accuracy!.note).toMatch(/may be biased/);
    expect(stats.curve.at(-1)!.labels).toBe(6);
    expect(stats.curve.at(-1)!.accuracy).toBeCloseTo(stats.model.accuracy!.estimate, 6);
    expect(stats.confidence.reduce((a, b) => a + b)).toBe(15);
  });

  it('accepts suggestions in bulk and exports every label', async () => {
    const page = await json<ImagesPage>(await app.request('/api/images?status=suggested&label=azure'));
    const { fitId } = await json<StatsResponse>(await app.request('/api/stats')).then((stats) => stats.model);
    const accepted = await send('/api/accept', 'POST', { imageIds: page.items.map((i) => i.id) });
    expect(await json(accepted)).toEqual({
      accepted: page.items.length,
      fitId,
      newerLabels: 0,
      changeId: expect.any(Number),
    });
    const csv = await (await app.request('/api/export?format=csv')).text();
    expect(csv.split('\n')[0]).toBe(
      'image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit',
    );
    // Labelled before anything was recommended: the person chose these images.
    expect(csv).toMatch(/^amber-0\.png,amber,labeled,,chosen,,,,$/m);
    expect(csv.match(/,azure,accepted,[\d.]+,,,,,$/gm)).toHaveLength(page.items.length);
  });

  it('exports every format, filtered as /api/images is, folder formats as a tar archive', async () => {
    const jsonl = await app.request('/api/export?format=jsonl&where=status%3Daccepted&label=azure');
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson');
    expect(jsonl.headers.get('content-disposition')).toBe('attachment; filename="labels.jsonl"');
    const rows = (await jsonl.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; label: string });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatchObject({ status: 'accepted', label: 'azure' });
    const tar = await app.request('/api/export?format=yolo-cls&split=0.5,0.5&seed=3');
    expect(tar.status).toBe(200);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    expect(tar.headers.get('content-disposition')).toBe('attachment; filename="labels-yolo-cls.tar"');
    const bytes = Buffer.from(await tar.arrayBuffer());
    // ustar headers name the folders: train/<class>/ and val/<class>/, every class in both.
    const names = new Set<string>();
    for (let at = 0; at + 512 <= bytes.length; at += 512) {
      if (bytes.subarray(at + 257, at + 262).toString() !== 'ustar') continue;
      names.add(
        bytes
          .subarray(at, at + 100)
          .toString()
          .replace(/\0.*$/s, ''),
      );
    }
    for (const split of ['train', 'val'])
      for (const cls of ['amber', 'azure']) expect(names).toContain(`${split}/${cls}/`);
  });

  it('recommends what to label next', async () => {
    const { picks } = await json<{ picks: { path: string; reason: string }[] }>(await app.request('/api/next?count=3'));
    expect(picks.length).toBeGreaterThan(0);
    for (const pick of picks) expect(pick.reason.length).toBeGreaterThan(10);
    // The same order as a page of images sorted by recommendation rank.
    const ranked = await json<ImagesPage>(await app.request('/api/images?sort=rank&limit=3'));
    expect(ranked.items.map((i) => i.path)).toEqual(picks.map((p) => p.path));
  });
});

describe('embedding map', () => {
  it('computes the map in the background, then serves a point per embedded image', async () => {
    let response = await app.request('/api/map');
    for (let i = 0; i < 200 && response.status === 202; i++) {
      expect((await json<{ state: string }>(response)).state).toBe('computing');
      await new Promise((resolve) => setTimeout(resolve, 50));
      response = await app.request('/api/map');
    }
    expect(response.status).toBe(200);
    const map = await json<{ state: string; ids: number[]; xy: number[] }>(response);
    expect(map.state).toBe('ready');
    expect(map.ids).toHaveLength(21);
    expect(map.xy).toHaveLength(42);
    expect(map.xy.every((v) => Math.abs(v) <= 1)).toBe(true);
    // Images of one colour sit closer to each other than to the other colour.
    const at = (path: string) => {
      const i = map.ids.indexOf(ids.get(path)!);
      return [map.xy[2 * i]!, map.xy[2 * i + 1]!] as const;
    };
    const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
    const within = distance(at('amber-0.png'), at('amber-3.png')) + distance(at('azure-0.png'), at('azure-3.png'));
    const across = distance(at('amber-0.png'), at('azure-0.png')) + distance(at('amber-3.png'), at('azure-3.png'));
    expect(within).toBeLessThan(across);
  });
});

describe('live model', () => {
  it("reads the refit worker's learner in shared memory instead of loading a copy of its own", async () => {
    const learner = await live.learner();
    // Made by the worker: the features, graph and image ids are SharedArrayBuffers posted from it.
    for (const array of [
      learner.features.data,
      learner.graph.indices,
      learner.graph.scores,
      learner.embeddings.imageIds,
    ])
      expect(array.buffer).toBeInstanceOf(SharedArrayBuffer);
    // The same learner as one built here from the workspace.
    const own = await workspace.openLearner();
    try {
      expect([...learner.embeddings.imageIds]).toEqual([...own.embeddings.imageIds]);
      expect(learner.features.data.length).toBe(own.features.data.length);
      expect(learner.features.data.every((v, i) => Math.abs(v - own.features.data[i]!) < 1e-6)).toBe(true);
    } finally {
      await own.close();
    }
  });
});

describe('classes', () => {
  it('adds, renames, merges and deletes classes with clear errors', async () => {
    expect((await send('/api/classes', 'POST', { name: 'moss' })).status).toBe(201);
    expect((await send('/api/classes', 'POST', { name: '' })).status).toBe(400);
    expect((await send('/api/classes/moss', 'PATCH', { rename: 'amber' })).status).toBe(409);
    expect((await send('/api/classes/nope', 'PATCH', { rename: 'x' })).status).toBe(404);
    expect((await send('/api/classes/moss', 'PATCH', { rename: 'x', mergeInto: 'y' })).status).toBe(400);
    expect((await send('/api/classes/moss', 'PATCH', { rename: 'green' })).status).toBe(200);
    expect((await app.request('/api/classes/amber', { method: 'DELETE' })).status).toBe(409);
    const merged = await send('/api/classes/green', 'PATCH', { mergeInto: 'amber' });
    const names = (await json<{ classes: { name: string }[] }>(merged)).classes.map((c) => c.name);
    expect(names).toEqual(['amber', 'azure']);
    const cleared = await app.request('/api/classes/amber?labels=clear', { method: 'DELETE' });
    expect((await json<{ removedLabels: number }>(cleared)).removedLabels).toBe(3);
  });
});

describe('access token', () => {
  it('answers 401 without the token and serves with it', async () => {
    const locked = createApp({ workspace, live, token: 'secret-token' });
    expect((await locked.request('/api/stats')).status).toBe(401);
    expect((await locked.request('/api/verify')).status).toBe(401);
    expect((await locked.request('/api/stats', { headers: { authorization: 'Bearer wrong-token!' } })).status).toBe(
      401,
    );
    expect((await locked.request('/api/stats', { headers: { authorization: 'Bearer secret-token' } })).status).toBe(
      200,
    );
    // Not in an /api URL, not even for images (security/token.test.ts has the cookie that replaces it).
    expect((await locked.request(`/api/images/${ids.get('amber-0.png')}/thumbnail?token=secret-token`)).status).toBe(
      401,
    );
  });
});

describe('image files', () => {
  it('never serves a file whose real path leaves the images folder', async () => {
    // A link inside the images folder that points outside it, as a scan would record it.
    await writeImage(join(dir, 'outside.png'), 'png', { color: [1, 2, 3] });
    symlinkSync(join(dir, 'outside.png'), join(dir, 'photos', 'escape.png'));
    await storeOf(workspace).applyScan({
      upserts: [
        {
          path: 'escape.png',
          contentHash: 'escape',
          size: 1,
          mtimeMs: 1,
          width: 64,
          height: 48,
          format: 'png',
          skipReason: null,
          skipDetail: null,
        },
      ],
      moves: [],
      removals: [],
    });
    const id = (await storeOf(workspace).findImageByPath('escape.png'))!.id;
    for (const path of [`/api/images/${id}/file`, `/api/images/${id}/thumbnail`]) {
      const response = await app.request(path);
      expect(response.status).toBe(404);
      expect((await json<{ error: { message: string } }>(response)).error.message).toMatch(/outside the images folder/);
    }
  });
});
