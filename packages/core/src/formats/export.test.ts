import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import type { ImageId } from '../domain/index.js';
import type { Progress } from '../util/progress.js';
import { initWorkspace, storeOf, type Workspace } from '../workspace/workspace.js';

let dir: string;
let ws: Workspace;
const paths = ['a.png', 'b.png', 'c.png', 'd.png', 'ünï 名.png', 'sub/e.png', '=f.png'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-export-'));
  for (const [i, path] of paths.entries()) {
    await writeImage(join(dir, 'images', path), 'png', { width: 8, height: 8, noise: 60, seed: i });
  }
  ws = await initWorkspace({ images: join(dir, 'images'), workspace: join(dir, 'ws') });
  await ws.scan();
  const store = storeOf(ws);
  const id = async (path: string): Promise<ImageId> => (await store.findImageByPath(path))!.id;
  await ws.classes.add('empty class');
  await store.saveFit(
    { modelId: 'm', classes: ['cat', 'dog'], labels: 2, summary: {}, head: Uint8Array.of(0) },
    await Promise.all(
      ['c.png', 'd.png', 'sub/e.png', '=f.png'].map(async (path, k) => ({
        imageId: await id(path),
        label: k % 2 === 0 ? 'cat' : 'dog',
        confidence: [0.95, 0.6, 0.91, 0.55][k]!,
        runnerUp: k % 2 === 0 ? 'dog' : 'cat',
        runnerUpConfidence: [0.04, 0.3, 0.05, 0.4][k]!,
        status: k === 0 || k === 2 ? ('auto' as const) : ('suggested' as const),
      })),
    ),
  );
  await ws.labels.set([
    { image: 'a.png', label: 'cat' },
    { image: 'b.png', label: 'dog' },
    { image: 'ünï 名.png', label: '=cat' },
  ]);
  await store.acceptSuggestions([await id('sub/e.png')]);
});
afterAll(async () => {
  await ws.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A byte sink that keeps what it is given. */
function collector(): { write(chunk: string | Uint8Array): void; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => void chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)),
    bytes: () => Buffer.concat(chunks),
  };
}

