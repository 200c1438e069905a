/** @module What the router needs from a view: its element, being shown and hidden, and its keys while shown. */
import type { Api } from './api.js';
import type { ClassKeyMap } from './class-keys.js';
import type { Live } from './live.js';

/**
 * One line of a view's keys: what the keys do. Declared once per view, it is the panel's hints, the
 * `?` overlay, and (its single characters) the letters class keys leave alone.
 */
export interface KeyBinding {
  /** `KeyboardEvent.key` values that do this; none for a gesture (a drag, the wheel) or the class keys. */
  readonly keys?: readonly string[];
  /** How the keys are written, where not simply the keys (`Shift-drag`, `1–9, 0, …`). */
  readonly label?: string;
  readonly what: string;
}

export interface View {
  readonly element: HTMLElement;
  show(): void;
  hide(): void;
  /** Keys pressed while this view is shown and no text field has focus. */
  onKey?(event: KeyboardEvent): void;
  /** This view's keys and gestures, in the order the help lists them. */
  readonly keys?: readonly KeyBinding[];
  /** The classes and their keys as they stand, in a view where class keys pick a class. */
  classKeys?(): { readonly names: readonly string[]; readonly keys: ClassKeyMap };
}

export interface ViewContext {
  readonly api: Api;
  readonly live: Live;
  /** A short message in the status line (saved, accepted, failed). */
  readonly notify: (message: string, kind?: 'info' | 'error') => void;
  /** Single-character keys some view (or the app) uses as a command: no class gets one of them. */
  readonly commandKeys: () => ReadonlySet<string>;
}
