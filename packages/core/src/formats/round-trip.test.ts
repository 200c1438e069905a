import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import type { ImageId } from '../domain/index.js';
import { storeOf } from '../workspace/workspace.js';
import { initWorkspace, type Workspace } from '../workspace/workspace.js';
import { FORMATS } from './registry.js';
import { provenanceOf } from './rows.js';

// Names that break naive path, CSV, URL and spreadsheet handling, all legal on Linux.
const HOSTILE_FILES = [
  ' lead space.png',
  'ünïcødé 名前.png',
  'v1.2.final.png',
  'sub dir/#hash.png',
  'comma,name.png',
  '=1+1.png',
  'per%20cent.png',
  'quote"mark.png',
  'semi;colon.png',
];
const HOSTILE_CLASSES = ['big dog', 'ünï 猫', 'v1.2', '#tag', 'dog, big', '=SUM(A1)', 'quote"d', 'trailing.dot.'];

let dir: string;
let images: string;
const paths: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-round-trip-'));
  images = join(dir, 'images');
  paths.push(...HOSTILE_FILES);
  for (let i = 0; paths.length < 330; i++) paths.push(`img/${String(i).padStart(3, '0')}.png`);
  for (const [i, path] of paths.entries()) {
    await writeImage(join(images, path), 'png', { width: 8, height: 8, noise: 60, seed: i });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const classesFor = (count: number): string[] =>
  count <= HOSTILE_CLASSES.length
    ? HOSTILE_CLASSES.slice(0, count)
    : [...HOSTILE_CLASSES, ...Array.from({ length: count - HOSTILE_CLASSES.length }, (_, i) => `class ${i}`)];

let workspaces = 0;
async function workspace(): Promise<Workspace> {
  const ws = await initWorkspace({ images, workspace: join(dir, `ws${workspaces++}`) });
  await ws.scan();
  return ws;
}

/**
 * A workspace whose images carry every kind of label: each image has a suggestion (some certified),
 * then people's labels chosen by hand, picked by `next`, imported, answering random checks, and
 * accepted suggestions; the rest keep their suggestions.
 */
async function source(classCount: number): Promise<Workspace> {
  const ws = await workspace();
  if (classCount === 0) return ws;
  const classes = classesFor(classCount);
  const store = storeOf(ws);
  const ids = await Promise.all(paths.map(async (p) => (await store.findImageByPath(p))!.id));
  const fitId = await store.saveFit(
    { modelId: 'm', classes, labels: 0, summary: {}, head: Uint8Array.of(0) },
    ids.map((imageId, i) => ({
      imageId,
      label: classes[i % classes.length]!,
      confidence: 0.5 + ((i * 37) % 50) / 100 + 0.00123,
      runnerUp: classes.length > 1 ? classes[(i + 1) % classes.length]! : null,
      runnerUpConfidence: classes.length > 1 ? 0.1 : null,
      status: i % 3 === 0 ? ('auto' as const) : ('suggested' as const),
    })),
  );
  const byRole = (role: number): ImageId[] => ids.filter((_, i) => i % 6 === role);
  await store.recordPicks(byRole(1).map((imageId) => ({ imageId, strategy: 'uncertain' })));
  const label = (imageId: ImageId): string => classes[(ids.indexOf(imageId) + 2) % classes.length]!;
  // Role 3: random checks, answered (origin verify, with the draw).
  await store.saveCheckDraw(
    { fitId, targetPrecision: 0.95, seed: 1, strata: [] },
    byRole(3).map((imageId) => ({ imageId, stratum: 0, suggested: classes[0]!, confidence: 0.9 })),
  );
  await ws.labels.set([...byRole(0), ...byRole(1), ...byRole(3)].map((image) => ({ image, label: label(image) })));
  await store.setLabels(byRole(2).map((imageId) => ({ imageId, label: label(imageId), source: 'import' as const })));
  await store.acceptSuggestions(byRole(4));
  return ws;
}

interface Seen {
  readonly label: string | null;
  readonly status: string;
  readonly confidence: number | null;
  readonly origin: string | null;
  readonly originDetail: string | null;
}

async function seen(ws: Workspace): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  for await (const r of storeOf(ws).exportRecords()) {
    const status =
      r.source === 'accepted' ? 'accepted' : r.source !== null ? 'labeled' : (r.suggestionStatus ?? 'unlabeled');
    out.set(r.path, {
      label: r.label,
      status,
      confidence: r.confidence,
      origin: r.origin,
      originDetail: r.originDetail,
    });
  }
  return out;
}

