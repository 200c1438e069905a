import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { findWorkspace, initWorkspace, openWorkspace } from './workspace.js';

let dir: string;
let images: string;
let model: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-ws-'));
  images = join(dir, 'photos');
  for (let i = 0; i < 10; i++) {
    await writeImage(join(images, 'red', `r${i}.jpg`), 'jpeg', { color: [200, 30, 30], noise: 40, seed: i });
    await writeImage(join(images, 'blue', `b${i}.png`), 'png', { color: [30, 30, 200], noise: 40, seed: 100 + i });
  }
  model = (await writeTinyOnnxModel(join(dir, 'model'))).dir;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const embeddingRows = (workspaceDir: string): number => {
  const db = new Database(join(workspaceDir, 'autolabel.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('workspace', () => {
  it('scans, embeds, labels, reports and exports', async () => {
    await writeImage(join(images, 'broken.jpg'), 'truncated-jpeg');
    cpSync(join(images, 'red', 'r0.jpg'), join(images, 'duplicate of r0.jpg'));
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    expect((await ws.scan()).added).toBe(22);
    const embedded = await ws.embed({ batchSize: 4 });
    // 22 files: one corrupt, two with the same content embedded once.
    expect(embedded).toMatchObject({ total: 21, embedded: 20, skipped: 1, aborted: false });
    expect(embeddingRows(ws.dir)).toBe(20);
    expect((await ws.embed()).embedded).toBe(0);
    await ws.labels.set([{ image: 'red/r0.jpg', label: 'red' }]);
    await ws.labels.set([{ image: './blue/b0.png', label: ' blue ' }]);
    await expect(ws.labels.set([{ image: 'nope.jpg', label: 'x' }])).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    await expect(ws.labels.set([{ image: 'red/r1.jpg', label: '' }])).rejects.toMatchObject({ code: 'LABEL_INVALID' });
    // Invisible and direction-changing characters would make two classes look alike.
    await expect(ws.labels.set([{ image: 'red/r1.jpg', label: 're\u200bd' }])).rejects.toThrow(
      /invisible or text-direction characters/,
    );
    await expect(ws.labels.set([{ image: 'red/r1.jpg', label: '\u202eder' }])).rejects.toMatchObject({
      code: 'LABEL_INVALID',
    });
    // An absolute path inside the images folder (what tab completion gives) names the same image.
    expect(await ws.labels.set([{ image: join(ws.imagesRoot, 'red', 'r0.jpg'), label: 'red' }])).toMatchObject({
      items: [{ path: 'red/r0.jpg', label: 'red' }],
      warnings: [],
    });
    const status = await ws.status();
    expect(status).toMatchObject({ imageCount: 22, embedded: 21, labeled: 2 });
    expect(status.classes).toEqual([
      { label: 'blue', count: 1 },
      { label: 'red', count: 1 },
    ]);
    expect(status.skipped).toEqual([{ path: 'broken.jpg', reason: 'corrupt', detail: expect.stringMatching(/\S/) }]);
    const csvFile = join(dir, 'labels.csv');
    await ws.export({ format: 'csv', out: csvFile });
    const csv = readFileSync(csvFile, 'utf8').split('\n');
    expect(csv[0]).toBe('image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit');
    expect(csv).toContain('red/r0.jpg,red,labeled,,chosen,,,,');
    expect(csv).toContain('red/r1.jpg,,unlabeled,,,,,,');
    expect(csv.filter((line) => line !== '').length).toBe(23);
    const out = join(dir, 'labels.json');
    await ws.export({ format: 'json', out });
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.classes).toEqual(['blue', 'red']);
    expect(json.images).toContainEqual({
      image: 'blue/b0.png',
      label: 'blue',
      status: 'labeled',
      origin: 'chosen',
      originDetail: null,
      confidence: null,
      runnerUp: null,
      runnerUpConfidence: null,
      fit: null,
      width: 64,
      height: 48,
    });
    await ws.close();
  });

  it('resumes an interrupted embed without embedding anything twice', async () => {
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    await ws.scan();
    const controller = new AbortController();
    const first = await ws.embed({
      batchSize: 4,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 4) controller.abort();
      },
    });
    expect(first.aborted).toBe(true);
    expect(first.embedded).toBeGreaterThanOrEqual(4);
    expect(first.embedded).toBeLessThan(20);
    const second = await ws.embed({ batchSize: 4 });
    expect(first.embedded + second.embedded).toBe(20);
    expect(embeddingRows(ws.dir)).toBe(20);
    await ws.close();
  });

  it('keeps the embeddings of every model, and can store float16', async () => {
    const other = (await writeTinyOnnxModel(join(dir, 'model2'), { featureDim: 8, seed: 7 })).dir;
    const ws = await initWorkspace({
      images,
      workspace: join(dir, 'ws'),
      model: `onnx:${model}`,
      embeddingDtype: 'float16',
    });
    await ws.scan();
    await ws.embed();
    expect((await ws.embed({ model: `onnx:${other}` })).embedded).toBe(20);
    expect(embeddingRows(ws.dir)).toBe(40);
    const status = await ws.status();
    expect(status.embedded).toBe(20);
    expect(status.models.map((m) => m.embedded)).toEqual([20, 20]);
    const db = new Database(join(ws.dir, 'autolabel.db'), { readonly: true });
    expect(db.prepare('SELECT DISTINCT dtype, length(vector) / dim AS bytes FROM embeddings').all()).toEqual([
      { dtype: 'float16', bytes: 2 },
    ]);
    db.close();
    await ws.close();
  });

  it('still works after the workspace is moved alone, or copied together with the images', async () => {
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    await ws.scan();
    await ws.labels.set([{ image: 'red/r0.jpg', label: 'red' }]);
    await ws.close();
    // Workspace alone to elsewhere: the absolute path still finds the images.
    renameSync(join(dir, 'ws'), join(dir, 'moved-ws'));
    const moved = await openWorkspace(join(dir, 'moved-ws'));
    expect(moved.imagesRoot).toBe(images);
    expect((await moved.status()).labeled).toBe(1);
    await moved.close();
    // Images and workspace copied together (the originals gone): the relative path wins.
    const copy = join(dir, 'copy');
    mkdirSync(copy);
    cpSync(images, join(copy, 'photos'), { recursive: true });
    cpSync(join(dir, 'moved-ws'), join(copy, 'moved-ws'), { recursive: true });
    rmSync(images, { recursive: true });
    const copied = await openWorkspace(join(copy, 'moved-ws'));
    expect(copied.imagesRoot).toBe(join(copy, 'photos'));
    expect(await copied.scan()).toMatchObject({ added: 0, removed: 0 });
    expect((await copied.status()).labeled).toBe(1);
    await copied.close();
  });

  it('names the field of a broken config file', async () => {
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    await ws.close();
    const file = join(ws.dir, 'autolabel.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), maxPixels: -5 }));
    await expect(openWorkspace(ws.dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/autolabel\.json: field "maxPixels"/),
    });
    writeFileSync(file, '{ not json');
    await expect(openWorkspace(ws.dir)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('is found from any folder below it, like git', async () => {
    const root = join(dir, 'project');
    mkdirSync(join(root, 'deep', 'er'), { recursive: true });
    const ws = await initWorkspace({ images, workspace: join(root, '.autolabel'), model: `onnx:${model}` });
    await ws.close();
    expect(findWorkspace(join(root, 'deep', 'er'))).toBe(join(root, '.autolabel'));
    expect(findWorkspace(join(root, '.autolabel'))).toBe(join(root, '.autolabel'));
    expect(() => findWorkspace(tmpdir())).toThrow(/no Autolabel workspace/);
  });

  it('refuses bad init input with clear errors and creates nothing', async () => {
    await expect(initWorkspace({ images: join(dir, 'nope'), workspace: join(dir, 'a') })).rejects.toMatchObject({
      code: 'IMAGES_ROOT_NOT_FOUND',
    });
    await expect(initWorkspace({ images, workspace: join(dir, 'b'), model: 'magic' })).rejects.toMatchObject({
      code: 'MODEL_SPEC_INVALID',
    });
    await expect(
      initWorkspace({ images, workspace: join(dir, 'c'), model: `onnx:${join(dir, 'none')}` }),
    ).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
    expect(['a', 'b', 'c'].some((name) => existsSync(join(dir, name)))).toBe(false);
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    await ws.close();
    await expect(initWorkspace({ images, workspace: join(dir, 'ws') })).rejects.toMatchObject({
      code: 'WORKSPACE_EXISTS',
    });
  });
  it('sets, clears and manages labels and classes through its use cases, all or nothing', async () => {
    const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: `onnx:${model}` });
    await ws.scan();
    const { items } = await ws.images.query({ offset: 0, limit: 100 });
    const id = (path: string) => items.find((item) => item.path === path)!.id;
    // One bad change among many: nothing is written, and the error names the item and its image.
    await expect(
      ws.labels.set([
        { image: id('red/r0.jpg'), label: 'red' },
        { image: 'blue/b0.png', label: 'bl/ue' },
      ]),
    ).rejects.toThrow(/items\.1\.label \(blue\/b0\.png\).*slash/);
    await expect(ws.labels.set([{ image: 9999 as never, label: 'red' }])).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
    });
    expect(await ws.labels.list()).toEqual([]);
    const set = await ws.labels.set([
      { image: id('red/r0.jpg'), label: 'red' },
      { image: 'red/r1.jpg', label: 'red' },
      { image: 'blue/b0.png', label: 'Red ' },
    ]);
    expect(set).toMatchObject({ labeled: 3, cleared: 0 });
    expect(set.warnings).toEqual(['new class "Red" looks like the new class "red"; is it a typo?']);
    expect((await ws.labels.set([{ image: 'blue/b0.png', label: null }])).cleared).toBe(1);
    expect(await ws.labels.countHuman()).toBe(2);
    // Classes: merge the typo away, add one before its first label, rename, and remove only with its labels.
    expect((await ws.classes.merge('Red', 'red')).classes.map((c) => [c.name, c.labeled])).toEqual([['red', 2]]);
    expect((await ws.classes.add('green')).map((c) => c.name)).toEqual(['green', 'red']);
    await expect(ws.classes.rename('green', 'red')).rejects.toMatchObject({ code: 'CLASS_EXISTS' });
    await ws.classes.rename('red', 'crimson');
    expect((await ws.classes.merge('green', 'crimson')).classes.map((c) => c.name)).toEqual(['crimson']);
    await expect(ws.classes.remove('crimson')).rejects.toMatchObject({ code: 'CLASS_IN_USE' });
    expect(await ws.classes.remove('crimson', { clearLabels: true })).toEqual({ removedLabels: 2, classes: [] });
    const stats = await ws.stats();
    expect(stats).toMatchObject({ images: 20, byStatus: { unlabeled: 20, labeled: 0 }, classes: [], curve: [] });
    await ws.close();
  });
});
