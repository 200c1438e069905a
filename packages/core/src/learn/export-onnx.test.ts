import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeImage, type ImagePattern, type Rgb, writeTinyOnnxModel } from '@autolabel/test-utils';
import { loadEmbedder } from '../embed/load.js';
import { decodeRgb } from '../image/decode.js';
import { exportClassifierOnnx, type ExportedPixelInput } from './export-onnx.js';
import { applyFeatureTransform, fitFeatureTransform, learnerFeatures, REDUCED_DIM } from './features.js';
import { headLogits, softmaxRows, trainLogistic } from './logistic.js';
import { matrix } from './matrix.js';
import { FLOAT, encodeModel, floatInitializer, int64Initializer, intAttr, intsAttr, valueInfo } from './onnx-graph.js';
import { seededRandom } from '../util/random.js';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'autolabel-export-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLASSES = ['red', 'green', 'blue'] as const;
const LOOKS: readonly { color: Rgb; pattern: ImagePattern }[] = [
  { color: [200, 40, 40], pattern: 'solid' },
  { color: [40, 190, 60], pattern: 'stripes' },
  { color: [50, 60, 210], pattern: 'checker' },
];
const PER_CLASS = 4;

/**
 * A channels-last backbone at opset 18 whose output is tokens [N,T,D]: the branches the tiny NCHW
 * models do not reach (NHWC input, mean over tokens, ReduceX axes as inputs). Its preprocessor asks
 * for shortest_edge + crop (a cover resize) and ImageNet normalisation.
 */
function writeTokenModel(folder: string, side: number, dim: number): void {
  mkdirSync(folder, { recursive: true });
  const random = seededRandom(7);
  const weights = Float32Array.from({ length: dim * 27 }, () => (random() * 2 - 1) / Math.sqrt(27));
  const bias = Float32Array.from({ length: dim }, () => (random() * 2 - 1) * 0.1);
  const map = Math.floor((side - 1) / 2) + 1;
  const bytes = encodeModel({
    name: 'tokens',
    opset: 18,
    irVersion: 8,
    nodes: [
      { opType: 'Transpose', input: ['image'], output: ['nchw'], attribute: [intsAttr('perm', [0, 3, 1, 2])] },
      {
        opType: 'Conv',
        input: ['nchw', 'w', 'b'],
        output: ['conv'],
        attribute: [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
      },
      { opType: 'Relu', input: ['conv'], output: ['relu'] },
      { opType: 'Reshape', input: ['relu', 'shape'], output: ['flat'] },
      { opType: 'Transpose', input: ['flat'], output: ['tokens'], attribute: [intsAttr('perm', [0, 2, 1])] },
      // A second output the export must drop.
      { opType: 'ReduceMax', input: ['relu'], output: ['unused'], attribute: [intAttr('keepdims', 0)] },
    ],
    initializers: [
      floatInitializer('w', [dim, 3, 3, 3], weights),
      floatInitializer('b', [dim], bias),
      int64Initializer('shape', [3], [0, dim, -1]),
    ],
    inputs: [valueInfo('image', FLOAT, ['batch', side, side, 3])],
    outputs: [valueInfo('tokens', FLOAT, ['batch', map * map, dim]), valueInfo('unused', FLOAT, [])],
  });
  writeFileSync(join(folder, 'model.onnx'), bytes);
  const config = {
    size: { shortest_edge: side + 8 },
    crop_size: { height: side, width: side },
    resample: 3,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };
  writeFileSync(join(folder, 'preprocessor_config.json'), JSON.stringify(config));
}

interface Backbone {
  readonly name: string;
  readonly make: (folder: string) => Promise<void>;
}

const BACKBONES: readonly Backbone[] = [
  {
    name: 'pooled feature vector [N,D]',
    make: async (folder) => void (await writeTinyOnnxModel(folder, { inputSize: 32, featureDim: 16 })),
  },
  {
    name: 'feature map [N,C,H,W], pooled by the embedder',
    make: async (folder) =>
      void (await writeTinyOnnxModel(folder, { inputSize: 24, featureDim: 12, featureMap: true })),
  },
  { name: 'channels-last input, tokens [N,T,D], opset 18', make: async (folder) => writeTokenModel(folder, 20, 10) },
];

/** Generated photos of three looks at assorted sizes and formats, with their class index. */
async function sampleImages(): Promise<{ files: Buffer[]; labels: number[] }> {
  const files: Buffer[] = [];
  const labels: number[] = [];
  for (let c = 0; c < CLASSES.length; c++) {
    for (let i = 0; i < PER_CLASS; i++) {
      const look = LOOKS[c]!;
      const options = { ...look, noise: 40, seed: 10 * c + i, width: 40 + 13 * i, height: 30 + 9 * i };
      files.push(await encodeImage(i % 2 === 0 ? 'png' : 'jpeg', options));
      labels.push(c);
    }
  }
  return { files, labels };
}

/** The sample images decoded exactly as the embed job does (packed uint8 RGB at the input size), and embedded. */
async function embedSamples(folder: string) {
  const embedder = await loadEmbedder(`onnx:${folder}`, { threads: 1 });
  const { input } = embedder;
  const { files, labels } = await sampleImages();
  const count = files.length;
  const pixels = new Uint8Array(count * input.width * input.height * 3);
  for (let i = 0; i < count; i++) {
    pixels.set(await decodeRgb(files[i]!, input, { maxPixels: 1e8 }), i * input.width * input.height * 3);
  }
  try {
    const raw = await embedder.embed(pixels, count);
    return { input, labels, count, pixels, embeddings: matrix(count, embedder.dim, raw) };
  } finally {
    await embedder.close();
  }
}

async function runExported(out: string, pixels: Uint8Array, shape: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
  try {
    const result = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(pixels), shape) });
    return result.probabilities!;
  } finally {
    await session.release();
  }
}

