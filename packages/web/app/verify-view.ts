/**
 * @module The verify view: one random check at a time (drawn by the server, never the same one for
 * two tabs), confirmed, corrected or skipped from the keyboard, with progress towards certifying more
 * suggestions for auto-accept and a button that accepts what is certified.
 */
import type { CheckRecord, VerifyStatus } from '@autolabel/core';
import { ClassPicker } from './class-picker.js';
import { h, percent } from './dom.js';
import { acceptCertifiedLabel, count, verifyProgress } from './figures.js';
import { keyHints } from './key-help.js';
import type { Change } from './live.js';
import type { KeyBinding, View, ViewContext } from './view.js';

/** Where a tab keeps its verifier id: sessionStorage is per tab and survives a reload of it. */
const CLIENT_KEY = 'autolabel.verify.client';
/** Keys that are commands here rather than the start of a class name. */
const CONFIRM = { keys: ['y', 'Enter'], what: 'confirm the suggestion' } as const satisfies KeyBinding;
const SKIP = { keys: ['s'], what: 'skip (counts as not confirmed)' } as const satisfies KeyBinding;
const CONFIRM_KEYS = new Set<string>(CONFIRM.keys);
const SKIP_KEY = SKIP.keys[0];
/** The keys, as the panel and the `?` help list them. */
const KEYS: readonly KeyBinding[] = [
  CONFIRM,
  { label: '1–9, 0, …', what: 'correct it to that class (its key is on its button), or type its first letters' },
  SKIP,
];

