/**
 * @module The jobs a queue carries, as zod schemas: what a producer puts on the queue and a worker
 * checks before doing it. Each job says everything a worker on another machine needs except the
 * store (model spec and id, dtype, pixel limit, images root), so a worker needs no workspace folder.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Every kind of job; only `embed` has a worker so far (score-shard and index-shard are planned). */
export const JOB_KINDS = ['embed', 'score-shard', 'index-shard'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const pendingImageSchema = z.object({
  id: z.number().int().positive(),
  path: z.string().min(1),
  contentHash: z.string().min(1),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
});

export const embedJobSchema = z.object({
  kind: z.literal('embed'),
  /** The model spec as the producer resolved it; a worker loads it (its path must be readable there too). */
  spec: z.string().min(1),
  /** What the worker's model must be: a worker whose copy differs refuses the job rather than mix vectors. */
  modelId: z.string().min(1),
  dtype: z.enum(['float32', 'float16']),
  maxPixels: z.number().int().positive(),
  /** The producer's images root; a worker may map it to its own (`--images-root`). */
  imagesRoot: z.string().min(1),
  /** The images as they were when queued: a worker embeds only those still stored with this content. */
  images: z.array(pendingImageSchema).min(1),
});
export type EmbedJob = z.infer<typeof embedJobSchema>;

export const queueJobSchema = z.discriminatedUnion('kind', [embedJobSchema]);
export type QueueJob = z.infer<typeof queueJobSchema>;

/** What a worker returns for an embed job: counted by the images it wrote, skipped, or found done already. */
export interface EmbedJobResult {
  readonly embedded: number;
  /** Images that could not be decoded or read (recorded as skipped, as the in-process embed does). */
  readonly skipped: number;
  /** Images found embedded already (a retry after a worker died after its commit) or changed since queued. */
  readonly alreadyDone: number;
  readonly seconds: number;
  readonly worker: string;
}

/**
 * The job id of a batch: the same images for the same model give the same id, so a batch queued
 * twice (embed run again while the first run's batches wait) is one job.
 */
export function embedJobId(modelId: string, imageIds: readonly number[]): string {
  const hash = createHash('sha256').update(modelId).update('\0').update(imageIds.join(',')).digest('hex');
  return `embed-${hash.slice(0, 32)}`;
}
