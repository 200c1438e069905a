// Keys for classes (app/class-keys.ts): 1-9, 0, then letters; here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import {
  assignKeys,
  CLASS_KEY_SEQUENCE,
  classKeyChoices,
  ClassKeys,
  keyOrder,
  type KeyStorage,
  storedKeys,
} from '../app/class-keys.js';

const memory = (): KeyStorage & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
};

describe('assignKeys', () => {
  it('numbers the first classes in list order', () => {
    expect([...assignKeys(new Map(), ['cat', 'dog', 't-shirt'])]).toEqual([
      ['cat', '1'],
      ['dog', '2'],
      ['t-shirt', '3'],
    ]);
  });

  it('keeps every number when a class sorting first is added (a typo beside t-shirt)', () => {
    const before = assignKeys(new Map(), ['cat', 'dog', 't-shirt']);
    // Sorted by name, 'T-Shirt' lands before 't-shirt' (and 'Aardvark' before everything).
    const after = assignKeys(before, ['Aardvark', 'T-Shirt', 'cat', 'dog', 't-shirt']);
    expect(after.get('cat')).toBe('1');
    expect(after.get('dog')).toBe('2');
    expect(after.get('t-shirt')).toBe('3');
    expect(after.get('Aardvark')).toBe('4');
    expect(after.get('T-Shirt')).toBe('5');
  });

  it('frees the number of a class that is gone and gives it to the next new one', () => {
    const keys = assignKeys(new Map(), ['a', 'b', 'c']);
    const without = assignKeys(keys, ['a', 'c']);
    expect([...without]).toEqual([
      ['a', '1'],
      ['c', '3'],
    ]);
    expect(assignKeys(without, ['a', 'c', 'd']).get('d')).toBe('2');
  });

  it('gives 1-9, then 0 to the tenth class, then letters, and ignores junk keys', () => {
    const names = Array.from({ length: 12 }, (_, i) => `class-${String(i).padStart(2, '0')}`);
    const keys = assignKeys(
      new Map([
        ['class-05', '42'],
        ['class-06', '1'],
        ['class-07', '1'],
        ['class-08', 'é'],
      ]),
      names,
    );
    expect(keys.size).toBe(12);
    expect(keys.get('class-06')).toBe('1');
    expect(keys.get('class-00')).toBe('2');
    expect(keys.get('class-07')).toBe('8'); // its duplicate 1 lost: a new class, keyed in list order
    expect(keys.get('class-09')).toBe('0');
    expect(keys.get('class-10')).toBe('q');
    expect(keys.get('class-11')).toBe('w');
    expect(new Set(keys.values()).size).toBe(12);
    expect(keyOrder(names, keys).slice(0, 2)).toEqual(['class-06', 'class-00']);
    expect(keyOrder(names, keys).slice(9)).toEqual(['class-09', 'class-10', 'class-11']);
  });

  it('never gives a class a letter that a view uses as a command, and drops one kept from before', () => {
    const names = Array.from({ length: 14 }, (_, i) => `class-${String(i).padStart(2, '0')}`);
    const reserved = new Set(['y', 'S', 'q', 'e', '?']);
    const keys = assignKeys(new Map([['class-00', 'e']]), names, reserved);
    const letters = names.slice(10).map((name) => keys.get(name));
    expect(letters).toEqual(['w', 'r', 't', 'a']);
    expect(keys.get('class-00')).toBe('1'); // 'e' became a command: the class takes the first free key
    for (const key of keys.values()) expect(['y', 's', 'q', 'e']).not.toContain(key);
    expect(classKeyChoices(reserved)).not.toContain('s');
    expect(classKeyChoices(reserved)).toHaveLength(CLASS_KEY_SEQUENCE.length - 4);
  });

  it('prefers letters that start no class name, so typing a first letter still reaches those classes', () => {
    const names = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen', 'ibis', 'jay', 'quail', 'wolf', 'yak'];
    const keys = assignKeys(new Map(), names);
    // q (quail) and w (wolf) start names: the 11th to 13th classes get r, t and s instead.
    expect(['quail', 'wolf', 'yak'].map((name) => keys.get(name))).toEqual(['r', 't', 's']);
  });

  it('keeps every key when a class is added past ten: the new class takes the next free key', () => {
    const twelve = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const before = assignKeys(new Map(), twelve);
    expect(before.get('k09')).toBe('0');
    expect(before.get('k10')).toBe('q');
    // Sorting first, the new class shifts every position in the list, but no key.
    const after = assignKeys(before, ['a-new', ...twelve]);
    for (const name of twelve) expect(after.get(name), name).toBe(before.get(name));
    expect(after.get('a-new')).toBe('e');
    // A freed key goes to the next class added.
    const without = assignKeys(after, ['a-new', ...twelve.filter((name) => name !== 'k03')]);
    expect(assignKeys(without, ['a-new', 'b-new', ...twelve]).get('b-new')).toBe('4');
  });

  it('runs out of keys gracefully: the rest have buttons but no key', () => {
    const names = Array.from({ length: 40 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    const keys = assignKeys(new Map(), names, new Set(['y', 's']));
    expect(keys.size).toBe(CLASS_KEY_SEQUENCE.length - 2);
    expect(keyOrder(names, keys)).toHaveLength(40);
    expect(keyOrder(names, keys).at(-1)).toBe('n39');
  });
});

describe('storedKeys', () => {
  it('keeps the numbers across page loads, in storage', () => {
    const storage = memory();
    storedKeys(storage, ['cat', 'dog']);
    expect(storedKeys(storage, ['Cat', 'cat', 'dog']).get('dog')).toBe('2');
    expect(storedKeys(storage, ['Cat', 'cat', 'dog']).get('Cat')).toBe('3');
  });

  it('reads the numbers a browser kept before keys went past 9', () => {
    const storage = memory();
    storage.setItem(
      'autolabel.class-keys',
      JSON.stringify([
        ['cat', 2],
        ['dog', 1],
      ]),
    );
    const keys = storedKeys(storage, ['cat', 'dog', 'eel']);
    expect([...keys]).toEqual([
      ['cat', '2'],
      ['dog', '1'],
      ['eel', '3'],
    ]);
    expect(storage.data.get('autolabel.class-keys')).toBe('[["cat","2"],["dog","1"],["eel","3"]]');
  });

  it('survives junk in storage, no storage, and an empty list while loading', () => {
    const storage = memory();
    storage.setItem('autolabel.class-keys', '{nope');
    expect(storedKeys(storage, ['b', 'a']).get('b')).toBe('1');
    expect(storedKeys(storage, []).get('b')).toBe('1');
    expect(storedKeys(storage, ['a', 'b']).get('b')).toBe('1');
    expect(storedKeys(null, ['x']).get('x')).toBe('1');
  });
});

describe('ClassKeys', () => {
  it('picks by the kept number, not by position', () => {
    const picked: string[] = [];
    const notes: (string | null)[] = [];
    const keys = new ClassKeys({ onPick: (name) => picked.push(name), onPending: (_, note) => notes.push(note) });
    const classes = ['T-Shirt', 'cat', 't-shirt'];
    const numbers = new Map([
      ['cat', '1'],
      ['t-shirt', '2'],
      ['T-Shirt', '3'],
    ]);
    keys.press('2', classes, numbers);
    keys.press('1', classes, numbers);
    keys.press('4', classes, numbers);
    expect(picked).toEqual(['t-shirt', 'cat']);
    expect(notes.at(-1)).toBe('no class on key 4');
  });

  it('picks by 0 and by a letter key at once, and type-ahead goes on for the other letters', () => {
    const picked: string[] = [];
    const pending: string[] = [];
    const keys = new ClassKeys({ onPick: (name) => picked.push(name), onPending: (typed) => pending.push(typed) });
    const classes = ['cat', 'cow', 'quokka', 'zebra'];
    const assigned = new Map([
      ['cat', '0'],
      ['quokka', 'w'],
      ['zebra', 'q'],
    ]);
    keys.press('0', classes, assigned);
    keys.press('q', classes, assigned); // zebra's key, not the start of quokka
    keys.press('W', classes, assigned); // Shift held: still the key
    keys.press('z', classes, assigned); // no class's key: type-ahead, and only zebra starts with z
    keys.press('c', classes, assigned); // cat and cow: waits for more
    keys.press('o', classes, assigned);
    expect(picked).toEqual(['cat', 'zebra', 'quokka', 'zebra', 'cow']);
    expect(pending).toContain('c');
  });

  it('spells on with a letter that is a class key once a name is half typed', () => {
    const picked: string[] = [];
    const keys = new ClassKeys({ onPick: (name) => picked.push(name), onPending: () => undefined });
    const classes = ['sea', 'sew', 'zebra'];
    const assigned = new Map([['zebra', 'w']]);
    keys.press('s', classes, assigned);
    keys.press('e', classes, assigned);
    keys.press('w', classes, assigned);
    expect(picked).toEqual(['sew']);
    keys.cancel();
  });
});
