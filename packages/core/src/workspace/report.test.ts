/**
 * @module The workspace report as a reader opens it: the model named, example images of every class
 * inline, the labels-over-time axis in a unit that suits the span, and the confusion matrix of the
 * random checks (or a line saying there are none yet).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import type { Workspace } from './workspace.js';
import { initWorkspace } from './workspace.js';

const COLORS = { red: [200, 40, 40], green: [40, 160, 60], blue: [40, 80, 210] } as const;
const PER_CLASS = 8;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-report-'));
let ws: Workspace;
let modelSpec: string;

const truthOf = (path: string): string => path.split('-')[0]!;

async function report(): Promise<string> {
  return readFileSync(await ws.report(join(dir, 'report')), 'utf8');
}

/** The HTML of the section whose heading starts with `title`. */
function section(html: string, title: string): string {
  const found = [...html.matchAll(/<section id="[^"]+"><h2>([^<]*)<\/h2>(.*?)<\/section>/gs)].find((m) =>
    m[1]!.startsWith(title),
  );
  if (!found) throw new Error(`no section "${title}"`);
  return found[2]!;
}

/** A table's cells as text, header row first. */
function tableCells(html: string): string[][] {
  const table = /<table>(.*?)<\/table>/s.exec(html)?.[1] ?? '';
  return [...table.matchAll(/<tr>(.*?)<\/tr>/gs)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map((cell) => cell[1]!.replaceAll('&amp;', '&')),
  );
}

beforeAll(async () => {
  let seed = 0;
  for (const [name, color] of Object.entries(COLORS)) {
    for (let i = 0; i < PER_CLASS; i++) {
      await writeImage(join(dir, 'photos', `${name}-${i}.png`), 'png', {
        color: [...color],
        noise: 40,
        seed: seed++,
        width: 160,
        height: 120,
      });
    }
  }
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 24 });
  modelSpec = `onnx:${model.dir}`;
  ws = await initWorkspace({ images: join(dir, 'photos'), workspace: join(dir, 'ws'), model: modelSpec });
  await ws.scan();
  await ws.embed();
  const labelled = Object.keys(COLORS).flatMap((name) => [0, 1].map((i) => `${name}-${i}.png`));
  await ws.labels.set(labelled.map((image) => ({ image, label: truthOf(image) })));
  // Five labels spread over 40 minutes, as a labelling session would be.
  const db = new Database(join(ws.dir, 'autolabel.db'));
  try {
    const ids = db.prepare('SELECT image_id FROM labels ORDER BY image_id').pluck().all() as number[];
    const set = db.prepare('UPDATE labels SET created_at = ? WHERE image_id = ?');
    ids.forEach((id, i) => set.run(new Date(Date.UTC(2024, 0, 1, 9, 0) + (i * 40 * 60_000) / 5).toISOString(), id));
  } finally {
    db.close();
  }
  await ws.suggest();
}, 120_000);

afterAll(async () => {
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the report', () => {
  it('names the model, shows example images of every class inline, and says there are no random checks yet', async () => {
    const html = await report();
    expect(html).toContain(`<dt>model</dt><dd>${modelSpec}</dd>`);
    const examples = section(html, 'Examples per class');
    for (const name of Object.keys(COLORS)) {
      const group = new RegExp(`<h3>${name}</h3><ul>(.*?)</ul>`, 's').exec(examples)?.[1] ?? '';
      const images = [...group.matchAll(/<img src="(data:image\/jpeg;base64,[^"]+)" alt="([^"]+)"/g)];
      expect(images, name).toHaveLength(4);
      // People's labels first, then the most confident suggestions; each of its class here.
      expect(images.slice(0, 2).map((m) => m[2])).toEqual([`${name}-0.png`, `${name}-1.png`]);
      expect([...group.matchAll(/<figcaption>([^<]*)</g)].map((m) => m[1])).toEqual([
        'labelled',
        'labelled',
        expect.stringMatching(/^suggested \d+%$/),
        expect.stringMatching(/^suggested \d+%$/),
      ]);
      // Small JPEG thumbnails, not the photos themselves.
      const thumbnail = await sharp(Buffer.from(images[0]![1]!.split(',')[1]!, 'base64')).metadata();
      expect(thumbnail.format).toBe('jpeg');
      expect(Math.max(thumbnail.width!, thumbnail.height!)).toBe(96);
    }
    // Self-contained: every image inline, nothing fetched.
    expect([...html.matchAll(/src="([^"]*)"/g)].every((m) => m[1]!.startsWith('data:image/jpeg;base64,'))).toBe(true);
    expect(html).toContain("default-src 'none'");
    expect(section(html, 'Random checks')).toMatch(/No random checks yet/);
    // Five labels over 40 minutes count in minutes.
    expect(section(html, 'Labels over time')).toContain('minutes since the first label');
  });

  it('builds the confusion matrix of the answered random checks, in raw counts', async () => {
    const draw = await ws.checks.draw({ count: 9, seed: 3 });
    expect(draw.checks.length).toBeGreaterThanOrEqual(6);
    const [skipped, wrong, ...rest] = draw.checks;
    await ws.checks.skip(skipped!.id);
    // One answer disagrees with its suggestion on purpose, so the matrix has a cell off the diagonal.
    const other = Object.keys(COLORS).find((name) => name !== wrong!.suggested)!;
    const answers = new Map<number, string>([[wrong!.id, other]]);
    for (const check of rest.slice(0, 4)) answers.set(check.id, truthOf(check.path));
    for (const [id, answer] of answers) await ws.checks.answer(id, answer);

    const html = await report();
    const matrix = section(html, 'Random checks');
    expect(matrix).toMatch(/Raw counts \(not weighted/);
    expect(matrix).toMatch(/of the 5 answered random checks from 1 draw; 1 skipped check is not counted/);
    const cells = tableCells(matrix);
    const answerColumns = cells[0]!.slice(1, -1);
    expect(cells[0]!.at(-1)).toBe('total');
    const expected = new Map<string, number>();
    for (const check of draw.checks) {
      const answer = answers.get(check.id);
      if (answer !== undefined)
        expected.set(`${check.suggested}/${answer}`, (expected.get(`${check.suggested}/${answer}`) ?? 0) + 1);
    }
    const shown = new Map<string, number>();
    let total = 0;
    for (const row of cells.slice(1)) {
      answerColumns.forEach((answer, c) => {
        const count = Number(row[c + 1]);
        if (count > 0) shown.set(`${row[0]}/${answer}`, count);
      });
      total += Number(row.at(-1));
    }
    expect(shown).toEqual(expected);
    expect(total).toBe(5);
  });
});
