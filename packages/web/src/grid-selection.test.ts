// The grid's selection (app/grid-selection.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { GridSelection, type ItemsBetween } from '../app/grid-selection.js';

/** A grid of 100 images where the image at ordinal n has id 1000 + n. */
const idAt = (ordinal: number) => 1000 + ordinal;
const asked: [number, number][] = [];
const itemsBetween: ItemsBetween = async (from, to) => {
  asked.push([from, to]);
  return Array.from({ length: to - from + 1 }, (_, k) => ({ id: idAt(from + k) }));
};
const sorted = (selection: GridSelection) => selection.ids().sort((a, b) => a - b);
const click = (selection: GridSelection, ordinal: number, shift = false) =>
  selection.click(idAt(ordinal), ordinal, shift, itemsBetween);

describe('GridSelection', () => {
  it('selects an image with a click and deselects it with another', async () => {
    const selection = new GridSelection();
    await click(selection, 3);
    await click(selection, 8);
    expect(selection.ids()).toEqual([idAt(3), idAt(8)]);
    await click(selection, 3);
    expect(selection.has(idAt(3))).toBe(false);
    expect(selection.size).toBe(1);
  });

  it('shift-click selects the range between the two clicks, either way round', async () => {
    for (const [first, second] of [
      [10, 14],
      [14, 10],
    ] as const) {
      const selection = new GridSelection();
      await click(selection, first);
      await click(selection, second, true);
      expect(sorted(selection), `${first} then ${second}`).toEqual([10, 11, 12, 13, 14].map(idAt));
    }
  });

  it('a range only adds: images already selected in it stay selected, and so does the rest', async () => {
    const selection = new GridSelection();
    await click(selection, 50);
    await click(selection, 12);
    await click(selection, 10);
    await click(selection, 13, true);
    expect(sorted(selection)).toEqual([10, 11, 12, 13, 50].map(idAt));
  });

  it('starts the next range at the last click', async () => {
    const selection = new GridSelection();
    await click(selection, 0);
    await click(selection, 2, true);
    await click(selection, 5, true);
    expect(sorted(selection)).toEqual([0, 1, 2, 3, 4, 5].map(idAt));
  });

  it('says which ordinals a Shift-click will ask for, before asking', async () => {
    const selection = new GridSelection();
    expect(selection.rangeTo(4, true)).toBeNull();
    await click(selection, 9);
    expect(selection.rangeTo(4, false)).toBeNull();
    expect(selection.rangeTo(4, true)).toEqual({ from: 4, to: 9 });
    asked.length = 0;
    await click(selection, 4, true);
    expect(asked).toEqual([[4, 9]]);
  });

  it('a Shift-click with no click before it selects just that image', async () => {
    const selection = new GridSelection();
    await click(selection, 7, true);
    expect(selection.ids()).toEqual([idAt(7)]);
  });

  it('clearing empties the selection, and the next Shift-click does not reach back', async () => {
    const selection = new GridSelection();
    await click(selection, 1);
    await click(selection, 3, true);
    selection.clear();
    expect(selection.size).toBe(0);
    await click(selection, 6, true);
    expect(selection.ids()).toEqual([idAt(6)]);
  });

  it('keeps the selection under another filter, but ranges start afresh there', async () => {
    const selection = new GridSelection();
    await click(selection, 2);
    selection.forgetAnchor();
    expect(selection.has(idAt(2))).toBe(true);
    await click(selection, 5, true);
    expect(selection.ids()).toEqual([idAt(2), idAt(5)]);
  });

  it('"Select all" adds a group without moving where a range starts', async () => {
    const selection = new GridSelection();
    await click(selection, 20);
    selection.add([{ id: idAt(90) }, { id: idAt(91) }, { id: idAt(20) }]);
    expect(selection.size).toBe(3);
    await click(selection, 22, true);
    expect(sorted(selection)).toEqual([20, 21, 22, 90, 91].map(idAt));
  });
});
