/**
 * @module Keeps suggestions current while people label: after labels change it refits in the
 * background (debounced, one refit at a time, another queued if labels changed meanwhile) and tells
 * subscribers when new suggestions are stored.
 */
import { Worker } from 'node:worker_threads';
import {
  AutolabelError,
  DEFAULT_TARGET_PRECISION,
  type Learner,
  messageOf,
  type ModelState,
  type ServerEvent,
  type Workspace,
} from '@autolabel/core';
import type { RefitReply, RefitRequest, RefitWorkerData } from './refit-worker.js';
import { workerFile } from './worker-file.js';

export interface LiveModelOptions {
  /** Wait this long after the last label change before refitting. */
  readonly debounceMs?: number;
  /** Refit at the latest this long after the first change, however busy the labelling. */
  readonly maxWaitMs?: number;
  readonly targetPrecision?: number;
  /** A full cross-validated fit (fresh calibration) once labels grew by this share since the last. */
  readonly fullFitGrowth?: number;
  /**
   * Look at the store's latest fit this often (ms) while idle, so a fit saved by another process (a
   * second server on a shared store, `autolabel suggest`) reaches this server's clients; 0: never.
   */
  readonly watchMs?: number;
}

export class LiveModel {
  readonly #ws: Workspace;
  readonly #debounceMs: number;
  readonly #targetPrecision: number;
  readonly #fullFitGrowth: number;
  readonly #listeners = new Set<(event: ServerEvent) => void>();
  #learner: Promise<Learner> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #worker: Worker | undefined;
  /** Requests sent to the worker, by id, waiting for its reply. */
  readonly #pending = new Map<number, { resolve: (reply: RefitReply) => void; reject: (error: Error) => void }>();
  #nextRequest = 1;
  #pendingSince: number | undefined;
  readonly #maxWaitMs: number;
  #state: ModelState;
  #closed = false;
  readonly #watchMs: number;
  #watch: ReturnType<typeof setInterval> | undefined;

