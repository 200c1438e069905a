import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import { scanImages } from '../image/scan.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/store.js';
import { type ImportOptions, importLabels } from './import.js';

let dir: string;
let root: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-import-'));
  root = join(dir, 'images');
  await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [200, 0, 0] });
  await writeImage(join(root, 'b.jpg'), 'jpeg', { color: [0, 200, 0] });
  await writeImage(join(root, 'sub/c d.jpg'), 'jpeg', { color: [0, 0, 200] });
  await writeImage(join(root, 'cats/1.jpg'), 'jpeg', { color: [9, 9, 9], noise: 30, seed: 1 });
  await writeImage(join(root, 'dogs/1.jpg'), 'jpeg', { color: [9, 9, 9], noise: 30, seed: 2 });
  store = openSqliteStore(join(dir, 'db.sqlite'));
  await scanImages(root, store, { maxPixels: 1e8 });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const csv = (text: string): string => file('labels.csv', text);
const run = (source: string, options: ImportOptions = {}) => importLabels(store, source, root, options);
const labels = async (): Promise<string[][]> => (await store.listLabels()).map((l) => [l.path, l.label]);

describe('import: matching images', () => {
  it('by path as written, trimmed, absolute inside the images folder, or relative to the file', async () => {
    const nested = file('exports/deep/labels.csv', `image,label\n../../images/sub/c d.jpg,far\n`);
    await run(nested);
    await run(csv(`image,label\n./a.jpg,cat\n b.jpg ,dog\n${join(root, 'cats', '1.jpg')},cat\n`));
    expect(await labels()).toEqual([
      ['a.jpg', 'cat'],
      ['b.jpg', 'dog'],
      ['cats/1.jpg', 'cat'],
      ['sub/c d.jpg', 'far'],
    ]);
  });

  it("by unique file name: Label Studio's upload prefix stripped, URLs decoded, folders picking among twins", async () => {
    const result = await run(
      csv(
        [
          'image,label',
          '/data/upload/3/8f3a2b1c-a.jpg,cat',
          'http://host:8080/data/local-files/?d=photos/b.jpg,dog',
          'file:///elsewhere/sub/c%20d.jpg,far',
          '/old/machine/dogs/1.jpg,dog',
        ].join('\n'),
      ),
    );
    expect(result.imported).toBe(4);
    expect(await labels()).toEqual([
      ['a.jpg', 'cat'],
      ['b.jpg', 'dog'],
      ['dogs/1.jpg', 'dog'],
      ['sub/c d.jpg', 'far'],
    ]);
  });

  it('fails, all or nothing, naming every entry that matches no image or several; skipUnmatched imports the rest', async () => {
    const text = 'image,label\na.jpg,cat\nnope.jpg,dog\n1.jpg,dog\nalso-nope.jpg,x\n';
    const error = await run(csv(text)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    const message = (error as Error).message;
    expect(message).toMatch(
      /2 entries name images not in the workspace .*1 could be several images.*nothing was imported/,
    );
    expect(message).toMatch(/labels\.csv: line 3: image "nope\.jpg" is not in the workspace/);
    expect(message).toMatch(/line 4: image "1\.jpg" could be any of 2 images: cats\/1\.jpg, dogs\/1\.jpg/);
    expect(message).toMatch(/line 5: image "also-nope\.jpg" is not in the workspace/);
    expect(await labels()).toEqual([]);

    const skipped = await run(csv(text), { skipUnmatched: true });
    expect(skipped).toMatchObject({ imported: 1, classes: ['cat'] });
    expect(skipped.skipped).toEqual([
      { where: expect.stringMatching(/line 3$/), image: 'nope.jpg', reason: 'not in the workspace' },
      {
        where: expect.stringMatching(/line 4$/),
        image: '1.jpg',
        reason: 'could be any of 2 images: cats/1.jpg, dogs/1.jpg',
      },
      { where: expect.stringMatching(/line 5$/), image: 'also-nope.jpg', reason: 'not in the workspace' },
    ]);
    expect(await labels()).toEqual([['a.jpg', 'cat']]);
  });

  it('one unmatched entry is the whole message, as before lists', async () => {
    await expect(run(csv('image,label\na.jpg,cat\nnope.jpg,dog\n'))).rejects.toThrow(
      /^.*labels\.csv: line 3: image "nope\.jpg" is not in the workspace; nothing was imported/,
    );
  });
});

describe('import: several labels on one image', () => {
  const text = 'image,label\na.jpg,cat\nb.jpg,dog\n./a.jpg,dog\nb.jpg,dog\nsub/c d.jpg,cat\nsub/c d.jpg,bird\n';

  it('fail naming each image and where each label was given, importing nothing', async () => {
    const error = (await run(csv(text)).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'IMPORT_INVALID' });
    expect(error.message).toMatch(/2 images are given several labels/);
    expect(error.message).toMatch(/image "a\.jpg" has 2 labels: "cat" \(.*line 2\), "dog" \(.*line 4\)/);
    expect(error.message).toMatch(/image "sub\/c d\.jpg" has 2 labels: "cat" \(.*line 6\), "bird" \(.*line 7\)/);
    expect(await labels()).toEqual([]);
  });

  it('multi first keeps the first label given; multi skip leaves the image out; both report them', async () => {
    const first = await run(csv(text), { multi: 'first' });
    expect(await labels()).toEqual([
      ['a.jpg', 'cat'],
      ['b.jpg', 'dog'],
      ['sub/c d.jpg', 'cat'],
    ]);
    expect(first.skipped.map((s) => [s.image, s.reason])).toEqual([
      ['a.jpg', expect.stringMatching(/^2 labels: "cat" .*, "dog" .*; kept "cat"$/)],
      ['sub/c d.jpg', expect.stringMatching(/kept "cat"$/)],
    ]);
    await store.clearLabels((await store.listLabels()).map((l) => l.imageId));
    const skip = await run(csv(text), { multi: 'skip' });
    expect(await labels()).toEqual([['b.jpg', 'dog']]);
    expect(skip.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/none imported$/),
      expect.stringMatching(/none imported$/),
    ]);
  });
});

