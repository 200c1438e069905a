/**
 * @module The label-next queue: one large image at a time from /api/next, labelled from the keyboard
 * and saved at once; the next images are preloaded, and the queue ahead is re-picked after each fit.
 */
import type { ImageItem, NextPick } from '@autolabel/core';
import { hasLabel, hasSuggestion } from '@autolabel/core/domain';
import { HTTP_LIMITS } from '@autolabel/core/http-limits';
import { ClassPicker } from './class-picker.js';
import { h, percent } from './dom.js';
import { keyHints } from './key-help.js';
import type { Change } from './live.js';
import type { KeyBinding, View, ViewContext } from './view.js';

interface Entry {
  readonly pick: NextPick;
  /** The image's row when known: its suggestion, or its label once given. */
  item: ImageItem | null;
  /** Changed here: a lookup that started earlier must not overwrite it. */
  touched: boolean;
}

interface UndoStep {
  readonly entry: Entry;
  readonly before: ImageItem | null;
  readonly index: number;
}

/** Picks asked for at a time. */
const BATCH = 20;
/** Ask for more when this few are left ahead. */
const REFILL_AT = 5;
/** Images loaded ahead of the one shown. */
const PRELOAD = 2;
/** The keys, as the panel and the `?` help list them. */
const KEYS: readonly KeyBinding[] = [
  { label: '1–9, 0, …', what: 'label with that class (its key is on its button), or type its first letters' },
  { keys: ['Enter'], what: 'accept the suggestion' },
  { keys: ['Backspace'], what: 'undo the last label' },
  { keys: ['ArrowLeft', 'ArrowRight'], label: '← →', what: 'previous / next image' },
];

const withSuggestion = (item: ImageItem | null): item is ImageItem & { label: string } =>
  item !== null && item.label !== null && hasSuggestion(item.status);

const labelOf = (item: ImageItem | null): string | null => (item !== null && hasLabel(item.status) ? item.label : null);

function blankItem(pick: NextPick): ImageItem {
  return {
    id: pick.imageId,
    path: pick.path,
    width: null,
    height: null,
    status: 'unlabeled',
    label: null,
    confidence: null,
    runnerUp: null,
    runnerUpConfidence: null,
    origin: null,
  };
}

export class QueueView implements View {
  readonly element: HTMLElement;
  readonly keys = KEYS;
  readonly #ctx: ViewContext;
  readonly #picker: ClassPicker;
  #entries: Entry[] = [];
  #cursor = 0;
  #undo: UndoStep[] = [];
  #labeled = 0;
  #loading: Promise<void> | undefined;
  #exhausted = false;
  #generation = 0;
  #shown = false;
  #stale = false;
  readonly #preloaded = new Map<number, HTMLImageElement>();

  readonly #photo: HTMLImageElement;
  readonly #empty: HTMLElement;
  readonly #path: HTMLElement;
  readonly #position: HTMLElement;
  readonly #reason: HTMLElement;
  readonly #suggestion: HTMLElement;
  readonly #current: HTMLElement;
  readonly #newClass: HTMLInputElement;

