/**
 * @module The grid: thumbnails grouped by (suggested) class, most or least confident first,
 * with click / Shift-click selection and bulk accept or relabel, each undoable from a toast (or
 * Ctrl/Cmd-Z), Space for a full-size preview, and each group's header kept at the top while its rows
 * scroll. Only the rows in view are in the DOM, and rows come from pages of /api/images fetched as
 * they scroll into view, so the first screen needs only the first page of each group in it, however
 * many images there are.
 */
import type { ImageItem, ImageStatus, LabelOrigin, StatsResponse } from '@autolabel/core';
import { CLASS_STATUSES } from '@autolabel/core/domain';
import { h, isForControl, percent } from './dom.js';
import {
  type GridLayout,
  headerBand,
  layoutGrid,
  placeOf,
  rowTop,
  scrollToReveal,
  visibleRows,
} from './grid-layout.js';
import { GridSelection } from './grid-selection.js';
import { type BulkChange, bulkChangeWords, LastBulkChange, undoShortcut } from './grid-undo.js';
import type { Change } from './live.js';
import { PageCache } from './page-cache.js';
import { Preview } from './preview.js';
import type { KeyBinding, View, ViewContext } from './view.js';

/** How a person's label came about, as the tile's tooltip says it. */
const ORIGIN_WORDS: Readonly<Record<LabelOrigin, string>> = {
  verify: 'label from a random check',
  next: 'labelled as recommended by next',
  chosen: 'labelled by hand',
  import: 'imported label',
};

export const FILTERS = ['all', 'auto', 'suggested', 'labeled', 'accepted', 'unlabeled'] as const satisfies readonly (
  'all' | ImageStatus
)[];
export type Filter = (typeof FILTERS)[number];
type Sort = '-confidence' | 'confidence';

/** One group of the grid: a class (its labels and suggestions under the filter), or the images with neither. */
interface Group {
  /** Identifies the query, so cached pages are never shown under another filter or order. */
  readonly key: string;
  readonly label: string | null;
  readonly status: ImageStatus | undefined;
  readonly count: number;
  readonly breakdown: string;
}

/** A group placed on the canvas. */
type Section = GridLayout<Group>['sections'][number];

const PAGE = 200;
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

/** Suggestions (not yet anyone's label) look tentative; labels, given or accepted, look settled. */
function cellState(status: ImageStatus): 'suggestion' | 'decided' | 'open' {
  if (status === 'suggested' || status === 'auto') return 'suggestion';
  return status === 'unlabeled' ? 'open' : 'decided';
}

