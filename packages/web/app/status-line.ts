/** @module The status line: the model's state (waiting, fitting, idle, failed), the live connection and the last message. */
import type { ModelState } from '@autolabel/core';
import { h } from './dom.js';
import { roughDuration } from './audit-words.js';
import { accuracyShort, accuracyText, count } from './figures.js';
import type { Live } from './live.js';

const MESSAGE_MS = 5_000;

export function describeModel(model: ModelState | null): string {
  if (model === null) return 'Model: …';
  const progress = model.progress;
  if (progress) {
    // The first refit (and the map) wait for the learner's neighbour graph: minutes at 1M images.
    const done = progress.total === null ? count(progress.done) : `${count(progress.done)} of ${count(progress.total)}`;
    const rate = progress.rate > 0 ? ` · ${count(Math.round(progress.rate))}/s` : '';
    const eta = progress.etaSeconds === null ? '' : ` · about ${roughDuration(progress.etaSeconds)} left`;
    return `Model: building the neighbour graph, ${done} images${rate}${eta}`;
  }
  switch (model.state) {
    case 'waiting':
      return 'Model: refitting shortly…';
    case 'fitting':
      return 'Model: fitting…';
    case 'failed':
      return `Model: refit failed: ${model.message ?? 'no reason given'}`;
    case 'idle':
      if (model.fitId === null) return 'Model: no fit yet (label images of two classes or more)';
      return (
        `Model: up to date (fit #${model.fitId})` +
        (model.accuracy === null ? '' : ` · estimated accuracy ${accuracyShort(model.accuracy)}`)
      );
  }
}

export class StatusLine {
  readonly element: HTMLElement;
  readonly #live: Live;
  readonly #connection: HTMLElement;
  readonly #model: HTMLElement;
  readonly #message: HTMLElement;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(live: Live) {
    this.#live = live;
    this.#connection = h('span', { class: 'connection', 'data-testid': 'connection' });
    this.#model = h('span', { class: 'model-state', 'data-testid': 'model-state' });
    this.#message = h('span', { class: 'message', 'data-testid': 'message', role: 'status' });
    this.element = h('footer', { class: 'status-line' }, this.#connection, this.#model, this.#message);
    live.subscribe((change) => {
      if (change.kind === 'model' || change.kind === 'stats' || change.kind === 'connection') this.render();
    });
    this.render();
  }

  render(): void {
    const live = this.#live;
    const model = live.model;
    this.#connection.dataset.state = live.connection;
    this.#connection.textContent = { connecting: 'connecting…', open: 'live', lost: 'offline' }[live.connection];
    this.#connection.title =
      live.connection === 'open' ? 'updates arrive as the server sends them' : 'reconnecting to the server';
    this.#model.dataset.state = model?.state ?? 'unknown';
    this.#model.dataset.fitId = String(model?.fitId ?? '');
    this.#model.textContent = describeModel(model);
    // The full figure, with the note of one from chosen labels, on hover (the line has room for the short form).
    this.#model.title = model?.accuracy ? `estimated accuracy ${accuracyText(model.accuracy)}` : '';
    if (live.error && !this.#timer) this.notify(live.error, 'error');
  }

  notify(text: string, kind: 'info' | 'error' = 'info'): void {
    this.#message.textContent = text;
    this.#message.dataset.kind = kind;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#message.textContent = '';
    }, MESSAGE_MS);
  }
}
