/**
 * @module An ONNX image model's preprocessor config (Hugging Face `preprocessor_config.json`): the
 * pixels the model takes and how they are normalised. The ONNX embedder reads it to feed the model,
 * and an exported classifier bakes the same steps into its graph.
 */
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import type { ImageInputSpec } from '../domain/index.js';

/** PIL resample codes used by Hugging Face image processors, mapped to sharp kernels. */
const RESAMPLE_KERNELS: Record<number, ImageInputSpec['kernel']> = {
  0: 'nearest',
  1: 'lanczos3',
  2: 'linear',
  3: 'cubic',
  4: 'linear',
  5: 'linear',
};

const triple = z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]);

/** The subset of a Hugging Face `preprocessor_config.json` an image feature extractor needs. */
export const preprocessorConfigSchema = z.object({
  do_resize: z.boolean().default(true),
  size: z.union([
    z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
    z.object({ shortest_edge: z.number().int().positive() }),
    // Older configs (e.g. Xenova's CLIP exports): a number is the shortest edge.
    z.number().int().positive(),
  ]),
  do_center_crop: z.boolean().optional(),
  crop_size: z
    .union([z.object({ height: z.number().int().positive(), width: z.number().int().positive() }), z.number()])
    .optional(),
  resample: z.number().int().min(0).max(5).default(2),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: triple.default([0.5, 0.5, 0.5]),
  image_std: triple.default([0.5, 0.5, 0.5]),
  feature_dim: z.number().int().positive().optional(),
});

export type PreprocessorConfig = z.infer<typeof preprocessorConfigSchema>;

/** The pixels the model takes, from its preprocessor config (also what an exported classifier expects). */
export function inputSpecOf(config: PreprocessorConfig, configPath: string): ImageInputSpec {
  const kernel = RESAMPLE_KERNELS[config.resample] ?? 'linear';
  if (!config.do_resize) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `${configPath}: do_resize=false is not supported (batches need one size)`,
    );
  }
  const size = config.size;
  if (typeof size !== 'number' && 'height' in size)
    return { width: size.width, height: size.height, fit: 'fill', kernel };
  // shortest_edge + center crop: approximated by a cover resize straight to the crop size.
  const crop = config.crop_size;
  const shortest = typeof size === 'number' ? size : size.shortest_edge;
  const side = crop === undefined ? shortest : typeof crop === 'number' ? crop : crop.width;
  const height = crop !== undefined && typeof crop !== 'number' ? crop.height : side;
  return { width: side, height, fit: 'cover', kernel };
}

/** Rescale and normalise folded into one multiply-add per channel: value = pixel * scale + offset. */
export function normalisationOf(config: PreprocessorConfig): { scale: number[]; offset: number[] } {
  const rescale = config.do_rescale ? config.rescale_factor : 1;
  const mean = config.do_normalize ? channelValues(config.image_mean) : [0, 0, 0];
  const std = config.do_normalize ? channelValues(config.image_std) : [1, 1, 1];
  return {
    scale: [0, 1, 2].map((c) => rescale / (std[c] ?? 1)),
    offset: [0, 1, 2].map((c) => -(mean[c] ?? 0) / (std[c] ?? 1)),
  };
}

function channelValues(value: number | readonly number[]): [number, number, number] {
  if (typeof value === 'number') return [value, value, value];
  return [value[0] ?? 0, value[1] ?? 0, value[2] ?? 0];
}
