/**
 * @module Picking a class in the label-next queue, the verify view and the map's selection: the row of
 * class buttons (each with its key), the keys themselves (1-9, 0, letters and type-ahead, from
 * class-keys.ts) with the line that says what was typed. Each view says what a pick does.
 */
import { browserKeyStorage, type ClassKeyMap, ClassKeys, keyOrder, storedKeys } from './class-keys.js';
import { h, isForControl } from './dom.js';

export interface ClassPickerOptions {
  /** The button row's data-testid. */
  readonly testId: string;
  /** The class names as the server lists them now. */
  readonly classNames: () => readonly string[];
  /** A class was picked, by a key or by its button. */
  readonly onPick: (name: string) => void;
  /** The keys views use as commands, which no class gets (ViewContext's). */
  readonly commandKeys: () => ReadonlySet<string>;
}

/** How one class button looks: an extra CSS class (`current`, `suggested`) and its tooltip. */
export interface ClassButtonLook {
  readonly mark?: string;
  readonly title: string;
}

export interface RenderedClasses {
  /** The classes in button order. */
  readonly names: readonly string[];
  /** Their keys, where they have one. */
  readonly keys: ClassKeyMap;
}

export class ClassPicker {
  /** The class buttons, to put in the view's panel. */
  readonly buttons: HTMLElement;
  /** What has been typed towards a class name, or why a key did nothing. */
  readonly typeahead: HTMLElement;
  readonly #classNames: () => readonly string[];
  readonly #commandKeys: () => ReadonlySet<string>;
  readonly #keys: ClassKeys;
  #typed = '';
  #note: string | null = null;

  constructor(options: ClassPickerOptions) {
    this.#classNames = options.classNames;
    this.#commandKeys = options.commandKeys;
    this.#keys = new ClassKeys({
      onPick: options.onPick,
      onPending: (typed, note) => {
        this.#typed = typed;
        this.#note = note;
        this.renderTypeahead();
      },
    });
    this.buttons = h('div', { class: 'class-buttons', 'data-testid': options.testId });
    this.buttons.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLElement>('[data-class]');
      if (!button?.dataset.class) return;
      button.blur(); // so the keys go on picking rather than pressing this button again
      options.onPick(button.dataset.class);
    });
    this.typeahead = h('p', { class: 'typeahead', 'aria-live': 'polite' });
  }

  /** Whether letters typed so far are spelling a class name, so the next letter goes on spelling it. */
  get typing(): boolean {
    return this.#typed !== '';
  }

  /**
   * A key pressed while the view is shown: left alone when it belongs to a focused control or comes
   * with a modifier; else the view's own `command` first (true when it used the key), then Escape
   * forgets half-typed letters, and anything else goes towards picking a class.
   */
  onKey(event: KeyboardEvent, command: (event: KeyboardEvent) => boolean): void {
    if (isForControl(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (command(event)) event.preventDefault();
    else if (event.key === 'Escape') {
      this.cancel();
      event.preventDefault();
    } else if (this.press(event.key)) event.preventDefault();
  }

  /** Handles one key (a class's key or a letter of a class name); true when it was used. */
  press(key: string): boolean {
    const { names, keys } = this.assigned();
    return this.#keys.press(key, names, keys);
  }

  /** The classes in key order and their keys, as the buttons show them. */
  assigned(): RenderedClasses {
    const keys = storedKeys(browserKeyStorage(), this.#classNames(), this.#commandKeys());
    return { names: keyOrder(this.#classNames(), keys), keys };
  }

  /** Forgets half-typed letters (on moving on, so they do not spill onto the next image). */
  cancel(): void {
    this.#keys.cancel();
  }

  /**
   * Draws the buttons in key order, unless nothing they show changed: `state` is whatever else `look`
   * reads (the current label, the suggestion). `empty` is said instead when there are no classes.
   */
  render(
    state: readonly unknown[],
    look: (name: string) => ClassButtonLook,
    empty: string | null = null,
  ): RenderedClasses {
    const { names, keys } = this.assigned();
    const signature = JSON.stringify([names, [...keys], ...state]);
    if (this.buttons.dataset.signature === signature) return { names, keys };
    this.buttons.dataset.signature = signature;
    if (names.length === 0 && empty !== null) {
      this.buttons.replaceChildren(h('p', { class: 'muted' }, empty));
      return { names, keys };
    }
    this.buttons.replaceChildren(
      ...names.map((name) => {
        const { mark, title } = look(name);
        return h(
          'button',
          { type: 'button', class: `class-button${mark ? ` ${mark}` : ''}`, 'data-class': name, title },
          keys.has(name) ? h('kbd', {}, keys.get(name)!) : null,
          name,
        );
      }),
    );
    return { names, keys };
  }

  renderTypeahead(): void {
    if (this.#typed)
      this.typeahead.textContent = `typed “${this.#typed}”: keep typing, or pause to pick an exact match`;
    else this.typeahead.textContent = this.#note ?? '';
    this.typeahead.classList.toggle('warn', !this.#typed && this.#note !== null);
  }
}
