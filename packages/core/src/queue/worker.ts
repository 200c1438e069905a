/**
 * @module A queue worker: takes jobs off the queue and does them against a store until stopped.
 * Exactly once in effect: BullMQ hands a job to one worker at a time under a lock it renews; when a
 * worker dies its lock runs out and the stalled-job check gives the job to another worker, which
 * finds the images committed by the dead one already embedded (vectors are keyed by content hash
 * and model, one transaction per model call) and does only the rest.
 */
import { hostname } from 'node:os';
import type { Job } from 'bullmq';
import { AutolabelError, messageOf } from '../errors.js';
import type { Embedder } from '../embed/embedder.js';
import { loadEmbedder } from '../embed/load.js';
import { embedItems } from '../embed/pipeline.js';
import type { PendingEmbedding, Store } from '../store/store.js';
import { makeWorker, untilReady } from './bull.js';
import { queueBackend, queueError } from './connection.js';
import { type EmbedJob, type EmbedJobResult, queueJobSchema } from './jobs.js';

export interface QueueWorkerOptions {
  readonly queue: string;
  /** Jobs this worker does at once (default 1: one model call uses the cores already). */
  readonly concurrency?: number;
  /** This machine's path to the images, in place of the producer's images root. */
  readonly imagesRoot?: string;
  /** A model spec to load in place of the job's (this machine's copy of an onnx folder); its id must match. */
  readonly model?: string;
  /** Threads of the model (default: all cores). */
  readonly threads?: number;
  /**
   * How long a job stays with a worker that stops answering before another worker takes it (ms,
   * default 30 s): a killed worker's batch is redone after at most about twice this.
   */
  readonly lockMs?: number;
  /** How this worker is named in the queue and in its results (default host:pid). */
  readonly name?: string;
  /** Stops the worker: the jobs in hand are finished (or, if that fails, given back), then it resolves. */
  readonly signal?: AbortSignal;
  /** Hears every job done or failed. */
  readonly onJob?: (event: WorkerJobEvent) => void;
  /** Hears connection errors of the queue; BullMQ reconnects by itself meanwhile. */
  readonly onError?: (message: string) => void;
  /** Hears the worker connect, with the queue as messages name it. */
  readonly onReady?: (queue: string) => void;
}

export type WorkerJobEvent =
  | { readonly type: 'started'; readonly jobId: string; readonly attempt: number; readonly images: number }
  /** `attempt` counts every start of the job, a start cut short by a dead worker included. */
  | { readonly type: 'done'; readonly jobId: string; readonly attempt: number; readonly result: EmbedJobResult }
  | {
      readonly type: 'failed';
      readonly jobId: string;
      readonly attempt: number;
      readonly error: string;
      /** False when the job will not be tried again (its attempts are used up, or it can never succeed). */
      readonly retried: boolean;
    };

export interface QueueWorkerSummary {
  readonly jobs: number;
  readonly failed: number;
  readonly embedded: number;
  readonly seconds: number;
}

/**
 * Idempotence: the job's images that still need an embedding, with the content they were queued with.
 * A job is a run of the pending list by image id, so one read of the pending list from its first id
 * answers for all of them (what a dead worker committed, or another job did, is no longer pending).
 */
async function stillPending(store: Store, job: EmbedJob): Promise<PendingEmbedding[]> {
  const ids = job.images.map((item) => item.id);
  const first = Math.min(...ids);
  const last = Math.max(...ids);
  const queued = new Map(job.images.map((item) => [item.id, item.contentHash]));
  const todo: PendingEmbedding[] = [];
  // Usually one page: what else is pending in the range (an image whose content changed since) is read past.
  for (let after = first - 1; after < last;) {
    const page = await store.listPendingEmbeddings(job.modelId, after, job.images.length);
    for (const item of page) {
      if (item.id > last) return todo;
      if (queued.get(item.id) === item.contentHash) todo.push(item);
    }
    if (page.length < job.images.length) break;
    after = page[page.length - 1]!.id;
  }
  return todo;
}

