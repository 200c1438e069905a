/**
 * @module The embed job: decode what is missing into model-ready batches (in a pool of worker
 * threads, or in-process where that is faster), run the model on one batch while the next ones
 * decode, store each batch in one transaction.
 */
import type { Skip } from '../image/skip.js';
import type { EmbeddingBatch, EmbeddingDtype, PendingEmbedding, Store } from '../store/store.js';
import { type ProgressListener, ProgressTracker } from '../util/progress.js';
import { type BatchDecoderConfig, batchBytes } from './batch-decoder.js';
import {
  type DecodeLane,
  DecodePool,
  type DecodePoolOptions,
  decodesInTurns,
  defaultDecodeWorkers,
  type KeptDecodeWorkers,
} from './decode-pool.js';
import { type Embedder, takesTensors } from './embedder.js';

export interface EmbedOptions {
  readonly imagesRoot: string;
  readonly maxPixels: number;
  readonly dtype: EmbeddingDtype;
  /** The spec string recorded with the model. */
  readonly spec: string;
  readonly batchSize?: number;
  /** Images each decoder has in hand at once (libvips runs them on libuv's threads; a plain JPEG decodes on the decoder's own); 4 by default. */
  readonly prefetch?: number;
  /** Decode worker threads; 0 decodes in this thread. By default from the cores and the job's size. */
  readonly decodeWorkers?: number;
  /**
   * Decoding waits while a batch is in the model or queued for it, rather than overlapping it: by
   * default where the model takes every core (decodeShare), so that no decoder preempts one of its
   * threads mid-layer (see decodesInTurns).
   */
  readonly takeTurns?: boolean;
  /** For tests that watch the decode workers (see DecodePoolOptions). */
  readonly createDecodeWorker?: DecodePoolOptions['createWorker'];
  /** Decode workers to take and give back, kept from job to job; started for this job alone without. */
  readonly keptDecodeWorkers?: KeptDecodeWorkers;
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

/** A batch its decoder has filled: images at the front of `buffer` in the order of `items`. */
interface Filled {
  readonly items: PendingEmbedding[];
  readonly failures: { readonly item: PendingEmbedding; readonly skip: Skip }[];
  readonly buffer: ArrayBuffer;
}

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
 *
 * Each decode lane (a worker thread, or this thread for a small job and while the workers start)
 * fills one batch buffer at a time with model-ready images; filled batches queue for the model,
 * which runs one at a time (a kill loses at most that one). Buffers are recycled, and there are two
 * more of them than lanes, so decoding runs a batch or two ahead of the model and memory stays flat.
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
  const tensors = takesTensors(embedder) ? embedder : null;
  const config: BatchDecoderConfig = {
    imagesRoot: options.imagesRoot,
    input,
    maxPixels: options.maxPixels,
    layout: tensors ? { kind: 'tensor', format: tensors.tensorFormat } : { kind: 'bytes' },
  };
  const imageBytes = input.width * input.height * 3;
  const inFlightPerLane = Math.max(1, options.prefetch ?? 4);
  const signal = options.signal;
  let embedded = 0;
  let skipped = 0;
  let failure: unknown = null;
  const stopped = (): boolean => failure !== null || (signal?.aborted ?? false);
  const fail = (error: unknown): void => {
    failure ??= error;
  };

  const next = serialNext(source);
  const turns = new Turns(options.takeTurns ?? decodesInTurns());
  const buffers = new BufferPool(batchBytes(config, batchSize));

