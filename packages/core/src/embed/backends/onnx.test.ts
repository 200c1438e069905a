import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeInvalidOnnxModel, writeTinyOnnxModel } from '@autolabel/test-utils';
import { embedderContract } from '../embedder.contract.js';
import { loadEmbedder } from '../load.js';
import { loadOnnxEmbedder } from './onnx.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const vectorModel = await writeTinyOnnxModel(join(dir, 'vector'), { featureDim: 16, inputSize: 32 });
const mapModel = await writeTinyOnnxModel(join(dir, 'map'), { featureDim: 8, inputSize: 24, featureMap: true });

embedderContract('onnx, feature vector output', () => loadOnnxEmbedder(vectorModel.dir));
embedderContract('onnx, feature map output pooled', () => loadOnnxEmbedder(mapModel.dir));

describe('onnx embedder', () => {
  it('reads size and dim from the folder', async () => {
    const embedder = await loadEmbedder(`onnx:${mapModel.dir}`);
    expect(embedder.input).toMatchObject({ width: 24, height: 24, fit: 'fill', kernel: 'linear' });
    expect(embedder.dim).toBe(8);
    await embedder.close();
  });

  it('leaves the decoders a core in four from 4 cores on when the model is light, unless told the threads', async () => {
    const cores = availableParallelism();
    const auto = await loadOnnxEmbedder(vectorModel.dir);
    const told = await loadOnnxEmbedder(vectorModel.dir, { threads: cores });
    try {
      expect(auto.threads).toBe(cores >= 4 ? cores - Math.floor(cores / 4) : cores);
      expect(told.threads).toBe(cores);
    } finally {
      await auto.close();
      await told.close();
    }
  });

  it('gives a different id to a different model file', async () => {
    const other = await writeTinyOnnxModel(join(dir, 'other'), { featureDim: 16, inputSize: 32, seed: 99 });
    const a = await loadOnnxEmbedder(vectorModel.dir);
    const b = await loadOnnxEmbedder(other.dir);
    expect(a.modelId).not.toBe(b.modelId);
    await a.close();
    await b.close();
  });

  it('names the folder when model.onnx is missing, and the file when it is not ONNX', async () => {
    await expect(loadOnnxEmbedder(join(dir, 'nothing'))).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('nothing'),
    });
    const bad = await writeInvalidOnnxModel(join(dir, 'bad'));
    await expect(loadOnnxEmbedder(bad.dir)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('model.onnx'),
    });
  });

  it('names the field of a bad preprocessor_config.json', async () => {
    const broken = await writeTinyOnnxModel(join(dir, 'broken'));
    writeFileSync(join(broken.dir, 'preprocessor_config.json'), JSON.stringify({ size: { height: -1, width: 32 } }));
    await expect(loadOnnxEmbedder(broken.dir)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/size/),
    });
  });

  it('refuses a feature_dim that disagrees with the model', async () => {
    const lying = await writeTinyOnnxModel(join(dir, 'lying'), { featureDim: 16 });
    const config = join(lying.dir, 'preprocessor_config.json');
    const { readFileSync } = await import('node:fs');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), feature_dim: 99 }));
    await expect(loadOnnxEmbedder(lying.dir)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('feature_dim'),
    });
  });

  it('rejects an unknown spec kind with the accepted forms', async () => {
    await expect(loadEmbedder('torch:/x')).rejects.toMatchObject({
      code: 'MODEL_SPEC_INVALID',
      message: expect.stringContaining('onnx:PATH'),
    });
  });
});