function randomId(): string {
  // randomUUID needs a secure context, which a server reached over plain http on the network is not.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** This tab's verifier id: the server hands each id its own checks. */
function clientId(): string {
  try {
    const known = sessionStorage.getItem(CLIENT_KEY);
    if (known) return known;
    const id = randomId();
    sessionStorage.setItem(CLIENT_KEY, id);
    return id;
  } catch {
    return randomId(); // storage disabled: one id for this page's life
  }
}

export class VerifyView implements View {
  readonly element: HTMLElement;
  readonly keys = KEYS;
  readonly #ctx: ViewContext;
  readonly #picker: ClassPicker;
  readonly #client: string;
  #check: CheckRecord | null = null;
  #status: VerifyStatus | null = null;
  #loading: Promise<void> | undefined;
  /** An answer or skip on its way: keys wait for it, so one press answers one check. */
  #busy = false;
  #error: string | null = null;
  #shown = false;
  readonly #session = { confirmed: 0, corrected: 0, skipped: 0 };

  readonly #stage: HTMLElement;
  readonly #photo: HTMLImageElement;
  readonly #empty: HTMLElement;
  readonly #retry: HTMLButtonElement;
  /** The message shown instead of a check (loading, nothing left, failed) and its retry button. */
  readonly #emptyBox: HTMLElement;
  readonly #path: HTMLElement;
  readonly #suggestion: HTMLElement;
  readonly #actions: HTMLElement;
  readonly #confirmButton: HTMLButtonElement;
  readonly #skipButton: HTMLButtonElement;
  /** Correcting: the class buttons and what the keys do, shown only with a check. */
  readonly #correct: HTMLElement;
  readonly #reserved: HTMLElement;
  readonly #next: HTMLElement;
  readonly #certified: HTMLElement;
  readonly #counts: HTMLElement;
  readonly #sessionLine: HTMLElement;
  readonly #updating: HTMLElement;
  readonly #acceptButton: HTMLButtonElement;

  constructor(ctx: ViewContext) {
    this.#ctx = ctx;
    this.#client = clientId();
    this.#picker = new ClassPicker({
      testId: 'verify-classes',
      classNames: () => ctx.live.classNames,
      onPick: (name) => void this.#answer(name),
      commandKeys: ctx.commandKeys,
    });
    this.#photo = h('img', { class: 'photo', alt: '', 'data-testid': 'verify-image' });
    this.#empty = h('p', { 'data-testid': 'verify-empty' }, 'Loading…');
    this.#retry = h('button', { type: 'button', 'data-testid': 'verify-retry' }, 'Try again');
    this.#retry.addEventListener('click', () => {
      this.#retry.blur();
      void this.#loadNext();
    });
    this.#emptyBox = h('div', { class: 'empty' }, this.#empty, this.#retry);
    this.#stage = h('div', { class: 'stage' }, this.#photo, this.#emptyBox);
    this.#path = h('h2', { class: 'path', 'data-testid': 'verify-path' });
    this.#suggestion = h('div', { class: 'suggestion', 'data-testid': 'verify-suggestion' });
    this.#confirmButton = h(
      'button',
      { type: 'button', class: 'primary', 'data-testid': 'verify-confirm' },
      h('kbd', {}, 'y'),
      ' Confirm',
    );
    this.#skipButton = h('button', { type: 'button', 'data-testid': 'verify-skip' }, h('kbd', {}, 's'), ' Skip');
    this.#confirmButton.addEventListener('click', () => {
      this.#confirmButton.blur();
      void this.#confirm();
    });
    this.#skipButton.addEventListener('click', () => {
      this.#skipButton.blur();
      void this.#skip();
    });
    this.#actions = h('div', { class: 'verify-actions' }, this.#confirmButton, this.#skipButton);
    this.#reserved = h('p', { class: 'muted small' });
    this.#correct = h(
      'div',
      { class: 'verify-correct' },
      h('h3', {}, 'Correct to'),
      this.#picker.buttons,
      this.#reserved,
      this.#picker.typeahead,
    );
    this.#next = h('p', { class: 'verify-next', 'data-testid': 'verify-next' });
    this.#certified = h('p', { 'data-testid': 'verify-certified' });
    this.#counts = h('p', { class: 'muted', 'data-testid': 'verify-counts' });
    this.#sessionLine = h('p', { class: 'muted', 'data-testid': 'verify-session' });
    this.#updating = h('p', { class: 'muted small', 'aria-live': 'polite' });
    this.#acceptButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'verify-accept' });
    this.#acceptButton.addEventListener('click', () => {
      this.#acceptButton.blur();
      void this.#acceptCertified();
    });
    this.element = h(
      'section',
      { class: 'view verify', 'data-view': 'verify' },
      this.#stage,
      h(
        'aside',
        { class: 'panel' },
        this.#path,
        h(
          'p',
          { class: 'muted small' },
          'Drawn at random from the suggestions. Your answers are the evidence that certifies auto-accepting, and they train the model too.',
        ),
        this.#suggestion,
        this.#actions,
        this.#correct,
        h(
          'div',
          { class: 'verify-progress', 'data-testid': 'verify-progress' },
          h('h3', {}, 'Progress'),
          this.#next,
          this.#certified,
          this.#counts,
          this.#sessionLine,
          this.#updating,
          this.#acceptButton,
        ),
        keyHints(KEYS),
      ),
    );
    ctx.live.subscribe((change) => this.#onChange(change));
  }

  show(): void {
    this.#shown = true;
    if (this.#check === null) void this.#loadNext();
    else void this.#refreshStatus();
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
    this.#picker.onKey(event, (pressed) => {
      // Mid-way through typing a class name, letters go on spelling it.
      if (this.#picker.typing) return false;
      const key = pressed.key.length === 1 ? pressed.key.toLowerCase() : pressed.key;
      if (CONFIRM_KEYS.has(key)) void this.#confirm();
      else if (key === SKIP_KEY) void this.#skip();
      else return false;
      return true;
    });
  }

  #onChange(change: Change): void {
    if (change.kind === 'stats') this.#render();
    if (change.kind === 'model') this.#renderProgress();
    if (!this.#shown) return;
    if (change.kind === 'suggestions' || change.kind === 'resync') {
      // A new fit may have suggestions to draw from (the first fit, or after an accept).
      if (this.#check === null) void this.#loadNext();
      else void this.#refreshStatus();
    }
    if (change.kind === 'labels' && !this.#busy && this.#check && change.imageIds.includes(this.#check.imageId)) {
      // Labelled elsewhere (another view or tab): its check is done, move on.
      void this.#loadNext();
    }
  }

  #confirm(): Promise<void> {
    return this.#check ? this.#answer(this.#check.suggested) : Promise.resolve();
  }

  async #answer(label: string): Promise<void> {
    await this.#act('answer', async (check) => {
      this.#status = (await this.#ctx.api.answerCheck(check.id, label)).status;
      const confirmed = label === check.suggested;
      if (confirmed) this.#session.confirmed++;
      else this.#session.corrected++;
      this.#ctx.notify(`${check.path}: ${confirmed ? 'confirmed' : 'corrected to'} ${label}`);
    });
  }

  async #skip(): Promise<void> {
    await this.#act('skip', async (check) => {
      this.#status = await this.#ctx.api.skipCheck(check.id);
      this.#session.skipped++;
      this.#ctx.notify(`${check.path}: skipped`);
    });
  }

  /** One answer or skip of the current check: nothing else runs meanwhile, then the next check. */
  async #act(verb: string, work: (check: CheckRecord) => Promise<void>): Promise<void> {
    const check = this.#check;
    if (!check || this.#busy) return;
    this.#busy = true;
    this.#picker.cancel();
    this.#render();
    try {
      await work(check);
      await this.#nextAfter();
    } catch (error) {
      this.#ctx.notify(`could not ${verb} ${check.path}: ${(error as Error).message}`, 'error');
    } finally {
      this.#busy = false;
      this.#render();
    }
  }

  /** The check after one just answered or skipped: a request already on its way may predate the answer. */
  async #nextAfter(): Promise<void> {
    await this.#loading;
    await this.#loadNext();
  }

  #loadNext(): Promise<void> {
    if (!this.#loading) {
      this.#loading = this.#fetchNext().finally(() => {
        this.#loading = undefined;
        this.#render();
      });
      this.#render();
    }
    return this.#loading;
  }

  async #fetchNext(): Promise<void> {
    try {
      const { check, status } = await this.#ctx.api.nextCheck(this.#client);
      this.#check = check;
      this.#status = status;
      this.#error = null;
    } catch (error) {
      this.#check = null;
      this.#error = (error as Error).message;
    }
  }

  async #refreshStatus(): Promise<void> {
    try {
      this.#status = await this.#ctx.api.verifyStatus();
      this.#renderProgress();
    } catch (error) {
      this.#ctx.live.reportError(error);
    }
  }

  async #acceptCertified(): Promise<void> {
    try {
      const { accepted } = await this.#ctx.api.acceptCertified();
      this.#ctx.notify(`accepted ${count(accepted)} certified suggestion${accepted === 1 ? '' : 's'}`);
      this.#ctx.live.refreshStats(0);
    } catch (error) {
      this.#ctx.notify(`could not accept: ${(error as Error).message}`, 'error');
    }
  }

  #render(): void {
    if (!this.#shown) return;
    const check = this.#check;
    this.element.dataset.state = check ? 'check' : this.#loading ? 'loading' : this.#error ? 'failed' : 'none';
    this.#stage.classList.toggle('busy', this.#busy);
    this.#confirmButton.disabled = !check || this.#busy;
    this.#skipButton.disabled = !check || this.#busy;
    this.#renderClasses();
    this.#picker.renderTypeahead();
    this.#renderProgress();
    if (!check) {
      this.#photo.hidden = true;
      this.#photo.removeAttribute('src');
      delete this.#photo.dataset.imageId;
      delete this.#photo.dataset.checkId;
      this.#emptyBox.hidden = false;
      this.#empty.textContent = this.#emptyText();
      this.#retry.hidden = this.#error === null || this.#loading !== undefined;
      this.#path.textContent = '';
      this.#suggestion.replaceChildren();
      this.#actions.hidden = true;
      this.#correct.hidden = true;
      return;
    }
    if (this.#photo.dataset.checkId !== String(check.id)) {
      this.#photo.src = this.#ctx.api.fileUrl(check.imageId);
      this.#photo.alt = check.path;
      this.#photo.dataset.imageId = String(check.imageId);
      this.#photo.dataset.checkId = String(check.id);
    }
    this.#photo.hidden = false;
    this.#emptyBox.hidden = true;
    this.#actions.hidden = false;
    this.#correct.hidden = false;
    this.#path.textContent = check.path;
    this.#path.title = check.path;
    this.#suggestion.replaceChildren(
      'Suggested: ',
      h('strong', { class: 'suggested-label', 'data-testid': 'verify-suggested' }, check.suggested),
      ' ',
      h('span', { class: 'conf suggested', 'data-testid': 'verify-confidence' }, percent(check.confidence)),
      h('span', { class: 'hint' }, 'Confirm it, or pick the right class below.'),
    );
  }

  #emptyText(): string {
    if (this.#loading) return 'Loading…';
    if (this.#error) return `Could not get a check: ${this.#error}`;
    const status = this.#status;
    if (status?.fitId === null) {
      return 'Nothing to verify yet: label a few images of two classes or more, and suggestions will follow.';
    }
    // counts.open also counts checks whose images were labelled some other way, so it cannot say
    // whether other tabs hold checks: the message covers both.
    return 'Nothing left to verify: every suggestion has been checked, labelled, or handed to another tab.';
  }

  #renderProgress(): void {
    if (!this.#shown) return;
    const model = this.#ctx.live.model;
    const by = this.#ctx.live.stats?.byStatus;
    const progress = verifyProgress(model, this.#status?.counts ?? null, by ? by.auto + by.suggested : null);
    this.#next.textContent = progress.next;
    this.#certified.textContent = progress.certified ?? '';
    this.#certified.hidden = progress.certified === null;
    this.#counts.textContent = progress.counts === null ? '' : `All verifiers: ${progress.counts}`;
    const { confirmed, corrected, skipped } = this.#session;
    this.#sessionLine.textContent = `This tab: ${count(confirmed)} confirmed · ${count(corrected)} corrected · ${count(skipped)} skipped`;
    const refitting = model?.state === 'fitting' || model?.state === 'waiting';
    this.#updating.textContent = refitting ? 'Updating the model with the latest answers…' : '';
    // What {auto: true} accepts: the certified suggestions not accepted or labelled since (status auto).
    const certified = model?.certified ?? 0;
    const left = this.#ctx.live.stats?.byStatus.auto ?? certified;
    this.#acceptButton.hidden = certified === 0 || left === 0;
    this.#acceptButton.textContent = acceptCertifiedLabel(left);
  }

  #renderClasses(): void {
    const suggested = this.#check?.suggested ?? null;
    const { names, keys } = this.#picker.render([suggested], (name) =>
      name === suggested ? { mark: 'suggested', title: `confirm ${name}` } : { title: `correct to ${name}` },
    );
    // Type-ahead cannot start with the command letters: say how to reach classes that do.
    const taken = names.flatMap((name) =>
      /^[ys]/i.test(name) ? [`${name} with ${keys.has(name) ? `key ${keys.get(name)}` : 'its button'}`] : [],
    );
    this.#reserved.textContent = taken.length === 0 ? '' : `y and s confirm and skip here: pick ${taken.join(', ')}.`;
    this.#reserved.hidden = taken.length === 0;
  }
}
