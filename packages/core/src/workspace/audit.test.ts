import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, writeImage } from '@autolabel/test-utils';
import type { DuplicateFinding, LabelErrorFinding, OutlierFinding } from '../http/api.js';
import { initWorkspace, storeOf, type Workspace } from './workspace.js';

const CLASSES = ['red', 'green', 'blue'] as const;
const PER_CLASS = 15;
const DIM = 16;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-audit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A workspace of real image files with embeddings a model would give: three tight clusters of
 * classes, copies of one picture (resized, re-encoded, cropped 5%) at its own vector, and one image
 * off every cluster. Labels: every image of the three classes, `red/r03` labelled "blue" by mistake.
 */
async function auditWorkspace(name: string, options: { labels: boolean }): Promise<Workspace> {
  const images = join(dir, name, 'photos');
  const colours: Record<string, [number, number, number]> = {
    red: [200, 30, 30],
    green: [30, 200, 30],
    blue: [30, 30, 200],
  };
  for (const cls of CLASSES) {
    for (let i = 0; i < PER_CLASS; i++) {
      const file = join(images, cls, `${cls[0]}${String(i).padStart(2, '0')}.png`);
      await writeImage(file, 'png', { color: colours[cls], noise: 120, seed: CLASSES.indexOf(cls) * 100 + i });
    }
  }
  const original = await writeImage(join(images, 'red', 'original.png'), 'png', {
    width: 120,
    height: 90,
    color: [220, 60, 60],
    pattern: 'checker',
    noise: 40,
    seed: 999,
  });
  await sharp(original)
    .resize(80, 60)
    .png()
    .toFile(join(images, 'red', 'copy-resized.png'));
  await sharp(original)
    .jpeg({ quality: 45 })
    .toFile(join(images, 'red', 'copy-reencoded.jpg'));
  await sharp(original)
    .extract({ left: 3, top: 2, width: 114, height: 86 })
    .png()
    .toFile(join(images, 'copy-cropped.png'));
  await writeImage(join(images, 'stray.png'), 'png', { color: [240, 240, 20], pattern: 'stripes', noise: 60, seed: 5 });
  await writeImage(join(images, 'broken.jpg'), 'truncated-jpeg');

  const ws = await initWorkspace({ images, workspace: join(dir, name, 'ws'), model: 'builtin:centernet' });
  await ws.scan();
  const store = storeOf(ws);
  await store.registerModel({ id: 'test-model', spec: ws.modelSpec, dim: DIM });
  const random = seededRandom(3);
  const centres = CLASSES.map(() => Float32Array.from({ length: DIM }, () => random() * 4));
  const near = (centre: Float32Array, spread: number) =>
    Float32Array.from(centre, (x) => Math.max(0, x + spread * (random() - 0.5)));
  const originalVector = near(centres[0]!, 3);
  const vectors = [];
  for (const image of await store.listImages()) {
    if (image.skipReason !== null || image.path === 'broken.jpg') continue;
    const cls = CLASSES.find((c) => image.path.startsWith(`${c}/`));
    let vector: Float32Array;
    if (image.path.includes('original') || image.path.includes('copy-')) vector = near(originalVector, 0.02);
    else if (image.path === 'stray.png') vector = Float32Array.from({ length: DIM }, (_, j) => (j === 0 ? 30 : 0));
    else vector = near(centres[CLASSES.indexOf(cls!)]!, 3);
    vectors.push({ contentHash: image.contentHash, vector });
  }
  await store.putEmbeddings({ modelId: 'test-model', dtype: 'float32', dim: DIM, vectors, failures: [] });
  await store.putEmbeddings({
    modelId: 'test-model',
    dtype: 'float32',
    dim: DIM,
    vectors: [],
    failures: (await store.listImages())
      .filter((image) => image.path === 'broken.jpg')
      .map((image) => ({
        id: image.id,
        contentHash: image.contentHash,
        reason: 'corrupt' as const,
        detail: 'truncated',
      })),
  });
  if (options.labels) {
    const changes = [];
    for (const cls of CLASSES)
      for (let i = 0; i < PER_CLASS; i++) {
        const path = `${cls}/${cls[0]}${String(i).padStart(2, '0')}.png`;
        changes.push({ image: path, label: path === 'red/r03.png' ? 'blue' : cls });
      }
    await ws.labels.set(changes);
  }
  return ws;
}

