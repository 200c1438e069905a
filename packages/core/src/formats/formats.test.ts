import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSource, scratchFolder } from '../testing/formats.js';
import { csv } from './csv.js';
import { json } from './json.js';
import { jsonl } from './jsonl.js';
import { sniffFormat } from './registry.js';
import { yoloCls } from './yolo-cls.js';

const { dir, file: write } = scratchFolder('autolabel-formats-');

describe('csv', () => {
  it('reads users’ CSVs: delimiter sniffed, BOM and CRLF, other columns noted, names by common headers', async () => {
    const semicolons = write('s.csv', '\ufeffFilename;Class;Owner;Notes\r\na.jpg;cat;me;x\r\n"b;c.jpg";dog;you;\r\n');
    const result = await readSource(csv, semicolons);
    expect(result.entries).toEqual([
      { image: { path: 'a.jpg' }, labels: ['cat'], provenance: null },
      { image: { path: 'b;c.jpg' }, labels: ['dog'], provenance: null },
    ]);
    expect(result.wheres).toEqual([`${semicolons}: line 2`, `${semicolons}: line 3`]);
    expect(result.notes).toEqual([
      `${semicolons}: columns "Owner", "Notes" not used`,
      `${semicolons}: read with ";" as the delimiter`,
    ]);
    const tabs = write('t.tsv', 'path\tlabel\nx.png\tbird\n');
    expect((await readSource(csv, tabs)).entries).toEqual([
      { image: { path: 'x.png' }, labels: ['bird'], provenance: null },
    ]);
  });

  it('takes the columns it is told', async () => {
    const file = write('m.csv', 'id,file,species,label\n1,a.jpg,cat,ignored\n');
    expect((await readSource(csv, file, { imageColumn: 'FILE', labelColumn: 'species' })).entries).toEqual([
      { image: { path: 'a.jpg' }, labels: ['cat'], provenance: null },
    ]);
    await expect(readSource(csv, file, { labelColumn: 'kind' })).rejects.toThrow(
      /m\.csv: line 1: no column "kind" for the label \(columns: id, file, species, label\)/,
    );
    await expect(readSource(csv, write('n.csv', 'id,what\n1,a\n'))).rejects.toThrow(
      /line 1: the header must name the columns image and label .*; it has id, what/,
    );
  });

  it("reads Autolabel's own export: people's labels with their provenance, accepted ones, no suggestions", async () => {
    const file = write(
      'e.csv',
      [
        'image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit',
        "'=1+1.jpg,cat,labeled,,next,uncertain,,,",
        'b.jpg,dog,accepted,0.91,,,,,',
        'c.jpg,dog,auto,0.97,,,cat,0.02,3',
        'd.jpg,,unlabeled,,,,,,',
        'e.jpg,cat,labeled,,import,chosen,,,',
      ].join('\n'),
    );
    expect((await readSource(csv, file)).entries).toEqual([
      { image: { path: '=1+1.jpg' }, labels: ['cat'], provenance: 'next: uncertain' },
      { image: { path: 'b.jpg' }, labels: ['dog'], accepted: true, confidence: 0.91 },
      { image: { path: 'c.jpg' }, labels: [] },
      { image: { path: 'd.jpg' }, labels: [] },
      { image: { path: 'e.jpg' }, labels: ['cat'], provenance: 'chosen' },
    ]);
    expect(
      (await readSource(csv, write('v.csv', 'image,suggested,confidence,label,check\na.jpg,cat,0.9,,1\n'))).checklist,
    ).toBe(true);
  });

  it.each([
    ['an empty file', '', /line 1: empty file/],
    ['a short row', 'image,label\na.jpg,cat\nb.jpg\n', /line 3: 1 fields, but the header has 2/],
    ['a quote never closed', 'image,label\na.jpg,"cat\n', /line 2: a quoted field is never closed/],
  ])('refuses %s, naming the line', async (_, text, message) => {
    await expect(readSource(csv, write('bad.csv', text))).rejects.toThrow(message);
  });
});