/** Runs a worker until `signal` aborts; resolves once the jobs in hand are finished. */
export async function runQueueWorker(store: Store, options: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  const started = performance.now();
  const backend = await queueBackend(options.queue);
  const { UnrecoverableError } = backend.bullmq;
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const embedders = new Map<string, Promise<Embedder>>();
  const registered = new Set<string>();
  const summary = { jobs: 0, failed: 0, embedded: 0 };

  const embedderFor = async (job: EmbedJob): Promise<Embedder> => {
    const spec = options.model ?? job.spec;
    let loading = embedders.get(spec);
    if (!loading) {
      loading = loadEmbedder(spec, { threads: options.threads });
      embedders.set(spec, loading);
      loading.catch(() => embedders.delete(spec));
    }
    const embedder = await loading;
    if (embedder.modelId !== job.modelId) {
      throw new UnrecoverableError(
        `model ${spec} on worker ${name} is ${embedder.modelId}, but the job was queued for ${job.modelId}: ` +
          'give the worker the same model (--model to point at its copy)',
      );
    }
    return embedder;
  };

  const embedJob = async (job: EmbedJob): Promise<EmbedJobResult> => {
    const begun = performance.now();
    const embedder = await embedderFor(job);
    if (!registered.has(job.modelId)) {
      await store.registerModel({ id: job.modelId, spec: job.spec, dim: embedder.dim });
      registered.add(job.modelId);
    }
    const todo = await stillPending(store, job);
    const result =
      todo.length === 0
        ? { embedded: 0, skipped: 0 }
        : await embedItems(store, embedder, todo, todo.length, {
            imagesRoot: options.imagesRoot ?? job.imagesRoot,
            maxPixels: job.maxPixels,
            dtype: job.dtype,
            spec: job.spec,
          });
    return {
      embedded: result.embedded,
      skipped: result.skipped,
      alreadyDone: job.images.length - todo.length,
      seconds: (performance.now() - begun) / 1000,
      worker: name,
    };
  };

  const handle = async (job: Job<unknown, EmbedJobResult>): Promise<EmbedJobResult> => {
    const parsed = queueJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UnrecoverableError(
        `job ${job.id}: not a job this worker knows (${issue?.path.join('.') || 'kind'}: ${issue?.message ?? 'invalid'})`,
      );
    }
    try {
      return await embedJob(parsed.data);
    } catch (error) {
      // Errors that no retry can mend (a model that cannot load, a job for another model) fail at once.
      if (
        error instanceof AutolabelError &&
        ['MODEL_NOT_FOUND', 'MODEL_INVALID', 'MODEL_SPEC_INVALID'].includes(error.code)
      ) {
        throw new UnrecoverableError(`job ${job.id}: ${error.message}`);
      }
      throw error;
    }
  };

  const lockDuration = options.lockMs ?? 30_000;
  const worker = makeWorker<unknown, EmbedJobResult>(backend, handle, {
    name,
    autorun: false,
    concurrency: options.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
    // A batch whose workers keep dying (a poison image killing the process) fails after three.
    maxStalledCount: 3,
    metrics: { maxDataPoints: 60 * 24 },
  });
  let connectionError: unknown;
  let ready = false;
  worker.on('error', (error) => {
    connectionError = error;
    // Before it is ready the failure is thrown to the caller instead.
    if (ready) options.onError?.(queueError(backend.location, error).message);
  });
  worker.on('active', (job) => {
    const images = (job.data as Partial<EmbedJob> | undefined)?.images?.length ?? 0;
    options.onJob?.({ type: 'started', jobId: String(job.id), attempt: job.attemptsStarted, images });
  });
  worker.on('completed', (job, result) => {
    summary.jobs++;
    summary.embedded += result.embedded;
    options.onJob?.({ type: 'done', jobId: String(job.id), attempt: job.attemptsStarted, result });
  });
  worker.on('failed', (job, error) => {
    summary.failed++;
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const retried = !(error instanceof UnrecoverableError) && job.attemptsMade < attempts;
    options.onJob?.({
      type: 'failed',
      jobId: String(job.id),
      attempt: job.attemptsStarted,
      error: messageOf(error),
      retried,
    });
  });

  try {
    await untilReady(worker);
  } catch (error) {
    await worker.close(true).catch(() => undefined);
    throw queueError(backend.location, error);
  }
  ready = true;
  options.onReady?.(backend.location.display);
  const running = worker.run();
  const stop = (): void => {
    // close() waits for the jobs in hand; a second stop is not needed (the CLI's second Ctrl-C exits).
    void worker.close();
  };
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener('abort', stop, { once: true });
  try {
    await running;
  } catch (error) {
    throw queueError(backend.location, error);
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await worker.close();
    for (const loading of embedders.values()) await (await loading.catch(() => undefined))?.close();
  }
  if (connectionError !== undefined && !options.signal?.aborted) throw queueError(backend.location, connectionError);
  return { ...summary, seconds: (performance.now() - started) / 1000 };
}
