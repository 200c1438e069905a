import { describe, expect, it } from 'vitest';
import { memoryTree } from '../testing/formats.js';
import { voc, VocIds } from './voc.js';

const rows = (labels: (string | null)[], paths?: string[]) =>
  async function* () {
    for (const [i, label] of labels.entries()) yield { path: paths?.[i] ?? `img/${i}.jpg`, label } as never;
  };

describe('voc', () => {
  it('writes ImageSets/Main/<class>_trainval.txt with every image, 1 for its class and -1 for the others', async () => {
    const tree = memoryTree();
    const result = await voc.writer.write(
      rows(['dog', null, 'cat', 'dog'], ['a b/x.jpg', 'u.jpg', 'a b/x.png', 'ünï #1.v2.jpeg']),
      tree,
      { imagesRoot: '/images', classes: ['cat', 'dog'], split: undefined, seed: 0, advance: () => {} },
    );
    expect(result).toMatchObject({ images: 3, withoutClass: 1, warnings: [] });
    // Ids: the path without its extension, whitespace made _, a suffix where two would collide.
    expect(tree.texts.get('ImageSets/Main/trainval.txt')).toBe('a_b/x\na_b/x~2\nünï_#1.v2\n');
    expect(tree.texts.get('ImageSets/Main/cat_trainval.txt')).toBe('a_b/x -1\na_b/x~2  1\nünï_#1.v2 -1\n');
    expect(tree.texts.get('ImageSets/Main/dog_trainval.txt')).toBe('a_b/x  1\na_b/x~2 -1\nünï_#1.v2  1\n');
    expect(tree.texts.get('ImageSets/Main/ids.txt')).toBe(
      'a_b/x\ta b/x.jpg\na_b/x~2\ta b/x.png\nünï_#1.v2\tünï #1.v2.jpeg\n',
    );
    expect([...tree.images]).toEqual([
      ['JPEGImages/a_b/x.jpg', '/images/a b/x.jpg'],
      ['JPEGImages/a_b/x~2.png', '/images/a b/x.png'],
      ['JPEGImages/ünï_#1.v2.jpeg', '/images/ünï #1.v2.jpeg'],
    ]);
  });

  it('splits into train and val lists, stratified, each class list covering its split', async () => {
    const tree = memoryTree();
    const labels = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 'cat' : 'dog'));
    const result = await voc.writer.write(rows(labels), tree, {
      imagesRoot: '/images',
      classes: ['cat', 'dog'],
      split: [0.8, 0.2],
      seed: 1,
      advance: () => {},
    });
    expect(result.splits).toEqual({ train: 16, val: 4 });
    const val = tree.texts.get('ImageSets/Main/val.txt')!.trim().split('\n');
    expect(val).toHaveLength(4);
    const catVal = tree.texts.get('ImageSets/Main/cat_val.txt')!.trim().split('\n');
    expect(catVal.map((l) => l.split(' ')[0])).toEqual(val);
    expect(catVal.filter((l) => l.endsWith(' 1'))).toHaveLength(1);
  });

  it('is written only', () => {
    expect('read' in voc).toBe(false);
    expect(new VocIds().idOf('a.tar.gz')).toBe('a.tar');
  });

  it('gives 200,000 paths their ids as they are, and a second path of one id the next free ~n', () => {
    const ids = new VocIds();
    let changed = 0;
    for (let i = 0; i < 200_000; i++) if (ids.idOf(`d${i % 97}/img ${i}.jpg`) !== `d${i % 97}/img_${i}`) changed++;
    expect(changed).toBe(0);
    expect(ids.idOf('d5/img 5.png')).toBe('d5/img_5~2');
    expect(ids.idOf('d5/img_5.jpeg')).toBe('d5/img_5~3');
    expect(ids.idOf('d5/img_5~2.jpg')).toBe('d5/img_5~2~2');
  });
});
