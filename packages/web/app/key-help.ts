/**
 * @module The keys, from each view's one list of them: the panel's list of keys, a hint line, the
 * command letters that class keys leave alone, and the overlay `?` opens over any view (the view's keys,
 * its class keys, and the keys that work everywhere). Closed by `?` again, Escape, or a click outside.
 */
import type { ClassKeyMap } from './class-keys.js';
import { h, isForControl } from './dom.js';
import type { KeyBinding } from './view.js';

/** Keys that work in every view. */
export const GLOBAL_KEYS: readonly KeyBinding[] = [
  { keys: ['?'], what: 'show or hide this list of keys' },
  { keys: ['Escape'], what: 'close it' },
];

const KEY_NAMES: Readonly<Record<string, string>> = {
  ArrowLeft: '←',
  ArrowRight: '→',
  ArrowUp: '↑',
  ArrowDown: '↓',
  Escape: 'Esc',
  ' ': 'Space',
};

/** How a binding's keys are written: its label, or its keys by name ("y or Enter"). */
export function keyLabel(binding: KeyBinding): string {
  return binding.label ?? (binding.keys ?? []).map((key) => KEY_NAMES[key] ?? key).join(' or ');
}

/** The single-character keys among `bindings`, lower-cased: commands that no class key may shadow. */
export function commandKeys(bindings: readonly KeyBinding[]): Set<string> {
  const keys = new Set<string>();
  for (const binding of bindings) {
    for (const key of binding.keys ?? []) if (key.length === 1) keys.add(key.toLowerCase());
  }
  return keys;
}

/** The panel's list of keys and what each does. */
export function keyHints(bindings: readonly KeyBinding[]): HTMLElement {
  return h(
    'dl',
    { class: 'keys' },
    ...bindings.flatMap((binding) => [h('dt', {}, h('kbd', {}, keyLabel(binding))), h('dd', {}, binding.what)]),
  );
}

/** The same keys as one line under a toolbar: "Wheel zooms · Shift-drag lassoes · …". */
export function keyLine(bindings: readonly KeyBinding[]): HTMLElement {
  return h(
    'p',
    { class: 'hint-line' },
    ...bindings.flatMap((binding, i) => [i > 0 ? ' · ' : '', h('kbd', {}, keyLabel(binding)), ` ${binding.what}`]),
  );
}

/** What the overlay shows: the view's title and keys, and its classes with their keys where it has them. */
export interface KeyHelpContent {
  readonly title: string;
  readonly keys: readonly KeyBinding[];
  readonly classes?: { readonly names: readonly string[]; readonly keys: ClassKeyMap };
  /** The command keys of every view, which class keys skip. */
  readonly commands?: ReadonlySet<string>;
}

export class KeyHelp {
  /** The overlay, to put anywhere in the page (a modal dialog shows above everything). */
  readonly element: HTMLDialogElement;
  readonly #body: HTMLElement;
  readonly #heading: HTMLElement;

  constructor() {
    this.#heading = h('h2', { id: 'key-help-title' });
    const close = h('button', { type: 'button', class: 'quiet', 'aria-label': 'Close' }, '×');
    close.addEventListener('click', () => this.close());
    this.#body = h('div', { class: 'key-help-body' });
    this.element = h(
      'dialog',
      { class: 'key-help', 'data-testid': 'key-help', 'aria-labelledby': 'key-help-title' },
      h('header', {}, this.#heading, close),
      this.#body,
    );
    // A click on the backdrop lands on the dialog itself; clicks inside land on its children.
    this.element.addEventListener('click', (event) => event.target === this.element && this.close());
  }

  get isOpen(): boolean {
    return this.element.open;
  }

  open(content: KeyHelpContent): void {
    this.#heading.textContent = `Keys · ${content.title}`;
    const sections: HTMLElement[] = [];
    if (content.keys.length > 0) sections.push(section(content.title, keyHints(content.keys), 'key-help-view'));
    const classes = content.classes;
    if (classes && classes.names.length > 0) {
      const list = h(
        'ul',
        { class: 'key-help-classes' },
        ...classes.names.map((name) =>
          h(
            'li',
            { 'data-class': name },
            classes.keys.has(name) ? h('kbd', {}, classes.keys.get(name)!) : h('span', { class: 'muted' }, '–'),
            ` ${name}`,
          ),
        ),
      );
      const letters = [...(content.commands ?? [])].filter((key) => /^[a-z]$/.test(key)).sort();
      const note = h(
        'p',
        { class: 'muted small' },
        'Or type the first letters of a name.',
        letters.length === 0
          ? ''
          : ` ${letters.join(', ')} ${letters.length === 1 ? 'is a command' : 'are commands'}, never class keys.`,
      );
      sections.push(section('Class keys', h('div', {}, list, note), 'key-help-classes'));
    }
    sections.push(section('Everywhere', keyHints(GLOBAL_KEYS), 'key-help-global'));
    this.#body.replaceChildren(...sections);
    if (!this.element.open) this.element.showModal();
  }

  close(): void {
    if (this.element.open) this.element.close();
  }

  /**
   * The help's part of a key press, before the view's: `?` opens or closes it, Escape closes it, and
   * while it is open no key reaches the view. True when the view must not see the key.
   */
  onKey(event: KeyboardEvent, content: () => KeyHelpContent): boolean {
    const open = this.isOpen;
    if (!open && isForControl(event)) return false;
    if (event.key === '?' && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (open) this.close();
      else this.open(content());
      event.preventDefault();
      return true;
    }
    if (!open) return false;
    if (event.key === 'Escape') {
      this.close();
      event.preventDefault();
    }
    return true;
  }
}

function section(title: string, body: HTMLElement, testId: string): HTMLElement {
  return h('section', { 'data-testid': testId }, h('h3', {}, title), body);
}