/** What a fresh workspace should hold after importing `format`'s export of `before`. */
function expected(before: Map<string, Seen>, format: string): Map<string, Partial<Seen>> {
  const out = new Map<string, Partial<Seen>>();
  // Folders and lists (imagenet-txt) carry a class and nothing more.
  const folder = format === 'imagefolder' || format === 'yolo-cls' || format === 'imagenet-txt';
  for (const [path, s] of before) {
    if (folder) {
      // Folders carry the class of what a person labelled, accepted or the model certified, nothing else.
      if (s.status === 'labeled' || s.status === 'accepted' || s.status === 'auto') {
        out.set(path, { label: s.label, status: 'labeled', origin: 'import', originDetail: null, confidence: null });
      }
    } else if (s.status === 'labeled') {
      out.set(path, {
        label: s.label,
        status: 'labeled',
        origin: 'import',
        originDetail: provenanceOf(s.origin, s.originDetail),
        confidence: null,
      });
    } else if (s.status === 'accepted') {
      // csv and json round confidences to 4 decimals; jsonl and the others keep them exact.
      const exact = ['jsonl', 'coco', 'label-studio', 'cvat'].includes(format);
      const confidence = exact ? s.confidence : Number(s.confidence!.toFixed(4));
      out.set(path, { label: s.label, status: 'accepted', origin: null, confidence });
    }
  }
  return out;
}

const CASES = [
  ['csv', 'out.csv', {}],
  ['jsonl', 'out.jsonl', {}],
  ['json', 'out.json', {}],
  ['imagefolder', 'folder', {}],
  ['imagefolder', 'copies', { copy: true, split: '0.5,0.5' }],
  ['yolo-cls', 'yolo', {}],
  ['imagenet-txt', 'imagenet', {}],
  ['coco', 'coco.json', {}],
  ['label-studio', 'label-studio.json', {}],
  ['cvat', 'cvat.xml', {}],
] as const;

it('has a case for every format that is both read and written', () => {
  const both = FORMATS.filter((f) => 'read' in f && 'writer' in f).map((f) => f.name);
  expect([...new Set(CASES.map(([format]) => format))].sort()).toEqual([...both].sort());
});

describe.each([0, 1, 300])('export then import, %i classes', (classCount) => {
  let before: Map<string, Seen>;
  let from: Workspace;
  beforeAll(async () => {
    from = await source(classCount);
    before = await seen(from);
    const origins = new Set([...before.values()].map((s) => s.origin));
    expect(origins).toEqual(new Set(classCount === 0 ? [null] : ['chosen', 'import', 'next', 'verify', null]));
  });
  afterAll(async () => from.close());

  it.each(CASES)('%s (%s) keeps labels, statuses, confidences and provenance', async (format, name, extra) => {
    const out = join(dir, `${classCount}-${name}`);
    const exported = await from.export({ format, out, ...extra });
    const into = await workspace();
    try {
      const result = await into.import(out);
      // A split ImageFolder is the YOLO classification layout, and is read as one.
      expect(result.format).toBe('split' in extra ? 'yolo-cls' : format);
      const after = await seen(into);
      const want = expected(before, format);
      expect(result.imported).toBe(want.size);
      for (const [path, s] of after) {
        if (want.has(path)) expect({ path, ...s }).toEqual({ path, ...s, ...want.get(path) });
        else expect({ path, status: s.status }).toEqual({ path, status: 'unlabeled' });
      }
      if (['json', 'coco', 'cvat', 'imagenet-txt'].includes(format)) {
        // The class list travels too, classes without labels included.
        expect((await into.classes.list()).map((c) => c.name)).toEqual((await from.classes.list()).map((c) => c.name));
      }
      if (exported.splits) expect(Object.values(exported.splits).reduce((a, b) => a + b, 0)).toBe(want.size);
    } finally {
      await into.close();
    }
  });
});
