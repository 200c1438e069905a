// The keys' one list per view (app/key-help.ts): how keys are written and which are commands that
// class keys skip; here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { assignKeys } from '../app/class-keys.js';
import { commandKeys, GLOBAL_KEYS, keyLabel } from '../app/key-help.js';
import type { KeyBinding } from '../app/view.js';

const VERIFY_LIKE: readonly KeyBinding[] = [
  { keys: ['y', 'Enter'], what: 'confirm' },
  { label: '1–9, 0, …', what: 'correct' },
  { keys: ['S'], what: 'skip' },
  { keys: ['ArrowLeft', 'ArrowRight'], what: 'move' },
  { label: 'Shift-drag', what: 'lasso' },
];

describe('keyLabel', () => {
  it('writes keys by name, or the label given', () => {
    expect(VERIFY_LIKE.map(keyLabel)).toEqual(['y or Enter', '1–9, 0, …', 'S', '← or →', 'Shift-drag']);
    expect(keyLabel({ keys: ['Escape'], what: '' })).toBe('Esc');
  });
});

describe('commandKeys', () => {
  it('collects the single-character keys, lower-cased, and no names of keys or gestures', () => {
    expect([...commandKeys([...GLOBAL_KEYS, ...VERIFY_LIKE])].sort()).toEqual(['?', 's', 'y']);
  });

  it('keeps class keys off every command letter', () => {
    const names = Array.from({ length: 36 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const keys = assignKeys(new Map(), names, commandKeys(VERIFY_LIKE));
    expect([...keys.values()]).not.toContain('y');
    expect([...keys.values()]).not.toContain('s');
    expect(keys.size).toBe(34);
  });
});
