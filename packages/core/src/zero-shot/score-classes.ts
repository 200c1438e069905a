/**
 * @module Zero-shot for a learner's images: find the model's text tower, embed the class names (from
 * the cache when it can), and score every image against every class.
 */
import type { Learner } from '../learn/learner.js';
import type { HubOptions } from '../models/index.js';
import type { ProgressListener } from '../util/progress.js';
import type { ZeroShotInput } from './blend.js';
import { classEmbeddings } from './class-embeddings.js';
import { cosineScores } from './scores.js';
import { findTextTower } from './source.js';
import { openTextTower } from './text-tower.js';

export interface ScoreClassesOptions {
  /** The model the learner's embeddings come from; its text tower embeds the class names. */
  readonly modelSpec: string;
  readonly templates: readonly string[];
  /** Folder of the class-embedding cache; none: no cache. */
  readonly cacheDir?: string;
  readonly hub?: HubOptions;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export type ScoredClasses =
  | { readonly found: true; readonly input: ZeroShotInput; readonly warnings: readonly string[] }
  | { readonly found: false; readonly why: string };

/**
 * Cosine scores of every image of the learner with each class, or why the model cannot give them.
 * `classes` is asked for only once a text tower is found: listing them counts every image's
 * suggestion, 0.8 s at a million images, which a model without one need not pay on each refit.
 */
export async function scoreClasses(
  learner: Learner,
  classesOf: () => Promise<readonly string[]>,
  options: ScoreClassesOptions,
): Promise<ScoredClasses> {
  const lookup = await findTextTower(options.modelSpec, {
    hub: options.hub,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  if (!lookup.found) return lookup;
  const classes = await classesOf();
  const text = await classEmbeddings(lookup.files, classes, options.templates, {
    cacheDir: options.cacheDir,
    open: (files) => openTextTower(files),
  });
  const cosine = await cosineScores(learner.math, await learner.rawEmbeddings(), text.embeddings, lookup.files.name);
  return {
    found: true,
    input: {
      classes,
      cosine,
      classEmbeddings: text.embeddings,
      templates: options.templates,
      textTower: lookup.files.name,
    },
    warnings: text.cacheWarning ? [text.cacheWarning] : [],
  };
}
