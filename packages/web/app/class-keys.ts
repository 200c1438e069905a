/**
 * @module Picking a class from the keyboard: 1-9 by a number each class keeps, or type-ahead on the
 * name (as many letters as it takes to tell the class apart; a name that is a prefix of another wins
 * after a pause). Numbers are handed out in the order classes first appear and kept per browser, so
 * a new class (a typo'd `T-Shirt` beside `t-shirt`) takes a free number instead of shifting the rest.
 */

/** Number keys 1..KEY_COUNT. */
export const KEY_COUNT = 9;
const STORAGE_KEY = 'autolabel.class-keys';

/**
 * The number keys for `classes`: every class still present keeps its number; new ones take the
 * lowest free numbers, in list order; a class that is gone frees its number. Pure.
 */
export function assignKeys(
  previous: ReadonlyMap<string, number>,
  classes: readonly string[],
): ReadonlyMap<string, number> {
  const present = new Set(classes);
  const next = new Map<string, number>();
  const used = new Set<number>();
  for (const [name, key] of previous) {
    if (!present.has(name) || !Number.isInteger(key) || key < 1 || key > KEY_COUNT || used.has(key)) continue;
    next.set(name, key);
    used.add(key);
  }
  let free = 1;
  for (const name of classes) {
    if (next.has(name)) continue;
    while (used.has(free)) free++;
    if (free > KEY_COUNT) break;
    next.set(name, free);
    used.add(free);
  }
  return next;
}

/** The classes in button order: by number, then the ones without a number by name (the list's order). */
export function keyOrder(classes: readonly string[], keys: ReadonlyMap<string, number>): string[] {
  const keyed = classes.filter((name) => keys.has(name)).sort((a, b) => keys.get(a)! - keys.get(b)!);
  return [...keyed, ...classes.filter((name) => !keys.has(name))];
}

/** The storage part: what `localStorage` keeps, read and written by whoever asks (both views share it). */
export type KeyStorage = Pick<Storage, 'getItem' | 'setItem'>;

export function storedKeys(storage: KeyStorage | null, classes: readonly string[]): ReadonlyMap<string, number> {
  const previous = new Map<string, number>();
  try {
    const raw: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '[]');
    if (Array.isArray(raw)) {
      for (const pair of raw as unknown[]) {
        if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'number') {
          previous.set(pair[0], pair[1]);
        }
      }
    }
  } catch {
    // Junk in storage: start afresh.
  }
  const keys = assignKeys(previous, classes);
  // Only with classes known: an empty list is a page still loading, not every class deleted.
  if (classes.length > 0) {
    try {
      storage?.setItem(STORAGE_KEY, JSON.stringify([...keys]));
    } catch {
      // Storage full or refused (private mode): the numbers hold for this page only.
    }
  }
  return classes.length > 0 ? keys : previous;
}

/** `localStorage` where the browser gives it. */
export function browserKeyStorage(): KeyStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

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
  press(key: string, classes: readonly string[], keys: ReadonlyMap<string, number>): boolean {
    if (key.length !== 1 || key === ' ') return false;
    if (this.#typed === '' && key >= '1' && key <= '9') {
      const name = classes.find((candidate) => keys.get(candidate) === Number(key));
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
