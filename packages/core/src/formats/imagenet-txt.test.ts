import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryTree, type ReadResult, readSource, scratchFolder } from '../testing/formats.js';
import { imagenetTxt } from './imagenet-txt.js';
import { sniffFormat } from './registry.js';

const { dir, folder: fixture } = scratchFolder('autolabel-imagenet-');

const read = (source: string): Promise<ReadResult> => readSource(imagenetTxt, source);

describe('imagenet-txt', () => {
  it('reads train.txt and val.txt with synsets.txt numbering the classes; no trailing newline, CRLF, spaces in names', async () => {
    const root = fixture({
      'synsets.txt': 'n01440764 tench, Tinca tinca\r\nn01443537 goldfish\r\ncat',
      'train.txt': 'n01440764/n01440764_10026.JPEG 0\nmy photos/a b.jpg 2\r\n\nx 1 2.png 1',
      'val.txt': 'ILSVRC2012_val_00000001.JPEG 1   ',
      'readme.txt': 'not a list',
    });
    expect((await sniffFormat(root)).name).toBe('imagenet-txt');
    const result = await read(root);
    expect(result.classes).toEqual(['n01440764 tench, Tinca tinca', 'n01443537 goldfish', 'cat']);
    expect(result.entries).toEqual([
      { image: { path: 'n01440764/n01440764_10026.JPEG' }, labels: ['n01440764 tench, Tinca tinca'] },
      { image: { path: 'my photos/a b.jpg' }, labels: ['cat'] },
      { image: { path: 'x 1 2.png' }, labels: ['n01443537 goldfish'] },
      { image: { path: 'ILSVRC2012_val_00000001.JPEG' }, labels: ['n01443537 goldfish'] },
    ]);
    expect(result.wheres[2]).toBe(`${join(root, 'train.txt')}: line 4`);
    expect(result.notes).toEqual([`${root}: "readme.txt" not read (lists are train.txt, val.txt, test.txt)`]);
    // One list file, with synsets.txt beside it.
    expect((await read(join(root, 'val.txt'))).entries).toHaveLength(1);
  });

  it('names the file, line and field of a bad line or an index synsets.txt lacks', async () => {
    const bad = fixture({ 'synsets.txt': 'a\nb\n', 'train.txt': 'x.jpg 0\ny.jpg\n' });
    await expect(read(bad)).rejects.toThrow(
      `${join(bad, 'train.txt')}: line 2: expected "<image> <class index>", got "y.jpg"`,
    );
    const far = fixture({ 'synsets.txt': 'a\nb\n', 'train.txt': 'x.jpg 2\n' });
    await expect(read(far)).rejects.toThrow(
      `${join(far, 'train.txt')}: line 1: class index 2 is not in synsets.txt (indices 0 to 1)`,
    );
    const none = fixture({ 'train.txt': 'x.jpg 0\n' });
    await expect(read(none)).rejects.toThrow(/synsets\.txt: cannot read the class list/);
  });

  it('writes synsets.txt with every class and a stratified split into train.txt and val.txt', async () => {
    const tree = memoryTree();
    const written = tree.texts;
    const rows = async function* () {
      for (const [i, label] of ['b', 'b', 'a', null, 'b', 'a'].entries()) {
        yield { path: `d ${i}.png`, label } as never;
      }
    };
    const result = await imagenetTxt.writer.write(rows, tree, {
      imagesRoot: dir(),
      classes: ['a', 'b', 'unused'],
      split: [0.5, 0.5],
      seed: 0,
      advance: () => {},
    });
    expect(result).toMatchObject({ images: 5, withoutClass: 1, splits: { train: 3, val: 2 } });
    expect(written.get('synsets.txt')).toBe('a\nb\nunused\n');
    const lines = [...written.get('train.txt')!.split('\n'), ...written.get('val.txt')!.split('\n')].filter(Boolean);
    expect(lines.sort()).toEqual(['d 0.png 1', 'd 1.png 1', 'd 2.png 0', 'd 4.png 1', 'd 5.png 0']);
  });
});
