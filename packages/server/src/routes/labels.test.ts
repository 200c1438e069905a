import {
  type AcceptResponse,
  type ApiError,
  type BulkLabelsResponse,
  type ImageItem,
  type ImagesPage,
  type UndoLabelsResponse,
  type Workspace,
} from '@autolabel/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, served, writeColourPhotos } from '../testing/served.js';

let server: Served;
let workspace: Workspace;
let app: Served['app'];

const json = <T>(response: Response): Promise<T> => server.json<T>(response);
const post = (path: string, body: unknown): Promise<Response> => server.post(path, body);
const rows = async (query: string): Promise<readonly ImageItem[]> =>
  (await json<ImagesPage>(await app.request(`/api/images?${query}`))).items;
const view = (items: readonly ImageItem[]) => items.map((i) => [i.path, i.status, i.label, i.confidence, i.origin]);

beforeAll(async () => {
  server = await served('undo-route', {
    photos: (photos) => writeColourPhotos(photos, { dress: [200, 40, 40], pants: [40, 60, 200] }, 6, { noise: 40 }),
    // A long debounce: no refit replaces the suggestions while the test runs.
    live: { debounceMs: 60_000 },
  });
  ({ workspace, app } = server);
  await workspace.labels.set([
    { image: 'dress-0.png', label: 'dress' },
    { image: 'pants-0.png', label: 'pants' },
  ]);
  await workspace.suggest();
}, 60_000);

afterAll(() => server.close());

describe('POST /api/labels/undo', () => {
  it('returns a bulk accept to suggestions, and a relabel to the labels before it', async () => {
    const suggested = await rows('status=suggested&sort=path&limit=100');
    expect(suggested).toHaveLength(10);
    const ids = suggested.map((i) => i.id);
    const accepted = await json<AcceptResponse>(await post('/api/accept', { imageIds: ids }));
    expect(accepted).toMatchObject({ accepted: 10, changeId: expect.any(Number) });
    expect((await rows('status=accepted&limit=100')).length).toBe(10);
    const undone = await post('/api/labels/undo', { changeIds: [accepted.changeId] });
    expect(undone.status).toBe(200);
    const body = await json<UndoLabelsResponse>(undone);
    expect(body.changeIds).toEqual([accepted.changeId]);
    expect([...body.imageIds].sort()).toEqual([...ids].sort());
    expect(view(await rows('status=suggested&sort=path&limit=100'))).toEqual(view(suggested));

    const all = await rows('sort=path&limit=100');
    const relabel = await json<BulkLabelsResponse>(
      await post('/api/labels', { items: all.map((i) => ({ imageId: i.id, label: 'dress' })) }),
    );
    expect((await rows('status=labeled&label=dress&limit=100')).length).toBe(12);
    expect((await post('/api/labels/undo', { changeIds: [relabel.changeId] })).status).toBe(200);
    expect(view(await rows('sort=path&limit=100'))).toEqual(view(all));
  });

  it('refuses with 409 when an image was changed again since, 409 for a second undo, 404 for an unknown change', async () => {
    const [first, second] = await rows('status=suggested&sort=path&limit=2');
    const accepted = await json<AcceptResponse>(await post('/api/accept', { imageIds: [first!.id, second!.id] }));
    await post('/api/labels', { items: [{ imageId: second!.id, label: 'pants' }] });
    const refused = await post('/api/labels/undo', { changeIds: [accepted.changeId] });
    expect(refused.status).toBe(409);
    const { error } = await json<ApiError>(refused);
    expect(error.code).toBe('UNDO_CONFLICT');
    expect(error.message).toContain(`${second!.path} is labelled "pants"`);
    // Nothing was undone: the first is still accepted.
    expect((await rows(`ids=${first!.id}`))[0]!.status).toBe('accepted');

    const clear = await json<BulkLabelsResponse>(
      await post('/api/labels', { items: [{ imageId: first!.id, label: null }] }),
    );
    expect((await post('/api/labels/undo', { changeIds: [clear.changeId] })).status).toBe(200);
    expect((await rows(`ids=${first!.id}`))[0]!.status).toBe('accepted');
    expect((await post('/api/labels/undo', { changeIds: [clear.changeId] })).status).toBe(409);
    const unknown = await post('/api/labels/undo', { changeIds: [987_654] });
    expect(unknown.status).toBe(404);
    expect((await json<ApiError>(unknown)).error.code).toBe('CHANGE_NOT_FOUND');
    const bad = await post('/api/labels/undo', { changeIds: [] });
    expect(bad.status).toBe(400);
    expect((await json<ApiError>(bad)).error.field).toBe('changeIds');
  });
});
