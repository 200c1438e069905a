/**
 * @module Picking a class from the keyboard: by the key each class keeps (1-9, then 0, then letters),
 * or type-ahead on the name (as many letters as it takes to tell the class apart; a name that is a
 * prefix of another wins after a pause). Keys are handed out in the order classes first appear and
 * kept per browser, so a new class (a typo'd `T-Shirt` beside `t-shirt`) takes a free key instead of
 * shifting the rest. Letters that any view uses as a command are never class keys.
 */

/**
 * Every key a class may get, in the order they are handed out: the number row, then letters by the
 * left hand's home positions first (q w e r t, a s d f g, z x c v b), then the right hand's.
 */
export const CLASS_KEY_SEQUENCE: readonly string[] = [...'1234567890', ...'qwertasdfgzxcvbyuiophjklnm'];
const STORAGE_KEY = 'autolabel.class-keys';
const RANK = new Map(CLASS_KEY_SEQUENCE.map((key, i) => [key, i]));

/** Class name -> its key (one character of CLASS_KEY_SEQUENCE). */
export type ClassKeyMap = ReadonlyMap<string, string>;

/** The keys classes may have when `reserved` (single characters, any case) are commands. */
export function classKeyChoices(reserved: ReadonlySet<string> = new Set()): string[] {
  const taken = new Set([...reserved].map((key) => key.toLowerCase()));
  return CLASS_KEY_SEQUENCE.filter((key) => !taken.has(key));
}

/**
 * The keys for `classes`: every class still present keeps its key (unless it became a command); new
 * ones take the next free keys in sequence order, in list order, numbers first. Among letters, one
 * that starts no class name goes first, so typing a name's first letter keeps working for as many
 * classes as it can. A class that is gone frees its key. Pure.
 */
export function assignKeys(
  previous: ReadonlyMap<string, string>,
  classes: readonly string[],
  reserved: ReadonlySet<string> = new Set(),
): ClassKeyMap {
  const choices = classKeyChoices(reserved);
  const allowed = new Set(choices);
  const present = new Set(classes);
  const next = new Map<string, string>();
  const used = new Set<string>();
  for (const [name, key] of previous) {
    if (!present.has(name) || !allowed.has(key) || used.has(key)) continue;
    next.set(name, key);
    used.add(key);
  }
  const initials = new Set(classes.map((name) => name.charAt(0).toLowerCase()));
  const isLetter = (key: string) => key >= 'a' && key <= 'z';
  const free = (preferred: boolean) =>
    choices.find((key) => !used.has(key) && (!preferred || !isLetter(key) || !initials.has(key)));
  for (const name of classes) {
    if (next.has(name)) continue;
    const key = free(true) ?? free(false);
    if (key === undefined) break;
    next.set(name, key);
    used.add(key);
  }
  return next;
}

/** The classes in button order: by key (1-9, 0, letters), then the ones without a key (the list's order). */
export function keyOrder(classes: readonly string[], keys: ClassKeyMap): string[] {
  const rank = (name: string) => RANK.get(keys.get(name)!)!;
  const keyed = classes.filter((name) => keys.has(name)).sort((a, b) => rank(a) - rank(b));
  return [...keyed, ...classes.filter((name) => !keys.has(name))];
}

/** The storage part: what `localStorage` keeps, read and written by whoever asks (every view shares it). */
export type KeyStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The kept keys, brought up to date with `classes` (and saved); `reserved` are the command keys. */
export function storedKeys(
  storage: KeyStorage | null,
  classes: readonly string[],
  reserved: ReadonlySet<string> = new Set(),
): ClassKeyMap {
  const previous = new Map<string, string>();
  try {
    const raw: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '[]');
    if (Array.isArray(raw)) {
      for (const pair of raw as unknown[]) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string') continue;
        // Numbers are what this browser kept before keys went past 9.
        if (typeof pair[1] === 'string') previous.set(pair[0], pair[1]);
        else if (typeof pair[1] === 'number') previous.set(pair[0], String(pair[1]));
      }
    }
  } catch {
    // Junk in storage: start afresh.
  }
  // Only with classes known: an empty list is a page still loading, not every class deleted.
  if (classes.length === 0) return previous;
  const keys = assignKeys(previous, classes, reserved);
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify([...keys]));
  } catch {
    // Storage full or refused (private mode): the keys hold for this page only.
  }
  return keys;
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

  /**
   * Handles one key; true when it was used (the caller then prevents its default). A class's own key
   * picks it at once; a digit with no class says so; other letters spell towards a name.
   */
  press(key: string, classes: readonly string[], keys: ClassKeyMap): boolean {
    if (key.length !== 1 || key === ' ') return false;
    if (this.#typed === '') {
      const lower = key.toLowerCase();
      const name = classes.find((candidate) => keys.get(candidate) === lower);
      if (name !== undefined) {
        this.#pick(name);
        return true;
      }
      if (key >= '0' && key <= '9') {
        this.#options.onPending('', `no class on key ${key}`);
        return true;
      }
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
