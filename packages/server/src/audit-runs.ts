/**
 * @module The server's data quality audit: one run at a time, in a worker thread (audit-worker.ts),
 * its progress and outcome told to the open pages as `audit` events on /api/events. The findings
 * themselves are persisted by core (`ws.audit`), so a page reads them with GET /api/audit once told.
 */
import { Worker } from 'node:worker_threads';
import type { AuditKind, AuditRunState, Workspace } from '@autolabel/core';
import type { AuditReply, AuditWorkerData } from './audit-worker.js';
import type { LiveModel } from './live-model.js';
import { workerFile } from './worker-file.js';

export interface AuditRunOptions {
  readonly kinds?: readonly AuditKind[];
  readonly limit?: number;
}

export class AuditRuns {
  readonly #ws: Workspace;
  readonly #live: LiveModel;
  #state: AuditRunState = { state: 'idle', progress: null, message: null, startedAt: null, finishedAt: null };
  #worker: Worker | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(ws: Workspace, live: LiveModel) {
    this.#ws = ws;
    this.#live = live;
  }

  get state(): AuditRunState {
    return this.#state;
  }

  /** Starts an audit, or, while one runs, leaves it to finish (a second click joins the first). */
  start(options: AuditRunOptions = {}): AuditRunState {
    if (this.#running || this.#closed) return this.#state;
    this.#set({
      state: 'running',
      progress: null,
      message: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    });
    this.#running = this.#run(options).finally(() => {
      this.#running = undefined;
    });
    return this.#state;
  }

  /** Resolves once no audit runs (tests). */
  async settled(): Promise<void> {
    await this.#running;
  }

  /** Stops a running audit: what it had written in finished transactions stays, the rest is redone next time. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker?.terminate();
    await this.#running;
  }

  async #run(options: AuditRunOptions): Promise<void> {
    const data: AuditWorkerData = {
      workspace: this.#ws.dir,
      model: this.#ws.modelOverride,
      kinds: options.kinds,
      limit: options.limit,
    };
    const worker = new Worker(workerFile('audit-worker.js'), { workerData: data });
    worker.unref();
    this.#worker = worker;
    const outcome = await new Promise<Exclude<AuditReply, { type: 'progress' }>>((resolve) => {
      let result: Exclude<AuditReply, { type: 'progress' }> | undefined;
      worker.on('message', (reply: AuditReply) => {
        if (reply.type === 'progress') this.#set({ progress: reply.progress });
        else result = reply;
      });
      worker.once('error', (error) => resolve({ type: 'failed', message: error.message }));
      worker.once('exit', (code) =>
        resolve(result ?? { type: 'failed', message: `the audit stopped before it finished (exit code ${code})` }),
      );
    });
    this.#worker = undefined;
    const finishedAt = new Date().toISOString();
    if (outcome.type === 'done') this.#set({ state: 'done', message: null, hint: undefined, finishedAt });
    else this.#set({ state: 'failed', message: outcome.message, hint: outcome.hint, finishedAt });
  }

  #set(change: Partial<AuditRunState>): void {
    this.#state = { ...this.#state, ...change };
    this.#live.emit({ type: 'audit', run: this.#state });
  }
}