  const runBatch = async ({ items, failures, buffer }: Filled): Promise<void> => {
    const count = items.length;
    let features: Float32Array = new Float32Array();
    let back: ArrayBuffer | undefined = buffer;
    try {
      await turns.modelsTurn();
      if (count > 0 && tensors) {
        const result = await tensors.embedTensor(new Float32Array(buffer), count);
        features = result.features;
        back = result.tensor.buffer as ArrayBuffer;
      } else if (count > 0) {
        features = await embedder.embed(new Uint8Array(buffer, 0, count * imageBytes), count);
      }
    } catch (error) {
      // A tensor handed to a failed model may not come back.
      if (tensors) back = undefined;
      throw error;
    } finally {
      turns.modelDone();
      buffers.release(back);
    }
    const dim = embedder.dim;
    const batch: EmbeddingBatch = {
      modelId,
      dtype: options.dtype,
      dim,
      vectors: items.map((item, i) => ({
        contentHash: item.contentHash,
        vector: features.subarray(i * dim, (i + 1) * dim),
      })),
      failures: failures.map(({ item, skip }) => ({ id: item.id, contentHash: item.contentHash, ...skip })),
    };
    await store.putEmbeddings(batch);
    for (const item of items) onStored?.(item.contentHash);
    for (const { item } of failures) onStored?.(item.contentHash);
    embedded += count;
    skipped += failures.length;
    tracker.advance(count + failures.length);
  };

  // One batch in the model at a time; on abort or failure, batches not yet in the model are dropped
  // (their images stay pending for the next run).
  let running: Promise<void> = Promise.resolve();
  const enqueue = (filled: Filled): void => {
    turns.queued();
    running = running.then(async () => {
      if (stopped()) {
        turns.modelDone();
        buffers.release(filled.buffer);
        return;
      }
      await runBatch(filled).catch(fail);
    });
  };

  let nextBatch = 0;
  const fill = async (lane: DecodeLane, buffer: ArrayBuffer): Promise<Filled> => {
    const batch = nextBatch++;
    lane.begin(batch, buffer);
    const slots: (PendingEmbedding | undefined)[] = [];
    // Free slots, lowest on top: a failed image's slot goes back for the next one.
    const free = Array.from({ length: batchSize }, (_, i) => batchSize - 1 - i);
    const failures: Filled['failures'] = [];
    const stream = async (): Promise<void> => {
      while (!stopped() && free.length > 0) {
        const slot = free.pop()!;
        const item = await next(stopped);
        if (item === undefined) {
          free.push(slot);
          return;
        }
        await turns.decodersTurn();
        const skip = await lane.decode(batch, slot, item).finally(() => turns.decoded());
        if (skip) {
          failures.push({ item, skip });
          free.push(slot);
          free.sort((a, b) => b - a);
        } else {
          slots[slot] = item;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlightPerLane, batchSize) }, stream));
    const used = slots.flatMap((item, slot) => (item ? [slot] : []));
    const sealed = await lane.seal(batch, used);
    return { items: used.map((slot) => slots[slot]!), failures, buffer: sealed };
  };

  const drive = async (lane: DecodeLane, until: () => boolean = () => false): Promise<void> => {
    while (!stopped() && !next.exhausted && !until()) {
      const buffer = await buffers.acquire();
      let filled: Filled;
      try {
        filled = await fill(lane, buffer);
      } catch (error) {
        // The buffer is lost with the lane; its place in the pool is not.
        buffers.release(undefined);
        throw error;
      }
      if (filled.items.length === 0 && filled.failures.length === 0) buffers.release(filled.buffer);
      else enqueue(filled);
    }
  };

  const workers = options.decodeWorkers ?? defaultDecodeWorkers(total, batchSize);
  const pool = new DecodePool(config, {
    workers,
    kept: options.keptDecodeWorkers,
    createWorker: options.createDecodeWorker,
  });
  // This thread decodes alone in a small job; with workers, until one of them is ready (a worker
  // that fails to start shows it in its own first decode).
  let bridged = false;
  const endBridge = (): void => {
    bridged = pool.workers.length > 0;
  };
  pool.anyReady.then(endBridge, endBridge);
  buffers.setCapacity(pool.workers.length + 3);
  try {
    await Promise.all([
      drive(pool.local, () => bridged).catch(fail),
      ...pool.workers.map((lane) => drive(lane).catch(fail)),
    ]);
    await running;
  } finally {
    await pool.close(failure === null && !signal?.aborted);
  }
  if (failure !== null) throw failure;
  return {
    modelId,
    total,
    embedded,
    skipped,
    aborted: signal?.aborted ?? false,
    seconds: (performance.now() - started) / 1000,
  };
}

