// Number keys for classes (app/class-keys.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { assignKeys, ClassKeys, keyOrder, type KeyStorage, storedKeys } from '../app/class-keys.js';

const memory = (): KeyStorage & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
};

describe('assignKeys', () => {
  it('numbers the first classes in list order', () => {
    expect([...assignKeys(new Map(), ['cat', 'dog', 't-shirt'])]).toEqual([
      ['cat', 1],
      ['dog', 2],
      ['t-shirt', 3],
    ]);
  });

  it('keeps every number when a class sorting first is added (a typo beside t-shirt)', () => {
    const before = assignKeys(new Map(), ['cat', 'dog', 't-shirt']);
    // Sorted by name, 'T-Shirt' lands before 't-shirt' (and 'Aardvark' before everything).
    const after = assignKeys(before, ['Aardvark', 'T-Shirt', 'cat', 'dog', 't-shirt']);
    expect(after.get('cat')).toBe(1);
    expect(after.get('dog')).toBe(2);
    expect(after.get('t-shirt')).toBe(3);
    expect(after.get('Aardvark')).toBe(4);
    expect(after.get('T-Shirt')).toBe(5);
  });

  it('frees the number of a class that is gone and gives it to the next new one', () => {
    const keys = assignKeys(new Map(), ['a', 'b', 'c']);
    const without = assignKeys(keys, ['a', 'c']);
    expect([...without]).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
    expect(assignKeys(without, ['a', 'c', 'd']).get('d')).toBe(2);
  });

  it('gives keys 1-9 only, and ignores junk numbers', () => {
    const names = Array.from({ length: 12 }, (_, i) => `class-${String(i).padStart(2, '0')}`);
    const keys = assignKeys(
      new Map([
        ['class-05', 42],
        ['class-06', 1],
        ['class-07', 1],
      ]),
      names,
    );
    expect(keys.size).toBe(9);
    expect(keys.get('class-06')).toBe(1);
    expect(keys.get('class-00')).toBe(2);
    expect(keys.get('class-07')).toBe(8); // its duplicate 1 lost: a new class, numbered in list order
    expect(new Set(keys.values()).size).toBe(9);
    expect(keyOrder(names, keys).slice(0, 2)).toEqual(['class-06', 'class-00']);
    expect(keyOrder(names, keys)).toHaveLength(12);
  });
});

describe('storedKeys', () => {
  it('keeps the numbers across page loads, in storage', () => {
    const storage = memory();
    storedKeys(storage, ['cat', 'dog']);
    expect(storedKeys(storage, ['Cat', 'cat', 'dog']).get('dog')).toBe(2);
    expect(storedKeys(storage, ['Cat', 'cat', 'dog']).get('Cat')).toBe(3);
  });

  it('survives junk in storage, no storage, and an empty list while loading', () => {
    const storage = memory();
    storage.setItem('autolabel.class-keys', '{nope');
    expect(storedKeys(storage, ['b', 'a']).get('b')).toBe(1);
    expect(storedKeys(storage, []).get('b')).toBe(1);
    expect(storedKeys(storage, ['a', 'b']).get('b')).toBe(1);
    expect(storedKeys(null, ['x']).get('x')).toBe(1);
  });
});

describe('ClassKeys', () => {
  it('picks by the kept number, not by position', () => {
    const picked: string[] = [];
    const notes: (string | null)[] = [];
    const keys = new ClassKeys({ onPick: (name) => picked.push(name), onPending: (_, note) => notes.push(note) });
    const classes = ['T-Shirt', 'cat', 't-shirt'];
    const numbers = new Map([
      ['cat', 1],
      ['t-shirt', 2],
      ['T-Shirt', 3],
    ]);
    keys.press('2', classes, numbers);
    keys.press('1', classes, numbers);
    keys.press('4', classes, numbers);
    expect(picked).toEqual(['t-shirt', 'cat']);
    expect(notes.at(-1)).toBe('no class on key 4');
  });
});