  constructor(ctx: ViewContext) {
    this.#ctx = ctx;
    this.#picker = new ClassPicker({
      testId: 'queue-classes',
      classNames: () => ctx.live.classNames,
      onPick: (name) => void this.#label(name),
      commandKeys: ctx.commandKeys,
    });
    this.#photo = h('img', { class: 'photo', alt: '', 'data-testid': 'queue-image' });
    this.#empty = h('p', { class: 'empty' }, 'Loading…');
    this.#path = h('h2', { class: 'path', 'data-testid': 'queue-path' });
    this.#position = h('p', { class: 'muted', 'data-testid': 'queue-position' });
    this.#reason = h('p', { class: 'reason', 'data-testid': 'queue-reason' });
    this.#suggestion = h('div', { class: 'suggestion', 'data-testid': 'queue-suggestion' });
    this.#current = h('div', { class: 'current', 'data-testid': 'queue-current' });
    this.#newClass = h('input', {
      type: 'text',
      name: 'class',
      placeholder: 'New class…',
      autocomplete: 'off',
      'data-testid': 'new-class',
      'aria-label': 'New class name',
    });
    const form = h('form', { class: 'add-class' }, this.#newClass, h('button', { type: 'submit' }, 'Add class'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#addClass();
    });
    this.#newClass.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.#newClass.blur();
    });
    this.element = h(
      'section',
      { class: 'view queue', 'data-view': 'queue' },
      h('div', { class: 'stage' }, this.#photo, this.#empty),
      h(
        'aside',
        { class: 'panel' },
        this.#path,
        this.#position,
        this.#reason,
        this.#suggestion,
        this.#current,
        h('h3', {}, 'Classes'),
        this.#picker.buttons,
        this.#picker.typeahead,
        form,
        keyHints(KEYS),
      ),
    );
    ctx.live.subscribe((change) => this.#onChange(change));
  }

  show(): void {
    this.#shown = true;
    if (this.#entries.length === 0) void this.#loadMore();
    else if (this.#stale) void this.#refreshAhead();
    this.#render();
  }

  hide(): void {
    this.#shown = false;
    this.#picker.cancel();
  }

  classKeys() {
    return this.#picker.assigned();
  }

  onKey(event: KeyboardEvent): void {
    this.#picker.onKey(event, ({ key }) => {
      if (key === 'ArrowLeft') this.#move(-1);
      else if (key === 'ArrowRight') this.#move(1);
      else if (key === 'Enter') void this.#accept();
      else if (key === 'Backspace') void this.#undoLast();
      else return false;
      return true;
    });
  }

  #onChange(change: Change): void {
    if (change.kind === 'stats') this.#renderClasses();
    if (change.kind === 'suggestions' || change.kind === 'resync') {
      if (this.#shown) void this.#refreshAhead();
      else this.#stale = true;
    }
    if (change.kind === 'labels') void this.#labeledElsewhere(change.imageIds);
  }

  /** Images in the queue labelled in another view or tab: shown as labelled, and dropped from what lies ahead. */
  async #labeledElsewhere(imageIds: readonly number[]): Promise<void> {
    const ids = new Set(imageIds);
    const hit = this.#entries.filter((e, i) => i >= this.#cursor && !e.touched && ids.has(e.pick.imageId));
    if (hit.length === 0) return;
    await this.#lookUp(hit);
    this.#entries = this.#entries.filter((e, i) => i <= this.#cursor || e.touched || labelOf(e.item) === null);
    this.#render();
  }

  async #label(name: string): Promise<void> {
    const entry = this.#entries[this.#cursor];
    if (!entry) return;
    const before = entry.item;
    const step: UndoStep = { entry, before, index: this.#cursor };
    // Saved optimistically: a fast labeller is never held up by the network.
    entry.item = { ...(before ?? blankItem(entry.pick)), status: 'labeled', label: name, confidence: null };
    entry.touched = true;
    this.#undo.push(step);
    this.#labeled++;
    this.#move(1);
    try {
      await this.#ctx.api.setLabel(entry.pick.imageId, name);
      this.#ctx.notify(`${entry.pick.path}: ${name}`);
    } catch (error) {
      this.#revert(step);
      this.#ctx.notify(`could not label ${entry.pick.path}: ${(error as Error).message}`, 'error');
    }
  }

  async #accept(): Promise<void> {
    const entry = this.#entries[this.#cursor];
    if (!entry) return;
    const before = entry.item;
    if (!withSuggestion(before)) {
      this.#ctx.notify('this image has no suggestion to accept yet');
      return;
    }
    const step: UndoStep = { entry, before, index: this.#cursor };
    entry.item = { ...before, status: 'accepted' };
    entry.touched = true;
    this.#undo.push(step);
    this.#labeled++;
    this.#move(1);
    try {
      if ((await this.#ctx.api.accept([entry.pick.imageId])) === 0) throw new Error('its suggestion changed meanwhile');
      this.#ctx.notify(`${entry.pick.path}: accepted ${before.label}`);
    } catch (error) {
      this.#revert(step);
      this.#ctx.notify(`could not accept ${entry.pick.path}: ${(error as Error).message}`, 'error');
    }
  }

  async #undoLast(): Promise<void> {
    const step = this.#undo.pop();
    if (!step) {
      this.#ctx.notify('nothing to undo');
      return;
    }
    const { entry, before } = step;
    const given = entry.item;
    entry.item = before;
    this.#labeled--;
    // Show the image again wherever it is now (the queue ahead may have been re-picked since).
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#cursor = at;
    else this.#entries.splice(this.#cursor, 0, entry);
    this.#render();
    const previous = labelOf(before);
    try {
      if (previous === null) await this.#ctx.api.clearLabel(entry.pick.imageId);
      else await this.#ctx.api.setLabel(entry.pick.imageId, previous);
      this.#ctx.notify(`undone: ${entry.pick.path}`);
    } catch (error) {
      entry.item = given;
      this.#undo.push(step);
      this.#labeled++;
      this.#render();
      this.#ctx.notify(`could not undo: ${(error as Error).message}`, 'error');
    }
  }

  #revert(step: UndoStep): void {
    step.entry.item = step.before;
    const i = this.#undo.lastIndexOf(step);
    if (i >= 0) this.#undo.splice(i, 1);
    this.#labeled--;
    this.#render();
  }

  #move(delta: number): void {
    this.#picker.cancel();
    // One step past the last entry is allowed: it shows "loading" or "done" until more picks arrive.
    this.#cursor = Math.max(0, Math.min(this.#entries.length, this.#cursor + delta));
    if (this.#entries.length - this.#cursor <= REFILL_AT && !this.#exhausted) void this.#loadMore();
    this.#render();
  }

  /** Unlabelled entries the server may pick again, so a request asks for that many more. */
  #skipped(): number {
    return this.#entries.filter((e) => labelOf(e.item) === null).length;
  }

  #loadMore(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const picks = await this.#ctx.api.next(Math.min(HTTP_LIMITS.nextPicks, BATCH + this.#skipped()));
        const known = new Set(this.#entries.map((e) => e.pick.imageId));
        const fresh = picks.filter((p) => !known.has(p.imageId)).map((pick) => this.#entry(pick));
        this.#entries.push(...fresh);
        this.#exhausted = fresh.length === 0;
        this.#render();
        await this.#lookUp(fresh);
      } catch (error) {
        this.#ctx.notify(`could not load the queue: ${(error as Error).message}`, 'error');
      } finally {
        this.#loading = undefined;
      }
      this.#render();
    })();
    return this.#loading;
  }

  /** After a fit: the images ahead are picked again from the new suggestions; the one shown stays. */
  async #refreshAhead(): Promise<void> {
    this.#stale = false;
    const generation = ++this.#generation;
    try {
      const picks = await this.#ctx.api.next(Math.min(HTTP_LIMITS.nextPicks, BATCH + this.#skipped()));
      if (generation !== this.#generation) return;
      // Keep what was seen or labelled (people go back with ←); replace only what lies ahead.
      let until = this.#cursor;
      this.#entries.forEach((e, i) => {
        if (e.touched) until = Math.max(until, i);
      });
      const keep = this.#entries.slice(0, until + 1);
      const known = new Set(keep.map((e) => e.pick.imageId));
      const fresh = picks.filter((p) => !known.has(p.imageId)).map((pick) => this.#entry(pick));
      this.#entries = [...keep, ...fresh];
      this.#exhausted = fresh.length === 0;
      const shown = keep[this.#cursor];
      await this.#lookUp([...(shown && !shown.touched ? [shown] : []), ...fresh]);
      if (generation === this.#generation) this.#render();
    } catch (error) {
      this.#ctx.notify(`could not refresh the queue: ${(error as Error).message}`, 'error');
    }
  }

  #entry(pick: NextPick): Entry {
    return { pick, item: null, touched: false };
  }

  /** Fills in the suggestions of entries (only once a fit has made some). */
  async #lookUp(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const model = this.#ctx.live.model ?? (await this.#ctx.live.loadStats())?.model;
    if (model?.fitId == null) return;
    const items = await this.#ctx.api.findItems(entries.map((e) => e.pick.imageId));
    for (const entry of entries) {
      const item = items.get(entry.pick.imageId);
      if (item && !entry.touched) entry.item = item;
    }
  }

  async #addClass(): Promise<void> {
    const name = this.#newClass.value.trim();
    if (!name) return;
    try {
      await this.#ctx.api.addClass(name);
      this.#newClass.value = '';
      await this.#ctx.live.loadStats();
      this.#ctx.notify(`added class ${name}`);
    } catch (error) {
      this.#ctx.notify(`could not add ${name}: ${(error as Error).message}`, 'error');
    }
  }

  #render(): void {
    if (!this.#shown) return;
    const entry = this.#entries[this.#cursor];
    this.#renderClasses();
    this.#picker.renderTypeahead();
    if (!entry) {
      this.#photo.hidden = true;
      this.#photo.removeAttribute('src');
      delete this.#photo.dataset.imageId;
      this.#empty.hidden = false;
      this.#empty.textContent = this.#loading
        ? 'Loading…'
        : this.#skipped() > 0
          ? 'End of the queue: ← goes back to the images you skipped.'
          : 'Nothing left to label: every image has a label.';
      for (const part of [this.#path, this.#position, this.#reason, this.#suggestion, this.#current]) {
        part.textContent = '';
      }
      return;
    }
    const id = entry.pick.imageId;
    if (this.#photo.dataset.imageId !== String(id)) {
      this.#photo.src = this.#ctx.api.fileUrl(id);
      this.#photo.alt = entry.pick.path;
      this.#photo.dataset.imageId = String(id);
    }
    this.#photo.hidden = false;
    this.#empty.hidden = true;
    this.#path.textContent = entry.pick.path;
    this.#path.title = entry.pick.path;
    const ahead = this.#entries.length - this.#cursor - 1;
    this.#position.textContent = `${ahead} more in the queue · ${this.#labeled} labeled this session`;
    this.#reason.replaceChildren(h('span', { class: 'tag' }, entry.pick.strategy), ' ', entry.pick.reason);
    this.#renderSuggestion(entry.item);
    const label = labelOf(entry.item);
    this.#current.replaceChildren(
      ...(label === null
        ? []
        : [
            entry.item?.status === 'accepted' ? 'Accepted: ' : 'Labeled: ',
            h('strong', { 'data-testid': 'queue-label' }, label),
            this.#undo.at(-1)?.entry === entry ? h('span', { class: 'muted' }, ' · Backspace undoes') : '',
          ]),
    );
    this.element.dataset.status = entry.item?.status ?? 'unlabeled';
    this.#preload();
  }

  #renderSuggestion(item: ImageItem | null): void {
    if (!withSuggestion(item)) {
      const why = this.#ctx.live.model?.fitId == null ? 'no suggestions before the first fit' : 'no suggestion';
      this.#suggestion.replaceChildren(...(labelOf(item) === null ? [h('span', { class: 'muted' }, why)] : []));
      return;
    }
    this.#suggestion.replaceChildren(
      'Suggestion: ',
      h('strong', { class: 'suggested-label' }, item.label),
      ' ',
      h('span', { class: `conf ${item.status}`, 'data-testid': 'queue-confidence' }, percent(item.confidence)),
      item.runnerUp
        ? h('span', { class: 'muted' }, ` · then ${item.runnerUp} ${percent(item.runnerUpConfidence)}`)
        : '',
      h('span', { class: 'hint' }, h('kbd', {}, 'Enter'), ' accepts'),
    );
  }

  #renderClasses(): void {
    const current = labelOf(this.#entries[this.#cursor]?.item ?? null);
    const suggested = this.#entries[this.#cursor]?.item;
    this.#picker.render(
      [current, withSuggestion(suggested ?? null) ? suggested?.label : null],
      (name) => ({
        mark: name === current ? 'current' : suggested?.label === name && current === null ? 'suggested' : undefined,
        title: `label as ${name}`,
      }),
      'No classes yet: add the first one below.',
    );
  }

  /** Loads the next images in the background so moving on shows them at once. */
  #preload(): void {
    const ahead = new Set<number>(
      this.#entries.slice(this.#cursor + 1, this.#cursor + 1 + PRELOAD).map((e) => e.pick.imageId),
    );
    for (const id of this.#preloaded.keys()) {
      if (!ahead.has(id)) this.#preloaded.delete(id);
    }
    for (const id of ahead) {
      if (this.#preloaded.has(id)) continue;
      const image = new Image();
      image.decoding = 'async';
      image.src = this.#ctx.api.fileUrl(id);
      this.#preloaded.set(id, image);
    }
  }
}