describe('ws.audit', () => {
  it('finds a flipped label, a group of copies and an outlier; dismissals last until the data changes', async () => {
    const ws = await auditWorkspace('full', { labels: true });
    try {
      const progress = new Set<string>();
      const { findings, notes } = await ws.audit.run({ onProgress: (p) => progress.add(p.phase) });
      expect(notes).toEqual([]);
      expect(progress).toContain('perceptual hashes');

      const errors = findings.filter((f): f is LabelErrorFinding => f.kind === 'label-error');
      expect(errors[0]).toMatchObject({ images: ['red/r03.png'], givenLabel: 'blue', likelyLabel: 'red' });
      expect(errors[0]!.neighbours.filter((n) => n.label === 'red').length).toBeGreaterThanOrEqual(4);
      expect(errors[0]!.reason).toMatch(/labelled "blue"/);

      const groups = findings.filter((f): f is DuplicateFinding => f.kind === 'duplicate');
      expect(groups).toHaveLength(1);
      expect([...groups[0]!.images].sort()).toEqual([
        'copy-cropped.png',
        'red/copy-reencoded.jpg',
        'red/copy-resized.png',
        'red/original.png',
      ]);
      expect(groups[0]!.mixedLabels).toBe(false);

      const outliers = findings.filter((f): f is OutlierFinding => f.kind === 'outlier');
      expect(outliers[0]).toMatchObject({ images: ['broken.jpg'], decodeError: expect.stringMatching(/corrupt/) });
      expect(outliers[1]!.images).toEqual(['stray.png']);
      expect(outliers[1]!.distanceRatio).toBeGreaterThan(2);

      // Persisted: listed and counted without recomputing.
      const listed = await ws.audit.findings();
      expect(listed.counts).toEqual({ 'label-error': errors.length, duplicate: 1, outlier: outliers.length });
      expect(listed.findings.map((f) => f.id)).toEqual(
        [...findings].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).map((f) => f.id),
      );

      // Dismissed: gone from the list, and from the next audit's, while the data stays as it is.
      await ws.audit.resolve(groups[0]!.id, 'dismiss');
      expect((await ws.audit.findings({ kind: 'duplicate' })).findings).toEqual([]);
      expect((await ws.audit.run({ kinds: ['duplicate'] })).findings).toEqual([]);
      expect((await ws.audit.findings({ kind: 'duplicate', includeDismissed: true })).findings).toMatchObject([
        { id: groups[0]!.id, dismissed: true },
      ]);
      // A label given to one copy is a change of data: the group is a new finding, open again.
      await ws.labels.set([
        { image: 'copy-cropped.png', label: 'green' },
        { image: 'red/original.png', label: 'red' },
      ]);
      const again = (await ws.audit.run({ kinds: ['duplicate'] })).findings as DuplicateFinding[];
      expect(again).toHaveLength(1);
      expect(again[0]).toMatchObject({ dismissed: false, mixedLabels: true });
      expect(again[0]!.id).not.toBe(groups[0]!.id);

      // Relabelling the flipped image settles its finding at once.
      await ws.labels.set([{ image: 'red/r03.png', label: 'red' }]);
      expect((await ws.audit.findings({ kind: 'label-error' })).findings.map((f) => f.images[0])).not.toContain(
        'red/r03.png',
      );
    } finally {
      await ws.close();
    }
  });

  it('an excluded image leaves learning and export, and comes back when included', async () => {
    const ws = await auditWorkspace('exclude', { labels: true });
    try {
      await ws.audit.run({ kinds: ['outlier'] });
      const stray = (await ws.audit.findings({ kind: 'outlier' })).findings.find((f) => f.images[0] === 'stray.png')!;
      const resolved = await ws.audit.resolve(stray.id, 'exclude');
      expect(resolved.finding.excluded).toEqual(stray.imageIds);
      expect(resolved.excluded).toBe(1);
      expect(resolved.counts.outlier).toBe((await ws.audit.findings()).counts.outlier);
      expect((await ws.audit.findings({ kind: 'outlier' })).findings.map((f) => f.id)).not.toContain(stray.id);

      await ws.suggest();
      expect((await ws.suggestions.list()).map((s) => s.path)).not.toContain('stray.png');
      const csv = join(dir, 'exclude', 'labels.csv');
      await ws.export({ format: 'csv', out: csv });
      expect(readFileSync(csv, 'utf8')).not.toMatch(/stray\.png/);

      await ws.audit.resolve(stray.id, 'include');
      await ws.suggest();
      expect((await ws.suggestions.list()).map((s) => s.path)).toContain('stray.png');
      await expect(ws.audit.resolve('no-such-finding', 'dismiss')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    } finally {
      await ws.close();
    }
  });

  it('an export split keeps each duplicate group on one side', async () => {
    const ws = await auditWorkspace('split', { labels: true });
    try {
      const copies = ['red/original.png', 'red/copy-resized.png', 'red/copy-reencoded.jpg', 'copy-cropped.png'];
      await ws.labels.set(copies.map((image) => ({ image, label: 'red' })));
      await ws.audit.run({ kinds: ['duplicate'] });
      const sides = new Set<string>();
      for (let seed = 0; seed < 6; seed++) {
        const out = join(dir, 'split', `export-${seed}`);
        await ws.export({ format: 'imagefolder', out, split: '0.5,0.5', seed });
        const placed = copies.map((path) =>
          ['train', 'val'].filter((side) => existsSync(join(out, side, 'red', ...path.split('/')))),
        );
        // Each copy in exactly one split, all in the same one.
        expect(placed.every((p) => p.length === 1)).toBe(true);
        expect(new Set(placed.map((p) => p[0])).size).toBe(1);
        sides.add(placed[0]![0]!);
      }
      // The group is not pinned to one side: it is drawn like any image.
      expect(sides.size).toBe(2);
    } finally {
      await ws.close();
    }
  });

  it('without embeddings, says to embed, and still groups copies by their hashes', async () => {
    const images = join(dir, 'unembedded', 'photos');
    const original = await writeImage(join(images, 'original.png'), 'png', {
      width: 120,
      height: 90,
      pattern: 'checker',
      noise: 40,
      seed: 7,
    });
    await sharp(original).resize(80, 60).png().toFile(join(images, 'copy.png'));
    await writeImage(join(images, 'other.png'), 'png', {
      pattern: 'stripes',
      color: [20, 200, 90],
      noise: 40,
      seed: 8,
    });
    const ws = await initWorkspace({ images, workspace: join(dir, 'unembedded', 'ws'), model: 'builtin:centernet' });
    try {
      await ws.scan();
      const { findings, notes } = await ws.audit.run();
      expect(notes).toEqual([
        expect.stringMatching(/no embeddings for model .* yet \(run autolabel embed\)/),
        expect.stringMatching(/label errors were not audited/),
      ]);
      expect(findings.map((f) => [f.kind, [...f.images].sort()])).toEqual([
        ['duplicate', ['copy.png', 'original.png']],
      ]);
    } finally {
      await ws.close();
    }
  });

  it('without labels, says what the label-error audit needs and still finds duplicates and outliers', async () => {
    const ws = await auditWorkspace('unlabelled', { labels: false });
    try {
      const { findings, notes } = await ws.audit.run();
      expect(notes).toEqual([
        expect.stringMatching(/at least 2 labelled classes with 5 labels each; label some images first/),
      ]);
      expect(findings.filter((f) => f.kind === 'duplicate')).toHaveLength(1);
      expect(findings.filter((f) => f.kind === 'outlier').map((f) => f.images[0])).toContain('stray.png');
      expect(findings.filter((f) => f.kind === 'label-error')).toEqual([]);

      await ws.labels.set(Array.from({ length: 6 }, (_, i) => ({ image: `red/r0${i}.png`, label: 'red' })));
      expect((await ws.audit.run({ kinds: ['label-error'] })).notes).toEqual([
        expect.stringMatching(/all labels are in one class \("red"\)/),
      ]);
    } finally {
      await ws.close();
    }
  });
});