/** `source` as one next() that concurrent callers may share; it stops handing out items once `stop()` says so. */
function serialNext(source: AsyncIterable<PendingEmbedding> | Iterable<PendingEmbedding>): {
  (stop: () => boolean): Promise<PendingEmbedding | undefined>;
  readonly exhausted: boolean;
} {
  const iterator: AsyncIterator<PendingEmbedding> | Iterator<PendingEmbedding> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let exhausted = false;
  let chain: Promise<unknown> = Promise.resolve();
  const next = (stop: () => boolean): Promise<PendingEmbedding | undefined> => {
    const result = chain.then(async () => {
      if (exhausted || stop()) return undefined;
      const step = await iterator.next();
      if (step.done) exhausted = true;
      return step.done ? undefined : step.value;
    });
    chain = result.catch(() => undefined);
    return result;
  };
  return Object.defineProperty(next, 'exhausted', { get: () => exhausted }) as ReturnType<typeof serialNext>;
}

/**
 * Whose turn it is when decoding and the model take turns: decoders wait while a batch is queued
 * for the model or in it, and the model waits for the decodes already handed out to finish. Without
 * turns, both go as they can.
 */
class Turns {
  readonly #on: boolean;
  /** Batches queued for the model or in it. */
  #batches = 0;
  /** Decodes handed out and not yet finished. */
  #decoding = 0;
  #decodersWait: (() => void)[] = [];
  #modelWaits: (() => void) | null = null;

  constructor(on: boolean) {
    this.#on = on;
  }

  queued(): void {
    this.#batches++;
  }

  modelDone(): void {
    this.#batches--;
    if (this.#batches > 0) return;
    const waiting = this.#decodersWait;
    this.#decodersWait = [];
    for (const go of waiting) go();
  }

  /** Resolves when a decoder may start one image; call decoded() when it is done. */
  async decodersTurn(): Promise<void> {
    while (this.#on && this.#batches > 0) await new Promise<void>((resolve) => this.#decodersWait.push(resolve));
    this.#decoding++;
  }

  decoded(): void {
    this.#decoding--;
    if (this.#decoding === 0 && this.#modelWaits) {
      const go = this.#modelWaits;
      this.#modelWaits = null;
      go();
    }
  }

  /** Resolves when the model may run its next batch. */
  async modelsTurn(): Promise<void> {
    if (this.#on && this.#decoding > 0) await new Promise<void>((resolve) => (this.#modelWaits = resolve));
  }
}

/** Batch buffers, recycled: at most `capacity` exist at once, and acquire() waits for one to come back. */
class BufferPool {
  readonly #bytes: number;
  readonly #free: ArrayBuffer[] = [];
  readonly #waiting: ((buffer: ArrayBuffer) => void)[] = [];
  #capacity = 1;
  #out = 0;

  constructor(bytes: number) {
    this.#bytes = bytes;
  }

  setCapacity(capacity: number): void {
    this.#capacity = capacity;
  }

  acquire(): Promise<ArrayBuffer> {
    if (this.#out < this.#capacity) {
      this.#out++;
      return Promise.resolve(this.#take());
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a buffer's place back, with the buffer to reuse when the caller still has it. */
  release(buffer: ArrayBuffer | undefined): void {
    if (buffer && buffer.byteLength === this.#bytes) this.#free.push(buffer);
    const waiter = this.#waiting.shift();
    if (waiter) waiter(this.#take());
    else this.#out--;
  }

  #take(): ArrayBuffer {
    return this.#free.pop() ?? new ArrayBuffer(this.#bytes);
  }
}
