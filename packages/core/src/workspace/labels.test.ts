import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import type { ImageId } from '../domain/index.js';
import type { ImageItem } from '../store/store.js';
import { initWorkspace, type Workspace } from './workspace.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-undo-'));
let ws: Workspace;

/** The grid's view of some images: status, label (or suggestion) and confidence, by path. */
const shown = async (ids: readonly ImageId[]): Promise<Map<string, Pick<ImageItem, 'status' | 'label' | 'origin'>>> => {
  const page = await ws.images.query({ ids, offset: 0, limit: ids.length });
  return new Map(page.items.map((i) => [i.path, { status: i.status, label: i.label, origin: i.origin }]));
};
const idsOf = async (paths: readonly string[]): Promise<ImageId[]> =>
  Promise.all(paths.map(async (p) => (await ws.images.find(p)).id));
const suggestedIds = async (): Promise<ImageId[]> => (await ws.suggestions.list()).map((s) => s.imageId);

beforeAll(async () => {
  const images = join(dir, 'photos');
  for (let i = 0; i < 8; i++) {
    await writeImage(join(images, `dress-${i}.jpg`), 'jpeg', { color: [200, 30, 30], noise: 40, seed: i });
    await writeImage(join(images, `pants-${i}.png`), 'png', { color: [30, 30, 200], noise: 40, seed: 100 + i });
  }
  const model = (await writeTinyOnnxModel(join(dir, 'model'))).dir;
  ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
  await ws.scan();
  await ws.embed();
  await ws.labels.set([
    { image: 'dress-0.jpg', label: 'dress' },
    { image: 'dress-1.jpg', label: 'dress' },
    { image: 'pants-0.png', label: 'pants' },
    { image: 'pants-1.png', label: 'pants' },
  ]);
  await ws.suggest();
});
afterAll(async () => {
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('undo of label changes', () => {
  it('makes accepted suggestions suggestions again, with the same suggestion', async () => {
    const ids = await suggestedIds();
    expect(ids.length).toBe(12);
    const before = await shown(ids);
    const accepted = await ws.suggestions.accept({ imageIds: ids });
    expect(accepted.accepted).toBe(12);
    expect([...(await shown(ids)).values()].every((i) => i.status === 'accepted')).toBe(true);
    const undone = await ws.labels.undo([accepted.changeId!]);
    expect(undone.changeIds).toEqual([accepted.changeId]);
    expect([...undone.imageIds].sort()).toEqual([...ids].sort());
    expect(await shown(ids)).toEqual(before);
    expect((await ws.labels.list()).filter((l) => l.source === 'accepted')).toEqual([]);
  });

  it('gives people’s labels back, source and origin included, after a relabel of a mixed selection', async () => {
    const [accepted] = await idsOf(['dress-2.jpg']);
    const labelled = await idsOf(['dress-0.jpg', 'pants-0.png']);
    await ws.suggestions.accept({ imageIds: [accepted!] });
    const mixed = [accepted!, ...labelled];
    const before = await shown(mixed);
    const rowsBefore = (await ws.labels.list()).filter((l) => mixed.includes(l.imageId));
    // The track pants labelled 'dress' with the rest.
    const relabel = await ws.labels.set(mixed.map((image) => ({ image, label: 'dress' })));
    expect([...(await shown(mixed)).values()].map((i) => [i.status, i.label])).toEqual([
      ['labeled', 'dress'],
      ['labeled', 'dress'],
      ['labeled', 'dress'],
    ]);
    await ws.labels.undo([relabel.changeId!]);
    expect(await shown(mixed)).toEqual(before);
    const rowsAfter = (await ws.labels.list()).filter((l) => mixed.includes(l.imageId));
    expect(rowsAfter.map(({ updatedAt: _, ...row }) => row)).toEqual(rowsBefore.map(({ updatedAt: _, ...row }) => row));
    expect(rowsAfter.find((l) => l.path === 'dress-2.jpg')).toMatchObject({ source: 'accepted', origin: null });
    expect(rowsAfter.find((l) => l.path === 'pants-0.png')).toMatchObject({ source: 'manual', label: 'pants' });
  });

  it('takes a clear back', async () => {
    const [image] = await idsOf(['pants-1.png']);
    const cleared = await ws.labels.set([{ image: image!, label: null }]);
    expect((await shown([image!])).get('pants-1.png')?.status).not.toBe('labeled');
    await ws.labels.undo([cleared.changeId!]);
    expect((await shown([image!])).get('pants-1.png')).toMatchObject({ status: 'labeled', label: 'pants' });
  });

  it('refuses, changing nothing, when one of the images was changed again since; and undoes only once', async () => {
    const ids = (await suggestedIds()).slice(0, 3);
    const accepted = await ws.suggestions.accept({ imageIds: ids });
    await ws.labels.set([{ image: ids[0]!, label: 'pants' }]);
    const before = await shown(ids);
    await expect(ws.labels.undo([accepted.changeId!])).rejects.toMatchObject({
      code: 'UNDO_CONFLICT',
      message: expect.stringMatching(
        /^cannot undo: 1 of the 3 images changed were changed again since .*nothing was undone$/,
      ),
    });
    expect(await shown(ids)).toEqual(before);

    const relabel = await ws.labels.set([{ image: ids[0]!, label: 'dress' }]);
    await ws.labels.undo([relabel.changeId!]);
    await expect(ws.labels.undo([relabel.changeId!])).rejects.toMatchObject({ code: 'UNDO_CONFLICT' });
    await expect(ws.labels.undo([123_456])).rejects.toMatchObject({ code: 'CHANGE_NOT_FOUND' });
    await expect(ws.labels.undo([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('has nothing to undo when nothing changed', async () => {
    const [image] = await idsOf(['dress-0.jpg']);
    expect((await ws.labels.set([{ image: image!, label: 'dress' }])).changeId).toBeNull();
  });
});
