/** @module The embed job: decode what is missing, run the model in batches, store each batch in one transaction. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { decodeRgb } from '../image/decode.js';
import { ImageSkipError, type Skip } from '../image/skip.js';
import type { EmbeddingBatch, EmbeddingDtype, PendingEmbedding, Store } from '../store/store.js';
import { mapOrdered } from '../util/pool.js';
import { type ProgressListener, ProgressTracker } from '../util/progress.js';
import type { Embedder } from './embedder.js';

export interface EmbedOptions {
  readonly imagesRoot: string;
  readonly maxPixels: number;
  readonly dtype: EmbeddingDtype;
  /** The spec string recorded with the model. */
  readonly spec: string;
  readonly batchSize?: number;
  /** Images decoded ahead of the model; enough to keep it busy while the next batch decodes. */
  readonly prefetch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export interface EmbedResult {
  readonly modelId: string;
  /** Distinct image contents that needed an embedding when the job started. */
  readonly total: number;
  readonly embedded: number;
  readonly skipped: number;
  readonly aborted: boolean;
  readonly seconds: number;
}

type Prepared =
  | { readonly item: PendingEmbedding; readonly pixels: Uint8Array }
  | { readonly item: PendingEmbedding; readonly skip: Skip };

const PAGE = 512;

export async function embedPending(store: Store, embedder: Embedder, options: EmbedOptions): Promise<EmbedResult> {
  const { modelId } = embedder;
  await store.registerModel({ id: modelId, spec: options.spec, dim: embedder.dim });
  const total = await store.countPendingEmbeddings(modelId);
  const signal = options.signal;
  // Content hashes handed out but not yet stored: a later page must not list them again.
  const inFlight = new Set<string>();

  async function* pending(): AsyncGenerator<PendingEmbedding> {
    let after = 0;
    while (!signal?.aborted) {
      const page = await store.listPendingEmbeddings(modelId, after, PAGE);
      if (page.length === 0) return;
      for (const item of page) {
        after = item.id;
        if (inFlight.has(item.contentHash)) continue;
        inFlight.add(item.contentHash);
        yield item;
        if (signal?.aborted) return;
      }
    }
  }
  return embedItems(store, embedder, pending(), total, options, (hash) => inFlight.delete(hash));
}

/**
 * Embeds `items` (one per content hash) and stores each batch with its decode failures in one
 * transaction: the loop behind `embedPending`, and behind a queue worker's batch of given images.
 * The model must be registered. `onStored` hears each content hash once its row is committed.
 */
export async function embedItems(
  store: Store,
  embedder: Embedder,
  source: AsyncIterable<PendingEmbedding> | Iterable<PendingEmbedding>,
  total: number,
  options: EmbedOptions,
  onStored?: (contentHash: string) => void,
): Promise<EmbedResult> {
  const started = performance.now();
  const { modelId, input } = embedder;
  const tracker = new ProgressTracker('embed', total, options.onProgress);
  tracker.report();
  const batchSize = options.batchSize ?? embedder.batchSize;
  const imageBytes = input.width * input.height * 3;
  const decodeOptions = { maxPixels: options.maxPixels };
  const signal = options.signal;
  let embedded = 0;
  let skipped = 0;

  const prepare = async (item: PendingEmbedding): Promise<Prepared> => {
    try {
      const data = await readFile(join(options.imagesRoot, item.path));
      return { item, pixels: await decodeRgb(data, input, decodeOptions, item) };
    } catch (error) {
      if (error instanceof ImageSkipError) return { item, skip: error.skip };
      return { item, skip: { reason: 'unreadable', detail: messageOf(error) } };
    }
  };

  let items: PendingEmbedding[] = [];
  let failures: { item: PendingEmbedding; skip: Skip }[] = [];
  let pixels = new Uint8Array(batchSize * imageBytes);

  const runBatch = async (
    batchItems: PendingEmbedding[],
    batchPixels: Uint8Array,
    batchFailures: { item: PendingEmbedding; skip: Skip }[],
  ): Promise<void> => {
    const count = batchItems.length;
    const features =
      count > 0 ? await embedder.embed(batchPixels.subarray(0, count * imageBytes), count) : new Float32Array();
    const dim = embedder.dim;
    const batch: EmbeddingBatch = {
      modelId,
      dtype: options.dtype,
      dim,
      vectors: batchItems.map((item, i) => ({
        contentHash: item.contentHash,
        vector: features.subarray(i * dim, (i + 1) * dim),
      })),
      failures: batchFailures.map(({ item, skip }) => ({ id: item.id, contentHash: item.contentHash, ...skip })),
    };
    await store.putEmbeddings(batch);
    for (const item of batchItems) onStored?.(item.contentHash);
    for (const { item } of batchFailures) onStored?.(item.contentHash);
    embedded += count;
    skipped += batchFailures.length;
    tracker.advance(count + batchFailures.length);
  };

  // One batch in the model at a time (a kill loses at most that one); the next decodes meanwhile.
  let running: Promise<void> = Promise.resolve();
  const dispatch = async (): Promise<void> => {
    await running;
    running = runBatch(items, pixels, failures);
    running.catch(() => undefined);
    items = [];
    failures = [];
    pixels = new Uint8Array(batchSize * imageBytes);
  };

  const prefetch = options.prefetch ?? Math.max(batchSize * 2, 16);
  for await (const prepared of mapOrdered(source, prefetch, prepare)) {
    // On abort only the batch already in the model finishes; decoded images wait for the next run.
    if (signal?.aborted) break;
    if ('skip' in prepared) {
      failures.push(prepared);
    } else {
      pixels.set(prepared.pixels, items.length * imageBytes);
      items.push(prepared.item);
    }
    if (items.length === batchSize) await dispatch();
  }
  if (!signal?.aborted && (items.length > 0 || failures.length > 0)) await dispatch();
  await running;
  return {
    modelId,
    total,
    embedded,
    skipped,
    aborted: signal?.aborted ?? false,
    seconds: (performance.now() - started) / 1000,
  };
}
