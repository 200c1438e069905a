// Zero-shot from class names, end to end on a workspace with the tiny CLIP-like onnx: folder
// (test-utils/tiny-clip.ts): its image tower embeds an image's mean colour and its text tower a colour
// word, in one joint space, so naming colour images from colour words can only go through the text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage, writeTinyClipModel, writeTinyOnnxModel } from '@autolabel/test-utils';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWorkspace, type Workspace } from '../workspace/index.js';
import { classEmbeddings } from './class-embeddings.js';
import { findTextTower } from './source.js';
import { checkTemplates, DEFAULT_TEMPLATES, promptsFor } from './templates.js';
import { openTextTower, type TextTowerFiles } from './text-tower.js';

const root = mkdtempSync(join(tmpdir(), 'autolabel-zero-shot-'));
const images = join(root, 'photos');
const COLOURS = { red: [220, 30, 30], green: [30, 200, 30], blue: [30, 30, 220] } as const;
const PER_CLASS = 8;
/** path -> colour */
const truth = new Map<string, string>();

beforeAll(async () => {
  let seed = 0;
  for (const [name, color] of Object.entries(COLOURS)) {
    for (let i = 0; i < PER_CLASS; i++) {
      const path = `${name.slice(0, 1)}${i}.png`;
      // Noise and a shade that differs per image: no two images embed alike.
      const shade = 0.75 + (0.25 * i) / PER_CLASS;
      const rgb = color.map((v) => Math.round(v * shade)) as unknown as [number, number, number];
      await writeImage(join(images, path), 'png', { color: rgb, noise: 60, seed: seed++ });
      truth.set(path, name);
    }
  }
  await writeTinyClipModel(join(root, 'clip'));
  await writeTinyClipModel(join(root, 'rotated'), { rotateWords: ['red', 'green', 'blue'] });
  await writeTinyOnnxModel(join(root, 'plain'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let made = 0;
async function workspace(model: string, classes: readonly string[] = Object.keys(COLOURS)): Promise<Workspace> {
  const ws = await initWorkspace({ images, workspace: join(root, `ws${made++}`), model: `onnx:${join(root, model)}` });
  await ws.scan();
  await ws.embed();
  for (const name of classes) await ws.classes.add(name);
  return ws;
}

/** Share of suggestions naming the image's colour. */
async function accuracy(ws: Workspace): Promise<number> {
  const suggestions = await ws.suggestions.list();
  return suggestions.filter((s) => truth.get(s.path) === s.label).length / suggestions.length;
}

describe('prompt templates', () => {
  it('put the class name in each template, underscores read as spaces', () => {
    expect(promptsFor('golden_retriever', ['a photo of a {}.', '{} ({})'])).toEqual([
      'a photo of a golden retriever.',
      'golden retriever (golden retriever)',
    ]);
    expect(checkTemplates(DEFAULT_TEMPLATES)).toBe(DEFAULT_TEMPLATES);
    expect(() => checkTemplates(['a photo'])).toThrow(/"a photo" has no \{\}/);
    expect(() => checkTemplates([])).toThrow(/at least one/);
  });
});

describe('text tower', () => {
  it('is found in an onnx: folder with text_model.onnx and tokenizer.json, and not in one without', async () => {
    const found = await findTextTower(`onnx:${join(root, 'clip')}`);
    expect(found).toMatchObject({ found: true, files: { modelType: 'clip' } });
    expect(await findTextTower(`onnx:${join(root, 'plain')}`)).toMatchObject({
      found: false,
      why: expect.stringMatching(/has no text_model\.onnx/) as unknown,
    });
    expect(await findTextTower('builtin:centernet')).toMatchObject({ found: false });
  });

  it('embeds class names once per (tower, templates, class): later calls come from the cache', async () => {
    const lookup = await findTextTower(`onnx:${join(root, 'clip')}`);
    if (!lookup.found) throw new Error(lookup.why);
    const cacheDir = join(root, 'text-cache');
    let opened = 0;
    const open = (files: TextTowerFiles) => {
      opened++;
      return openTextTower(files);
    };
    const first = await classEmbeddings(lookup.files, ['red', 'blue'], DEFAULT_TEMPLATES, { cacheDir, open });
    expect(first).toMatchObject({ computed: 2, embeddings: { rows: 2, cols: 16 } });
    const again = await classEmbeddings(lookup.files, ['blue', 'red', 'green'], DEFAULT_TEMPLATES, { cacheDir, open });
    expect(again.computed).toBe(1);
    expect(opened).toBe(2);
    // Same vectors, in the order asked.
    expect(Array.from(again.embeddings.data.subarray(16, 32))).toEqual(
      Array.from(first.embeddings.data.subarray(0, 16)),
    );
    const other = await classEmbeddings(lookup.files, ['red'], ['a {}'], { cacheDir, open });
    expect(other.computed).toBe(1);
    // Unit rows; "a photo of a red." and "a red" are one direction for this tower (template words embed as zero).
    const norm = Math.hypot(...first.embeddings.data.subarray(0, 16));
    expect(norm).toBeCloseTo(1, 5);
    for (let d = 0; d < 16; d++) expect(other.embeddings.data[d]).toBeCloseTo(first.embeddings.data[d]!, 5);
  });
});

describe('zero-shot in suggest', () => {
  it('cold start: declared classes and no labels give zero-shot suggestions, right for every colour image', async () => {
    const ws = await workspace('clip');
    try {
      const result = await ws.suggest();
      expect(result.method).toBe('zero-shot');
      expect(result.zeroShot).toMatchObject({ coldStart: true, parts: ['zero-shot'], weight: 1 });
      expect(result.zeroShot?.templates).toEqual(DEFAULT_TEMPLATES);
      expect(result.calibratedOn).toBe('none');
      expect(result.suggestions).toBe(truth.size);
      expect(result.accuracy.note).toMatch(/expected by zero-shot from class names, with no labels yet/);
      expect(await accuracy(ws)).toBe(1);
      // The fit records it, for status and next.
      expect((await ws.status()).fit).toMatchObject({ suggestions: truth.size, labels: 0 });
    } finally {
      await ws.close();
    }
  });

  it('reads the class names through the text tower: a tower that reads each colour as the next names every image wrong', async () => {
    const ws = await workspace('rotated');
    try {
      await ws.suggest();
      expect(await accuracy(ws)).toBe(0);
      // "red" embeds as green would, so green images are called red, and so on round.
      const called = { green: 'red', blue: 'green', red: 'blue' } as Record<string, string>;
      for (const s of await ws.suggestions.list()) expect(s.label).toBe(called[truth.get(s.path)!]);
    } finally {
      await ws.close();
    }
  });

  it('next asks where zero-shot is least sure, and verify draws from its suggestions', async () => {
    const ws = await workspace('clip');
    try {
      await ws.suggest();
      const picks = await ws.next({ count: 3 });
      expect(picks).toHaveLength(3);
      for (const pick of picks) expect(pick.reason).toMatch(/^model torn between (red|green|blue) /);
      const draw = await ws.checks.draw({ count: 4 });
      expect(draw.checks).toHaveLength(4);
    } finally {
      await ws.close();
    }
  });

  it('random checks of zero-shot suggestions are answered, learned from and certify as for any fit', async () => {
    const ws = await workspace('clip');
    try {
      await ws.suggest();
      const draw = await ws.checks.draw({ count: 12, targetPrecision: 0.9 });
      for (const check of draw.checks) {
        const image = await ws.images.get(check.imageId);
        await ws.checks.answer(check.id, truth.get(image.path)!);
      }
      const result = await ws.suggest({ targetPrecision: 0.9 });
      expect(result.checks.answered).toBe(12);
      expect(result.zeroShot?.coldStart).toBe(false);
      expect(result.certificate).not.toBeNull();
      expect(result.certificate!.errors).toBe(0);
      expect(await accuracy(ws)).toBe(1);
    } finally {
      await ws.close();
    }
  });

  it('with labels, pools zero-shot with the learner at a cross-validated weight and records it', async () => {
    const ws = await workspace('clip');
    try {
      const labelled = [...truth].filter(([path]) => /[0-2]\.png$/.test(path));
      await ws.labels.set(labelled.map(([image, label]) => ({ image, label })));
      const result = await ws.suggest();
      const record = result.zeroShot!;
      expect(record.coldStart).toBe(false);
      expect(record.byWeight.map((b) => b.weight)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
      expect(record.chosenBy).toMatch(/cross-validated log-loss on 9 labelled images/);
      // The chosen weight has the lowest cross-validated log-loss, and the fit names what it used.
      const best = Math.min(...record.byWeight.map((b) => b.logLoss));
      expect(record.byWeight.find((b) => b.weight === record.weight)!.logLoss).toBe(best);
      expect(record.parts).toEqual(
        record.weight === 0 ? ['learner'] : record.weight === 1 ? ['zero-shot'] : ['learner', 'zero-shot'],
      );
      if (record.weight > 0) expect(result.method).toMatch(/zero-shot/);
      expect(result.calibratedOn).toBe('labels');
      expect(await accuracy(ws)).toBe(1);
    } finally {
      await ws.close();
    }
  });

  it('says why there are no zero-shot suggestions for a model without a text tower, or with zero-shot off', async () => {
    const plain = await workspace('plain');
    try {
      await expect(plain.suggest()).rejects.toMatchObject({
        code: 'NOT_ENOUGH_LABELS',
        message: expect.stringMatching(
          /label a few images of at least two classes \(zero-shot from class names: .* has no text_model\.onnx/,
        ) as unknown,
      });
    } finally {
      await plain.close();
    }
    const off = await workspace('clip');
    try {
      await expect(off.suggest({ zeroShot: false })).rejects.toMatchObject({ code: 'NOT_ENOUGH_LABELS' });
      // One class declared: nothing to choose between.
    } finally {
      await off.close();
    }
    const one = await workspace('clip', ['red']);
    try {
      await expect(one.suggest()).rejects.toMatchObject({ code: 'NOT_ENOUGH_LABELS' });
    } finally {
      await one.close();
    }
  });

  it('takes its templates from the options or the workspace config', async () => {
    const ws = await workspace('clip');
    try {
      const result = await ws.suggest({ zeroShot: { templates: ['a {} thing'] } });
      expect(result.zeroShot?.templates).toEqual(['a {} thing']);
      expect(await accuracy(ws)).toBe(1);
      await expect(ws.suggest({ zeroShot: { templates: ['no placeholder'] } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    } finally {
      await ws.close();
    }
  });

  it('exports a zero-shot fit as an ONNX classifier that computes the same zero-shot', async () => {
    const ws = await workspace('clip');
    try {
      await ws.suggest();
      const out = join(root, 'zero-shot-classifier.onnx');
      const { classes } = await ws.exportModel(out);
      expect(classes).toEqual(['blue', 'green', 'red']);
      const session = await ort.InferenceSession.create(out);
      try {
        const side = 32;
        for (const [name, rgb] of Object.entries(COLOURS)) {
          const pixels = new Float32Array(side * side * 3);
          for (let p = 0; p < pixels.length; p += 3) pixels.set(rgb, p);
          const result = await session.run({ pixels: new ort.Tensor('float32', pixels, [1, side, side, 3]) });
          const probabilities = Array.from(result.probabilities!.data as Float32Array);
          expect(classes[probabilities.indexOf(Math.max(...probabilities))]).toBe(name);
        }
      } finally {
        await session.release();
      }
    } finally {
      await ws.close();
    }
  });
});
