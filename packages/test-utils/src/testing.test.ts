/** @module Checks that each test fixture generator produces the file it claims to. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGE_KIND_EXTENSION,
  IMAGE_KINDS,
  encodeImage,
  writeImage,
  writeInvalidOnnxModel,
  writeTinyOnnxModel,
} from './index.js';
import type { ImageKind, ImageOptions } from './index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autolabel-testing-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function image(kind: ImageKind, options?: ImageOptions): Promise<string> {
  return writeImage(join(dir, `${kind}-${Math.random()}${IMAGE_KIND_EXTENSION[kind]}`), kind, options);
}

async function meanRgb(path: string): Promise<number[]> {
  const { channels } = await sharp(path).stats();
  return channels.slice(0, 3).map((c) => c.mean);
}

describe('writeImage', () => {
  it('writes every kind to a path with spaces and non-ASCII characters', async () => {
    for (const kind of IMAGE_KINDS) {
      const path = join(dir, 'ünïcode folder', `${kind} 画像${IMAGE_KIND_EXTENSION[kind]}`);
      expect(await writeImage(path, kind)).toBe(path);
      const { size } = await stat(path);
      if (kind === 'empty') expect(size).toBe(0);
      else expect(size).toBeGreaterThan(0);
    }
  });

  it.each(['jpeg', 'png', 'webp', 'tiff'] as const)('writes a plain RGB %s of the given size', async (kind) => {
    const meta = await sharp(await image(kind, { width: 40, height: 30 })).metadata();
    expect(meta.format).toBe(kind);
    expect([meta.width, meta.height, meta.channels]).toEqual([40, 30, 3]);
  });

  it('makes distinguishable classes: noisy red vs noisy blue', async () => {
    const red = await meanRgb(await image('png', { color: [200, 30, 30], noise: 40, seed: 1 }));
    const blue = await meanRgb(await image('png', { color: [30, 30, 200], noise: 40, seed: 2 }));
    expect(red[0]).toBeGreaterThan(150);
    expect(red[2]).toBeLessThan(80);
    expect(blue[2]).toBeGreaterThan(150);
    expect(blue[0]).toBeLessThan(80);
  });

  it('is deterministic per seed and varies across seeds', async () => {
    const a = await encodeImage('png', { noise: 50, seed: 7 });
    const b = await encodeImage('png', { noise: 50, seed: 7 });
    const c = await encodeImage('png', { noise: 50, seed: 8 });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('draws patterns: stripes vary, solid does not', async () => {
    const solid = await sharp(await image('png', { pattern: 'solid' })).stats();
    const stripes = await sharp(await image('png', { pattern: 'stripes' })).stats();
    const checker = await sharp(await image('png', { pattern: 'checker' })).stats();
    expect(solid.channels[0]?.stdev).toBe(0);
    expect(stripes.channels[0]?.stdev).toBeGreaterThan(50);
    expect(checker.channels[0]?.stdev).toBeGreaterThan(50);
  });

  it('writes a CMYK JPEG', async () => {
    const meta = await sharp(await image('cmyk-jpeg')).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.space).toBe('cmyk');
    expect(meta.channels).toBe(4);
  });

  it('writes a 16-bit PNG', async () => {
    const meta = await sharp(await image('png16')).metadata();
    expect(meta.format).toBe('png');
    expect(meta.depth).toBe('ushort');
  });

  it('writes a single-channel grayscale JPEG', async () => {
    const meta = await sharp(await image('gray-jpeg')).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.channels).toBe(1);
    expect(meta.space).toBe('b-w');
  });

  it('writes a PNG whose left half is transparent', async () => {
    const path = await image('alpha-png', { width: 10, height: 4 });
    expect((await sharp(path).metadata()).hasAlpha).toBe(true);
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(data[3]).toBe(0); // (0, 0)
    expect(data[9 * 4 + 3]).toBe(255); // (9, 0)
  });

  it('writes a JPEG with EXIF orientation 6 whose displayed size is swapped', async () => {
    const path = await image('rotated-jpeg', { width: 64, height: 48 });
    const meta = await sharp(path).metadata();
    expect(meta.orientation).toBe(6);
    expect([meta.width, meta.height]).toEqual([64, 48]);
    expect(meta.autoOrient).toEqual({ width: 48, height: 64 });
    const { info } = await sharp(path).autoOrient().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([48, 64]);
  });

  it('writes an animated GIF with 3 red, green and blue frames', async () => {
    const path = await image('animated-gif', { width: 16, height: 12 });
    const meta = await sharp(path).metadata();
    expect(meta.format).toBe('gif');
    expect(meta.pages).toBe(3);
    const dominant: number[] = [];
    for (let page = 0; page < 3; page++) {
      const { channels } = await sharp(path, { page }).stats();
      const means = channels.slice(0, 3).map((c) => c.mean);
      dominant.push(means.indexOf(Math.max(...means)));
    }
    expect(dominant).toEqual([0, 1, 2]);
  });

  it('writes a truncated JPEG: the header reads, the pixels do not', async () => {
    const path = await image('truncated-jpeg');
    const meta = await sharp(path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 48]);
    await expect(sharp(path, { failOn: 'truncated' }).raw().toBuffer()).rejects.toThrow();
    // Lenient decoding still gets the (partly grey) pixels, proving only the tail is missing.
    await expect(sharp(path, { failOn: 'none' }).raw().toBuffer()).resolves.toHaveLength(64 * 48 * 3);
    const whole = await encodeImage('jpeg');
    expect((await stat(path)).size).toBeLessThan(whole.length);
  });

  it('writes a zero-byte file and a text file that sharp cannot read', async () => {
    const empty = await image('empty');
    expect((await stat(empty)).size).toBe(0);
    await expect(sharp(empty).metadata()).rejects.toThrow();
    const text = await image('text');
    expect(text.endsWith('.jpg')).toBe(true);
    await expect(sharp(text).metadata()).rejects.toThrow();
  });

  it('writes a decompression bomb: >100 M pixels in the header, <64 KB on disk, and complete', async () => {
    const path = await image('png-bomb');
    expect((await stat(path)).size).toBeLessThan(64 * 1024);
    const meta = await sharp(path).metadata();
    expect(meta.format).toBe('png');
    expect((meta.width ?? 0) * (meta.height ?? 0)).toBeGreaterThan(100_000_000);
    await expect(sharp(path, { limitInputPixels: 100_000_000 }).raw().toBuffer()).rejects.toThrow(/pixel limit/);
    // The last rows decode, so the file is a real bomb rather than a header with no data.
    const { data, info } = await sharp(path, { limitInputPixels: false, sequentialRead: true })
      .extract({ left: 0, top: (meta.height ?? 0) - 2, width: 4, height: 2 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([4, 2]);
    expect(data.every((v) => v === 0)).toBe(true);
  });
});

/** sharp -> NCHW float32 in [-1, 1], the preprocessing preprocessor_config.json describes. */
async function pixelValues(paths: string[], size: number): Promise<ort.Tensor> {
  const data = new Float32Array(paths.length * 3 * size * size);
  for (const [n, path] of paths.entries()) {
    const rgb = await sharp(path).removeAlpha().resize(size, size, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    for (let i = 0; i < size * size; i++) {
      for (let c = 0; c < 3; c++) {
        data[(n * 3 + c) * size * size + i] = (rgb[i * 3 + c] ?? 0) / 127.5 - 1;
      }
    }
  }
  return new ort.Tensor('float32', data, [paths.length, 3, size, size]);
}

async function run(modelDir: string, input: ort.Tensor): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'));
  try {
    const output = (await session.run({ pixel_values: input }))[session.outputNames[0] ?? ''];
    if (!output) throw new Error('no output');
    return output;
  } finally {
    await session.release();
  }
}

