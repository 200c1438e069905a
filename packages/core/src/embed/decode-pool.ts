/**
 * @module The embed pipeline's decode pool: worker threads that each fill batch buffers with
 * model-ready images (read, decode, resize, normalise), or one decoder in this thread where a worker
 * is not worth it (a small job). A worker that crashes fails its requests with an AutolabelError.
 */
import { availableParallelism } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { AutolabelError } from '../errors.js';
import type { Skip } from '../image/skip.js';
import { watchWorker, type WorkerWatch, workerUrl } from './backends/worker-slot.js';
import { BatchDecoder, type BatchDecoderConfig, type DecodeItem } from './batch-decoder.js';

/** Main thread -> decode worker. Buffers are transferred, not copied. */
export type DecodeRequest =
  | { readonly type: 'begin'; readonly batch: number; readonly buffer: ArrayBuffer }
  | {
      readonly type: 'decode';
      readonly id: number;
      readonly batch: number;
      readonly slot: number;
      readonly item: DecodeItem;
    }
  | { readonly type: 'seal'; readonly batch: number; readonly slots: readonly number[] };

/** Decode worker -> main thread. */
export type DecodeReply =
  | { readonly type: 'ready' }
  | { readonly type: 'decoded'; readonly id: number; readonly skip: Skip | null }
  | { readonly type: 'sealed'; readonly batch: number; readonly buffer: ArrayBuffer }
  | { readonly type: 'failed'; readonly message: string };

/** One decoder that fills one batch buffer at a time: a worker thread, or this thread. */
export interface DecodeLane {
  /** Hands `buffer` to the lane to fill as batch `batch`. */
  begin(batch: number, buffer: ArrayBuffer): void;
  /** Decodes `item` into a slot of the batch: null when it is there, a Skip when the file cannot be used. */
  decode(batch: number, slot: number, item: DecodeItem): Promise<Skip | null>;
  /** The batch's buffer back, with the images of `slots` (ascending) moved to its front. */
  seal(batch: number, slots: readonly number[]): Promise<ArrayBuffer>;
}

export interface DecodePoolOptions {
  /** Worker threads; 0 decodes in this thread. */
  readonly workers: number;
  /** Workers kept from job to job (KeptDecodeWorkers); started for this pool alone without. */
  readonly kept?: KeptDecodeWorkers;
  /** For tests that watch the workers; `new Worker` by default. */
  readonly createWorker?: (url: URL, options: WorkerOptions) => Worker;
}

/**
 * Decode workers a job should start: none for a job of up to 8 batches (a worker costs about 40
 * CPU-ms to start: a new isolate and the JPEG decoder; sharp loads at its first other image), else
 * one per core where decoding and the model take turns (decodesInTurns), so that every core decodes
 * in the decoders' turn, and else one per core the model leaves free. A worker decodes a JPEG on
 * its own thread (image/jpeg.ts), one at a time. On 2 cores, in one bench:embed run with 600
 * images a job, each job starting its own workers (--decode-workers 0,2): tf_flowers photos ran at
 * 0.68 of bare inference with 2 workers against 0.64 in this thread; CIFAR-10's 32 px thumbnails,
 * which cost next to nothing to decode, at 0.80 against 0.82.
 */
export function defaultDecodeWorkers(images: number, batchSize: number): number {
  if (images <= 8 * batchSize) return 0;
  const cores = availableParallelism();
  return decodesInTurns(cores) ? cores : decodeShare(cores);
}

/**
 * Cores decoding takes beside a light model (backends/onnx.ts leaves them free): one in four, from
 * four cores on. Below, none: on 2 cores with the machine to itself, MobileNetV1 on 2 threads
 * embedded tf_flowers photos at 198 img/s against 153 on 1 (bench:embed --threads 1,2, load 2); only
 * on a machine loaded by other work did 1 thread win (by 10-26%, load 7-10).
 */
export function decodeShare(cores: number): number {
  return cores < 4 ? 0 : Math.floor(cores / 4);
}

/**
 * Whether decoding and the model should take turns rather than overlap: where the model takes
 * every core (no decode share). A decoder running meanwhile preempts one of the model's threads,
 * and the others wait for it at the end of every parallel layer.
 */
export function decodesInTurns(cores: number = availableParallelism()): boolean {
  return decodeShare(cores) === 0;
}

/**
 * The decode lanes of one job: a lane in this thread, and any workers. The thread's own lane is
 * the only one of a small job or a small machine; with workers it bridges their start (a few
 * hundredths of a second), so the model gets its first batch at once, and stops when one is ready.
 */
export class DecodePool {
  readonly local: DecodeLane;
  readonly workers: readonly DecodeLane[];
  /** Resolves when a worker can decode (at once without workers); rejects if every worker failed first. */
  readonly anyReady: Promise<void>;
  readonly #workers: readonly WorkerLane[];

  readonly #kept: KeptDecodeWorkers | undefined;

