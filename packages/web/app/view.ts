/** @module What the router needs from a view: its element, being shown and hidden, and the keys while shown. */
import type { Api } from './api.js';
import type { Live } from './live.js';

export interface View {
  readonly element: HTMLElement;
  show(): void;
  hide(): void;
  /** Keys pressed while this view is shown and no text field has focus. */
  onKey?(event: KeyboardEvent): void;
}

export interface ViewContext {
  readonly api: Api;
  readonly live: Live;
  /** A short message in the status line (saved, accepted, failed). */
  readonly notify: (message: string, kind?: 'info' | 'error') => void;
}
