/**
 * @module Tests of the builtin tfjs embedder on images drawn with sharp. The workers run the
 * compiled `dist/embed/backends/tfjs-worker.js`: run `npm run build` before the tests (CI does).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAutolabelError } from '../../errors.js';
import { decodeRgb } from '../../image/decode.js';
import { embedderContract } from '../embedder.contract.js';
import type { Embedder } from '../embedder.js';
import { BUILTIN_MODELS, builtinDefinition, loadBuiltinEmbedder, loadGraphEmbedder } from './tfjs.js';

const LOAD_TIMEOUT_MS = 30_000;

/** Encodes a width x height RGB image as PNG, with each pixel's colour given by `paint`. */
async function png(
  width: number,
  height: number,
  paint: (x: number, y: number) => [number, number, number],
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(paint(x, y), (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** The images, decoded exactly as the ingest pipeline would feed them to `embedder`. */
async function fixtures(embedder: Embedder): Promise<Record<string, Uint8Array>> {
  const sources = {
    red: await png(40, 30, () => [220, 20, 30]),
    blue: await png(40, 30, () => [20, 40, 200]),
    gradient: await png(64, 48, (x, y) => [x * 4, y * 5, 255 - x * 4]),
    checker: await png(64, 64, (x, y) => (((x >> 3) + (y >> 3)) % 2 === 0 ? [250, 250, 250] : [10, 10, 10])),
    stripes: await png(50, 80, (_x, y) => (y % 10 < 5 ? [30, 160, 40] : [240, 200, 30])),
  };
  const out: Record<string, Uint8Array> = {};
  for (const [name, source] of Object.entries(sources)) {
    out[name] = await decodeRgb(source, embedder.input, { maxPixels: 1e7 });
  }
  return out;
}

function pack(images: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(images.reduce((sum, image) => sum + image.length, 0));
  let at = 0;
  for (const image of images) {
    out.set(image, at);
    at += image.length;
  }
  return out;
}

function row(features: Float32Array, dim: number, i: number): Float32Array {
  return features.subarray(i * dim, (i + 1) * dim);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

embedderContract('builtin:centernet (tfjs wasm workers)', () => loadBuiltinEmbedder('centernet', { threads: 2 }));

describe('builtin tfjs embedder', () => {
  let embedder: Embedder;
  let images: Record<string, Uint8Array>;

  beforeAll(async () => {
    embedder = await loadBuiltinEmbedder('centernet', { threads: 2 });
    images = await fixtures(embedder);
  }, LOAD_TIMEOUT_MS);

  afterAll(async () => {
    await embedder?.close();
  });

  it(
    'describes itself with a stable, content-derived model id',
    async () => {
      expect(embedder.modelId).toMatch(/^builtin:centernet@[0-9a-f]{12}$/);
      expect(embedder.input).toMatchObject({ width: 224, height: 224 });
      expect(embedder.dim).toBe(272);
      const again = await loadBuiltinEmbedder('centernet', { threads: 1 });
      try {
        expect(again.modelId).toBe(embedder.modelId);
      } finally {
        await again.close();
      }
    },
    LOAD_TIMEOUT_MS,
  );

  it('returns count * dim finite values for a batch', async () => {
    const batch = [images.red!, images.gradient!, images.checker!];
    const features = await embedder.embed(pack(batch), batch.length);
    expect(features).toBeInstanceOf(Float32Array);
    expect(features.length).toBe(batch.length * embedder.dim);
    expect(features.every(Number.isFinite)).toBe(true);
    // Each pooled block is L2-normalised and weighted 1/sqrt(blocks): every vector has unit length.
    for (let i = 0; i < batch.length; i++) {
      const norm = Math.hypot(...row(features, embedder.dim, i));
      expect(norm).toBeCloseTo(1, 4);
    }
  });

  it('returns an empty result for an empty batch', async () => {
    const features = await embedder.embed(new Uint8Array(0), 0);
    expect(features.length).toBe(0);
  });

  it('is deterministic across calls and across workers', async () => {
    const first = await embedder.embed(images.gradient!, 1);
    const second = await embedder.embed(images.gradient!, 1);
    expect(Array.from(second)).toEqual(Array.from(first));
    // Two copies in one batch land on different workers.
    const pair = await embedder.embed(pack([images.gradient!, images.gradient!]), 2);
    expect(maxAbsDiff(row(pair, embedder.dim, 0), first)).toBeLessThan(1e-4);
    expect(maxAbsDiff(row(pair, embedder.dim, 1), first)).toBeLessThan(1e-4);
  });

  it('gives the same vectors for a batch of N as for N single calls', async () => {
    const names = ['red', 'blue', 'gradient', 'checker', 'stripes'] as const;
    const batch = await embedder.embed(pack(names.map((name) => images[name]!)), names.length);
    for (const [i, name] of names.entries()) {
      const single = await embedder.embed(images[name]!, 1);
      const scale = Math.max(...Array.from(single, Math.abs));
      expect(maxAbsDiff(row(batch, embedder.dim, i), single)).toBeLessThan(1e-4 * Math.max(1, scale));
    }
  });

  it('separates different images', async () => {
    const names = ['red', 'blue', 'gradient', 'checker', 'stripes'] as const;
    const features = await embedder.embed(pack(names.map((name) => images[name]!)), names.length);
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const similarity = cosine(row(features, embedder.dim, i), row(features, embedder.dim, j));
        expect(similarity, `${names[i]} vs ${names[j]}`).toBeLessThan(0.99);
      }
    }
  });

  it('rejects pixels that do not match the count', async () => {
    await expect(embedder.embed(new Uint8Array(10), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('builtin tfjs embedder lifecycle', () => {
  /** Loads centernet with every worker kept, to watch them exit or to kill one. */
  async function loadObserved(): Promise<{ embedder: Embedder; workers: Worker[]; exited: Promise<number>[] }> {
    const workers: Worker[] = [];
    const exited: Promise<number>[] = [];
    const definition = builtinDefinition('centernet');
    const embedder = await loadGraphEmbedder({
      name: 'builtin:centernet',
      definition,
      threads: 2,
      createWorker: (url: URL, options: WorkerOptions) => {
        const worker = new Worker(url, options);
        workers.push(worker);
        exited.push(new Promise((resolve) => worker.once('exit', resolve)));
        return worker;
      },
    });
    return { embedder, workers, exited };
  }

  it(
    'ends its workers on close() and refuses work afterwards',
    async () => {
      const { embedder, workers, exited } = await loadObserved();
      expect(workers).toHaveLength(2);
      await embedder.close();
      await expect(Promise.all(exited)).resolves.toHaveLength(2);
      const pixels = new Uint8Array(embedder.input.width * embedder.input.height * 3);
      await expect(embedder.embed(pixels, 1)).rejects.toMatchObject({ code: 'MODEL_RUN_FAILED' });
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'rejects with MODEL_RUN_FAILED instead of hanging when a worker dies',
    async () => {
      const { embedder, workers } = await loadObserved();
      try {
        const pixels = new Uint8Array(8 * embedder.input.width * embedder.input.height * 3).fill(128);
        const running = embedder.embed(pixels, 8);
        await workers[1]!.terminate();
        await expect(running).rejects.toMatchObject({ code: 'MODEL_RUN_FAILED' });
        await expect(embedder.embed(pixels, 8)).rejects.toMatchObject({ code: 'MODEL_RUN_FAILED' });
      } finally {
        await embedder.close();
      }
    },
    LOAD_TIMEOUT_MS,
  );

  it('throws MODEL_NOT_FOUND naming the known models for an unknown builtin', async () => {
    const error: unknown = await loadBuiltinEmbedder('no-such-model', {}).catch((e: unknown) => e);
    expect(isAutolabelError(error, 'MODEL_NOT_FOUND')).toBe(true);
    for (const name of Object.keys(BUILTIN_MODELS)) expect((error as Error).message).toContain(name);
  });
});
