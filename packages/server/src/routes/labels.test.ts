import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AcceptResponse,
  type ApiError,
  type BulkLabelsResponse,
  type ImageItem,
  type ImagesPage,
  initWorkspace,
  type UndoLabelsResponse,
  type Workspace,
} from '@autolabel/core';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { LiveModel } from '../live-model.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-undo-route-'));
let workspace: Workspace;
let live: LiveModel;
let app: ReturnType<typeof createApp>;

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const post = (path: string, body: unknown): Promise<Response> =>
  Promise.resolve(
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
const rows = async (query: string): Promise<readonly ImageItem[]> =>
  (await json<ImagesPage>(await app.request(`/api/images?${query}`))).items;
const view = (items: readonly ImageItem[]) => items.map((i) => [i.path, i.status, i.label, i.confidence, i.origin]);

beforeAll(async () => {
  for (let i = 0; i < 6; i++) {
    await writeImage(join(dir, 'photos', `dress-${i}.png`), 'png', { color: [200, 40, 40], noise: 40, seed: i });
    await writeImage(join(dir, 'photos', `pants-${i}.png`), 'png', { color: [40, 60, 200], noise: 40, seed: 50 + i });
  }
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 24 });
  workspace = await initWorkspace({
    images: join(dir, 'photos'),
    workspace: join(dir, 'ws'),
    model: `onnx:${model.dir}`,
  });
  await workspace.scan();
  await workspace.embed();
  await workspace.labels.set([
    { image: 'dress-0.png', label: 'dress' },
    { image: 'pants-0.png', label: 'pants' },
  ]);
  await workspace.suggest();
  // A long debounce: no refit replaces the suggestions while the test runs.
  live = new LiveModel(workspace, { debounceMs: 60_000 });
  app = createApp({ workspace, live });
}, 60_000);

afterAll(async () => {
  await live.close();
  await workspace.close();
  rmSync(dir, { recursive: true, force: true });
});

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