describe('import: what is written', () => {
  it("takes people's labels and accepted ones, never suggestions; counts what was already so", async () => {
    const text = [
      'image,label,status,confidence,origin,origin_detail',
      'a.jpg,cat,labeled,,next,uncertain',
      'b.jpg,dog,accepted,0.9312,,',
      'sub/c d.jpg,dog,auto,0.97,,',
      'cats/1.jpg,cat,suggested,0.61,,',
      'dogs/1.jpg,,unlabeled,,,',
    ].join('\n');
    expect(await run(csv(text))).toMatchObject({ imported: 2, accepted: 1, unchanged: 0, ignored: 3 });
    expect(
      (await store.listLabels()).map((l) => [l.path, l.label, l.source, l.confidence, l.origin, l.originDetail]),
    ).toEqual([
      ['a.jpg', 'cat', 'import', null, 'import', 'next: uncertain'],
      ['b.jpg', 'dog', 'accepted', 0.9312, null, null],
    ]);
    expect(await run(csv(text))).toMatchObject({ imported: 0, unchanged: 2 });
  });

  it('warns when a new class looks like an existing one', async () => {
    await run(csv('image,label\na.jpg,t-shirt\n'));
    const result = await run(csv('image,label\nb.jpg,T-Shirt\nsub/c d.jpg,t-shirt\n'));
    expect(result.warnings).toEqual(['new class "T-Shirt" looks like the existing class "t-shirt"; is it a typo?']);
  });

  it.each([
    ['a bad label', 'image,label\na.jpg,cat\nb.jpg,dogs/cats\n', /line 3: .*slash/],
    [
      'a bad confidence',
      'image,label,confidence\na.jpg,cat,abc\n',
      /labels\.csv: line 2: confidence: "abc" is not a number from 0 to 1/,
    ],
    [
      'an unknown status',
      'image,label,status\na.jpg,cat,labeled\nb.jpg,dog,maybe\n',
      /line 3: status: "maybe" is not a status/,
    ],
    ['an empty image cell', 'image,label\n,cat\n', /line 2: image: the cell is empty/],
  ])('rejects %s, naming file, line and field, and imports nothing', async (_, text, message) => {
    await store.setLabels([{ imageId: (await store.findImageByPath('b.jpg'))!.id, label: 'before', source: 'manual' }]);
    await expect(run(csv(text))).rejects.toThrow(message);
    expect(await labels()).toEqual([['b.jpg', 'before']]);
  });
});

describe('import: class folders', () => {
  it('labels images by their class folder: links and the tree inside the images root by where they lead, copies by content', async () => {
    const sorted = join(dir, 'sorted');
    await writeImage(join(sorted, 'red', 'copy-of-a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await writeImage(join(sorted, 'green', 'nested', 'copy-of-b.jpg'), 'jpeg', { color: [0, 200, 0] });
    mkdirSync(join(sorted, 'blue'));
    symlinkSync(join(root, 'sub', 'c d.jpg'), join(sorted, 'blue', 'renamed.jpg'));
    mkdirSync(join(sorted, 'empty'));
    writeFileSync(join(sorted, 'README.txt'), 'ignored');
    writeFileSync(join(sorted, 'red', 'notes.txt'), 'ignored');
    const result = await run(sorted, { format: 'imagefolder' });
    expect(result).toMatchObject({ format: 'imagefolder', imported: 3, ignored: 0, classes: ['blue', 'green', 'red'] });
    expect(result.notes).toEqual([expect.stringMatching(/sorted: 2 files that are not images left out/)]);
    expect(await labels()).toEqual([
      ['a.jpg', 'red'],
      ['b.jpg', 'green'],
      ['sub/c d.jpg', 'blue'],
    ]);
    // An empty class folder is a class.
    expect((await store.listClasses()).map((c) => c.name)).toContain('empty');
    // The images root itself: the class is the first folder; images directly in it have none.
    const inside = await run(root, { format: 'imagefolder' });
    expect(inside).toMatchObject({ ignored: 2, classes: ['cats', 'dogs', 'sub'] });
  });

  it('rejects a file that matches no image, naming it, and imports nothing', async () => {
    const sorted = join(dir, 'sorted');
    await writeImage(join(sorted, 'red', 'copy-of-a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await writeImage(join(sorted, 'red', 'stranger.jpg'), 'jpeg', { color: [1, 2, 3], noise: 50 });
    await expect(run(sorted)).rejects.toThrow(/stranger\.jpg: image "stranger\.jpg" is not in the workspace/);
    expect(await labels()).toEqual([]);
  });

  it('names a missing source, and reads an empty folder as nothing', async () => {
    mkdirSync(join(dir, 'empty'));
    await expect(run(join(dir, 'absent'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(await run(join(dir, 'empty'))).toMatchObject({ imported: 0 });
  });
});

describe('import: a verify checklist', () => {
  it('refuses a class that does not exist, naming its line', async () => {
    await run(csv('image,label\na.jpg,cat\n'));
    await expect(run(csv('image,suggested,confidence,label,check\nb.jpg,cat,0.9,cta,1\n'))).rejects.toThrow(
      /line 2: class "cta" does not exist \(a checklist answer must be one of: cat\)/,
    );
  });
});
