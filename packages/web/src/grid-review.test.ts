// The grid's pure parts for preview, undo and sticky headers (app/grid-layout.ts, app/grid-undo.ts,
// app/preview.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import {
  columnsFor,
  HEADER_H,
  headerBand,
  layoutGrid,
  placeOf,
  ROW_H,
  rowTop,
  scrollToReveal,
} from '../app/grid-layout.js';
import { bulkChangeWords, LastBulkChange, undoShortcut } from '../app/grid-undo.js';
import { previewFacts } from '../app/preview.js';

const groups = (...counts: number[]) => counts.map((count, i) => ({ key: `g${i}`, count }));

describe('grid layout for preview and sticky headers', () => {
  const width = 1000;
  const columns = columnsFor(width);
  const layout = layoutGrid(groups(columns * 3 + 2, 5), width);
  const [a, b] = layout.sections;

  it('finds the group, row and column of an image by its ordinal across groups', () => {
    expect(placeOf(layout, 0)).toMatchObject({ section: { key: 'g0' }, row: 0, column: 0, top: a!.rowsTop });
    expect(placeOf(layout, columns + 1)).toMatchObject({ row: 1, column: 1, top: rowTop(a!, 1) });
    // The first image of the second group is at its first row, not after the first group's rows.
    expect(placeOf(layout, a!.count)).toMatchObject({ section: { key: 'g1' }, row: 0, column: 0, top: b!.rowsTop });
    expect(placeOf(layout, a!.count + b!.count)).toBeUndefined();
    expect(placeOf(layout, -1)).toBeUndefined();
  });

  it('lets a header stick from its group’s top to the end of its last row, never into the next group', () => {
    const band = headerBand(a!);
    expect(band.top).toBe(a!.top);
    expect(band.top + band.height).toBe(rowTop(a!, a!.rows - 1) + ROW_H);
    expect(band.top + band.height).toBeLessThan(b!.top);
    expect(band.height).toBeGreaterThan(HEADER_H);
  });

  it('scrolls as little as it can to show a row whole, below the sticky header', () => {
    const viewport = 600;
    // In view already: no scroll.
    expect(scrollToReveal(100, viewport, 300)).toBe(100);
    // Above, or under the sticky header: scrolled up to just below it.
    expect(scrollToReveal(1000, viewport, 900)).toBe(900 - HEADER_H);
    expect(scrollToReveal(1000, viewport, 1000 + HEADER_H - 1)).toBe(1000 - 1);
    expect(scrollToReveal(10, viewport, 20)).toBe(0);
    // Below: scrolled down until its bottom is at the viewport's.
    expect(scrollToReveal(0, viewport, 700)).toBe(700 + ROW_H - viewport);
  });
});

describe('preview facts', () => {
  const base = { label: 'dress', confidence: 0.874, runnerUp: 'pants', runnerUpConfidence: 0.091, origin: null };

  it('gives a suggestion with its confidence and the runner-up with its own', () => {
    expect(previewFacts({ ...base, status: 'suggested' })).toEqual({
      heading: 'Suggested',
      label: 'dress',
      confidence: '87%',
      runnerUp: 'pants',
      runnerUpConfidence: '9%',
      note: null,
    });
    expect(previewFacts({ ...base, status: 'auto' }).heading).toBe('Certified suggestion');
  });

  it('gives a label without a runner-up, and how a person’s label came about', () => {
    const labelled = previewFacts({ ...base, status: 'labeled', confidence: null, origin: 'next' });
    expect(labelled).toMatchObject({ heading: 'Labeled', label: 'dress', confidence: null, runnerUp: null });
    expect(labelled.note).toBe('labelled as recommended by Label next');
    expect(previewFacts({ ...base, status: 'accepted' })).toMatchObject({
      heading: 'Accepted suggestion',
      confidence: '87%',
      runnerUp: null,
      runnerUpConfidence: null,
    });
    const open = previewFacts({ ...base, status: 'unlabeled', label: null, confidence: null, runnerUp: null });
    expect(open).toMatchObject({ label: null, note: 'no label and no suggestion yet' });
  });
});

describe('the last bulk change', () => {
  it('words each kind of change for the toast', () => {
    expect(bulkChangeWords({ kind: 'accept', count: 1234 })).toBe('Accepted 1,234');
    expect(bulkChangeWords({ kind: 'relabel', count: 1, label: 'dress' })).toBe('Labeled 1 image as dress');
    expect(bulkChangeWords({ kind: 'clear', count: 3 })).toBe('Cleared the labels of 3 images');
    expect(undoShortcut('MacIntel')).toBe('⌘Z');
    expect(undoShortcut('Linux x86_64')).toBe('Ctrl+Z');
  });

  it('keeps one change to undo, hands it out once, and has nothing for a change that changed nothing', () => {
    const last = new LastBulkChange();
    last.record({ kind: 'accept', count: 37 }, [4, null, 5]);
    expect(last.current).toEqual({ change: { kind: 'accept', count: 37 }, changeIds: [4, 5] });
    last.record({ kind: 'clear', count: 2 }, [6]);
    expect(last.current?.changeIds).toEqual([6]);
    expect(last.take()?.changeIds).toEqual([6]);
    expect(last.current).toBeNull();
    // A second Ctrl+Z while the first undo is on its way sends nothing.
    last.record({ kind: 'accept', count: 1 }, [7]);
    expect(last.take()).toBeNull();
    last.settled();
    expect(last.take()?.changeIds).toEqual([7]);
    last.settled();
    last.record({ kind: 'accept', count: 0 }, [null]);
    expect(last.current).toBeNull();
    last.record({ kind: 'accept', count: 1 }, [8]);
    last.dismiss();
    expect(last.take()).toBeNull();
  });
});
