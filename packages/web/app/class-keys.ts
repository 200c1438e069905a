/**
 * @module Picking a class from the keyboard: 1-9 by position, or type-ahead on the name (as many
 * letters as it takes to tell the class apart; a name that is a prefix of another wins after a pause).
 */

export interface ClassKeysOptions {
  readonly onPick: (name: string) => void;
  /** The letters typed so far while they still match several classes ('' when done), or a complaint. */
  readonly onPending: (typed: string, note: string | null) => void;
  readonly pauseMs?: number;
}

export class ClassKeys {
  readonly #options: ClassKeysOptions;
  #typed = '';
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ClassKeysOptions) {
    this.#options = options;
  }

  /** Handles one key; true when it was used (the caller then prevents its default). */
  press(key: string, classes: readonly string[]): boolean {
    if (key.length !== 1 || key === ' ') return false;
    if (this.#typed === '' && key >= '1' && key <= '9') {
      const name = classes[Number(key) - 1];
      if (name === undefined) this.#options.onPending('', `no class on key ${key}`);
      else this.#pick(name);
      return true;
    }
    const typed = (this.#typed + key).toLowerCase();
    const matches = classes.filter((name) => name.toLowerCase().startsWith(typed));
    if (matches.length === 0) {
      this.#reset();
      this.#options.onPending('', `no class starts with “${typed}”`);
      return true;
    }
    if (matches.length === 1) {
      this.#pick(matches[0]!);
      return true;
    }
    this.#typed = typed;
    this.#options.onPending(typed, null);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const exact = classes.find((name) => name.toLowerCase() === typed);
      this.#reset();
      if (exact === undefined) this.#options.onPending('', `“${typed}” matches ${matches.length} classes: type more`);
      else this.#pick(exact);
    }, this.#options.pauseMs ?? 900);
    return true;
  }

  /** Forgets half-typed letters (on navigation, so they do not leak onto another image). */
  cancel(): void {
    if (this.#typed === '') return;
    this.#reset();
    this.#options.onPending('', null);
  }

  #pick(name: string): void {
    this.#reset();
    this.#options.onPending('', null);
    this.#options.onPick(name);
  }

  #reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#typed = '';
  }
}
