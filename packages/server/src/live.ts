/**
 * @module Keeps suggestions current while people label: after labels change it refits in the
 * background (debounced, one refit at a time, another queued if labels changed meanwhile) and tells
 * subscribers when new suggestions are stored.
 */
import {
  HUMAN_LABEL_SOURCES,
  type Learner,
  messageOf,
  type ModelState,
  type ServerEvent,
  type Workspace,
} from '@autolabel/core';

export interface LiveModelOptions {
  /** Wait this long after the last label change before refitting. */
  readonly debounceMs?: number;
  readonly targetPrecision?: number;
  /** A full cross-validated fit (fresh calibration) once labels grew by this share since the last. */
  readonly fullFitGrowth?: number;
}

export class LiveModel {
  readonly #ws: Workspace;
  readonly #debounceMs: number;
  readonly #targetPrecision: number | undefined;
  readonly #fullFitGrowth: number;
  readonly #listeners = new Set<(event: ServerEvent) => void>();
  #learner: Learner | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #labelsAtFullFit = 0;
  #state: ModelState;
  #closed = false;

  constructor(ws: Workspace, options: LiveModelOptions = {}) {
    this.#ws = ws;
    this.#debounceMs = options.debounceMs ?? 300;
    this.#targetPrecision = options.targetPrecision;
    this.#fullFitGrowth = options.fullFitGrowth ?? 0.1;
    this.#state = {
      fitId: null,
      state: 'idle',
      message: null,
      estimatedAccuracy: null,
      targetPrecision: this.#targetPrecision ?? null,
      threshold: null,
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

  /** Loads the latest stored fit as the current state (at start-up). */
  async load(): Promise<void> {
    const fit = await this.#ws.store.latestFit();
    if (fit) this.#state = { ...this.#state, fitId: fit.id };
  }

  /** Labels changed: refit after the debounce; never blocks the caller. */
  labelsChanged(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#setState({ state: this.#running ? 'fitting' : 'waiting' });
    this.#timer = setTimeout(() => void this.#start(), this.#debounceMs);
  }

  /** The learner, created on first use and kept (the graph is built once). */
  async learner(): Promise<Learner> {
    this.#learner ??= await this.#ws.openLearner();
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
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#learner?.close();
    this.#learner = undefined;
  }

  async #start(): Promise<void> {
    this.#timer = undefined;
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
    try {
      const learner = await this.learner();
      const labels = (await this.#ws.store.listLabels()).filter((l) => HUMAN_LABEL_SOURCES.includes(l.source)).length;
      const quick = labels - this.#labelsAtFullFit < Math.max(5, this.#fullFitGrowth * this.#labelsAtFullFit);
      const result = await this.#ws.suggest({ learner, quick, targetPrecision: this.#targetPrecision });
      if (!result.reused) this.#labelsAtFullFit = labels;
      this.#setState({
        fitId: result.fitId,
        state: 'idle',
        message: null,
        estimatedAccuracy: result.estimatedAccuracy,
        threshold: result.threshold,
      });
    } catch (error) {
      this.#setState({ state: 'failed', message: messageOf(error) });
    }
  }

  #setState(change: Partial<ModelState>): void {
    this.#state = { ...this.#state, ...change };
    this.emit({ type: 'model', model: this.#state });
  }
}
