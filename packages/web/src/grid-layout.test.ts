// The grid's layout (app/grid-layout.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { columnsFor, layoutGrid, ROW_H, rowTop, visibleRows } from '../app/grid-layout.js';

const groups = (...counts: number[]) => counts.map((count, i) => ({ key: `g${i}`, count }));

describe('grid layout', () => {
  it('puts as many thumbnails across as fit, more in a wider window, never none', () => {
    const narrow = columnsFor(500);
    const wide = columnsFor(1600);
    expect(narrow).toBeGreaterThanOrEqual(2);
    expect(wide).toBeGreaterThan(narrow);
    expect(wide * 150).toBeLessThan(1600);
    expect(columnsFor(40)).toBe(1);
    expect(columnsFor(0)).toBe(1);
  });

  it('stacks the groups, each a header and then enough rows for its images', () => {
    const width = 1000;
    const columns = columnsFor(width);
    const layout = layoutGrid(groups(columns * 2 + 1, columns, 1), width);
    expect(layout.columns).toBe(columns);
    expect(layout.sections.map((s) => s.rows)).toEqual([3, 1, 1]);
    const [a, b, c] = layout.sections;
    expect(a!.rowsTop).toBeGreaterThan(a!.top);
    expect(b!.top).toBe(a!.bottom);
    expect(c!.top).toBe(b!.bottom);
    expect(rowTop(a!, 2) + ROW_H).toBeLessThanOrEqual(a!.bottom);
    expect(layout.height).toBeGreaterThan(c!.bottom);
    // The groups keep what they were given.
    expect(layout.sections.map((s) => s.key)).toEqual(['g0', 'g1', 'g2']);
  });

  it('numbers the images across groups, so a Shift-click range can span them', () => {
    const layout = layoutGrid(groups(7, 3, 5), 800);
    expect(layout.sections.map((s) => s.start)).toEqual([0, 7, 10]);
  });

  it('shows the row under the scroll position, and not the groups far below', () => {
    const layout = layoutGrid(groups(1000, 1000), 1000);
    const [a, b] = layout.sections;
    const scrollTop = rowTop(a!, 40) + 5;
    const visible = visibleRows(layout.sections, scrollTop, scrollTop + 800);
    expect(visible).toHaveLength(1);
    const { section, first, last } = visible[0]!;
    expect(section.key).toBe('g0');
    expect(first).toBeLessThanOrEqual(40);
    expect(last).toBeGreaterThanOrEqual(40 + Math.floor(800 / ROW_H) - 1);
    // No more rows than fit in the window, plus the two cut at its edges.
    expect(last - first + 1).toBeLessThanOrEqual(Math.ceil(800 / ROW_H) + 1);
    expect(visibleRows(layout.sections, b!.top + 10, b!.top + 300)[0]!.section.key).toBe('g1');
  });

  it('shows the end of one group and the start of the next when scrolled between them', () => {
    const layout = layoutGrid(groups(50, 50), 1000);
    const [a, b] = layout.sections;
    const visible = visibleRows(layout.sections, a!.bottom - 300, b!.rowsTop + 10);
    expect(visible.map((v) => v.section.key)).toEqual(['g0', 'g1']);
    expect(visible[0]!.last).toBe(a!.rows - 1);
    expect(visible[1]!.first).toBe(0);
    expect(visible[1]!.last).toBe(0);
  });

  it('shows a header alone when only it is in view', () => {
    const layout = layoutGrid(groups(20), 1000);
    const [a] = layout.sections;
    const [only] = visibleRows(layout.sections, a!.top, a!.rowsTop - 10);
    expect(only!.first).toBeGreaterThan(only!.last);
  });

  it('lays out nothing when there are no groups', () => {
    const layout = layoutGrid([], 1000);
    expect(layout.sections).toEqual([]);
    expect(visibleRows(layout.sections, 0, 1000)).toEqual([]);
  });
});
