/** @module The workspace config file (`autolabel.json`): schema, reading with clear errors, atomic writes. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fs.js';
import { readJsonFile } from '../util/json.js';

export const CONFIG_FILE = 'autolabel.json';
export const DATABASE_FILE = 'autolabel.db';

/**
 * A folder outside the workspace, kept both ways: relative to the workspace (works when both move
 * together) and absolute (works when only the workspace moves).
 */
const locationSchema = z.object({ relative: z.string().min(1), absolute: z.string().min(1) });
export type Location = z.infer<typeof locationSchema>;

export const configSchema = z.object({
  version: z.literal(1),
  images: locationSchema,
  /** Model spec; an onnx path inside it is stored as a Location under `modelPath`. */
  model: z.string().min(1),
  modelPath: locationSchema.optional(),
  embeddings: z.object({ dtype: z.enum(['float32', 'float16']).default('float32') }).default({ dtype: 'float32' }),
  /** The store's URL (postgres://user@host:port/database) when it is not the workspace's own SQLite file. */
  store: z.string().min(1).optional(),
  /** Images with more pixels than this are skipped as decompression bombs. */
  maxPixels: z.number().int().positive().default(100_000_000),
  /** Zero-shot from class names (models with a text tower): on unless `enabled` is false; prompt templates, `{}` for the class. */
  zeroShot: z
    .object({
      enabled: z.boolean().default(true),
      templates: z
        .array(z.string().includes('{}', { message: 'a template needs {} for the class name' }))
        .min(1)
        .optional(),
    })
    .optional(),
});

export type WorkspaceConfig = z.infer<typeof configSchema>;

export function locate(workspaceDir: string, target: string): Location {
  const absolute = resolve(target);
  return { relative: relative(workspaceDir, absolute) || '.', absolute };
}

/** Resolves a Location from where the workspace is now; `exists` decides between the two readings. */
export function resolveLocation(workspaceDir: string, location: Location, exists: (path: string) => boolean): string {
  const fromHere = isAbsolute(location.relative) ? location.relative : join(workspaceDir, location.relative);
  if (exists(fromHere)) return fromHere;
  return location.absolute;
}

export async function readConfig(workspaceDir: string): Promise<WorkspaceConfig> {
  return readJsonFile(join(workspaceDir, CONFIG_FILE), configSchema, 'CONFIG_INVALID');
}

/** Writes atomically (util/fs.ts): a crash or a full disk never leaves half a config, or a temporary file. */
export async function writeConfig(workspaceDir: string, config: WorkspaceConfig): Promise<void> {
  await writeFileAtomic(join(workspaceDir, CONFIG_FILE), [`${JSON.stringify(configSchema.parse(config), null, 2)}\n`]);
}