function row(tensor: ort.Tensor, index: number, length: number): number[] {
  return Array.from((tensor.data as Float32Array).subarray(index * length, (index + 1) * length));
}

describe('writeTinyOnnxModel', () => {
  let images: string[];

  beforeAll(async () => {
    images = [
      await image('png', { color: [220, 30, 30], noise: 30, seed: 1 }),
      await image('png', { color: [30, 30, 220], noise: 30, seed: 2 }),
      await image('png', { color: [30, 200, 30], pattern: 'checker', seed: 3 }),
    ];
  });

  it('writes model.onnx and a preprocessor_config.json with the shared model keys', async () => {
    const model = await writeTinyOnnxModel(join(dir, 'model-default'));
    expect(model).toEqual({ dir: join(dir, 'model-default'), featureDim: 16, inputSize: 32 });
    const config: unknown = JSON.parse(await readFile(join(model.dir, 'preprocessor_config.json'), 'utf8'));
    expect(config).toEqual({
      do_resize: true,
      size: { height: 32, width: 32 },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      feature_dim: 16,
    });
  });

  it('runs in onnxruntime-node with batch 1 and 3, giving finite features that differ per image', async () => {
    const model = await writeTinyOnnxModel(join(dir, 'model-run'));
    const session = await ort.InferenceSession.create(join(model.dir, 'model.onnx'));
    expect(session.inputNames).toEqual(['pixel_values']);
    expect(session.outputNames).toEqual(['features']);
    await session.release();

    const batch = await run(model.dir, await pixelValues(images, 32));
    expect(batch.dims).toEqual([3, 16]);
    const rows = [0, 1, 2].map((n) => row(batch, n, 16));
    for (const r of rows) {
      expect(r.every(Number.isFinite)).toBe(true);
      expect(r.some((v) => v > 0)).toBe(true);
    }
    const distance = (a: number[], b: number[]): number => Math.hypot(...a.map((v, i) => v - (b[i] ?? 0)));
    expect(distance(rows[0] ?? [], rows[1] ?? [])).toBeGreaterThan(1e-2);
    expect(distance(rows[0] ?? [], rows[2] ?? [])).toBeGreaterThan(1e-2);
    expect(distance(rows[1] ?? [], rows[2] ?? [])).toBeGreaterThan(1e-2);

    const single = await run(model.dir, await pixelValues(images.slice(1, 2), 32));
    expect(single.dims).toEqual([1, 16]);
    row(single, 0, 16).forEach((v, i) => expect(v).toBeCloseTo(rows[1]?.[i] ?? NaN, 5));
  });

  it('honours inputSize, featureDim and outputName', async () => {
    const model = await writeTinyOnnxModel(join(dir, 'model-custom'), {
      inputSize: 24,
      featureDim: 8,
      outputName: 'embeddings',
    });
    expect(model).toMatchObject({ featureDim: 8, inputSize: 24 });
    const session = await ort.InferenceSession.create(join(model.dir, 'model.onnx'));
    expect(session.outputNames).toEqual(['embeddings']);
    await session.release();
    const output = await run(model.dir, await pixelValues(images.slice(0, 2), 24));
    expect(output.dims).toEqual([2, 8]);
  });

  it('outputs an unpooled feature map with featureMap: true, whose spatial mean is the pooled feature', async () => {
    const pooled = await writeTinyOnnxModel(join(dir, 'model-pooled'), { seed: 5 });
    const mapped = await writeTinyOnnxModel(join(dir, 'model-map'), { seed: 5, featureMap: true });
    const input = await pixelValues(images, 32);
    const map = await run(mapped.dir, input);
    expect(map.dims).toEqual([3, 16, 16, 16]);
    const features = await run(pooled.dir, input);
    const cells = 16 * 16;
    const data = map.data as Float32Array;
    for (let c = 0; c < 16; c++) {
      let sum = 0;
      for (let i = 0; i < cells; i++) sum += data[c * cells + i] ?? NaN;
      expect(sum / cells).toBeCloseTo(row(features, 0, 16)[c] ?? NaN, 5);
    }
  });

  it('derives the weights from the seed', async () => {
    const input = await pixelValues(images.slice(0, 1), 32);
    const a = await run((await writeTinyOnnxModel(join(dir, 'seed-a'), { seed: 1 })).dir, input);
    const b = await run((await writeTinyOnnxModel(join(dir, 'seed-b'), { seed: 1 })).dir, input);
    const c = await run((await writeTinyOnnxModel(join(dir, 'seed-c'), { seed: 2 })).dir, input);
    expect(row(a, 0, 16)).toEqual(row(b, 0, 16));
    expect(row(a, 0, 16)).not.toEqual(row(c, 0, 16));
  });
});

describe('writeInvalidOnnxModel', () => {
  it('writes a model that onnxruntime rejects next to a valid preprocessor config', async () => {
    const model = await writeInvalidOnnxModel(join(dir, 'model-invalid'));
    await expect(ort.InferenceSession.create(join(model.dir, 'model.onnx'))).rejects.toThrow();
    const config = JSON.parse(await readFile(join(model.dir, 'preprocessor_config.json'), 'utf8')) as {
      size: { height: number };
      feature_dim: number;
    };
    expect(config.size.height).toBe(model.inputSize);
    expect(config.feature_dim).toBe(model.featureDim);
  });
});
