import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import { type ReadResult, readSource, scratchFolder } from '../testing/formats.js';
import { initWorkspace } from '../workspace/workspace.js';
import { coco } from './coco.js';
import { sniffFormat } from './registry.js';

const { json: write, dir } = scratchFolder('autolabel-coco-');

const read = (source: string): Promise<ReadResult> => readSource(coco, source);

// As COCO's documentation describes a detection file, with the keys real exports carry.
const DETECTION = {
  info: { year: 2024, version: '1.0', description: 'from CVAT', contributor: '', url: '', date_created: '' },
  licenses: [{ id: 1, name: 'CC BY 4.0', url: 'https://creativecommons.org/licenses/by/4.0/' }],
  categories: [
    { id: 5, name: 'cat', supercategory: 'animal', keypoints: [] },
    { id: 9, name: 'dog', supercategory: 'animal' },
    { id: 12, name: 'bird', supercategory: 'animal', color: '#ff0000' },
  ],
  images: [
    {
      id: 5,
      file_name: 'pets/a.jpg',
      width: 640,
      height: 480,
      license: 1,
      flickr_url: '',
      coco_url: '',
      date_captured: 0,
    },
    { id: 7, file_name: 'pets/b c.jpg', width: 10, height: 10 },
    { id: 40, file_name: 'pets/none.jpg', width: 10, height: 10, license: 1 },
  ],
  annotations: [
    {
      id: 5,
      image_id: 5,
      category_id: 5,
      bbox: [1, 2, 3, 4],
      area: 12,
      segmentation: [],
      iscrowd: 0,
      attributes: { occluded: false },
    },
    { id: 6, image_id: 5, category_id: 5, bbox: [5, 6, 7, 8], area: 56, segmentation: [], iscrowd: 0 },
    {
      id: 11,
      image_id: 7,
      category_id: 9,
      bbox: [0, 0, 1, 1],
      area: 1,
      iscrowd: 0,
      segmentation: [[0, 0, 1, 0, 1, 1]],
    },
    { id: 12, image_id: 7, category_id: 12, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0, segmentation: [] },
  ],
};

