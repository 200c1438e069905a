/**
 * @module What every view shares: the latest stats and model state, kept current from the server's
 * event stream, and a change feed the views subscribe to instead of polling.
 */
import type { AuditRunState, ModelState, ServerEvent, StatsResponse } from '@autolabel/core';
import type { Api } from './api.js';

export type Connection = 'connecting' | 'open' | 'lost';

export type Change =
  /** Labels changed (here or in another tab): counts and rows are stale. */
  | { readonly kind: 'labels'; readonly imageIds: readonly number[] }
  /** A fit stored new suggestions. */
  | { readonly kind: 'suggestions' }
  | { readonly kind: 'model' }
  | { readonly kind: 'stats' }
  /** The audit's run moved on (progress, done, failed), or a finding was decided in some tab. */
  | { readonly kind: 'audit' }
  | { readonly kind: 'connection' }
  /** The stream came back after a gap: anything may have changed. */
  | { readonly kind: 'resync' };

/** Bursts of label events (a person labelling quickly) cause one stats request, not one each. */
const STATS_DEBOUNCE_MS = 150;

export class Live {
  readonly #api: Api;
  readonly #listeners = new Set<(change: Change) => void>();
  #stats: StatsResponse | null = null;
  #model: ModelState | null = null;
  #audit: AuditRunState | null = null;
  #connection: Connection = 'connecting';
  #source: EventSource | undefined;
  #statsTimer: ReturnType<typeof setTimeout> | undefined;
  #statsRequest: Promise<void> | undefined;
  #statsAgain = false;
  #everOpen = false;
  #error: string | null = null;

  constructor(api: Api) {
    this.#api = api;
  }

  get stats(): StatsResponse | null {
    return this.#stats;
  }

  get model(): ModelState | null {
    return this.#model ?? this.#stats?.model ?? null;
  }

  /** The data quality audit's latest run, as the server last told it; null until it has. */
  get audit(): AuditRunState | null {
    return this.#audit;
  }

  get connection(): Connection {
    return this.#connection;
  }

  /** The last failed request's message, for the status line. */
  get error(): string | null {
    return this.#error;
  }

  /** Class names in the order the server lists them (by name); keys 1-9 follow this order. */
  get classNames(): string[] {
    return (this.#stats?.classes ?? []).map((c) => c.name);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  reportError(error: unknown): void {
    this.#error = error instanceof Error ? error.message : String(error);
    this.#emit({ kind: 'connection' });
  }

  clearError(): void {
    if (this.#error === null) return;
    this.#error = null;
    this.#emit({ kind: 'connection' });
  }

  /** Opens the event stream; EventSource reconnects by itself after a drop. */
  start(): void {
    const source = new EventSource(this.#api.eventsUrl());
    this.#source = source;
    source.addEventListener('open', () => {
      const reopened = this.#everOpen;
      this.#everOpen = true;
      this.#setConnection('open');
      if (reopened) {
        this.refreshStats();
        this.#emit({ kind: 'resync' });
      }
    });
    source.addEventListener('error', () => this.#setConnection(source.readyState === 2 ? 'lost' : 'connecting'));
    const onMessage = (message: MessageEvent<string>) => this.#onEvent(JSON.parse(message.data) as ServerEvent);
    source.addEventListener('labels', onMessage);
    source.addEventListener('model', onMessage);
    source.addEventListener('audit', onMessage);
    this.refreshStats(0);
    void this.#loadAudit();
  }

  stop(): void {
    this.#source?.close();
    clearTimeout(this.#statsTimer);
  }

  /** Fetches stats soon; calls while a request runs cause exactly one more afterwards. */
  refreshStats(delayMs = STATS_DEBOUNCE_MS): void {
    clearTimeout(this.#statsTimer);
    this.#statsTimer = setTimeout(() => void this.#loadStats(), delayMs);
  }

  /** Resolves with fresh stats (after any change made before the call). */
  async loadStats(): Promise<StatsResponse | null> {
    clearTimeout(this.#statsTimer);
    await this.#loadStats();
    return this.#stats;
  }

  async #loadStats(): Promise<void> {
    if (this.#statsRequest) {
      this.#statsAgain = true;
      return this.#statsRequest;
    }
    this.#statsRequest = (async () => {
      do {
        this.#statsAgain = false;
        try {
          this.#stats = await this.#api.stats();
          // Once the stream has spoken, its model state is newer than any stats answer.
          this.#model ??= this.#stats.model;
          this.#error = null;
          this.#emit({ kind: 'stats' });
        } catch (error) {
          this.reportError(error);
        }
      } while (this.#statsAgain);
    })().finally(() => {
      this.#statsRequest = undefined;
    });
    return this.#statsRequest;
  }

  async #loadAudit(): Promise<void> {
    try {
      const run = await this.#api.auditRun();
      // An event that came meanwhile is newer.
      if (this.#audit === null) {
        this.#audit = run;
        this.#emit({ kind: 'audit' });
      }
    } catch (error) {
      this.reportError(error);
    }
  }

  #onEvent(event: ServerEvent): void {
    if (event.type === 'audit') {
      this.#audit = event.run;
      this.#emit({ kind: 'audit' });
      return;
    }
    if (event.type === 'labels') {
      this.#emit({ kind: 'labels', imageIds: event.imageIds });
      this.refreshStats();
      return;
    }
    const previous = this.#model;
    this.#model = event.model;
    this.#emit({ kind: 'model' });
    if (previous !== null && event.model.fitId !== null && event.model.fitId !== previous.fitId) {
      this.refreshStats(0);
      this.#emit({ kind: 'suggestions' });
    }
  }

  #setConnection(connection: Connection): void {
    if (connection === this.#connection) return;
    this.#connection = connection;
    this.#emit({ kind: 'connection' });
  }

  #emit(change: Change): void {
    for (const listener of this.#listeners) listener(change);
  }
}