describe('export', () => {
  it('csv: every image, runner-up and fit for suggestions, formulas escaped; the same to a file and to a sink', async () => {
    const sink = collector();
    const progress: Progress[] = [];
    const result = await ws.export({ format: 'csv', out: sink, onProgress: (p) => progress.push(p) });
    const text = sink.bytes().toString('utf8');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit');
    expect(lines).toContain('a.png,cat,labeled,,chosen,,,,');
    expect(lines).toContainEqual(expect.stringMatching(/^c\.png,cat,auto,0\.95,,,dog,0\.04,\d+$/));
    expect(lines).toContain('sub/e.png,cat,accepted,0.91,,,,,');
    expect(lines).toContain("ünï 名.png,'=cat,labeled,,chosen,,,,");
    expect(lines).toContainEqual(expect.stringMatching(/^'=f\.png,dog,suggested,0\.55,,,cat,0\.4,\d+$/));
    expect(result).toMatchObject({ format: 'csv', out: null, images: paths.length, filter: {} });
    expect(progress.at(-1)).toMatchObject({ phase: 'export', done: paths.length, total: paths.length });
    const file = join(dir, 'labels.csv');
    await ws.export({ format: 'csv', out: file });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('takes a filter in the words of GET /api/images', async () => {
    const sink = collector();
    const result = await ws.export({ format: 'jsonl', out: sink, where: 'status=auto,suggested min-confidence=0.9' });
    const rows = sink
      .bytes()
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.image)).toEqual(['c.png']);
    expect(rows[0]).toMatchObject({
      status: 'auto',
      label: 'cat',
      suggestion: { label: 'cat', confidence: 0.95, runnerUp: 'dog', runnerUpConfidence: 0.04, status: 'auto' },
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      width: 8,
    });
    expect(result.filter).toEqual({ status: ['auto', 'suggested'], minConfidence: 0.9 });
    await expect(ws.export({ format: 'csv', out: collector(), where: 'status=maybe' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('json: the class list (classes without images too), then the images', async () => {
    const sink = collector();
    await ws.export({ format: 'json', out: sink });
    const document = JSON.parse(sink.bytes().toString()) as { version: number; classes: string[]; images: unknown[] };
    expect(document.version).toBe(1);
    expect(document.classes).toEqual(['=cat', 'cat', 'dog', 'empty class']);
    expect(document.images).toContainEqual({
      image: 'a.png',
      label: 'cat',
      status: 'labeled',
      origin: 'chosen',
      originDetail: null,
      confidence: null,
      runnerUp: null,
      runnerUpConfidence: null,
      fit: null,
      width: 8,
      height: 8,
    });
  });

  it('yolo-cls: labelled, accepted and certified images, hard-linked, split per class, every class in every split', async () => {
    const out = join(dir, 'yolo');
    const result = await ws.export({ format: 'yolo-cls', out, split: '0.5,0.5' });
    expect(result).toMatchObject({ images: 5, withoutClass: 0, filter: { status: ['labeled', 'accepted', 'auto'] } });
    // Per class by largest remainder (ties to train): cat 3 -> 2 + 1, dog 1 -> 1 + 0, =cat 1 -> 1 + 0.
    expect(result.splits).toEqual({ train: 4, val: 1 });
    for (const split of ['train', 'val']) expect(readdirSync(join(out, split)).sort()).toEqual(['=cat', 'cat', 'dog']);
    const link = join(out, readdirSync(join(out, 'train', 'cat')).length > 0 ? 'train' : 'val', 'cat');
    const first = readdirSync(link, { recursive: true })
      .map(String)
      .find((name) => name.endsWith('.png'))!;
    // A hard link: the image's own file (same inode), no copy of its bytes.
    const original = join(dir, 'images', first);
    expect(lstatSync(join(link, first)).isFile()).toBe(true);
    expect(statSync(join(link, first)).ino).toBe(statSync(original).ino);
    // No half-written folder is left beside it.
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('imagefolder --symlink: symbolic links to the images', async () => {
    const out = join(dir, 'symlinks');
    await ws.export({ format: 'imagefolder', out, symlink: true, where: 'label=dog' });
    expect(lstatSync(join(out, 'dog', 'b.png')).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(out, 'dog', 'b.png'))).toBe(realpathSync(join(dir, 'images', 'b.png')));
    await expect(
      ws.export({ format: 'imagefolder', out: join(dir, 'both'), symlink: true, copy: true }),
    ).rejects.toThrow(/choose one/);
  });

  it('imagefolder --copy: copies under <class>/<path>', async () => {
    const out = join(dir, 'copies');
    await ws.export({ format: 'imagefolder', out, copy: true, where: 'label=cat' });
    expect(readdirSync(out)).toEqual(['cat']);
    expect(readdirSync(join(out, 'cat'), { recursive: true }).map(String).sort()).toEqual([
      'a.png',
      'c.png',
      'sub',
      'sub/e.png',
    ]);
    expect(lstatSync(join(out, 'cat', 'a.png')).isFile()).toBe(true);
    expect(readFileSync(join(out, 'cat', 'a.png'))).toEqual(readFileSync(join(dir, 'images', 'a.png')));
  });

  it('refuses folders it would spoil, and options a format cannot take', async () => {
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), '');
    await expect(ws.export({ format: 'imagefolder', out: join(dir, 'full') })).rejects.toThrow(
      /full exists and is not an empty folder/,
    );
    await expect(ws.export({ format: 'imagefolder', out: join(dir, 'images', 'dataset') })).rejects.toThrow(
      /is inside the images folder .*the next scan would take the exported images for new ones/,
    );
    await expect(ws.export({ format: 'csv', out: collector(), split: '0.8,0.2' })).rejects.toThrow(
      /split: the csv format is one file/,
    );
    const empty = join(dir, 'empty-ok');
    mkdirSync(empty);
    await ws.export({ format: 'imagefolder', out: empty, where: 'label=dog' });
    expect(readdirSync(empty)).toEqual(['dog']);
  });

  it('voc and imagenet-txt to a sink: their streamed lists in the tar, sized right', async () => {
    for (const format of ['voc', 'imagenet-txt'] as const) {
      const sink = collector();
      await ws.export({ format, out: sink, where: 'status=labeled,accepted' });
      const tarFile = join(dir, `${format}.tar`);
      writeFileSync(tarFile, sink.bytes());
      const into = join(dir, `untarred-${format}`);
      mkdirSync(into);
      const untar = spawnSync('tar', ['-xf', tarFile, '-C', into], { encoding: 'utf8' });
      expect(untar.status, untar.stderr).toBe(0);
      if (format === 'voc') {
        expect(readFileSync(join(into, 'ImageSets/Main/cat_trainval.txt'), 'utf8')).toBe(
          'a  1\nb -1\nsub/e  1\nünï_名 -1\n',
        );
        expect(readFileSync(join(into, 'ImageSets/Main/ids.txt'), 'utf8')).toContain('sub/e\tsub/e.png\n');
      } else {
        expect(readFileSync(join(into, 'train.txt'), 'utf8')).toBe('a.png 1\nb.png 2\nsub/e.png 1\nünï 名.png 0\n');
      }
    }
  });

  it('folder formats to a sink are a tar archive of copies, long and unicode names included', async () => {
    const sink = collector();
    await ws.export({ format: 'imagefolder', out: sink, where: 'status=labeled' });
    const tarFile = join(dir, 'out.tar');
    writeFileSync(tarFile, sink.bytes());
    const listed = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n').sort()).toEqual([
      '=cat/',
      '=cat/ünï 名.png',
      'cat/',
      'cat/a.png',
      'dog/',
      'dog/b.png',
    ]);
    const into = join(dir, 'untarred');
    mkdirSync(into);
    expect(spawnSync('tar', ['-xf', tarFile, '-C', into]).status).toBe(0);
    expect(readFileSync(join(into, '=cat', 'ünï 名.png'))).toEqual(readFileSync(join(dir, 'images', 'ünï 名.png')));
  });
});