describe('json and jsonl', () => {
  it('name the file, the entry and the field of what is wrong', async () => {
    await expect(
      readSource(json, write('a.json', '{"images": [{"image": "a.jpg", "label": "x"}, {"image": 3}]}')),
    ).rejects.toThrow(/a\.json: images\[1\]: image: must be a string naming the image/);
    await expect(
      readSource(json, write('b.json', '{"images": [{"image": "a.jpg", "label": "x", "confidence": 7}]}')),
    ).rejects.toThrow(/b\.json: images\[0\]: confidence: must be a number from 0 to 1/);
    await expect(readSource(json, write('c.json', '[1, 2]'))).rejects.toThrow(
      /c\.json: .*expected object, received array \(expected Autolabel's JSON export/,
    );
    await expect(readSource(json, write('d.json', '{nope'))).rejects.toThrow(/d\.json: not valid JSON/);
    await expect(
      readSource(
        jsonl,
        write('e.jsonl', '{"image": "a.jpg", "label": "x"}\n\n{"image": "b.jpg", "status": "maybe"}\n'),
      ),
    ).rejects.toThrow(/e\.jsonl: line 3: status: "maybe" is not a status/);
    await expect(readSource(jsonl, write('f.jsonl', '{"image": "a.jpg"}\n{oops\n'))).rejects.toThrow(
      /f\.jsonl: line 2: not valid JSON/,
    );
  });

  it('jsonl reads several labels, content hashes, and keys it does not know', async () => {
    const file = write(
      'g.jsonl',
      '{"image": "a.jpg", "labels": ["cat", "dog"], "contentHash": "abc", "extra": {"kept": true}}\r\n{"image": "b.jpg", "label": null}',
    );
    expect((await readSource(jsonl, file)).entries).toEqual([
      { image: { path: 'a.jpg', contentHash: 'abc' }, labels: ['cat', 'dog'], provenance: null },
      { image: { path: 'b.jpg' }, labels: [] },
    ]);
  });
});

describe('sniffing the format', () => {
  it('by content first, then by name, and refuses to guess', async () => {
    const by = async (name: string, text: string) => (await sniffFormat(write(name, text))).name;
    expect(await by('labels.csv', 'image,label\n')).toBe('csv');
    expect(await by('labels.txt', 'filename;class\n')).toBe('csv');
    expect(await by('out.json', '{\n  "version": 1,\n  "classes": [],\n  "images": []\n}')).toBe('json');
    expect(await by('out.json', '{"image": "a.jpg", "label": "x"}\n{"image": "b.jpg", "label": "y"}\n')).toBe('jsonl');
    expect(await by('out.ndjson', '')).toBe('jsonl');
    await expect(by('mystery.bin', 'hello')).rejects.toThrow(/mystery\.bin: cannot tell its format; name it/);
    const yolo = join(dir(), 'yolo');
    mkdirSync(join(yolo, 'train', 'cat'), { recursive: true });
    mkdirSync(join(yolo, 'val', 'cat'), { recursive: true });
    writeFileSync(join(yolo, 'data.yaml'), 'names: [cat]');
    expect((await sniffFormat(yolo)).name).toBe('yolo-cls');
    expect((await sniffFormat(join(yolo, 'train'))).name).toBe('imagefolder');
    await expect(sniffFormat(join(dir(), 'absent.csv'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('yolo-cls notes folders that are not splits', async () => {
    const root = join(dir(), 'yolo2');
    mkdirSync(join(root, 'train', 'cat'), { recursive: true });
    mkdirSync(join(root, 'runs'), { recursive: true });
    writeFileSync(join(root, 'train', 'cat', 'a.jpg'), 'x');
    const result = await readSource(yoloCls, root);
    expect(result.entries).toEqual([
      { image: { path: 'a.jpg', file: join(root, 'train', 'cat', 'a.jpg') }, labels: ['cat'] },
    ]);
    expect(result.notes).toEqual([`${root}: "runs" not read (not a split: train, val, test)`]);
  });
});
