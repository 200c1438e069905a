import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ReadResult, readSource, scratchFolder } from '../testing/formats.js';
import { sniffFormat } from './registry.js';
import { roboflowCsv, roboflowOriginal } from './roboflow-csv.js';

const { folder: fixture } = scratchFolder('autolabel-roboflow-');

const read = (source: string): Promise<ReadResult> => readSource(roboflowCsv, source);

// As Roboflow writes a multi-label classification export: a _classes.csv per split, renamed files.
const CSV =
  'filename, cat, dog, big bird\r\nIMG_1_jpg.rf.5d1e4b3c2a1f0e9d8c7b6a5f4e3d2c1b.jpg, 1, 0, 0\r\nb c_png.rf.aa.png, 0, 1, 1\r\nplain.jpg,0,0,0\r\n';

describe('roboflow-csv', () => {
  it('reads one-hot rows, the renamed files pointing at the originals, from a file or a folder of splits', async () => {
    const root = fixture({ 'train/_classes.csv': CSV, 'valid/_classes.csv': 'filename,cat,dog\nv_jpg.rf.01.jpg,0,1' });
    const file = join(root, 'train', '_classes.csv');
    expect((await sniffFormat(file)).name).toBe('roboflow-csv');
    expect((await sniffFormat(join(root, 'train'))).name).toBe('roboflow-csv');
    const result = await read(file);
    expect(result.entries).toEqual([
      {
        image: { path: 'IMG_1.jpg', file: join(root, 'train', 'IMG_1_jpg.rf.5d1e4b3c2a1f0e9d8c7b6a5f4e3d2c1b.jpg') },
        labels: ['cat'],
      },
      // Several classes: the import's --multi rule decides.
      { image: { path: 'b c.png', file: join(root, 'train', 'b c_png.rf.aa.png') }, labels: ['dog', 'big bird'] },
      { image: { path: 'plain.jpg', file: join(root, 'train', 'plain.jpg') }, labels: [] },
    ]);
    expect(result.wheres[1]).toBe(`${file}: line 3`);
    expect(result.notes).toEqual([`${file}: 1 image has several classes (multi-label)`]);
    // The export's top folder holds split folders (which yolo-cls also claims): name the format.
    expect((await read(root)).entries.map((e) => e.image.path)).toEqual(['IMG_1.jpg', 'b c.png', 'plain.jpg', 'v.jpg']);
    expect(roboflowOriginal('a.b_jpeg.rf.x1.jpg')).toBe('a.b.jpeg');
  });

  it('names the file, the line and the column of what is wrong', async () => {
    const root = fixture({
      'a.csv': 'filename,cat\nx.jpg,2\n',
      'b.csv': 'image,label\nx.jpg,cat\n',
      'c.csv': 'filename,cat,dog\nx.jpg,1\n',
    });
    await expect(read(join(root, 'a.csv'))).rejects.toThrow(`${join(root, 'a.csv')}: line 2: cat: "2" is not 0 or 1`);
    await expect(read(join(root, 'b.csv'))).rejects.toThrow(
      `${join(root, 'b.csv')}: line 1: expected the header "filename, <class>`,
    );
    await expect(read(join(root, 'c.csv'))).rejects.toThrow(
      `${join(root, 'c.csv')}: line 2: 2 fields, but the header has 3`,
    );
    await expect(read(fixture({ 'x.txt': '' }))).rejects.toThrow(/no _classes\.csv in the folder/);
  });
});
