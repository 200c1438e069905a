/**
 * @module Which files of a hub repository a model needs, from its config.json: the same choice
 * transformers.js makes (`ModelRegistry.get_model_files`; files.test.ts keeps the two in step), so
 * everything it opens is downloaded first and it never reaches for the network itself.
 */
import type { HfDtype } from '../domain/index.js';

/** The parts of a model a caller needs: the image tower (embedding), the text tower (zero-shot). */
export type ModelPart = 'image' | 'text';

/** Model types whose image tower is `vision_model` beside a `text_model` (transformers.js: AutoModelForImageFeatureExtraction). */
const DUAL_TOWER_TYPES: ReadonlySet<string> = new Set(['clip', 'siglip', 'jina_clip']);

/** transformers.js DEFAULT_DTYPE_SUFFIX_MAPPING. */
const SUFFIX: Readonly<Record<HfDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** The fields of config.json the choice depends on. */
export interface HubModelConfig {
  readonly model_type?: string;
  readonly 'transformers.js_config'?: {
    readonly use_external_data_format?: boolean | number | Readonly<Record<string, boolean | number>>;
  };
}

export function hasTextTower(config: HubModelConfig): boolean {
  return DUAL_TOWER_TYPES.has(config.model_type ?? '');
}

/** The ONNX file name (no folder, no suffix) of a tower. */
export function towerFileName(config: HubModelConfig, part: ModelPart): string {
  if (part === 'text') return 'text_model';
  return hasTextTower(config) ? 'vision_model' : 'model';
}

/** Repository paths a part needs at a dtype, config.json first. */
export function filesFor(config: HubModelConfig, dtype: HfDtype, part: ModelPart): string[] {
  const base = towerFileName(config, part);
  const name = `${base}${SUFFIX[dtype]}.onnx`;
  const chunks = externalDataChunks(config['transformers.js_config']?.use_external_data_format, name, base);
  const onnx = [name, ...Array.from({ length: chunks }, (_, i) => `${name}_data${i === 0 ? '' : `_${i}`}`)];
  const extra = part === 'image' ? ['preprocessor_config.json'] : ['tokenizer.json', 'tokenizer_config.json'];
  return ['config.json', ...extra, ...onnx.map((file) => `onnx/${file}`)];
}

/** transformers.js resolveExternalDataFormat: how many `_data` files sit beside the model file. */
function externalDataChunks(
  setting: boolean | number | Readonly<Record<string, boolean | number>> | undefined,
  fullName: string,
  baseName: string,
): number {
  if (!setting) return 0;
  if (typeof setting === 'object') return Number(setting[fullName] ?? setting[baseName] ?? 0);
  return Number(setting);
}
