/** @module Tiny ONNX image models written at test time, laid out like a real model folder (model.onnx + preprocessor_config.json). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from './images.js';
import { onnxGraph } from '@autolabel/core/learn';

const { encodeModel, FLOAT, floatInitializer, intAttr, intsAttr, valueInfo } = onnxGraph;
type NodeProto = onnxGraph.NodeProto;

export interface TinyOnnxOptions {
  /** Square input side S: the model takes pixel_values [N,3,S,S]. Default 32. */
  readonly inputSize?: number;
  /** Conv output channels, i.e. the feature length after pooling. Default 16. */
  readonly featureDim?: number;
  /** Seed of the conv weights. Default 1. */
  readonly seed?: number;
  /** Name of the graph output. Default 'features'. */
  readonly outputName?: string;
  /** Output the conv feature map [N,C,H,W] instead of pooled features [N,C]; the embedder must pool. */
  readonly featureMap?: boolean;
}

export interface TinyOnnxModel {
  readonly dir: string;
  readonly featureDim: number;
  readonly inputSize: number;
}

const INPUT_NAME = 'pixel_values';

/**
 * Writes `dir/model.onnx` (pixel_values -> Conv 3x3 stride 2 -> Relu [-> GlobalAveragePool ->
 * Flatten] -> features, dynamic batch) and a Hugging Face style `dir/preprocessor_config.json`
 * with the keys of shared/models/mobilenet-v1-imagenet.
 */
export async function writeTinyOnnxModel(dir: string, options: TinyOnnxOptions = {}): Promise<TinyOnnxModel> {
  const inputSize = options.inputSize ?? 32;
  const featureDim = options.featureDim ?? 16;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), encodeTinyOnnxModel(options));
  await writeFile(join(dir, 'preprocessor_config.json'), preprocessorConfig(inputSize, featureDim));
  return { dir, featureDim, inputSize };
}

/** A model folder whose model.onnx is garbage bytes but whose preprocessor_config.json is valid. */
export async function writeInvalidOnnxModel(dir: string): Promise<TinyOnnxModel> {
  const inputSize = 32;
  const featureDim = 16;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), Buffer.from('this is not an ONNX model \u0000\u00ff\u0001'));
  await writeFile(join(dir, 'preprocessor_config.json'), preprocessorConfig(inputSize, featureDim));
  return { dir, featureDim, inputSize };
}

/** The bytes of model.onnx as writeTinyOnnxModel writes them. */
export function encodeTinyOnnxModel(options: TinyOnnxOptions = {}): Uint8Array {
  const size = options.inputSize ?? 32;
  const channels = options.featureDim ?? 16;
  const outputName = options.outputName ?? 'features';
  const featureMap = options.featureMap ?? false;

  // Uniform weights in +-1/sqrt(fan-in) keep activations O(1) for inputs in [-1, 1].
  const random = seededRandom(options.seed ?? 1);
  const fanIn = 3 * 3 * 3;
  const scale = 1 / Math.sqrt(fanIn);
  const weights = Array.from({ length: channels * fanIn }, () => (random() * 2 - 1) * scale);
  const bias = Array.from({ length: channels }, () => (random() * 2 - 1) * 0.1);

  const reluOut = featureMap ? outputName : 'relu_out';
  const nodes: NodeProto[] = [
    {
      opType: 'Conv',
      name: 'conv',
      input: [INPUT_NAME, 'conv.weight', 'conv.bias'],
      output: ['conv_out'],
      attribute: [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
    },
    { opType: 'Relu', name: 'relu', input: ['conv_out'], output: [reluOut] },
  ];
  if (!featureMap) {
    nodes.push(
      { opType: 'GlobalAveragePool', name: 'pool', input: [reluOut], output: ['pooled'] },
      {
        opType: 'Flatten',
        name: 'flatten',
        input: ['pooled'],
        output: [outputName],
        attribute: [intAttr('axis', 1)],
      },
    );
  }

  // Conv with k=3, s=2, pads 1: out = floor((S - 1) / 2) + 1.
  const mapSize = Math.floor((size - 1) / 2) + 1;
  return encodeModel({
    name: 'tiny_embedder',
    producerName: '@autolabel/test-utils',
    nodes,
    initializers: [
      floatInitializer('conv.weight', [channels, 3, 3, 3], Float32Array.from(weights)),
      floatInitializer('conv.bias', [channels], Float32Array.from(bias)),
    ],
    inputs: [valueInfo(INPUT_NAME, FLOAT, ['batch', 3, size, size])],
    outputs: [valueInfo(outputName, FLOAT, featureMap ? ['batch', channels, mapSize, mapSize] : ['batch', channels])],
  });
}

/** Same keys as shared/models/mobilenet-v1-imagenet/preprocessor_config.json: x/255, then (x-0.5)/0.5. */
function preprocessorConfig(inputSize: number, featureDim: number): string {
  const config = {
    do_resize: true,
    size: { height: inputSize, width: inputSize },
    resample: 2, // PIL bilinear
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    feature_dim: featureDim,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
