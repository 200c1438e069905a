/** @module One model worker thread and its requests, shared by the backends that run models off the main thread. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { AutolabelError } from '../../errors.js';

/** Main thread -> worker: `count` images as one buffer (transferred, not copied). */
export interface EmbedRequest {
  readonly type: 'embed';
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly count: number;
}

/** Worker -> main thread. `features` holds float32 values; `dims` is their shape when the backend reports one. */
export type WorkerReply<Info> =
  | { readonly type: 'ready'; readonly info: Info }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly features: ArrayBuffer;
      readonly dims: readonly number[];
      /** The request's buffer, transferred back so the caller can fill it again. */
      readonly input?: ArrayBuffer;
    }
  | { readonly type: 'failed'; readonly id: number | null; readonly message: string };

export interface WorkerResult {
  readonly features: ArrayBuffer;
  readonly dims: readonly number[];
  readonly input?: ArrayBuffer;
}

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

/** One worker thread and its in-flight requests; any crash fails every request instead of hanging. */
export class WorkerSlot<Info> {
  /** Resolves with what the worker reports once its model is loaded; rejects if the worker fails first. */
  readonly ready: Promise<Info>;
  readonly #worker: Worker;
  readonly #watch: WorkerWatch;
  readonly #pending = new Map<number, Pending>();
  #rejectReady: (error: Error) => void = () => undefined;
  #nextId = 0;
  #failure: AutolabelError | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.ready = new Promise((resolve, reject) => {
      this.#rejectReady = reject;
      worker.on('message', (message: WorkerReply<Info>) => {
        if (message.type === 'ready') {
          resolve(message.info);
          worker.unref();
        } else if (message.type === 'result') {
          this.#take(message.id)?.resolve({ features: message.features, dims: message.dims, input: message.input });
        } else if (message.id === null) {
          this.#fail(new AutolabelError('MODEL_RUN_FAILED', message.message));
        } else {
          this.#take(message.id)?.reject(
            new AutolabelError('MODEL_RUN_FAILED', `model run failed: ${message.message}`),
          );
        }
      });
    });
    // Nobody awaits `ready` between a failure and the loader's Promise.all; keep it handled.
    this.ready.catch(() => undefined);
    this.#watch = watchWorker(worker, 'model worker', (message, cause) =>
      this.#fail(new AutolabelError('MODEL_RUN_FAILED', message, { cause })),
    );
  }

  run(data: ArrayBuffer, count: number): Promise<WorkerResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const message: EmbedRequest = { type: 'embed', id, data, count };
    return new Promise<WorkerResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Keep the process alive only while work is in flight; an idle embedder never blocks exit.
      this.#worker.ref();
      this.#worker.postMessage(message, [data]);
    });
  }

  terminate(): Promise<void> {
    return this.#watch.terminate('the embedder was closed');
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    return pending;
  }

  #fail(error: AutolabelError): void {
    this.#failure ??= error;
    this.#rejectReady(this.#failure);
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#worker.unref();
  }
}

/** A watched worker's end on purpose: fails what is in flight with `closed`, then stops the thread. */
export interface WorkerWatch {
  terminate(closed: string): Promise<void>;
}

/**
 * Calls `fail` when `worker` (`name`, for the message) crashes or exits unasked, so that its owner
 * fails every request in flight instead of leaving it hanging; `terminate` is the end on purpose.
 */
export function watchWorker(worker: Worker, name: string, fail: (message: string, cause?: Error) => void): WorkerWatch {
  let terminating = false;
  worker.on('error', (error) => fail(`${name} crashed: ${error.message}`, error));
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      if (!terminating) fail(`${name} exited unexpectedly with code ${code}`);
      resolve();
    });
  });
  return {
    async terminate(closed) {
      terminating = true;
      fail(closed);
      await worker.terminate();
      await exited;
    },
  };
}

/**
 * A worker script of core (`folder` is its folder under src/, this one by default). It ships
 * compiled next to its module; from the TypeScript sources (vitest) the build in dist/ is used.
 */
export function workerUrl(file: string, folder = 'embed/backends'): URL {
  const sibling = new URL(`../../${folder}/${file}`, import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL(`../../../dist/${folder}/${file}`, import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new AutolabelError(
    'MODEL_RUN_FAILED',
    `the worker script is missing: neither ${fileURLToPath(sibling)} nor ${fileURLToPath(built)} exists (run npm run build)`,
  );
}

/** The message of anything a worker caught, for its `failed` reply. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