function close(actual: Float32Array, expected: Float32Array, tolerance: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(actual.length).toBe(expected.length);
  expect(worst).toBeLessThan(tolerance);
  return worst;
}

describe('exportClassifierOnnx', () => {
  describe.each(BACKBONES)('backbone with $name', ({ name, make }) => {
    it('gives the probabilities Autolabel computes for the same pixels, and names its classes', async () => {
      const folder = join(dir, name.replace(/\W+/g, '-'));
      await make(folder);
      const { input, labels, count, pixels, embeddings } = await embedSamples(folder);

      const transform = fitFeatureTransform(embeddings);
      const features = applyFeatureTransform(transform, embeddings);
      const targets = new Float32Array(count * CLASSES.length);
      labels.forEach((label, i) => (targets[i * CLASSES.length + label] = 1));
      // A strong penalty keeps the probabilities away from 0 and 1, where a mismatch would hide.
      const head = await trainLogistic(features, targets, CLASSES.length, { l2: 0.05 });
      const expected = softmaxRows(headLogits(head, features), CLASSES.length);

      const out = join(folder, 'export', 'classifier.onnx');
      await exportClassifierOnnx({
        backboneDir: folder,
        transform,
        head,
        classes: CLASSES,
        out,
        metadata: { 'autolabel.fit': 'fit-1' },
      });

      const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
      let probabilities: ort.Tensor;
      try {
        expect(session.inputNames).toEqual(['pixels']);
        expect(session.outputNames).toEqual(['probabilities']);
        const result = await session.run({
          pixels: new ort.Tensor('float32', Float32Array.from(pixels), [count, input.height, input.width, 3]),
        });
        probabilities = result.probabilities!;
      } finally {
        await session.release();
      }
      expect(probabilities.dims).toEqual([count, CLASSES.length]);
      const actual = probabilities.data as Float32Array;
      close(actual, expected, 1e-4);
      // The comparison means something: the head separates the looks without saturating.
      for (let i = 0; i < count; i++) {
        const row = Array.from(actual.subarray(i * CLASSES.length, (i + 1) * CLASSES.length));
        expect(row.indexOf(Math.max(...row))).toBe(labels[i]);
      }
      expect(Math.min(...Array.from(actual).filter((p) => p > 0.5))).toBeLessThan(0.99);

      const model = onnx.ModelProto.decode(readFileSync(out));
      const metadata = Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]));
      expect(JSON.parse(metadata['autolabel.classes']!)).toEqual(CLASSES);
      expect(metadata['autolabel.fit']).toBe('fit-1');
      const described = JSON.parse(metadata['autolabel.input']!) as ExportedPixelInput;
      expect(described).toMatchObject({
        name: 'pixels',
        layout: 'NHWC',
        range: [0, 255],
        width: input.width,
        height: input.height,
        resize: { fit: input.fit, kernel: input.kernel },
      });
      expect(model.docString).toContain('0..255');
    });
  });

  it("replays the PCA reduction of big pools: the learner's features and its linear predictions", async () => {
    const folder = join(dir, 'reduced');
    const featureDim = REDUCED_DIM + 44;
    await writeTinyOnnxModel(folder, { inputSize: 32, featureDim });
    const { input, labels, count, pixels, embeddings } = await embedSamples(folder);
    // The learner's own features, reduced as a big pool's are (forced: this pool is small).
    const { transform, features } = await learnerFeatures(
      {
        modelId: 'tiny',
        dim: featureDim,
        dtype: 'float32',
        imageIds: Int32Array.from(labels.keys()),
        vectors: embeddings.data,
      },
      { reduce: 'always' },
    );
    expect(transform.projection?.dim).toBe(REDUCED_DIM);
    expect(features.cols).toBe(REDUCED_DIM);
    const targets = new Float32Array(count * CLASSES.length);
    labels.forEach((label, i) => (targets[i * CLASSES.length + label] = 1));
    const head = await trainLogistic(features, targets, CLASSES.length, { l2: 0.05 });
    const expected = softmaxRows(headLogits(head, features), CLASSES.length);

    const out = join(folder, 'classifier.onnx');
    await exportClassifierOnnx({ backboneDir: folder, transform, head, classes: CLASSES, out });
    const probabilities = await runExported(out, pixels, [count, input.height, input.width, 3]);
    expect(probabilities.dims).toEqual([count, CLASSES.length]);
    close(probabilities.data as Float32Array, expected, 1e-4);
    const model = onnx.ModelProto.decode(readFileSync(out));
    expect(model.graph!.node!.some((n) => n.opType === 'MatMul')).toBe(true);
    // Without the projection the same head cannot even be exported: it takes the reduced width.
    await expect(
      exportClassifierOnnx({
        backboneDir: folder,
        transform: { ...transform, projection: undefined },
        head,
        classes: CLASSES,
        out,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  const someHead = (dim: number) => ({
    transform: { power: 0.5, mean: new Float32Array(dim) },
    head: { dim, classes: 2, weights: new Float32Array(dim * 2), bias: new Float32Array(2) },
    classes: ['cat', 'dog'],
  });

  it('names the missing model.onnx', async () => {
    const missing = join(dir, 'no-model-here');
    await expect(
      exportClassifierOnnx({ backboneDir: missing, ...someHead(4), out: join(dir, 'never.onnx') }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining(join(missing, 'model.onnx')) });
  });

  it('refuses a head trained on features of another size, writing nothing', async () => {
    const folder = join(dir, 'other-size');
    await writeTinyOnnxModel(folder, { inputSize: 16, featureDim: 8 });
    const out = join(dir, 'wrong.onnx');
    await expect(exportClassifierOnnx({ backboneDir: folder, ...someHead(5), out })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/5-d.*gives 8/),
    });
    expect(() => readFileSync(out)).toThrow();
  });
});
