/**
 * @module The review grid: thumbnails grouped by (suggested) class, most or least confident first,
 * with click / Shift-click selection and bulk accept or relabel. Only the rows in view are in the DOM,
 * and rows come from pages of /api/images fetched as they scroll into view, so the first screen needs
 * only the first page of each group in it, however many images there are.
 */
import type { ImageItem, ImageStatus, LabelOrigin, StatsResponse } from '@autolabel/core';
import { h, isForControl, percent } from './dom.js';
import type { Change } from './live.js';
import type { View, ViewContext } from './view.js';

/** How a person's label came about, as the tile's tooltip says it. */
const ORIGIN_WORDS: Readonly<Record<LabelOrigin, string>> = {
  verify: 'label from a random check',
  next: 'labelled as recommended by next',
  chosen: 'labelled by hand',
  import: 'imported label',
};

export const FILTERS = ['all', 'auto', 'suggested', 'labeled', 'accepted', 'unlabeled'] as const;
export type Filter = (typeof FILTERS)[number];
type Sort = '-confidence' | 'confidence';

/** One group of the grid: a class (its labels and suggestions under the filter), or the images with neither. */
interface Section {
  /** Identifies the query, so cached pages are never shown under another filter or order. */
  readonly key: string;
  readonly label: string | null;
  readonly status: ImageStatus | undefined;
  readonly count: number;
  readonly breakdown: string;
  /** Layout, in pixels from the top of the canvas. */
  readonly top: number;
  readonly rowsTop: number;
  readonly rows: number;
  readonly bottom: number;
  /** Ordinal of its first image across all groups: Shift-click ranges may span groups. */
  readonly start: number;
}

interface Page {
  items: readonly ImageItem[] | null;
  /** Labels or suggestions changed since it was fetched: shown until its replacement arrives. */
  stale: boolean;
  request: Promise<void> | null;
}

const PAGE = 200;
const THUMB = 152;
const GAP = 10;
const CELL_W = THUMB + GAP;
const ROW_H = THUMB + 34 + GAP;
const HEADER_H = 44;
const SECTION_GAP = 14;
const PAD = 16;
/** Rows rendered beyond the visible ones, in pixels each way, so a short scroll shows no blanks. */
const OVERSCAN = 600;
/** Pages are fetched once a scroll pauses this long, not for every group flown past. */
const FETCH_DELAY_MS = 60;

const FILTER_TITLES: Readonly<Record<Filter, string>> = {
  all: 'All',
  auto: 'Auto',
  suggested: 'Suggested',
  labeled: 'Labeled',
  accepted: 'Accepted',
  unlabeled: 'Unlabeled',
};

const CLEAR_LABEL = '\u0000clear';

export class GridView implements View {
  readonly element: HTMLElement;
  readonly #ctx: ViewContext;
  #filter: Filter = 'all';
  #sort: Sort = '-confidence';
  #sections: Section[] = [];
  #cols = 1;
  #shown = false;
  readonly #pages = new Map<string, Map<number, Page>>();
  /** Group sizes as the latest page answers gave them, newer than the stats when `at` is later. */
  readonly #totals = new Map<string, { total: number; at: number }>();
  #statsAt = 0;
  readonly #selected = new Set<number>();
  #anchor: number | null = null;
  readonly #rendered = new Map<string, HTMLElement>();
  #fetchTimer: ReturnType<typeof setTimeout> | undefined;
  #frame = 0;

  readonly #tabs: HTMLElement;
  readonly #sortSelect: HTMLSelectElement;
  readonly #count: HTMLElement;
  readonly #acceptButton: HTMLButtonElement;
  readonly #relabelSelect: HTMLSelectElement;
  readonly #relabelButton: HTMLButtonElement;
  readonly #clearButton: HTMLButtonElement;
  readonly #scroller: HTMLElement;
  readonly #canvas: HTMLElement;
  readonly #empty: HTMLElement;

