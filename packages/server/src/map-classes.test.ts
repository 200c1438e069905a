/**
 * GET /api/map/classes over a real workspace (colour photos embedded with the tiny ONNX model): every
 * point's class and status, in the map's order, are those of its image's row; its ETag answers 304
 * until a label changes, and the new answer shows the new label.
 */
import {
  IMAGE_STATUSES,
  type ImageItem,
  type ImagesPage,
  type MapClassesState,
  type MapState,
  type Workspace,
} from '@autolabel/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, served, writeColourPhotos } from './testing/served.js';

let server: Served;
let workspace: Workspace;
let app: Served['app'];

type ReadyMap = Extract<MapState, { state: 'ready' }>;
type ReadyClasses = Extract<MapClassesState, { state: 'ready' }>;

/** GET `path` until it stops answering 202 (the map is computed in the background). */
async function whenReady(path: string, headers: Record<string, string> = {}): Promise<Response> {
  let response = await app.request(path, { headers });
  for (let i = 0; i < 400 && response.status === 202; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    response = await app.request(path, { headers });
  }
  return response;
}

/** Each point's class name (null for none) and status, decoded from the answer. */
function decode(answer: ReadyClasses): { label: string | null; status: string }[] {
  const classBytes = Buffer.from(answer.classOf, 'base64');
  const classOf = new Uint16Array(classBytes.buffer, classBytes.byteOffset, classBytes.byteLength / 2);
  const status = Buffer.from(answer.status, 'base64');
  return [...classOf].map((c, i) => ({
    label: c === 0 ? null : answer.classes[c - 1]!,
    status: IMAGE_STATUSES[status[i]!]!,
  }));
}

async function rowsOf(ids: readonly number[]): Promise<Map<number, ImageItem>> {
  const page = (await (await app.request(`/api/images?ids=${ids.join(',')}&limit=100`)).json()) as ImagesPage;
  return new Map(page.items.map((item) => [item.id as number, item]));
}

beforeAll(async () => {
  server = await served('map-classes', {
    photos: (photos) =>
      writeColourPhotos(photos, { coral: [220, 80, 60], teal: [30, 150, 140], plum: [120, 50, 130] }, 5, {
        noise: 40,
      }),
    // A long debounce: no refit replaces the suggestions while the test runs.
    live: { debounceMs: 60_000 },
  });
  ({ workspace, app } = server);
  await workspace.labels.set([
    { image: 'coral-0.png', label: 'coral' },
    { image: 'teal-0.png', label: 'teal' },
    { image: 'plum-0.png', label: 'plum' },
  ]);
  await workspace.suggest();
}, 60_000);

afterAll(() => server.close());

describe('GET /api/map/classes', () => {
  it("gives every map point its image's class and status, in the map's order", async () => {
    const accepted = server.ids.get('teal-1.png')!;
    expect((await server.post('/api/accept', { imageIds: [accepted] })).status).toBe(200);
    const map = (await (await whenReady('/api/map')).json()) as ReadyMap;
    expect(map.state).toBe('ready');
    const response = await whenReady('/api/map/classes');
    expect(response.status).toBe(200);
    const answer = (await response.json()) as ReadyClasses;
    expect(answer.map).toBe(map.version);
    const points = decode(answer);
    expect(points).toHaveLength(map.ids.length);
    const rows = await rowsOf(map.ids);
    expect(points).toEqual(map.ids.map((id) => ({ label: rows.get(id)!.label, status: rows.get(id)!.status })));
    // Every kind is there: labels, the accepted one, suggestions.
    const statuses = new Set(points.map((p) => p.status));
    expect(statuses).toContain('labeled');
    expect(statuses).toContain('accepted');
    expect([...statuses].some((s) => s === 'auto' || s === 'suggested')).toBe(true);
    expect(points[map.ids.indexOf(accepted)]).toEqual({ label: rows.get(accepted)!.label, status: 'accepted' });
  });

  it('answers 304 to its ETag until a label changes, then the new label', async () => {
    const first = await whenReady('/api/map/classes');
    const etag = first.headers.get('etag')!;
    const answer = (await first.json()) as ReadyClasses;
    expect(etag).toBe(`"${answer.version}"`);
    const again = await app.request('/api/map/classes', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const map = (await (await app.request('/api/map')).json()) as ReadyMap;
    const image = server.ids.get('coral-3.png')!;
    expect((await server.post('/api/labels', { items: [{ imageId: image, label: 'plum' }] })).status).toBe(200);
    const changed = await app.request('/api/map/classes', { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    const points = decode((await changed.json()) as ReadyClasses);
    expect(points[map.ids.indexOf(image)]).toEqual({ label: 'plum', status: 'labeled' });
  });
});