describe('coco', () => {
  it('reads a detection file: ids from 5 with gaps, each image its categories, extra keys read past, boxes counted', async () => {
    const file = write(DETECTION);
    expect((await sniffFormat(file)).name).toBe('coco');
    const result = await read(file);
    expect(result.entries.map(({ extras, ...entry }) => (void extras, entry))).toEqual([
      { image: { path: 'pets/a.jpg' }, labels: ['cat'], provenance: null },
      // Two categories: the import's --multi rule decides.
      { image: { path: 'pets/b c.jpg' }, labels: ['dog', 'bird'], provenance: null },
      { image: { path: 'pets/none.jpg' }, labels: [] },
    ]);
    expect(result.wheres[1]).toBe(`${file}: images[1] (pets/b c.jpg)`);
    expect(result.classes).toEqual(['cat', 'dog', 'bird']);
    expect(result.notes).toEqual([
      `${file}: 4 annotations have a box or mask: each image takes its annotations' categories`,
    ]);
  });

  it('keeps unknown keys through import and export: top-level, images, categories, annotations (boxes too)', async () => {
    const images = join(dir(), 'images');
    for (const [i, path] of ['pets/a.jpg', 'pets/b c.jpg', 'pets/none.jpg'].entries()) {
      await writeImage(join(images, path), 'jpeg', { width: 8, height: 6, noise: 40, seed: i });
    }
    const exported = async (
      workspace: string,
      source: string,
    ): Promise<Record<string, unknown[]> & Record<string, unknown>> => {
      const ws = await initWorkspace({ images, workspace: join(dir(), workspace) });
      try {
        await ws.scan();
        await ws.import(source, { format: 'coco', multi: 'first' });
        const out = join(dir(), `${workspace}.json`);
        await ws.export({ format: 'coco', out });
        return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown[]> & Record<string, unknown>;
      } finally {
        await ws.close();
      }
    };
    const first = await exported('ws1', write({ ...DETECTION, tool: { name: 'cvat', version: '2.11' } }));
    expect(first.info).toEqual(DETECTION.info);
    expect(first.licenses).toEqual(DETECTION.licenses);
    expect(first.tool).toEqual({ name: 'cvat', version: '2.11' });
    expect(first.images).toEqual([
      {
        id: 1,
        file_name: 'pets/a.jpg',
        width: 8,
        height: 6,
        license: 1,
        flickr_url: '',
        coco_url: '',
        date_captured: 0,
      },
      { id: 2, file_name: 'pets/b c.jpg', width: 8, height: 6 },
      // No label, yet what the file said of it is kept.
      { id: 3, file_name: 'pets/none.jpg', width: 8, height: 6, license: 1 },
    ]);
    // Each annotation of the label an image kept, with its keys; bird was not b c.jpg's label (--multi first).
    expect(first.annotations).toEqual([
      expect.objectContaining({
        id: 1,
        image_id: 1,
        category_id: 2,
        bbox: [1, 2, 3, 4],
        area: 12,
        iscrowd: 0,
        segmentation: [],
        attributes: { occluded: false },
        status: 'labeled',
        origin: 'import',
      }),
      expect.objectContaining({ id: 2, image_id: 1, category_id: 2, bbox: [5, 6, 7, 8], area: 56 }),
      expect.objectContaining({
        id: 3,
        image_id: 2,
        category_id: 3,
        segmentation: [[0, 0, 1, 0, 1, 1]],
        status: 'labeled',
      }),
    ]);
    expect(first.categories).toEqual([
      { id: 1, name: 'bird', supercategory: 'animal', color: '#ff0000' },
      { id: 2, name: 'cat', supercategory: 'animal', keypoints: [] },
      { id: 3, name: 'dog', supercategory: 'animal' },
    ]);
    // Once more, from the export into a fresh workspace: the same file (but for nothing).
    const second = await exported('ws2', write(first));
    expect(second).toEqual(first);
  });

  it('reads the labels variant (no bbox), string ids, and no annotations list', async () => {
    const labels = write({
      images: [{ id: 'x', file_name: 'a.png' }],
      categories: [
        { id: '3', name: 'cat' },
        { id: 4, name: 'unused' },
      ],
      annotations: [{ id: 1, image_id: 'x', category_id: 3 }],
    });
    expect(await read(labels)).toMatchObject({
      entries: [{ image: { path: 'a.png' }, labels: ['cat'] }],
      notes: [],
      classes: ['cat', 'unused'],
    });
    const bare = write({ images: [{ id: 1, file_name: 'a.png' }], categories: [] });
    expect((await read(bare)).entries).toEqual([{ image: { path: 'a.png' }, labels: [] }]);
  });

  it("reads Autolabel's own keys: accepted with its score, a person's provenance, suggestions left out", async () => {
    const file = write({
      images: [1, 2, 3].map((id) => ({ id, file_name: `${id}.png` })),
      categories: [{ id: 1, name: 'cat' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, status: 'accepted', score: 0.91234 },
        { id: 2, image_id: 2, category_id: 1, status: 'labeled', origin: 'next', origin_detail: 'uncertain' },
        { id: 3, image_id: 3, category_id: 1, status: 'suggested', score: 0.6, fit: 2 },
      ],
    });
    expect((await read(file)).entries).toEqual([
      { image: { path: '1.png' }, labels: ['cat'], accepted: true, confidence: 0.91234 },
      { image: { path: '2.png' }, labels: ['cat'], provenance: 'next: uncertain' },
      { image: { path: '3.png' }, labels: [] },
    ]);
  });

  it('names the file, the entry and the field of what is wrong', async () => {
    const base = { images: [{ id: 1, file_name: 'a.png' }], categories: [{ id: 1, name: 'cat' }] };
    const cases: [unknown, string][] = [
      [
        { ...base, annotations: [{ id: 1, image_id: 1, category_id: 2 }] },
        'annotations[0]: category_id: 2 is not the id of a category',
      ],
      [
        { ...base, annotations: [{ id: 1, image_id: 8, category_id: 1 }] },
        'annotations[0]: image_id: 8 is not the id of an image',
      ],
      [{ ...base, annotations: [{ id: 1, image_id: 1 }] }, 'annotations[0]: category_id: must be an id'],
      [{ ...base, images: [{ id: 1 }] }, 'images[0]: file_name: must be a string naming the image'],
      [
        {
          ...base,
          images: [
            { id: 1, file_name: 'a' },
            { id: 1, file_name: 'b' },
          ],
        },
        'images[1]: id: 1 is the id of an earlier image',
      ],
      [
        {
          ...base,
          categories: [
            { id: 1, name: 'a' },
            { id: 1, name: 'b' },
          ],
        },
        'categories[1]: id: 1 is the id of an earlier category',
      ],
      [{ images: [] }, 'categories: must be a list of categories'],
    ];
    for (const [value, message] of cases) {
      const file = write(value);
      await expect(read(file)).rejects.toThrow(`${file}: ${message}`);
    }
    const broken = write('{"images": [');
    await expect(read(broken)).rejects.toThrow(`${broken}: not valid JSON`);
  });
});
