/**
 * @module Embedding through a queue: the images missing an embedding go on the queue in batches,
 * workers on any number of machines do them, and this follows the queue to the end with one
 * aggregated progress (images, rate, ETA, workers alive). Stopping it leaves the batches queued.
 */
import { AutolabelError } from '../errors.js';
import type { Embedder } from '../embed/embedder.js';
import type { EmbedOptions, EmbedResult } from '../embed/pipeline.js';
import type { Store } from '../store/store.js';
import type { Progress } from '../util/progress.js';
import { openQueue } from './bull.js';
import { queueBackend, queueError } from './connection.js';
import { type EmbedJob, embedJobId, type EmbedJobResult } from './jobs.js';

export interface QueueEmbedOptions extends EmbedOptions {
  readonly queue: string;
  /** Images per job (default 128): big enough that the queue's cost per job is noise next to the model's. */
  readonly jobSize?: number;
  /** Tries per job before it counts as failed (default 5), waiting 1 s, 2 s, 4 s... between them. */
  readonly attempts?: number;
  /** How often the queue is looked at for progress and the end (ms, default 500). */
  readonly pollMs?: number;
}

export interface QueueEmbedResult extends EmbedResult {
  readonly queue: {
    readonly url: string;
    readonly jobs: number;
    /** Workers seen on the queue at the last look. */
    readonly workers: number;
    /** Jobs still on the queue when this run stopped following (0 unless aborted). */
    readonly left: number;
  };
}

const PAGE = 4096;
const ADD_CHUNK = 200;

/** The job-state counts that mean "still to do". */
const OPEN_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export async function embedOnQueue(
  store: Store,
  embedder: Embedder,
  options: QueueEmbedOptions,
): Promise<QueueEmbedResult> {
  const started = performance.now();
  const { modelId } = embedder;
  const jobSize = options.jobSize ?? 128;
  const signal = options.signal;
  const backend = await queueBackend(options.queue);
  await store.registerModel({ id: modelId, spec: options.spec, dim: embedder.dim });
  const total = await store.countPendingEmbeddings(modelId);
  const skippedBefore = (await store.stats()).skipped.length;
  const queue = await openQueue<EmbedJob, EmbedJobResult>(backend);
  const location = backend.location;
  let workers = 0;
  let jobs = 0;
  let left = 0;
  let done = 0;
  const report = (note: string): void => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const remaining = Math.max(0, total - done);
    const progress: Progress = {
      phase: 'embed',
      done,
      total,
      rate,
      etaSeconds: rate > 0 ? remaining / rate : null,
      note,
    };
    options.onProgress?.(progress);
  };
  try {
    // Failures of an earlier run are tried again by this one: their ids must be free to queue.
    await queue.clean(0, 1_000_000, 'failed');
    report('queueing');
    const base = {
      kind: 'embed' as const,
      spec: options.spec,
      modelId,
      dtype: options.dtype,
      maxPixels: options.maxPixels,
      imagesRoot: options.imagesRoot,
    };
    let batch: EmbedJob['images'][number][] = [];
    let chunk: { name: string; data: EmbedJob; opts: object }[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      // A job id queued already (an earlier run's batch, still waiting) is not queued twice.
      await queue.addBulk(chunk as never);
      chunk = [];
    };
    const cut = async (): Promise<void> => {
      if (batch.length === 0) return;
      jobs++;
      chunk.push({
        name: 'embed',
        data: { ...base, images: batch },
        opts: {
          jobId: embedJobId(
            modelId,
            batch.map((item) => item.id),
          ),
          attempts: options.attempts ?? 5,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: true,
          removeOnFail: { count: 10_000 },
        },
      });
      batch = [];
      if (chunk.length >= ADD_CHUNK) await flush();
    };
    let after = 0;
    while (!signal?.aborted) {
      const page = await store.listPendingEmbeddings(modelId, after, PAGE);
      if (page.length === 0) break;
      for (const item of page) {
        after = item.id;
        batch.push({
          id: item.id,
          path: item.path,
          contentHash: item.contentHash,
          width: item.width,
          height: item.height,
        });
        if (batch.length === jobSize) await cut();
      }
    }
    await cut();
    await flush();

    // Follow the queue: images done is what the open jobs no longer hold.
    const pollMs = options.pollMs ?? 500;
    for (;;) {
      const counts = await queue.getJobCounts(...OPEN_STATES);
      left = OPEN_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
      workers = await queue.getWorkersCount();
      done = Math.max(done, Math.min(total, total - left * jobSize));
      if (left === 0) break;
      report(`${left} jobs open, ${workers} worker${workers === 1 ? '' : 's'} alive`);
      if (signal?.aborted) break;
      await sleep(pollMs, signal);
    }
    const failed = left === 0 ? await queue.getFailed(0, 2) : [];
    const failedCount = left === 0 ? await queue.getFailedCount() : 0;
    const pending = await store.countPendingEmbeddings(modelId);
    const skipped = Math.max(0, (await store.stats()).skipped.length - skippedBefore);
    done = total - pending;
    report(`${workers} worker${workers === 1 ? '' : 's'} alive`);
    if (failedCount > 0) {
      const reasons = failed.map((job) => job.failedReason).join('; ');
      throw new AutolabelError(
        'QUEUE_FAILED',
        `${failedCount} of ${jobs} embed jobs on queue ${location.display} failed after every try (${reasons}); ` +
          `${pending} images are still to embed, the others are saved`,
      );
    }
    return {
      modelId,
      total,
      embedded: Math.max(0, total - pending - skipped),
      skipped,
      aborted: signal?.aborted === true && left > 0,
      seconds: (performance.now() - started) / 1000,
      queue: { url: location.display, jobs, workers, left },
    };
  } catch (error) {
    throw queueError(location, error);
  } finally {
    await queue.close();
  }
}

/** Sleeps `ms`, waking early when `signal` aborts. */
async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