  constructor(ctx: ViewContext) {
    this.#ctx = ctx;
    this.#tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Show' });
    this.#tabs.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLElement>('[data-filter]');
      if (button) this.setFilter(button.dataset.filter as Filter);
    });
    this.#sortSelect = h(
      'select',
      { 'aria-label': 'Order', 'data-testid': 'grid-sort' },
      h('option', { value: '-confidence' }, 'Most confident first'),
      h('option', { value: 'confidence' }, 'Least confident first'),
    );
    this.#sortSelect.addEventListener('change', () => {
      this.#sort = this.#sortSelect.value as Sort;
      this.#relayout(true);
    });
    this.#count = h('span', { class: 'selection-count', 'data-testid': 'selection-count' });
    this.#acceptButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'accept-selection' }, 'Accept');
    this.#acceptButton.addEventListener('click', () => void this.#acceptSelection());
    this.#relabelSelect = h('select', { 'aria-label': 'Relabel as', 'data-testid': 'relabel-class' });
    this.#relabelButton = h('button', { type: 'button', 'data-testid': 'relabel-selection' }, 'Relabel');
    this.#relabelButton.addEventListener('click', () => void this.#relabelSelection());
    this.#clearButton = h('button', { type: 'button', class: 'quiet' }, 'Clear selection');
    this.#clearButton.addEventListener('click', () => this.#clearSelection());
    this.#canvas = h('div', { class: 'grid-canvas', 'data-testid': 'grid' });
    this.#empty = h('p', { class: 'empty' }, 'Loading…');
    this.#scroller = h('div', { class: 'grid-scroller' }, this.#empty, this.#canvas);
    this.#scroller.addEventListener('scroll', () => this.#schedule(), { passive: true });
    this.#canvas.addEventListener('click', (event) => void this.#onClick(event));
    new ResizeObserver(() => this.#shown && this.#relayout(false)).observe(this.#scroller);
    this.element = h(
      'section',
      { class: 'view grid', 'data-view': 'grid' },
      h(
        'div',
        { class: 'toolbar' },
        this.#tabs,
        this.#sortSelect,
        h(
          'div',
          { class: 'actions' },
          this.#count,
          this.#acceptButton,
          this.#relabelSelect,
          this.#relabelButton,
          this.#clearButton,
        ),
      ),
      h(
        'p',
        { class: 'hint-line' },
        'Click selects · ',
        h('kbd', {}, 'Shift'),
        '-click selects a range · ',
        h('kbd', {}, 'Enter'),
        ' accepts the selection · ',
        h('kbd', {}, 'Esc'),
        ' clears it',
      ),
      this.#scroller,
    );
    ctx.live.subscribe((change) => this.#onChange(change));
    this.#renderToolbar();
  }

  show(): void {
    this.#shown = true;
    if (this.#ctx.live.stats) this.#relayout(false);
    this.#renderToolbar();
  }

  hide(): void {
    this.#shown = false;
  }

  setFilter(filter: Filter): void {
    if (filter === this.#filter) return;
    this.#filter = filter;
    this.#anchor = null;
    this.#scroller.scrollTop = 0;
    this.#renderToolbar();
    this.#relayout(true);
  }

  onKey(event: KeyboardEvent): void {
    if (isForControl(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape') this.#clearSelection();
    else if (event.key === 'Enter' && this.#selected.size > 0) void this.#acceptSelection();
    else return;
    event.preventDefault();
  }

  #onChange(change: Change): void {
    switch (change.kind) {
      case 'stats':
        this.#statsAt = performance.now();
        this.#renderToolbar();
        this.#relayout(false);
        break;
      case 'labels':
      case 'suggestions':
      case 'resync':
        for (const pages of this.#pages.values()) for (const page of pages.values()) page.stale = true;
        this.#schedule();
        break;
    }
  }

  /** The groups under the current filter, from the stats' per-class counts. */
  #sectionsOf(stats: StatsResponse): Omit<Section, 'top' | 'rowsTop' | 'rows' | 'bottom' | 'start'>[] {
    const filter = this.#filter;
    const status = filter === 'all' ? undefined : filter;
    const sections: Omit<Section, 'top' | 'rowsTop' | 'rows' | 'bottom' | 'start'>[] = [];
    const keyOf = (label: string | null) => JSON.stringify([label, status ?? null, this.#sort]);
    if (filter !== 'unlabeled') {
      for (const c of stats.classes) {
        const count = filter === 'all' ? c.labeled + c.accepted + c.auto + c.suggested : c[filter];
        const parts = (['labeled', 'accepted', 'auto', 'suggested'] as const)
          .filter((s) => c[s] > 0 && (filter === 'all' || filter === s))
          .map((s) => `${c[s].toLocaleString('en-US')} ${s}`);
        sections.push({ key: keyOf(c.name), label: c.name, status, count, breakdown: parts.join(' · ') });
      }
    }
    if (filter === 'all' || filter === 'unlabeled') {
      const count = stats.byStatus.unlabeled;
      sections.push({
        key: keyOf(null),
        label: null,
        status: 'unlabeled',
        count,
        breakdown: 'no label and no suggestion yet',
      });
    }
    return sections
      .map((s) => {
        const total = this.#totals.get(s.key);
        return total && total.at > this.#statsAt ? { ...s, count: total.total } : s;
      })
      .filter((s) => s.count > 0);
  }

  #relayout(resetScroll: boolean): void {
    const stats = this.#ctx.live.stats;
    if (!this.#shown || !stats) return;
    const width = this.#scroller.clientWidth || 800;
    this.#cols = Math.max(1, Math.floor((width - 2 * PAD + GAP) / CELL_W));
    let y = PAD;
    let start = 0;
    this.#sections = this.#sectionsOf(stats).map((s) => {
      const rows = Math.ceil(s.count / this.#cols);
      const section: Section = {
        ...s,
        top: y,
        rowsTop: y + HEADER_H,
        rows,
        bottom: y + HEADER_H + rows * ROW_H + SECTION_GAP,
        start,
      };
      y = section.bottom;
      start += s.count;
      return section;
    });
    this.#canvas.style.height = `${y + PAD}px`;
    if (resetScroll) this.#scroller.scrollTop = 0;
    this.#empty.hidden = this.#sections.length > 0;
    this.#empty.textContent =
      this.#filter === 'all' ? 'No images yet.' : `No ${FILTER_TITLES[this.#filter].toLowerCase()} images.`;
    this.#render();
  }

  #schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render();
    });
  }

  /** Puts exactly the rows near the viewport in the DOM, reusing those that did not change. */
  #render(): void {
    if (!this.#shown) return;
    const from = this.#scroller.scrollTop - OVERSCAN;
    const to = this.#scroller.scrollTop + this.#scroller.clientHeight + OVERSCAN;
    const wanted = new Set<string>();
    for (const section of this.#sections) {
      if (section.bottom < from) continue;
      if (section.top > to) break;
      const headerKey = `h${section.key}`;
      wanted.add(headerKey);
      this.#place(headerKey, section.top, () => this.#header(section), this.#headerSignature(section));
      const first = Math.max(0, Math.floor((from - section.rowsTop) / ROW_H));
      const last = Math.min(section.rows - 1, Math.floor((to - section.rowsTop) / ROW_H));
      for (let row = first; row <= last; row++) {
        const key = `r${section.key}#${row}`;
        wanted.add(key);
        const items = this.#rowItems(section, row);
        const signature = `${section.start}|${this.#cols}|${this.#rowSignature(items)}`;
        this.#place(key, section.rowsTop + row * ROW_H, () => this.#row(section, row, items), signature);
      }
    }
    for (const [key, element] of this.#rendered) {
      if (!wanted.has(key)) {
        element.remove();
        this.#rendered.delete(key);
      }
    }
    clearTimeout(this.#fetchTimer);
    this.#fetchTimer = setTimeout(() => this.#fetchVisible(), FETCH_DELAY_MS);
  }

  #place(key: string, top: number, build: () => HTMLElement, signature: string): void {
    let element = this.#rendered.get(key);
    if (!element || element.dataset.signature !== signature) {
      const fresh = build();
      fresh.dataset.signature = signature;
      if (element) element.replaceWith(fresh);
      else this.#canvas.append(fresh);
      element = fresh;
      this.#rendered.set(key, element);
    }
    element.style.transform = `translateY(${top}px)`;
  }

  /** The images of one row, undefined where their page has not arrived. */
  #rowItems(section: Section, row: number): (ImageItem | undefined)[] {
    const first = row * this.#cols;
    const count = Math.min(this.#cols, section.count - first);
    const pages = this.#pages.get(section.key);
    return Array.from({ length: count }, (_, k) => {
      const index = first + k;
      return pages?.get(Math.floor(index / PAGE))?.items?.[index % PAGE];
    });
  }

  #rowSignature(items: readonly (ImageItem | undefined)[]): string {
    return items
      .map((item) =>
        item
          ? `${item.id}:${item.status}:${item.label}:${item.confidence}:${this.#selected.has(item.id) ? 1 : 0}`
          : '-',
      )
      .join(',');
  }

  #headerSignature(section: Section): string {
    return `${section.count}|${section.breakdown}|${this.#cols}`;
  }

  #header(section: Section): HTMLElement {
    const select = h(
      'button',
      { type: 'button', class: 'quiet small', 'data-select-section': section.key },
      `Select all ${section.count.toLocaleString('en-US')}`,
    );
    return h(
      'div',
      { class: 'group-header', 'data-group': section.label ?? '', 'data-testid': 'group-header' },
      h('h3', {}, section.label ?? 'Unlabeled'),
      h('span', { class: 'muted' }, section.breakdown),
      select,
    );
  }

  #row(section: Section, row: number, items: readonly (ImageItem | undefined)[]): HTMLElement {
    const first = row * this.#cols;
    return h(
      'div',
      { class: 'grid-row' },
      ...items.map((item, k) => {
        const ordinal = section.start + first + k;
        if (!item) return h('div', { class: 'cell placeholder', 'data-ordinal': ordinal });
        const selected = this.#selected.has(item.id);
        const hasConfidence = item.confidence !== null;
        const title = [
          item.path,
          `${item.status}${item.label ? `: ${item.label}` : ''}${hasConfidence ? ` (${percent(item.confidence)})` : ''}`,
          item.runnerUp ? `then ${item.runnerUp} ${percent(item.runnerUpConfidence)}` : '',
          item.origin ? ORIGIN_WORDS[item.origin] : '',
        ]
          .filter(Boolean)
          .join('\n');
        return h(
          'div',
          {
            class: `cell status-${item.status}${selected ? ' selected' : ''}`,
            'data-id': item.id,
            'data-ordinal': ordinal,
            'data-path': item.path,
            'data-status': item.status,
            'data-label': item.label ?? '',
            'data-origin': item.origin ?? '',
            title,
          },
          h('img', { src: this.#ctx.api.thumbnailUrl(item.id), alt: item.path, decoding: 'async', draggable: 'false' }),
          h(
            'div',
            { class: 'caption' },
            h('span', { class: 'cell-label' }, item.label ?? '—'),
            h(
              'span',
              { class: `conf ${item.status}`, 'data-testid': 'cell-confidence' },
              hasConfidence ? percent(item.confidence) : item.status === 'labeled' ? '✓' : '',
            ),
          ),
        );
      }),
    );
  }

  /** Fetches the pages of the rows in view that are missing or stale. */
  #fetchVisible(): void {
    const from = this.#scroller.scrollTop;
    const to = from + this.#scroller.clientHeight;
    for (const section of this.#sections) {
      if (section.bottom < from) continue;
      if (section.top > to) break;
      const firstRow = Math.max(0, Math.floor((from - section.rowsTop) / ROW_H));
      const lastRow = Math.min(section.rows - 1, Math.floor((to - section.rowsTop) / ROW_H));
      if (lastRow < firstRow) continue;
      const firstPage = Math.floor((firstRow * this.#cols) / PAGE);
      const lastPage = Math.floor(Math.min(section.count - 1, (lastRow + 1) * this.#cols - 1) / PAGE);
      for (let p = firstPage; p <= lastPage; p++) void this.#loadPage(section, p);
    }
  }

  async #loadPage(section: Section, index: number): Promise<readonly ImageItem[]> {
    let pages = this.#pages.get(section.key);
    if (!pages) this.#pages.set(section.key, (pages = new Map()));
    let page = pages.get(index);
    if (!page) pages.set(index, (page = { items: null, stale: true, request: null }));
    if (page.stale) page.request ??= this.#fetchPage(section, index, page);
    await page.request;
    return page.items ?? [];
  }

  async #fetchPage(section: Section, index: number, page: Page): Promise<void> {
    try {
      page.stale = false; // a change while this request runs marks it stale again
      const answer = await this.#ctx.api.images({
        label: section.label ?? undefined,
        status: section.status,
        sort: this.#sort,
        offset: index * PAGE,
        limit: PAGE,
      });
      page.items = answer.items;
      const known = this.#totals.get(section.key);
      this.#totals.set(section.key, { total: answer.total, at: performance.now() });
      if (answer.total !== section.count && known?.total !== answer.total) this.#relayout(false);
      else this.#schedule();
    } catch (error) {
      page.stale = true;
      this.#ctx.notify(`could not load images: ${(error as Error).message}`, 'error');
    } finally {
      page.request = null;
    }
  }

  /** The images at ordinals [from, to] across groups, fetching the pages not loaded yet. */
  async #itemsBetween(from: number, to: number): Promise<ImageItem[]> {
    const items: ImageItem[] = [];
    for (const section of this.#sections) {
      const lo = Math.max(from, section.start) - section.start;
      const hi = Math.min(to, section.start + section.count - 1) - section.start;
      if (hi < lo) continue;
      for (let p = Math.floor(lo / PAGE); p <= Math.floor(hi / PAGE); p++) {
        const page = await this.#loadPage(section, p);
        page.forEach((item, k) => {
          const index = p * PAGE + k;
          if (index >= lo && index <= hi) items.push(item);
        });
      }
    }
    return items;
  }

  async #onClick(event: MouseEvent): Promise<void> {
    const target = event.target as HTMLElement;
    const sectionButton = target.closest<HTMLElement>('[data-select-section]');
    if (sectionButton) {
      const section = this.#sections.find((s) => s.key === sectionButton.dataset.selectSection);
      if (!section) return;
      if (section.count > PAGE) this.#ctx.notify(`selecting ${section.count.toLocaleString('en-US')} images…`);
      const items = await this.#itemsBetween(section.start, section.start + section.count - 1);
      for (const item of items) this.#selected.add(item.id);
      this.#changedSelection();
      return;
    }
    const cell = target.closest<HTMLElement>('.cell[data-id]');
    if (!cell) return;
    const id = Number(cell.dataset.id);
    const ordinal = Number(cell.dataset.ordinal);
    if (event.shiftKey && this.#anchor !== null) {
      event.preventDefault();
      const items = await this.#itemsBetween(Math.min(this.#anchor, ordinal), Math.max(this.#anchor, ordinal));
      for (const item of items) this.#selected.add(item.id);
    } else if (this.#selected.has(id)) this.#selected.delete(id);
    else this.#selected.add(id);
    this.#anchor = ordinal;
    this.#changedSelection();
  }

  #clearSelection(): void {
    this.#selected.clear();
    this.#anchor = null;
    this.#changedSelection();
  }

  #changedSelection(): void {
    this.#renderToolbar();
    this.#render();
  }

  async #acceptSelection(): Promise<void> {
    const ids = [...this.#selected];
    if (ids.length === 0) return;
    try {
      const accepted = await this.#ctx.api.accept(ids);
      const left = ids.length - accepted;
      this.#ctx.notify(
        `accepted ${accepted.toLocaleString('en-US')} suggestion${accepted === 1 ? '' : 's'}` +
          (left > 0 ? ` (${left} had a label or no suggestion)` : ''),
      );
      this.#clearSelection();
      this.#onChange({ kind: 'labels', imageIds: ids });
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not accept: ${(error as Error).message}`, 'error');
    }
  }

  async #relabelSelection(): Promise<void> {
    const ids = [...this.#selected];
    const choice = this.#relabelSelect.value;
    if (ids.length === 0 || !choice) return;
    const label = choice === CLEAR_LABEL ? null : choice;
    try {
      await this.#ctx.api.setLabels(ids, label);
      const n = ids.length.toLocaleString('en-US');
      this.#ctx.notify(label === null ? `cleared ${n} labels` : `labeled ${n} as ${label}`);
      this.#clearSelection();
      this.#onChange({ kind: 'labels', imageIds: ids });
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not relabel: ${(error as Error).message}`, 'error');
    }
  }

  #renderToolbar(): void {
    const stats = this.#ctx.live.stats;
    this.#tabs.replaceChildren(
      ...FILTERS.map((filter) => {
        const n = stats ? (filter === 'all' ? stats.images : stats.byStatus[filter]) : null;
        return h(
          'button',
          { type: 'button', 'data-filter': filter, 'aria-pressed': String(filter === this.#filter) },
          FILTER_TITLES[filter],
          n === null ? null : h('span', { class: 'count' }, n.toLocaleString('en-US')),
        );
      }),
    );
    const n = this.#selected.size;
    this.#count.textContent = n === 0 ? 'Nothing selected' : `${n.toLocaleString('en-US')} selected`;
    for (const button of [this.#acceptButton, this.#relabelButton, this.#clearButton]) button.disabled = n === 0;
    this.#relabelSelect.disabled = n === 0;
    const names = this.#ctx.live.classNames;
    const chosen = this.#relabelSelect.value;
    this.#relabelSelect.replaceChildren(
      h('option', { value: '' }, 'Relabel as…'),
      ...names.map((name) => h('option', { value: name }, name)),
      h('option', { value: CLEAR_LABEL }, 'No label (clear)'),
    );
    this.#relabelSelect.value = names.includes(chosen) || chosen === CLEAR_LABEL ? chosen : '';
  }
}