  constructor(config: BatchDecoderConfig, options: DecodePoolOptions) {
    this.local = new LocalLane(new BatchDecoder(config, { blockingReads: true }));
    this.#kept = options.kept;
    if (options.workers <= 0) {
      this.#workers = [];
    } else if (options.kept) {
      this.#workers = options.kept.take(config, options.workers, options.createWorker);
    } else {
      this.#workers = startWorkers(config, options.workers, options.createWorker);
    }
    this.anyReady =
      this.#workers.length === 0
        ? Promise.resolve()
        : Promise.any(this.#workers.map((lane) => lane.ready)).then(() => undefined);
    this.anyReady.catch(() => undefined);
    this.workers = this.#workers;
  }

  /** Ends the workers, or gives them back to be kept when the job ended `cleanly` (no failure, no stop). */
  async close(cleanly = false): Promise<void> {
    if (this.#kept && cleanly) this.#kept.giveBack(this.#workers);
    else await Promise.all(this.#workers.map((lane) => lane.terminate()));
  }
}

function startWorkers(
  config: BatchDecoderConfig,
  count: number,
  createWorker: DecodePoolOptions['createWorker'],
): WorkerLane[] {
  const url = workerUrl('decode-worker.js', 'embed');
  const create = createWorker ?? ((u: URL, o: WorkerOptions) => new Worker(u, o));
  return Array.from({ length: count }, () => new WorkerLane(create(url, { workerData: config })));
}

/**
 * Decode workers kept between the embed jobs of one workspace (a server's, or a benchmark's
 * rounds), so a job of a few hundred images does not pay their start: a new isolate, the JPEG
 * decoder, and JIT-compiling the resize again, about a tenth of a CPU-second each. Kept workers
 * idle do not hold the process open. A job hands them back only when it ended cleanly; a job that
 * stopped or failed ends them (batches in flight may still be inside).
 */
export class KeptDecodeWorkers {
  #config = '';
  #lanes: WorkerLane[] = [];

  /** `count` workers for `config`: the kept ones when they match, else new ones (the old ended). */
  take(config: BatchDecoderConfig, count: number, createWorker?: DecodePoolOptions['createWorker']): WorkerLane[] {
    const key = JSON.stringify(config);
    const lanes = this.#lanes;
    this.#lanes = [];
    if (key === this.#config && lanes.length === count && lanes.every((lane) => lane.usable)) {
      for (const lane of lanes) lane.hold(true);
      return lanes;
    }
    for (const lane of lanes) void lane.terminate();
    this.#config = key;
    return startWorkers(config, count, createWorker);
  }

  giveBack(lanes: readonly WorkerLane[]): void {
    for (const lane of this.#lanes) void lane.terminate();
    this.#lanes = [...lanes];
    for (const lane of lanes) lane.hold(false);
  }

  async close(): Promise<void> {
    const lanes = this.#lanes;
    this.#lanes = [];
    await Promise.all(lanes.map((lane) => lane.terminate()));
  }
}

class LocalLane implements DecodeLane {
  constructor(private readonly decoder: BatchDecoder) {}

  begin(batch: number, buffer: ArrayBuffer): void {
    this.decoder.begin(batch, buffer);
  }

  decode(batch: number, slot: number, item: DecodeItem): Promise<Skip | null> {
    return this.decoder.decode(batch, slot, item);
  }

  seal(batch: number, slots: readonly number[]): Promise<ArrayBuffer> {
    return Promise.resolve(this.decoder.seal(batch, slots));
  }
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** A decode worker and its requests in flight; a crash or an unexpected exit fails them all. */
class WorkerLane implements DecodeLane {
  readonly ready: Promise<void>;
  #resolveReady: () => void = () => undefined;
  #rejectReady: (error: Error) => void = () => undefined;
  readonly #worker: Worker;
  readonly #watch: WorkerWatch;
  readonly #decodes = new Map<number, Waiter<Skip | null>>();
  readonly #seals = new Map<number, Waiter<ArrayBuffer>>();
  #nextId = 0;
  #failure: AutolabelError | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    worker.on('message', (message: DecodeReply) => {
      if (message.type === 'ready') {
        this.#resolveReady();
      } else if (message.type === 'decoded') {
        const waiter = this.#decodes.get(message.id);
        this.#decodes.delete(message.id);
        waiter?.resolve(message.skip);
      } else if (message.type === 'sealed') {
        const waiter = this.#seals.get(message.batch);
        this.#seals.delete(message.batch);
        waiter?.resolve(message.buffer);
      } else {
        this.#fail(`the image decoder failed: ${message.message}`);
      }
    });
    this.#watch = watchWorker(worker, 'an image decoder worker', (message, cause) => this.#fail(message, cause));
  }

  begin(batch: number, buffer: ArrayBuffer): void {
    if (this.#failure) return;
    this.#post({ type: 'begin', batch, buffer }, [buffer]);
  }

  decode(batch: number, slot: number, item: DecodeItem): Promise<Skip | null> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#decodes.set(id, { resolve, reject });
      // Only the item's own fields: the store's row may carry more than the worker needs.
      this.#post({
        type: 'decode',
        id,
        batch,
        slot,
        item: { path: item.path, width: item.width, height: item.height },
      });
    });
  }

  seal(batch: number, slots: readonly number[]): Promise<ArrayBuffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#seals.set(batch, { resolve, reject });
      this.#post({ type: 'seal', batch, slots });
    });
  }

  terminate(): Promise<void> {
    return this.#watch.terminate('the image decoders were closed');
  }

  /** Whether the worker can take another job: it has not failed, and nothing of the last is in flight. */
  get usable(): boolean {
    return this.#failure === null && this.#decodes.size === 0 && this.#seals.size === 0;
  }

  /** Keeps the process open while a job uses the worker (`busy`), and not while it is kept idle. */
  hold(busy: boolean): void {
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  #post(message: DecodeRequest, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  #fail(message: string, cause?: unknown): void {
    this.#failure ??= new AutolabelError('IO_FAILED', message, { cause });
    this.#rejectReady(this.#failure);
    for (const waiter of [...this.#decodes.values(), ...this.#seals.values()]) waiter.reject(this.#failure);
    this.#decodes.clear();
    this.#seals.clear();
  }
}
