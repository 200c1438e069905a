// Changing a workspace's model (setModel) and using another for one session (openWorkspace's model option).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWorkspace, openWorkspace } from './workspace.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-model-'));
let first: string;
let second: string;

beforeAll(async () => {
  for (let i = 0; i < 6; i++) {
    await writeImage(join(dir, 'photos', `red${i}.png`), 'png', { color: [200, 30, 30], noise: 40, seed: i });
    await writeImage(join(dir, 'photos', `blue${i}.png`), 'png', { color: [30, 30, 200], noise: 40, seed: 50 + i });
  }
  first = `onnx:${(await writeTinyOnnxModel(join(dir, 'first'), { featureDim: 8 })).dir}`;
  second = `onnx:${(await writeTinyOnnxModel(join(dir, 'second'), { featureDim: 12, seed: 7 })).dir}`;
  const ws = await initWorkspace({ images: join(dir, 'photos'), workspace: join(dir, 'ws'), model: first });
  await ws.scan();
  await ws.embed();
  const labels = [0, 1, 2].flatMap((i) => [
    { image: `red${i}.png`, label: 'red' },
    { image: `blue${i}.png`, label: 'blue' },
  ]);
  await ws.labels.set(labels);
  await ws.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the workspace model', () => {
  it('setModel writes the config; embed adds the new model; the old embeddings stay', async () => {
    const ws = await openWorkspace(join(dir, 'ws'));
    try {
      expect(await ws.setModel(second)).toBe(second);
      expect(ws.modelSpec).toBe(second);
      expect(JSON.parse(readFileSync(join(dir, 'ws', 'autolabel.json'), 'utf8'))).toMatchObject({ model: second });
      await expect(ws.suggest()).rejects.toMatchObject({ code: 'NO_EMBEDDINGS', hint: { action: 'embed' } });
      expect((await ws.embed()).embedded).toBe(12);
      const status = await ws.status();
      expect(status.model).toBe(second);
      expect(status.models.map((m) => [m.spec, m.embedded]).sort()).toEqual([
        [first, 12],
        [second, 12],
      ]);
      expect((await ws.suggest()).suggestions).toBe(6);
    } finally {
      await ws.close();
    }
    // Back to the first: nothing to embed, its embeddings were kept.
    const back = await openWorkspace(join(dir, 'ws'));
    try {
      await back.setModel(first);
      expect((await back.embed()).embedded).toBe(0);
    } finally {
      await back.close();
    }
  });

  it('a session model: suggest, next and status use it, the config keeps the default', async () => {
    const ws = await openWorkspace(join(dir, 'ws'), { model: second });
    try {
      expect(ws.modelSpec).toBe(second);
      expect(ws.config.model).toBe(first);
      expect((await ws.status()).model).toBe(second);
      const fit = await ws.suggest();
      expect(fit.suggestions).toBe(6);
      expect((await ws.next({ count: 3 })).length).toBe(3);
      const learner = await ws.openLearner();
      expect(learner).toBeDefined();
      await learner.close();
    } finally {
      await ws.close();
    }
    // The fit was made with the session's model: for the default one it is out of date.
    const plain = await openWorkspace(join(dir, 'ws'));
    try {
      expect((await plain.status()).fit?.stale).toMatch(/another model/);
    } finally {
      await plain.close();
    }
  });

  it('a session model without embeddings: the hint names it for embed', async () => {
    const ws = await openWorkspace(join(dir, 'ws'), { model: 'hf:tiny/none' });
    try {
      await expect(ws.next()).rejects.toMatchObject({
        code: 'NO_EMBEDDINGS',
        hint: { action: 'embed', model: 'hf:tiny/none' },
      });
    } finally {
      await ws.close();
    }
    await expect(openWorkspace(join(dir, 'ws'), { model: 'torch:x' })).rejects.toMatchObject({
      code: 'MODEL_SPEC_INVALID',
    });
  });
});
