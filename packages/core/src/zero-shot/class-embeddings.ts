/**
 * @module Class names to text embeddings: each class's prompts (templates.ts) embedded by the text
 * tower, each normalised, averaged and normalised again (CLIP's prompt ensembling). Kept in a cache
 * file per text tower, keyed by (templates, class name), so a suggest after the first one opens no
 * text tower unless a class or template is new.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../errors.js';
import { type Matrix, matrix, normalizeRows } from '../learn/matrix.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import { promptsFor } from './templates.js';
import type { TextTower, TextTowerFiles } from './text-tower.js';

export interface ClassEmbeddings {
  /** Unit rows, one per class, in the order asked: [classes, dim]. */
  readonly embeddings: Matrix;
  /** Classes whose embeddings were computed now (the rest came from the cache). */
  readonly computed: number;
  /** Why the cache could not be written (a full disk, a read-only workspace); the embeddings are fine. */
  readonly cacheWarning?: string;
}

export interface ClassEmbeddingOptions {
  /** Folder for the cache file; none: no cache. */
  readonly cacheDir?: string;
  /** Opens the tower, called only when something is not cached; the caller's tower is closed here. */
  readonly open: (files: TextTowerFiles) => Promise<TextTower>;
}

const cacheSchema = z.object({
  version: z.literal(1),
  tower: z.string(),
  /** key -> base64 of the float32 unit vector. */
  entries: z.record(z.string(), z.string()),
});

export async function classEmbeddings(
  files: TextTowerFiles,
  classes: readonly string[],
  templates: readonly string[],
  options: ClassEmbeddingOptions,
): Promise<ClassEmbeddings> {
  const file = options.cacheDir
    ? join(options.cacheDir, `zero-shot-text-${sha256(files.id).slice(0, 16)}.json`)
    : undefined;
  const entries = file ? await readCache(file, files.id) : {};
  const keyOf = (name: string): string => sha256(`${JSON.stringify(templates)}\n${name}`).slice(0, 32);
  const vectors = classes.map((name) => decode(entries[keyOf(name)]));
  const missing = classes.filter((_, j) => vectors[j] === undefined);
  if (missing.length > 0) {
    const tower = await options.open(files);
    try {
      for (const name of missing) {
        const prompts = normalizeRows(await tower.embed(promptsFor(name, templates)));
        const mean = new Float32Array(prompts.cols);
        for (let p = 0; p < prompts.rows; p++) {
          for (let d = 0; d < prompts.cols; d++) mean[d]! += prompts.data[p * prompts.cols + d]!;
        }
        const unit = normalizeRows(matrix(1, mean.length, mean)).data;
        vectors[classes.indexOf(name)] = unit;
        entries[keyOf(name)] = Buffer.from(unit.buffer, unit.byteOffset, unit.byteLength).toString('base64');
      }
    } finally {
      await tower.close();
    }
  }
  const dim = vectors[0]?.length ?? 0;
  const out = new Float32Array(classes.length * dim);
  vectors.forEach((v, j) => out.set(v!, j * dim));
  let cacheWarning: string | undefined;
  if (file && missing.length > 0) {
    try {
      await mkdir(options.cacheDir!, { recursive: true });
      await writeFileAtomic(file, [JSON.stringify({ version: 1, tower: files.id, entries })]);
    } catch (error) {
      // The cache only saves time: a full disk or a read-only workspace must not stop suggestions.
      cacheWarning = `the class names' text embeddings were not cached (${messageOf(error)}); they are computed again next time`;
    }
  }
  return { embeddings: matrix(classes.length, dim, out), computed: missing.length, cacheWarning };
}

async function readCache(file: string, tower: string): Promise<Record<string, string>> {
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success && parsed.data.tower === tower ? parsed.data.entries : {};
  } catch {
    return {}; // missing or damaged: computed again
  }
}

function decode(base64: string | undefined): Float32Array | undefined {
  if (base64 === undefined) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  return new Float32Array(Uint8Array.from(bytes).buffer);
}
