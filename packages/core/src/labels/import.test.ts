import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import { scanImages } from '../image/scan.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/store.js';
import { csvChunks, jsonChunks } from '../formats/export.js';
import { importImageFolder, importLabelsCsv, importLabelsJson } from './import.js';

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
    expect(result).toEqual({ imported: 2, checks: 0, notDrawn: 0, ignored: 0, classes: ['cat', 'dog'], warnings: [] });
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
    expect(result).toEqual({
      imported: 2,
      checks: 0,
      notDrawn: 0,
      ignored: 0,
      classes: ['green', 'red'],
      warnings: [],
    });
    expect(await labels()).toEqual([
      ['a.jpg', 'red'],
      ['b.jpg', 'green'],
    ]);
    // And a tree inside the images root: the class is the first folder.
    const inside = await importImageFolder(store, root, root);
    expect(inside).toEqual({ imported: 1, checks: 0, notDrawn: 0, ignored: 2, classes: ['sub'], warnings: [] });
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

describe('an export imports back', () => {
  // Names that break naive CSV and spreadsheet handling, all legal on Linux.
  const HOSTILE = [
    ' lead space.jpg',
    'trail space .jpg',
    '=1+1.jpg',
    '-dash.jpg',
    '@at.jpg',
    'comma,name.jpg',
    'quote"mark.jpg',
    'semi;colon.jpg',
    'tab\tname.jpg',
    'ünïcødé 名前.jpg',
    'sub dir/#hash.jpg',
  ];
  const LABELS = ['cat', '=SUM(A1)', '+plus', 'dog, big', 'quote"d'];

  it('round-trips every label, in CSV and JSON, whatever the file and class names', async () => {
    for (const [i, name] of HOSTILE.entries()) {
      await writeImage(join(root, name), 'jpeg', { color: [10 * i, 100, 50] });
    }
    await scanImages(root, store, { maxPixels: 1e8 });
    const given = HOSTILE.map((name, i) => [name, LABELS[i % LABELS.length]!] as const);
    await store.setLabels(
      await Promise.all(
        given.map(async ([name, label]) => ({
          imageId: (await store.findImageByPath(name))!.id,
          label,
          source: 'manual' as const,
        })),
      ),
    );
    const rows = await store.exportRows();
    const csvFile = join(dir, 'export.csv');
    const jsonFile = join(dir, 'export.json');
    writeFileSync(csvFile, [...csvChunks(rows)].join(''));
    writeFileSync(jsonFile, [...jsonChunks(rows)].join(''));
    // A spreadsheet would run these as formulas: they are written with a leading apostrophe.
    const text = [...csvChunks(rows)].join('');
    expect(text).toContain("'=SUM(A1)");
    expect(text).toContain("'=1+1.jpg");
    expect(text).not.toMatch(/(^|,)=SUM/m);
    for (const file of [csvFile, jsonFile]) {
      await store.clearLabels((await store.listLabels()).map((l) => l.imageId));
      const result = file.endsWith('.csv') ? await importLabelsCsv(store, file) : await importLabelsJson(store, file);
      expect(result.imported).toBe(HOSTILE.length);
      const back = new Map((await store.listLabels()).map((l) => [l.path, l.label]));
      for (const [name, label] of given) expect(back.get(name)).toBe(label);
    }
  });

  it('names the line of a bad confidence, and refuses what is not an export', async () => {
    await expect(importLabelsCsv(store, csv('image,label,confidence\na.jpg,cat,abc\n'))).rejects.toThrow(
      /labels\.csv: line 2: confidence "abc" is not a number from 0 to 1/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"images": [{"image": 3}]}');
    await expect(importLabelsJson(store, bad)).rejects.toThrow(
      /bad\.json: images\.0\.image: .*expected Autolabel's JSON export/,
    );
    writeFileSync(bad, '{nope');
    await expect(importLabelsJson(store, bad)).rejects.toThrow(/bad\.json: not valid JSON/);
    expect(await store.listLabels()).toEqual([]);
  });

  it('warns when a new class looks like an existing one', async () => {
    await importLabelsCsv(store, csv('image,label\na.jpg,t-shirt\n'));
    const result = await importLabelsCsv(store, csv('image,label\nb.jpg,T-Shirt\nsub/c d.jpg,t-shirt\n'));
    expect(result.warnings).toEqual(['new class "T-Shirt" looks like the existing class "t-shirt"; is it a typo?']);
  });

  it('finds an image written with a space after the comma, or as an absolute path inside the images folder', async () => {
    await importLabelsCsv(store, csv('image,label\n a.jpg,cat\n'), root);
    await importLabelsCsv(store, csv(`image,label\n${join(root, 'b.jpg')},dog\n`), root);
    expect(await labels()).toEqual([
      ['a.jpg', 'cat'],
      ['b.jpg', 'dog'],
    ]);
  });
});
