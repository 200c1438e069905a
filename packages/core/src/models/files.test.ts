// The files the cache fetches must be the files transformers.js opens: both lists, side by side.
import { AutoModelForImageFeatureExtraction, ModelRegistry } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { HF_DTYPES } from '../domain/index.js';
import { filesFor, type HubModelConfig } from './files.js';

const CONFIGS: Readonly<Record<string, HubModelConfig & Record<string, unknown>>> = {
  clip: { model_type: 'clip', architectures: ['CLIPModel'] },
  siglip: { model_type: 'siglip', architectures: ['SiglipModel'] },
  dinov2: { model_type: 'dinov2', architectures: ['Dinov2Model'] },
  vit: { model_type: 'vit', architectures: ['ViTModel'] },
  'dinov2, external data': {
    model_type: 'dinov2',
    architectures: ['Dinov2Model'],
    'transformers.js_config': { use_external_data_format: { 'model_fp16.onnx': 2, model: true } },
  },
};

/**
 * transformers.js's own answer, for the class hf-worker.ts opens: AutoModelForImageFeatureExtraction
 * (CLIP, SigLIP, ...: their vision-tower classes default to vision_model.onnx), else AutoModel.
 */
async function transformersFiles(config: HubModelConfig & Record<string, unknown>, dtype: string) {
  const tower = AutoModelForImageFeatureExtraction.supports(config.model_type ?? '');
  return ModelRegistry.get_model_files('/local/model', {
    config: config as never,
    dtype: dtype as never,
    device: 'cpu',
    ...(tower ? { model_file_name: 'vision_model' } : {}),
  });
}

describe('files a hub model needs', () => {
  it.each(Object.keys(CONFIGS))('%s: the same ONNX files transformers.js loads, for every dtype', async (name) => {
    const config = CONFIGS[name]!;
    for (const dtype of HF_DTYPES) {
      const ours = filesFor(config, dtype, 'image');
      const theirs = await transformersFiles(config, dtype);
      expect(ours.filter((f) => f.endsWith('.onnx') || f.includes('.onnx_data'))).toEqual(
        theirs.filter((f) => f.startsWith('onnx/')),
      );
      expect(ours).toContain('config.json');
      expect(ours).toContain('preprocessor_config.json');
    }
  });

  it('picks the vision tower of CLIP and SigLIP, the model itself otherwise, and the text tower with its tokenizer', () => {
    expect(filesFor(CONFIGS.clip!, 'fp32', 'image')).toContain('onnx/vision_model.onnx');
    expect(filesFor(CONFIGS.siglip!, 'q8', 'image')).toContain('onnx/vision_model_quantized.onnx');
    expect(filesFor(CONFIGS.dinov2!, 'fp16', 'image')).toContain('onnx/model_fp16.onnx');
    expect(filesFor(CONFIGS.clip!, 'fp32', 'text')).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/text_model.onnx',
    ]);
    expect(filesFor(CONFIGS['dinov2, external data']!, 'fp16', 'image')).toEqual([
      'config.json',
      'preprocessor_config.json',
      'onnx/model_fp16.onnx',
      'onnx/model_fp16.onnx_data',
      'onnx/model_fp16.onnx_data_1',
    ]);
  });
});
