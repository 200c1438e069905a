import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanImages } from '../image/scan.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { writeImage } from '../testing/images.js';
import { importImageFolder, importLabelsCsv } from './import.js';

let dir: string;
let root: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-import-'));
  root = join(dir, 'images');
  await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [200, 0, 0] });
  await writeImage(join(root, 'b.jpg'), 'jpeg', { color: [0, 200, 0] });
  await writeImage(join(root, 'sub/c d.jpg'), 'jpeg', { color: [0, 0, 200] });
  store = openSqliteStore(join(dir, 'db.sqlite'));
  await scanImages(root, store, { maxPixels: 1e8 });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const csv = (text: string): string => {
  const file = join(dir, 'labels.csv');
  writeFileSync(file, text);
  return file;
};
const labels = async (): Promise<string[][]> => (await store.listLabels()).map((l) => [l.path, l.label]);

describe('importLabelsCsv', () => {
  it('imports image,label rows; paths in any common spelling', async () => {
    const result = await importLabelsCsv(store, csv('image,label\n./a.jpg,cat\nsub\\c d.jpg, dog \n'));
    expect(result).toEqual({ imported: 2, checks: 0, notDrawn: 0, ignored: 0, classes: ['cat', 'dog'] });
    expect(await labels()).toEqual([
      ['a.jpg', 'cat'],
      ['sub/c d.jpg', 'dog'],
    ]);
  });

  it("re-imports Autolabel's own export: labels yes, machine suggestions and unlabelled rows no", async () => {
    const result = await importLabelsCsv(
      store,
      csv('image,label,status,confidence\na.jpg,cat,labeled,\nb.jpg,dog,suggested,0.61\nsub/c d.jpg,dog,auto,0.97\n'),
    );
    expect(result).toMatchObject({ imported: 1, ignored: 2 });
    expect(await labels()).toEqual([['a.jpg', 'cat']]);
  });

  it.each([
    ['an unknown image', 'image,label\na.jpg,cat\nnope.jpg,dog\n', /line 3: image "nope\.jpg" is not in the workspace/],
    ['an unknown column', 'image,label,owner\na.jpg,cat,me\n', /line 1: unknown column "owner"/],
    ['a short row', 'image,label\na.jpg,cat\nb.jpg\n', /line 3: 1 fields, but the header has 2/],
    ['a missing label column', 'image\na.jpg\n', /line 1: the header must name the columns image and label/],
    ['a bad label', 'image,label\na.jpg,cat\nb.jpg,dogs/cats\n', /line 3: .*slash/],
    [
      'conflicting rows',
      'image,label\na.jpg,cat\nb.jpg,dog\na.jpg,dog\n',
      /line 4: label "dog" conflicts with "cat" .*line 2/,
    ],
    ['an empty file', '', /line 1: empty file/],
    ['an unknown status', 'image,label,status\na.jpg,cat,labeled\nb.jpg,dog,maybe\n', /line 3: unknown status "maybe"/],
  ])('rejects %s, naming the line, and imports nothing', async (_, text, message) => {
    await store.setLabels([{ imageId: (await store.findImageByPath('b.jpg'))!.id, label: 'before', source: 'manual' }]);
    await expect(importLabelsCsv(store, csv(text))).rejects.toThrow(message);
    expect(await labels()).toEqual([['b.jpg', 'before']]);
  });
});

describe('importImageFolder', () => {
  it('labels images by their class folder: inside the images root by path, copies elsewhere by content', async () => {
    // The images root itself organised by class.
    const sorted = join(dir, 'sorted');
    await writeImage(join(sorted, 'red', 'copy-of-a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await writeImage(join(sorted, 'green', 'nested', 'copy-of-b.jpg'), 'jpeg', { color: [0, 200, 0] });
    writeFileSync(join(sorted, 'README.txt'), 'ignored');
    const result = await importImageFolder(store, sorted, root);
    expect(result).toEqual({ imported: 2, checks: 0, notDrawn: 0, ignored: 0, classes: ['green', 'red'] });
    expect(await labels()).toEqual([
      ['a.jpg', 'red'],
      ['b.jpg', 'green'],
    ]);
    // And a tree inside the images root: the class is the first folder.
    const inside = await importImageFolder(store, root, root);
    expect(inside).toEqual({ imported: 1, checks: 0, notDrawn: 0, ignored: 2, classes: ['sub'] });
  });

  it('rejects a file that matches no image, naming it, and imports nothing', async () => {
    const sorted = join(dir, 'sorted');
    await writeImage(join(sorted, 'red', 'copy-of-a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await writeImage(join(sorted, 'red', 'stranger.jpg'), 'jpeg', { color: [1, 2, 3], noise: 50 });
    await expect(importImageFolder(store, sorted, root)).rejects.toThrow(/stranger\.jpg: no image in the workspace/);
    expect(await labels()).toEqual([]);
  });

  it('names a missing folder', async () => {
    mkdirSync(join(dir, 'empty'));
    await expect(importImageFolder(store, join(dir, 'absent'), root)).rejects.toThrow(/absent/);
    expect(await importImageFolder(store, join(dir, 'empty'), root)).toMatchObject({ imported: 0 });
  });
});
