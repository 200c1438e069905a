/**
 * @module The grid's layout: how many thumbnails fit across, where each group's header and rows
 * sit on the scrolling canvas, and which rows a scroll position shows. Pure: the grid view renders
 * what it says and fetches the pages behind it.
 */

const THUMB = 152;
const GAP = 10;
const CELL_W = THUMB + GAP;
/** A row of thumbnails with their captions, in pixels. */
export const ROW_H = THUMB + 34 + GAP;
/** A group's header, in pixels: it stays at the top of the viewport while its group scrolls under it. */
export const HEADER_H = 44;
const SECTION_GAP = 14;
const PAD = 16;

/** Where a group of `count` images sits, in pixels from the top of the canvas. */
export interface Placement {
  readonly count: number;
  readonly top: number;
  /** The top of its first row, under its header. */
  readonly rowsTop: number;
  readonly rows: number;
  readonly bottom: number;
  /** Ordinal of its first image across all groups: Shift-click ranges may span groups. */
  readonly start: number;
}

export interface GridLayout<G> {
  /** Thumbnails per row. */
  readonly columns: number;
  /** The groups in order, each placed. */
  readonly sections: readonly (G & Placement)[];
  /** The canvas's height. */
  readonly height: number;
}

/** The rows of one group a stretch of the canvas shows: `first` > `last` when only its header is in it. */
export interface VisibleRows<S> {
  readonly section: S;
  readonly first: number;
  readonly last: number;
}

/** Thumbnails per row in a scroller `width` pixels wide: as many as fit, never fewer than one. */
export function columnsFor(width: number): number {
  return Math.max(1, Math.floor((width - 2 * PAD + GAP) / CELL_W));
}

/** The groups one under the other, each a header and then rows of `columnsFor(width)` thumbnails. */
export function layoutGrid<G extends { readonly count: number }>(groups: readonly G[], width: number): GridLayout<G> {
  const columns = columnsFor(width);
  let y = PAD;
  let start = 0;
  const sections = groups.map((group) => {
    const rows = Math.ceil(group.count / columns);
    const section = {
      ...group,
      top: y,
      rowsTop: y + HEADER_H,
      rows,
      bottom: y + HEADER_H + rows * ROW_H + SECTION_GAP,
      start,
    };
    y = section.bottom;
    start += group.count;
    return section;
  });
  return { columns, sections, height: y + PAD };
}

/** The top of a row of a group, in pixels from the top of the canvas. */
export function rowTop(section: Placement, row: number): number {
  return section.rowsTop + row * ROW_H;
}

/** The groups that reach into the canvas between `from` and `to` (pixels), in order, with their rows there. */
export function visibleRows<S extends Placement>(sections: readonly S[], from: number, to: number): VisibleRows<S>[] {
  const visible: VisibleRows<S>[] = [];
  for (const section of sections) {
    if (section.bottom < from) continue;
    if (section.top > to) break;
    const first = Math.max(0, Math.floor((from - section.rowsTop) / ROW_H));
    const last = Math.min(section.rows - 1, Math.floor((to - section.rowsTop) / ROW_H));
    visible.push({ section, first, last });
  }
  return visible;
}

/**
 * The stretch of the canvas a group's header may stick in: from the group's top to the end of its last
 * row, so the next group's header pushes it away rather than covering it.
 */
export function headerBand(section: Placement): { readonly top: number; readonly height: number } {
  return { top: section.top, height: section.bottom - SECTION_GAP - section.top };
}

/** Where the image at `ordinal` sits: its group, its row and column, and the top of its row; undefined past the end. */
export function placeOf<G>(
  layout: GridLayout<G>,
  ordinal: number,
):
  { readonly section: G & Placement; readonly row: number; readonly column: number; readonly top: number } | undefined {
  const section = layout.sections.find((s) => ordinal >= s.start && ordinal < s.start + s.count);
  if (!section) return undefined;
  const index = ordinal - section.start;
  const row = Math.floor(index / layout.columns);
  return { section, row, column: index % layout.columns, top: rowTop(section, row) };
}

/**
 * The scroll position that shows a row starting at `top` whole, below the sticky header, moving as
 * little as it can: `scrollTop` itself when the row is in view already.
 */
export function scrollToReveal(scrollTop: number, viewport: number, top: number): number {
  const visibleFrom = scrollTop + HEADER_H;
  if (top < visibleFrom) return Math.max(0, top - HEADER_H);
  if (top + ROW_H > scrollTop + viewport) return top + ROW_H - viewport;
  return scrollTop;
}
