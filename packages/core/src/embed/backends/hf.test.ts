// hf: models through transformers.js (onnxruntime-node), fetched from a tiny hub on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveTinyHub, type TinyHub, writeTinyHubModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedderContract } from '../embedder.contract.js';
import { loadEmbedder } from '../load.js';

const root = mkdtempSync(join(tmpdir(), 'autolabel-hf-'));
let hub: TinyHub;
const hubOptions = () => ({ cacheDir: join(root, 'cache'), endpoint: hub.endpoint });

beforeAll(async () => {
  await writeTinyHubModel(join(root, 'hub'), { kind: 'clip', featureDim: 12, inputSize: 24 });
  await writeTinyHubModel(join(root, 'hub'), { kind: 'dinov2', featureDim: 8, dtypes: ['fp32', 'q8'] });
  hub = await serveTinyHub(join(root, 'hub'));
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

embedderContract('hf, CLIP image tower (image_embeds)', () => loadEmbedder('hf:tiny/clip', { hub: hubOptions() }));
embedderContract('hf, DINOv2-like model (pooler_output)', () => loadEmbedder('hf:tiny/dinov2', { hub: hubOptions() }));

/** Mean-colour images: the tiny towers embed W x colour. */
function solid(embedderSide: number, ...colours: (readonly [number, number, number])[]): Uint8Array {
  const size = embedderSide * embedderSide * 3;
  const pixels = new Uint8Array(colours.length * size);
  colours.forEach((rgb, i) => {
    for (let p = 0; p < size; p += 3) pixels.set(rgb, i * size + p);
  });
  return pixels;
}

describe('hf embedder', () => {
  it('reads its input from preprocessor_config.json and its name from the spec', async () => {
    const embedder = await loadEmbedder('hf:tiny/clip', { hub: hubOptions() });
    try {
      expect(embedder.input).toEqual({ width: 24, height: 24, fit: 'cover', kernel: 'cubic' });
      expect(embedder.dim).toBe(12);
      expect(embedder.name).toBe('hf:tiny/clip');
      expect(embedder.modelId).toMatch(/^hf:[0-9a-f]{16}$/);
    } finally {
      await embedder.close();
    }
  });

  it('runs the weight type the spec names: q8 opens model_quantized.onnx, another model with its own id', async () => {
    const fp32 = await loadEmbedder('hf:tiny/dinov2', { hub: hubOptions() });
    const q8 = await loadEmbedder('hf:tiny/dinov2:q8', { hub: hubOptions() });
    try {
      expect(q8.modelId).not.toBe(fp32.modelId);
      const pixels = solid(32, [200, 40, 40]);
      const a = await fp32.embed(pixels, 1);
      const b = await q8.embed(pixels, 1);
      expect(Array.from(a)).not.toEqual(Array.from(b));
      expect(hub.requests.some((r) => r.server === 'cdn' && r.file === 'onnx/model_quantized.onnx')).toBe(true);
    } finally {
      await fp32.close();
      await q8.close();
    }
  });

  it('embeds colour as the tiny towers do: the same colour alike, other colours apart', async () => {
    const embedder = await loadEmbedder('hf:tiny/clip', { hub: hubOptions() });
    try {
      const v = await embedder.embed(solid(24, [210, 130, 30], [205, 135, 25], [40, 100, 210]), 3);
      const row = (i: number) => v.subarray(i * 12, (i + 1) * 12);
      const cos = (x: Float32Array, y: Float32Array) => {
        let dot = 0;
        let nx = 0;
        let ny = 0;
        for (let i = 0; i < x.length; i++) {
          dot += x[i]! * y[i]!;
          nx += x[i]! ** 2;
          ny += y[i]! ** 2;
        }
        return dot / Math.sqrt(nx * ny);
      };
      expect(cos(row(0), row(1))).toBeGreaterThan(0.99);
      expect(cos(row(0), row(2))).toBeLessThan(0.5);
    } finally {
      await embedder.close();
    }
  });

  it('loads from the cache with the hub gone, and names a dtype the repository lacks', async () => {
    const warm = await loadEmbedder('hf:tiny/clip', { hub: hubOptions() });
    const id = warm.modelId;
    await warm.close();
    const offline = await loadEmbedder('hf:tiny/clip', { hub: { ...hubOptions(), endpoint: 'http://127.0.0.1:9' } });
    expect(offline.modelId).toBe(id);
    await offline.close();
    await expect(loadEmbedder('hf:tiny/clip:fp16', { hub: hubOptions() })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('onnx/vision_model_fp16.onnx'),
    });
  });
});