export class GridView implements View {
  readonly element: HTMLElement;
  /** Its keys, for the `?` help. */
  readonly keys: readonly KeyBinding[] = [
    { label: 'Click, Shift-click', what: 'select, or select a range' },
    { keys: ['Enter'], what: 'accept the selection' },
    { keys: ['Escape'], what: 'clear the selection' },
    { keys: [' '], what: 'preview the image under the pointer or last clicked' },
    { label: 'Ctrl+Z or ⌘Z', what: 'undo the last bulk change' },
  ];
  readonly #ctx: ViewContext;
  #filter: Filter = 'all';
  #sort: Sort = '-confidence';
  #layout: GridLayout<Group> = { columns: 1, sections: [], height: 0 };
  #shown = false;
  readonly #pages: PageCache<Group, ImageItem>;
  /** Group sizes as the latest page answers gave them, newer than the stats when `at` is later. */
  readonly #totals = new Map<string, { total: number; at: number }>();
  #statsAt = 0;
  readonly #selection = new GridSelection();
  readonly #rendered = new Map<string, HTMLElement>();
  #fetchTimer: ReturnType<typeof setTimeout> | undefined;
  #frame = 0;
  /** The image under the pointer, and the one last clicked or previewed: what Space previews. */
  #hover: { id: number; ordinal: number } | null = null;
  #current: { id: number; ordinal: number } | null = null;
  readonly #preview: Preview;
  /** Counts preview steps, so a slow page for an earlier step cannot overwrite a later one. */
  #previewStep = 0;
  readonly #lastChange = new LastBulkChange();
  readonly #undoToast: HTMLElement;
  readonly #undoText: HTMLElement;

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
    this.#pages = new PageCache({
      pageSize: PAGE,
      fetch: (group, offset, limit) =>
        ctx.api.images({ label: group.label ?? undefined, status: group.status, sort: this.#sort, offset, limit }),
      onPage: (group, total) => this.#pageArrived(group, total),
      onError: (error) => ctx.notify(`could not load images: ${(error as Error).message}`, 'error'),
    });
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
    this.#canvas.addEventListener('pointerover', (event) => {
      const cell = (event.target as HTMLElement).closest<HTMLElement>('.cell[data-id]');
      this.#hover = cell ? { id: Number(cell.dataset.id), ordinal: Number(cell.dataset.ordinal) } : null;
    });
    this.#canvas.addEventListener('pointerleave', () => (this.#hover = null));
    this.#preview = new Preview({
      fileUrl: (id) => ctx.api.fileUrl(id),
      onStep: (delta) => void this.#stepPreview(delta),
    });
    this.#undoText = h('span', { 'data-testid': 'undo-text' });
    const undoButton = h('button', { type: 'button', class: 'primary small', 'data-testid': 'grid-undo' }, 'Undo');
    undoButton.addEventListener('click', () => void this.#undo());
    const dismiss = h('button', { type: 'button', class: 'quiet small', 'aria-label': 'Dismiss' }, '×');
    dismiss.addEventListener('click', () => {
      this.#lastChange.dismiss();
      this.#renderUndo();
    });
    this.#undoToast = h(
      'div',
      { class: 'undo-toast', role: 'status', 'data-testid': 'undo-toast' },
      this.#undoText,
      ' · ',
      undoButton,
      h('kbd', {}, undoShortcut(navigator.platform)),
      dismiss,
    );
    this.#undoToast.hidden = true;
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
        ' clears it · ',
        h('kbd', {}, 'Space'),
        ' previews the image under the pointer or last clicked',
      ),
      this.#scroller,
      this.#undoToast,
      this.#preview.element,
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
    this.#preview.close();
  }

  setFilter(filter: Filter): void {
    if (filter === this.#filter) return;
    this.#filter = filter;
    this.#selection.forgetAnchor();
    this.#scroller.scrollTop = 0;
    this.#renderToolbar();
    this.#relayout(true);
  }

  onKey(event: KeyboardEvent): void {
    // The preview is modal, as Quick Look is: while it is open, keys are its own.
    if (this.#preview.onKey(event) || this.#preview.isOpen || isForControl(event)) return;
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === 'z') {
      if (this.#lastChange.current) {
        event.preventDefault();
        void this.#undo();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape') this.#clearSelection();
    else if (event.key === 'Enter' && this.#selection.size > 0) void this.#acceptSelection();
    else if (event.key === ' ') void this.#openPreview();
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
        this.#pages.invalidate();
        this.#schedule();
        void this.#refreshPreview();
        break;
    }
  }

  /** The groups under the current filter, from the stats' per-class counts. */
  #groupsOf(stats: StatsResponse): Group[] {
    const filter = this.#filter;
    const status = filter === 'all' ? undefined : filter;
    const groups: Group[] = [];
    const keyOf = (label: string | null) => JSON.stringify([label, status ?? null, this.#sort]);
    if (filter !== 'unlabeled') {
      for (const c of stats.classes) {
        const count = filter === 'all' ? c.labeled + c.accepted + c.auto + c.suggested : c[filter];
        const parts = CLASS_STATUSES.filter((s) => c[s] > 0 && (filter === 'all' || filter === s)).map(
          (s) => `${c[s].toLocaleString('en-US')} ${s}`,
        );
        groups.push({ key: keyOf(c.name), label: c.name, status, count, breakdown: parts.join(' · ') });
      }
    }
    if (filter === 'all' || filter === 'unlabeled') {
      const count = stats.byStatus.unlabeled;
      groups.push({
        key: keyOf(null),
        label: null,
        status: 'unlabeled',
        count,
        breakdown: 'no label and no suggestion yet',
      });
    }
    return groups
      .map((s) => {
        const total = this.#totals.get(s.key);
        return total && total.at > this.#statsAt ? { ...s, count: total.total } : s;
      })
      .filter((s) => s.count > 0);
  }

  #relayout(resetScroll: boolean): void {
    const stats = this.#ctx.live.stats;
    if (!this.#shown || !stats) return;
    this.#layout = layoutGrid(this.#groupsOf(stats), this.#scroller.clientWidth || 800);
    this.#canvas.style.height = `${this.#layout.height}px`;
    if (resetScroll) this.#scroller.scrollTop = 0;
    this.#empty.hidden = this.#layout.sections.length > 0;
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
    for (const { section, first, last } of visibleRows(this.#layout.sections, from, to)) {
      const headerKey = `h${section.key}`;
      wanted.add(headerKey);
      this.#placeBand(headerKey, section, this.#headerSignature(section));
      for (let row = first; row <= last; row++) {
        const key = `r${section.key}#${row}`;
        wanted.add(key);
        const items = this.#rowItems(section, row);
        const signature = `${section.start}|${this.#layout.columns}|${this.#rowSignature(items)}`;
        this.#place(key, rowTop(section, row), () => this.#row(section, row, items), signature);
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

  /** A group's header in a band as tall as the group, so it sticks at the top while the group scrolls (CSS sticky). */
  #placeBand(key: string, section: Section, signature: string): void {
    const band = headerBand(section);
    const fullSignature = `${signature}|${band.top}|${band.height}`;
    const element = this.#rendered.get(key);
    if (!element || element.dataset.signature !== fullSignature) {
      const fresh = h('div', { class: 'group-band' }, this.#header(section));
      fresh.dataset.signature = fullSignature;
      fresh.style.top = `${band.top}px`;
      fresh.style.height = `${band.height}px`;
      if (element) element.replaceWith(fresh);
      else this.#canvas.append(fresh);
      this.#rendered.set(key, fresh);
    }
  }

  /** The images of one row, undefined where their page has not arrived. */
  #rowItems(section: Section, row: number): (ImageItem | undefined)[] {
    const first = row * this.#layout.columns;
    const count = Math.min(this.#layout.columns, section.count - first);
    return Array.from({ length: count }, (_, k) => this.#pages.item(section.key, first + k));
  }

  #rowSignature(items: readonly (ImageItem | undefined)[]): string {
    return items
      .map((item) =>
        item
          ? `${item.id}:${item.status}:${item.label}:${item.confidence}:${this.#selection.has(item.id) ? 1 : 0}:${this.#current?.id === item.id ? 1 : 0}`
          : '-',
      )
      .join(',');
  }

  #headerSignature(section: Section): string {
    return `${section.count}|${section.breakdown}|${this.#layout.columns}`;
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
    const first = row * this.#layout.columns;
    return h(
      'div',
      { class: 'grid-row' },
      ...items.map((item, k) => {
        const ordinal = section.start + first + k;
        if (!item) return h('div', { class: 'cell placeholder', 'data-ordinal': ordinal });
        const selected = this.#selection.has(item.id);
        const current = this.#current?.id === item.id;
        const state = cellState(item.status);
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
            class: `cell status-${item.status} is-${state}${selected ? ' selected' : ''}${current ? ' current' : ''}`,
            'data-id': item.id,
            'data-state': state,
            'data-ordinal': ordinal,
            'data-path': item.path,
            'data-status': item.status,
            'data-label': item.label ?? '',
            'data-origin': item.origin ?? '',
            title,
          },
          h('img', { src: this.#ctx.api.thumbnailUrl(item.id), alt: item.path, decoding: 'async', draggable: 'false' }),
          state === 'decided'
            ? h(
                'span',
                {
                  class: 'cell-badge',
                  'data-testid': 'cell-badge',
                  'aria-label': item.status === 'accepted' ? 'accepted suggestion' : 'labelled',
                },
                '✓',
              )
            : null,
          h(
            'div',
            { class: 'caption' },
            h('span', { class: 'cell-label' }, item.label ?? '—'),
            h(
              'span',
              {
                class: `conf ${item.status}${state === 'suggestion' ? ' chip' : ''}`,
                'data-testid': 'cell-confidence',
              },
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
    const cols = this.#layout.columns;
    for (const { section, first, last } of visibleRows(this.#layout.sections, from, to)) {
      if (last < first) continue;
      this.#pages.loadRange(section, first * cols, Math.min(section.count - 1, (last + 1) * cols - 1));
    }
  }

  /** A page's answer: the group's size as it says it, and the grid laid out again when that moved. */
  #pageArrived(group: Group, total: number): void {
    const known = this.#totals.get(group.key);
    this.#totals.set(group.key, { total, at: performance.now() });
    if (total !== group.count && known?.total !== total) this.#relayout(false);
    else this.#schedule();
  }

  /** The images at ordinals [from, to] across groups, fetching the pages not loaded yet. */
  #itemsBetween(from: number, to: number): Promise<ImageItem[]> {
    return this.#pages.itemsBetween(this.#layout.sections, from, to);
  }

  async #onClick(event: MouseEvent): Promise<void> {
    const target = event.target as HTMLElement;
    const sectionButton = target.closest<HTMLElement>('[data-select-section]');
    if (sectionButton) {
      const section = this.#layout.sections.find((s) => s.key === sectionButton.dataset.selectSection);
      if (!section) return;
      sectionButton.blur(); // Space previews, not "Select all" again
      if (section.count > PAGE) this.#ctx.notify(`selecting ${section.count.toLocaleString('en-US')} images…`);
      this.#selection.add(await this.#itemsBetween(section.start, section.start + section.count - 1));
      this.#changedSelection();
      return;
    }
    const cell = target.closest<HTMLElement>('.cell[data-id]');
    if (!cell) return;
    const id = Number(cell.dataset.id);
    const ordinal = Number(cell.dataset.ordinal);
    this.#current = { id, ordinal };
    if (this.#selection.rangeTo(ordinal, event.shiftKey)) event.preventDefault();
    await this.#selection.click(id, ordinal, event.shiftKey, (from, to) => this.#itemsBetween(from, to));
    this.#changedSelection();
  }

  #clearSelection(): void {
    this.#selection.clear();
    this.#changedSelection();
  }

  #changedSelection(): void {
    this.#renderToolbar();
    this.#render();
  }

  async #acceptSelection(): Promise<void> {
    const ids = this.#selection.ids();
    if (ids.length === 0) return;
    try {
      const { accepted, changeIds } = await this.#ctx.api.acceptUndoable(ids);
      const left = ids.length - accepted;
      this.#ctx.notify(
        `accepted ${accepted.toLocaleString('en-US')} suggestion${accepted === 1 ? '' : 's'}` +
          (left > 0 ? ` (${left} had a label or no suggestion)` : ''),
      );
      this.#recordChange({ kind: 'accept', count: accepted }, changeIds);
      this.#clearSelection();
      this.#onChange({ kind: 'labels', imageIds: ids });
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not accept: ${(error as Error).message}`, 'error');
    }
  }

  async #relabelSelection(): Promise<void> {
    const ids = this.#selection.ids();
    const choice = this.#relabelSelect.value;
    if (ids.length === 0 || !choice) return;
    const label = choice === CLEAR_LABEL ? null : choice;
    try {
      const changeIds = await this.#ctx.api.setLabels(ids, label);
      const n = ids.length.toLocaleString('en-US');
      this.#ctx.notify(label === null ? `cleared ${n} labels` : `labeled ${n} as ${label}`);
      this.#recordChange(
        label === null ? { kind: 'clear', count: ids.length } : { kind: 'relabel', count: ids.length, label },
        changeIds,
      );
      this.#clearSelection();
      this.#onChange({ kind: 'labels', imageIds: ids });
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not relabel: ${(error as Error).message}`, 'error');
    }
  }

  #recordChange(change: BulkChange, changeIds: readonly (number | null)[]): void {
    this.#lastChange.record(change, changeIds);
    this.#renderUndo();
  }

  #renderUndo(): void {
    const last = this.#lastChange.current;
    this.#undoToast.hidden = last === null;
    this.#undoText.textContent = last ? bulkChangeWords(last.change) : '';
  }

  /** Takes the last bulk change back on the server (one transaction), or says why it cannot. */
  async #undo(): Promise<void> {
    const last = this.#lastChange.take();
    if (!last) return;
    this.#renderUndo();
    try {
      const { imageIds } = await this.#ctx.api.undoLabels(last.changeIds);
      const n = imageIds.length.toLocaleString('en-US');
      this.#ctx.notify(
        `undone: ${n} image${imageIds.length === 1 ? '' : 's'} as ${imageIds.length === 1 ? 'it was' : 'they were'} before`,
      );
      this.#onChange({ kind: 'labels', imageIds });
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not undo: ${(error as Error).message}`, 'error');
    } finally {
      this.#lastChange.settled();
    }
  }

  /** Space: the image under the pointer, else the one last clicked, else the first selected or in view. */
  async #openPreview(): Promise<void> {
    const target = this.#hover ?? this.#current ?? this.#firstShown();
    if (!target) return;
    // Where the image is now: counts may have moved since it was clicked.
    const cell = this.#canvas.querySelector<HTMLElement>(`.cell[data-id="${target.id}"]`);
    const ordinal = cell ? Number(cell.dataset.ordinal) : target.ordinal;
    await this.#showPreviewAt(ordinal);
  }

  /** The first selected image on screen, else the first image in view. */
  #firstShown(): { id: number; ordinal: number } | null {
    const cells = [...this.#canvas.querySelectorAll<HTMLElement>('.cell[data-id]')];
    const viewTop = this.#scroller.getBoundingClientRect().top;
    const inView = cells.filter((c) => c.getBoundingClientRect().bottom > viewTop);
    const cell = inView.find((c) => c.classList.contains('selected')) ?? inView[0];
    return cell ? { id: Number(cell.dataset.id), ordinal: Number(cell.dataset.ordinal) } : null;
  }

  async #stepPreview(delta: 1 | -1): Promise<void> {
    const shown = this.#current?.ordinal;
    if (shown === undefined) return;
    await this.#showPreviewAt(shown + delta);
  }

  /** Opens (or moves) the preview to the image at `ordinal`, and keeps its cell in view and marked current. */
  async #showPreviewAt(ordinal: number): Promise<void> {
    const total = this.#layout.sections.reduce((n, s) => n + s.count, 0);
    if (ordinal < 0 || ordinal >= total) return;
    const step = ++this.#previewStep;
    const [item] = await this.#itemsBetween(ordinal, ordinal);
    if (!item || step !== this.#previewStep) return;
    this.#current = { id: item.id, ordinal };
    this.#hover = null;
    this.#preview.show(item, `${(ordinal + 1).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
    const place = placeOf(this.#layout, ordinal);
    if (place) {
      this.#scroller.scrollTop = scrollToReveal(this.#scroller.scrollTop, this.#scroller.clientHeight, place.top);
    }
    this.#preload(ordinal + 1);
    this.#render();
  }

  /** The image previewed changed (a label here or in another tab, a refit): shows what it is now. */
  async #refreshPreview(): Promise<void> {
    const shown = this.#preview.item;
    if (!shown) return;
    const now = (await this.#ctx.api.findItems([shown.id])).get(shown.id);
    if (now && this.#preview.item?.id === shown.id) this.#preview.show(now, this.#preview.position);
  }

  /** Starts loading the file of the image at `ordinal`, where its page is here, so the next step shows at once. */
  #preload(ordinal: number): void {
    const place = placeOf(this.#layout, ordinal);
    const item = place && this.#pages.item(place.section.key, ordinal - place.section.start);
    if (item) new Image().src = this.#ctx.api.fileUrl(item.id);
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
    const n = this.#selection.size;
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
