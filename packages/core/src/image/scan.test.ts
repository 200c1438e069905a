import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/store.js';
import { scanImages } from './scan.js';

let dir: string;
let root: string;
let store: Store;
const options = { maxPixels: 100_000_000 };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-scan-'));
  root = join(dir, 'images');
  mkdirSync(root);
  store = openSqliteStore(join(dir, 'db.sqlite'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const paths = async (): Promise<string[]> => (await store.listImages()).map((i) => i.path).sort();

describe('scanImages', () => {
  it('finds images in nested folders, with unicode and spaces in names, and ignores other and hidden files', async () => {
    await writeImage(join(root, 'a.jpg'), 'jpeg');
    await writeImage(join(root, 'sub dir/b é 猫.PNG'), 'png');
    await writeImage(join(root, '.hidden/c.jpg'), 'jpeg');
    await writeImage(join(root, '._d.jpg'), 'jpeg');
    writeFileSync(join(root, 'notes.txt'), 'not an image');
    const result = await scanImages(root, store, options);
    expect(result).toMatchObject({ added: 2, changed: 0, removed: 0, skipped: 0, aborted: false });
    expect(await paths()).toEqual(['a.jpg', 'sub dir/b é 猫.PNG']);
  });

  it('records every bad file with a reason and goes on', async () => {
    await writeImage(join(root, 'good.jpg'), 'jpeg');
    await writeImage(join(root, 'empty.jpg'), 'empty');
    await writeImage(join(root, 'text.jpg'), 'text');
    await writeImage(join(root, 'bomb.png'), 'png-bomb');
    symlinkSync('loop.jpg', join(root, 'loop.jpg'));
    symlinkSync(join(dir, 'missing.jpg'), join(root, 'dangling.jpg'));
    mkdirSync(join(root, 'nested'));
    symlinkSync(root, join(root, 'nested', 'back-to-root'));
    const result = await scanImages(root, store, options);
    expect(result.added).toBe(6);
    expect(result.skipped).toBe(5);
    const stats = await store.stats();
    expect(Object.fromEntries(stats.skipped.map((s) => [s.path, s.reason]))).toEqual({
      'bomb.png': 'too-large',
      'dangling.jpg': 'unreadable',
      'empty.jpg': 'empty-file',
      'loop.jpg': 'symlink-loop',
      'text.jpg': 'not-an-image',
    });
  });

  it('never follows a link out of the images folder, and lists pipes as skipped instead of blocking on them', async () => {
    await writeImage(join(root, 'inside.jpg'), 'jpeg');
    await writeImage(join(dir, 'outside/secret.jpg'), 'jpeg');
    symlinkSync(join(dir, 'outside'), join(root, 'linked-out'));
    symlinkSync(join(dir, 'outside', 'secret.jpg'), join(root, 'secret-link.jpg'));
    symlinkSync(join(root, 'inside.jpg'), join(root, 'inside-link.jpg'));
    execFileSync('mkfifo', [join(root, 'pipe.jpg')]);
    const result = await scanImages(root, store, options);
    expect(result.added).toBe(5);
    const stats = await store.stats();
    expect(Object.fromEntries(stats.skipped.map((s) => [s.path, s.reason]))).toEqual({
      'linked-out': 'outside-root',
      'secret-link.jpg': 'outside-root',
      'pipe.jpg': 'not-a-file',
    });
    // Only what is inside was indexed as an image.
    const usable = (await store.listImages()).filter((i) => !i.skipReason).map((i) => i.path);
    expect(usable.sort()).toEqual(['inside-link.jpg', 'inside.jpg']);
  });

  it('picks up added, changed and removed images; unchanged files are not re-read', async () => {
    await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await writeImage(join(root, 'b.jpg'), 'jpeg', { color: [0, 200, 0] });
    await scanImages(root, store, options);
    const before = await store.findImageByPath('a.jpg');
    await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [0, 0, 200] });
    utimesSync(join(root, 'a.jpg'), new Date(), new Date(Date.now() + 5000));
    rmSync(join(root, 'b.jpg'));
    await writeImage(join(root, 'c.png'), 'png');
    const result = await scanImages(root, store, options);
    expect(result).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 0 });
    expect((await store.findImageByPath('a.jpg'))!.contentHash).not.toBe(before!.contentHash);
    expect(await paths()).toEqual(['a.jpg', 'c.png']);
    expect(await scanImages(root, store, options)).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 2 });
  });

  it('treats a renamed file as moved: same image, label kept', async () => {
    await writeImage(join(root, 'a.jpg'), 'jpeg');
    await scanImages(root, store, options);
    const image = (await store.findImageByPath('a.jpg'))!;
    await store.setLabels([{ imageId: image.id, label: 'cat', source: 'manual' }]);
    mkdirSync(join(root, 'cats'));
    renameSync(join(root, 'a.jpg'), join(root, 'cats', 'a.jpg'));
    const result = await scanImages(root, store, options);
    expect(result).toMatchObject({ moved: 1, added: 0, removed: 0 });
    expect((await store.listLabels()).map((l) => [l.path, l.label])).toEqual([['cats/a.jpg', 'cat']]);
  });

  it('drops the label of an image whose content changed', async () => {
    await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [200, 0, 0] });
    await scanImages(root, store, options);
    await store.setLabels([{ imageId: (await store.findImageByPath('a.jpg'))!.id, label: 'red', source: 'manual' }]);
    await writeImage(join(root, 'a.jpg'), 'jpeg', { color: [0, 0, 200] });
    utimesSync(join(root, 'a.jpg'), new Date(), new Date(Date.now() + 5000));
    await scanImages(root, store, options);
    expect(await store.listLabels()).toEqual([]);
  });

  it('never descends into the excluded workspace folder', async () => {
    await writeImage(join(root, 'a.jpg'), 'jpeg');
    await writeImage(join(root, 'ws', 'thumb.jpg'), 'jpeg');
    await scanImages(root, store, { ...options, exclude: [join(root, 'ws')] });
    expect(await paths()).toEqual(['a.jpg']);
  });

  it('stops when aborted, keeps what it stored, and removes nothing', async () => {
    for (let i = 0; i < 20; i++) await writeImage(join(root, `${i}.png`), 'png', { seed: i, noise: 30 });
    await scanImages(root, store, options);
    rmSync(join(root, '0.png'));
    const controller = new AbortController();
    controller.abort();
    const result = await scanImages(root, store, { ...options, signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(result.removed).toBe(0);
    expect((await paths()).length).toBe(20);
  });

  it('fails clearly when the images folder is missing', async () => {
    await expect(scanImages(join(dir, 'nope'), store, options)).rejects.toMatchObject({
      code: 'IMAGES_ROOT_NOT_FOUND',
    });
  });
});
