import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedColourWorkspace, runCli, runCliJson } from './testing/cli.js';

let dir: string;
let truth: Map<string, string>;
const cli = (args: readonly string[]) => runCli(dir, args);
const ok = (args: readonly string[]): string => {
  const result = cli(args);
  if (result.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
};

/** The csv export as rows keyed by image: label, status, confidence, origin (and its detail). */
function rowsOf(text: string): Map<string, { label: string; status: string; confidence: string; origin: string }> {
  const [, ...lines] = text.trim().split('\n');
  return new Map(
    lines.map((line) => {
      const [image, label, status, confidence, origin] = line.split(',');
      return [image!, { label: label!, status: status!, confidence: confidence!, origin: origin! }];
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-formats-cli-'));
  truth = await embeddedColourWorkspace(dir, 6);
  // Two labels per class by hand, suggestions for the rest, the confident ones accepted.
  for (const [path, label] of [...truth].filter(([p]) => /0[01]\.png$/.test(p))) ok(['label', path, label]);
  ok(['suggest', '-q']);
  ok(['accept', '--min-confidence', '0.5']);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('import and export from the command line', () => {
  it('imports a CSV as people write them: semicolons, absolute paths, extra columns, named columns', () => {
    const photos = join(dir, 'photos');
    writeFileSync(
      join(dir, 'theirs.csv'),
      `\ufeffFile;Species;Notes\r\n${join(photos, 'img_am02.png')};amber;a note\r\nimg_az02.png;azure;\r\n`,
    );
    const result = cli(['import', 'theirs.csv', '--image-column', 'file', '--label-column', 'species']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Imported 2 labels in 2 classes$/m);
    expect(result.stderr).toMatch(/^note: .*theirs\.csv: column "Notes" not used$/m);
    expect(result.stderr).toMatch(/^note: .*read with ";" as the delimiter$/m);
  });

  it('fails naming every unmatched entry, or with --skip-unmatched imports the rest and prints what it skipped', () => {
    writeFileSync(join(dir, 'some.csv'), 'image,label\nimg_mo02.png,moss\nnope.png,moss\nimg_xx.png,moss\n');
    const failed = cli(['import', 'some.csv']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/2 entries name images not in the workspace/);
    expect(failed.stderr).toMatch(/some\.csv: line 3: image "nope\.png" is not in the workspace/);
    expect(failed.stderr).toMatch(/some\.csv: line 4: image "img_xx\.png" is not in the workspace/);
    const skipped = cli(['import', 'some.csv', '--skip-unmatched']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/^Imported 1 label in 1 class$/m);
    expect(skipped.stdout).toMatch(/^Skipped 2 entries:\n {2}.*some\.csv: line 3: nope\.png: not in the workspace$/m);

    writeFileSync(join(dir, 'multi.csv'), 'image,label\nimg_mo03.png,moss\nimg_mo03.png,amber\n');
    const multi = cli(['import', 'multi.csv']);
    expect(multi.code).toBe(4);
    expect(multi.stderr).toMatch(/image "img_mo03\.png" has 2 labels: "moss" .*line 2\), "amber" .*line 3\)/);
    expect(cli(['import', 'multi.csv', '--multi', 'first']).stdout).toMatch(/kept "moss"/);
  });

  it.each([
    ['csv', 'all.csv'],
    ['jsonl', 'all.jsonl'],
    ['json', 'all.json'],
  ])('round-trips %s into a fresh workspace over the same photos: labels, accepted, confidences', (format, out) => {
    ok(['export', '--format', format, '--out', out]);
    const fresh = join(dir, `fresh-${format}`);
    ok(['init', '--images', 'photos', '--workspace', fresh]);
    ok(['-w', fresh, 'scan', '-q']);
    const imported = runCliJson<{ imported: number; accepted: number; format: string }>(dir, [
      '-w',
      fresh,
      'import',
      out,
    ]);
    expect(imported.format).toBe(format);
    const before = rowsOf(ok(['export']));
    const after = rowsOf(ok(['-w', fresh, 'export']));
    const kept = [...before].filter(([, r]) => r.status === 'labeled' || r.status === 'accepted');
    expect(imported.imported).toBe(kept.length);
    expect(imported.accepted).toBe(kept.filter(([, r]) => r.status === 'accepted').length);
    expect(imported.accepted).toBeGreaterThan(0);
    for (const [image, row] of kept) {
      expect({ image, ...after.get(image) }).toEqual({
        image,
        label: row.label,
        status: row.status,
        confidence: row.confidence,
        origin: row.status === 'labeled' ? 'import' : '',
      });
    }
    // Suggestions travel out for other tools, never back in.
    expect([...after.values()].filter((r) => r.status === 'suggested' || r.status === 'auto')).toEqual([]);
  });

  it("label-studio --predictions imports a model's pre-annotations as suggestions with their score, never as labels", () => {
    const images = [...truth.keys()].slice(0, 2);
    const tasks = images.map((image, i) => ({
      data: { image: `/data/local-files/?d=${image}` },
      annotations: [],
      predictions: [
        {
          model_version: 'their-model',
          score: 0.8 + i / 10,
          result: [{ type: 'choices', value: { choices: ['moss'] } }],
        },
      ],
    }));
    writeFileSync(join(dir, 'tasks.json'), JSON.stringify(tasks));
    const fresh = join(dir, 'fresh-predictions');
    ok(['init', '--images', 'photos', '--workspace', fresh]);
    ok(['-w', fresh, 'scan', '-q']);
    const plain = cli(['-w', fresh, 'import', 'tasks.json']);
    expect(plain.stderr).toMatch(
      /2 predictions \(not labels; imported as suggestions when predictions are asked for\)/,
    );
    const result = cli(['-w', fresh, 'import', 'tasks.json', '--predictions']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Imported 2 predictions as suggestions \(fit \d+\), their scores as confidences/m);
    const after = rowsOf(ok(['-w', fresh, 'export']));
    expect(images.map((image) => after.get(image))).toEqual([
      { label: 'moss', status: 'suggested', confidence: '0.8', origin: '' },
      { label: 'moss', status: 'suggested', confidence: '0.9', origin: '' },
    ]);
  });

  it('folder formats hard-link the images, or make symbolic links with --symlink', () => {
    ok(['export', '--format', 'imagefolder', '--out', 'hard']);
    ok(['export', '--format', 'imagefolder', '--out', 'soft', '--symlink']);
    const first = (root: string): string => {
      const cls = readdirSync(join(dir, root))[0]!;
      return join(dir, root, cls, readdirSync(join(dir, root, cls))[0]!);
    };
    expect(lstatSync(first('hard')).isFile()).toBe(true);
    expect(lstatSync(first('hard')).nlink).toBeGreaterThan(1);
    expect(lstatSync(first('soft')).isSymbolicLink()).toBe(true);
  });

  it('exports to stdout, filtered with --where, the summary on stderr', () => {
    const result = cli(['export', '--where', 'status=accepted label=azure']);
    expect(result.code, result.stderr).toBe(0);
    const rows = rowsOf(result.stdout);
    expect(rows.size).toBeGreaterThan(0);
    for (const row of rows.values()) expect(row).toMatchObject({ status: 'accepted', label: 'azure' });
    expect(result.stderr).toMatch(new RegExp(`^Wrote ${rows.size} images? to stdout`, 'm'));
    const bad = cli(['export', '--where', 'status=maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/where: status: expected any of labeled/);
  });

  it('writes ImageFolder and YOLO classification folders, split and seeded, and reads them back', () => {
    expect(cli(['export', '--format', 'imagefolder']).stderr).toMatch(/--out: the imagefolder format is a folder/);
    const split = runCliJson<{ images: number; splits: Record<string, number> }>(dir, [
      'export',
      '--format',
      'imagefolder',
      '--out',
      'dataset',
      '--split',
      '0.5,0.5',
      '--seed',
      '4',
    ]);
    expect(Object.values(split.splits).reduce((a, b) => a + b, 0)).toBe(split.images);
    expect(readdirSync(join(dir, 'dataset')).sort()).toEqual(['train', 'val']);
    expect(readdirSync(join(dir, 'dataset', 'val')).sort()).toEqual(['amber', 'azure', 'moss']);
    const again = runCliJson<{ splits: Record<string, number> }>(dir, [
      'export',
      '--format',
      'imagefolder',
      '--out',
      'dataset2',
      '--split',
      '0.5,0.5',
      '--seed',
      '4',
    ]);
    expect(readdirSync(join(dir, 'dataset2', 'val', 'moss')).sort()).toEqual(
      readdirSync(join(dir, 'dataset', 'val', 'moss')).sort(),
    );
    expect(again.splits).toEqual(split.splits);

    const yolo = cli(['export', '--format', 'yolo-cls', '--out', 'yolo', '--copy']);
    expect(yolo.code, yolo.stderr).toBe(0);
    expect(yolo.stdout).toMatch(/^Wrote \d+ images to .*yolo \(train \d+, val \d+, test \d+\)/);
    const copied = join(dir, 'yolo', 'train', 'amber');
    expect(lstatSync(join(copied, readdirSync(copied)[0]!)).isFile()).toBe(true);
    const fresh = join(dir, 'fresh-yolo');
    ok(['init', '--images', 'photos', '--workspace', fresh]);
    ok(['-w', fresh, 'scan', '-q']);
    const imported = runCliJson<{ format: string; imported: number }>(dir, ['-w', fresh, 'import', 'yolo']);
    expect(imported).toMatchObject({ format: 'yolo-cls', imported: split.images });
    const labels = rowsOf(ok(['-w', fresh, 'export']));
    for (const [image, row] of rowsOf(ok(['export']))) {
      if (row.status === 'labeled' || row.status === 'accepted' || row.status === 'auto') {
        expect({ image, label: labels.get(image)!.label }).toEqual({ image, label: row.label });
      }
    }
  });

  it('names a missing source and an unknown format', () => {
    const missing = cli(['import', 'nope.csv']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`no such file: ${join(dir, 'nope.csv')}`);
    writeFileSync(join(dir, 'mystery.bin'), 'hello');
    const unknown = cli(['import', 'mystery.bin']);
    expect(unknown.code).toBe(4);
    // It lists every format that can be imported, so the user can name one.
    const named = /cannot tell its format; name it \(formats: ([^)]*)\)/.exec(unknown.stderr)?.[1]?.split(', ');
    expect(named).toEqual(
      expect.arrayContaining(['csv', 'jsonl', 'imagefolder', 'yolo-cls', 'coco', 'label-studio', 'cvat']),
    );
    expect(named).not.toContain('voc'); // written only
    expect(cli(['export', '--format', 'xml']).code).toBe(2);
    expect(readFileSync(join(dir, 'all.csv'), 'utf8')).toMatch(/^image,label,status,confidence,origin,/);
  });
});