  constructor(ws: Workspace, options: LiveModelOptions = {}) {
    this.#ws = ws;
    this.#debounceMs = options.debounceMs ?? 300;
    this.#maxWaitMs = options.maxWaitMs ?? 2000;
    this.#watchMs = options.watchMs ?? 0;
    this.#targetPrecision = options.targetPrecision ?? DEFAULT_TARGET_PRECISION;
    this.#fullFitGrowth = options.fullFitGrowth ?? 0.1;
    this.#state = {
      fitId: null,
      state: 'idle',
      message: null,
      accuracy: null,
      targetPrecision: this.#targetPrecision,
      threshold: null,
      certified: 0,
      next: null,
      progress: null,
    };
  }

  get state(): ModelState {
    return this.#state;
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: ServerEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Loads the latest stored fit as the current state (at start-up), and watches for newer ones (`watchMs`). */
  async load(): Promise<void> {
    const figures = await this.#ws.suggestions.figures();
    if (figures) this.#state = { ...this.#state, ...figures };
    if (this.#watchMs > 0 && !this.#watch) {
      this.#watch = setInterval(() => void this.#adoptNewerFit(), this.#watchMs);
      this.#watch.unref();
    }
  }

  /** A fit newer than this server's own, saved by another process, becomes the state its clients see. */
  async #adoptNewerFit(): Promise<void> {
    if (this.#closed || this.#running || this.#timer !== undefined) return;
    const figures = await this.#ws.suggestions.figures().catch(() => null);
    if (!figures || this.#closed || this.#running || this.#timer !== undefined) return;
    if (figures.fitId > (this.#state.fitId ?? 0)) this.#setState({ ...figures, state: 'idle', message: null });
  }

  /**
   * Labels changed: refit once labels stop changing for the debounce time, but no later than
   * `maxWaitMs` after the first change, so a steady stream of labels still sees new suggestions.
   * Never blocks the caller.
   */
  labelsChanged(): void {
    if (this.#closed) return;
    const now = performance.now();
    this.#pendingSince ??= now;
    const wait = Math.max(0, Math.min(this.#debounceMs, this.#pendingSince + this.#maxWaitMs - now));
    clearTimeout(this.#timer);
    if (this.#state.state !== 'fitting' && this.#state.state !== 'waiting') this.#setState({ state: 'waiting' });
    this.#timer = setTimeout(() => void this.#start(), wait);
  }

  /**
   * The learner, created on first use and kept (the graph is built once): made in the refit worker
   * and read here in place (SharedArrayBuffer), so the process holds one copy of features and graph.
   */
  async learner(): Promise<Learner> {
    this.#learner ??= (async () => {
      const reply = await this.#ask({ type: 'share' });
      if (reply.type === 'failed') {
        throw new AutolabelError(reply.code ?? 'STORE_FAILED', reply.message, { hint: reply.hint });
      }
      if (reply.type !== 'shared') throw new Error(`refit worker answered ${reply.type} to share`);
      return this.#ws.openLearner(reply.learner);
    })().catch((error: unknown) => {
      this.#learner = undefined; // the next call tries again
      throw error;
    });
    return this.#learner;
  }

  /** Resolves once no refit is waiting or running (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#timer !== undefined || this.#running) {
      if (this.#running) await this.#running;
      else await new Promise((resolve) => setTimeout(resolve, this.#debounceMs));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watch);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await (await this.#learner?.catch(() => undefined))?.close();
    this.#learner = undefined;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ type: 'close' });
      await exited;
    }
  }

  async #start(): Promise<void> {
    this.#timer = undefined;
    this.#pendingSince = undefined;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#refit();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
    if (this.#again && !this.#closed) {
      this.#again = false;
      this.labelsChanged();
    }
  }

  async #refit(): Promise<void> {
    this.#setState({ state: 'fitting' });
    const reply = await this.#ask({ type: 'refit' }).catch((error: unknown): RefitReply => ({
      id: 0,
      type: 'failed',
      message: messageOf(error),
    }));
    if (reply.type === 'done') {
      const { fitId, accuracy, threshold, certified, next } = reply;
      // Labels that changed during the fit already have the next refit waiting.
      const state = this.#timer !== undefined ? 'waiting' : 'idle';
      this.#setState({ fitId, state, message: null, accuracy, threshold, certified, next });
    } else {
      this.#setState({ state: 'failed', message: reply.type === 'failed' ? reply.message : 'unexpected reply' });
    }
  }

  /** One request to the worker thread (started on first use, kept for its learner). */
  #ask(request: { readonly type: 'refit' | 'share' }): Promise<RefitReply> {
    if (!this.#worker) {
      const data: RefitWorkerData = {
        workspace: this.#ws.dir,
        model: this.#ws.modelOverride,
        targetPrecision: this.#targetPrecision,
        fullFitGrowth: this.#fullFitGrowth,
      };
      const worker = new Worker(workerFile('refit-worker.js'), { workerData: data });
      worker.unref();
      worker.on('message', (reply: RefitReply) => {
        if (reply.type === 'progress') {
          // The graph's end clears it: the model's state says what comes next.
          this.#setState({ progress: reply.progress.done === reply.progress.total ? null : reply.progress });
          return;
        }
        // Any answer means the graph build is over (done, or failed).
        if (this.#state.progress) this.#setState({ progress: null });
        const pending = this.#pending.get(reply.id);
        this.#pending.delete(reply.id);
        pending?.resolve(reply);
      });
      const fail = (error: Error): void => {
        if (this.#worker === worker) this.#worker = undefined;
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', () => fail(new Error('the refit worker stopped')));
      this.#worker = worker;
    }
    const id = this.#nextRequest++;
    const worker = this.#worker;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as RefitRequest);
    });
  }

  #setState(change: Partial<ModelState>): void {
    this.#state = { ...this.#state, ...change };
    this.emit({ type: 'model', model: this.#state });
  }
}
