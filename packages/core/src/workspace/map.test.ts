import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, syntheticImage } from '@autolabel/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageId } from '../domain/index.js';
import { initWorkspace, storeOf } from './workspace.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-map-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Four classes of 495 images and one of 20 (1%); 10 labels in each class, the rare one included.
const SIZES = [495, 495, 495, 495, 20];
const RARE = 4;
const DIM = 12;

/**
 * A workspace whose image rows stand for files the map never reads (only their embeddings count):
 * each class's vectors around a direction of its own.
 */
async function mapWorkspace() {
  mkdirSync(join(dir, 'photos'));
  const ws = await initWorkspace({
    images: join(dir, 'photos'),
    workspace: join(dir, 'ws'),
    model: 'builtin:centernet',
  });
  const store = storeOf(ws);
  const truth: number[] = [];
  SIZES.forEach((size, c) => {
    for (let i = 0; i < size; i++) truth.push(c);
  });
  await store.applyScan({
    upserts: truth.map((_, i) => syntheticImage(`img/${String(i).padStart(5, '0')}.jpg`, i)),
    moves: [],
    removals: [],
  });
  await store.registerModel({ id: 'test-model', spec: ws.modelSpec, dim: DIM });
  const random = seededRandom(9);
  const vectors = truth.map((c, i) => ({
    contentHash: `hash-${i}`,
    vector: Float32Array.from({ length: DIM }, (_, j) => (j % SIZES.length === c ? 3 : 0) + random() - 0.5),
  }));
  await store.putEmbeddings({ modelId: 'test-model', dtype: 'float32', dim: DIM, vectors, failures: [] });
  const ids = new Map((await store.listImages()).map((image) => [image.contentHash, image.id]));
  const labels = SIZES.flatMap((_, c) => {
    const rows = truth.flatMap((t, i) => (t === c ? [i] : [])).slice(0, 10);
    return rows.map((i) => ({ image: ids.get(`hash-${i}`)!, label: `class-${c}` }));
  });
  await ws.labels.set(labels);
  return { ws, truth, idOf: (row: number) => ids.get(`hash-${row}`)! as ImageId };
}

describe('ws.mapLayout', () => {
  it("samples every class by its labels, a rare one's too, and lays that class out together", async () => {
    const { ws, truth, idOf } = await mapWorkspace();
    const learner = await ws.openLearner();
    try {
      const { xy, sample } = await ws.mapLayout(learner, { sample: 100 });
      expect(xy).toHaveLength(2 * truth.length);
      expect(sample).toHaveLength(100);
      const rowOf = (i: number) => learner.rowOf(idOf(i))!;
      const rare = truth.flatMap((c, i) => (c === RARE ? [rowOf(i)] : []));
      // A uniform sample of 100 of 2,000 holds one of the 20 on average; by class, at least its floor.
      const rareSampled = [...sample].filter((row) => rare.includes(row)).length;
      expect(rareSampled).toBeGreaterThanOrEqual(5);
      const centres = SIZES.map((_, c) => {
        const rows = truth.flatMap((t, i) => (t === c ? [rowOf(i)] : []));
        return [0, 1].map((axis) => rows.reduce((sum, row) => sum + xy[2 * row + axis]!, 0) / rows.length);
      });
      let home = 0;
      for (const row of rare) {
        const distances = centres.map(([x, y]) => Math.hypot(xy[2 * row]! - x!, xy[2 * row + 1]! - y!));
        if (distances.indexOf(Math.min(...distances)) === RARE) home++;
      }
      expect(home / rare.length).toBeGreaterThan(0.9);
    } finally {
      await learner.close();
      await ws.close();
    }
  });
});
