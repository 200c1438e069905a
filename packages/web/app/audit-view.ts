/**
 * @module The audit view: the data quality audit's findings as three queues (likely label errors,
 * duplicate groups, outliers), one finding at a time with its evidence, decided from the keyboard as
 * in Verify: relabel, keep or remove a label; keep one of a group or mark it fine; mark an outlier fine
 * or exclude it from learning and export. A button runs the audit, with its progress.
 */
import type {
  AuditFinding,
  AuditKind,
  AuditResponse,
  DuplicateFinding,
  LabelErrorFinding,
  OutlierFinding,
} from '@autolabel/core';
import { AUDIT_KINDS } from '@autolabel/core/domain';
import { describeApiError } from './api.js';
import { AuditQueue } from './audit-queue.js';
import { KIND_TITLES, openText, runText } from './audit-words.js';
import { ClassPicker } from './class-picker.js';
import { h, isForControl, percent } from './dom.js';
import { keyHints } from './key-help.js';
import type { Change } from './live.js';
import type { KeyBinding, View, ViewContext } from './view.js';

/** Findings fetched per queue: more than anyone reviews in a sitting; the counts cover the rest. */
const PAGE = 200;
/** Images of a duplicate group with a key of their own (1-9). */
const KEYED_IMAGES = 9;
/** Events this close together cause one reload of the findings. */
const RELOAD_DEBOUNCE_MS = 150;
/** Neighbours shown beside a likely label error. */
const NEIGHBOURS = 8;

/** The one letter the view uses: the finding is fine as it is (a class key never takes it). */
const FINE_KEY = 'f';
const REMOVE_KEYS = new Set(['Backspace', 'Delete']);
const STEP = { keys: ['ArrowLeft', 'ArrowRight'], label: '← →', what: 'previous / next finding (decide later)' };
/** Each queue's keys, as its panel and the `?` help list them. */
const KEYS: Readonly<Record<AuditKind, readonly KeyBinding[]>> = {
  'label-error': [
    { keys: ['Enter'], what: 'relabel to the likely class' },
    { label: '1–9, 0, …', what: 'relabel to that class (its key is on its button), or type its first letters' },
    { keys: [...REMOVE_KEYS], what: 'remove the label' },
    { keys: [FINE_KEY], what: 'keep the label: it is right' },
    STEP,
  ],
  duplicate: [
    { label: '1–9', what: 'keep that image, exclude the others from learning and export' },
    { keys: [FINE_KEY], what: 'fine: keep them all' },
    STEP,
  ],
  outlier: [
    { keys: [...REMOVE_KEYS], what: 'exclude it from learning and export' },
    { keys: [FINE_KEY], what: 'fine: it belongs here' },
    STEP,
  ],
};

/** The queue named in the address (`#/audit?kind=duplicate`), if any. */
function kindInHash(): AuditKind | null {
  const kind = new URLSearchParams(location.hash.split('?')[1] ?? '').get('kind');
  return (AUDIT_KINDS as readonly string[]).includes(kind ?? '') ? (kind as AuditKind) : null;
}

export class AuditView implements View {
  readonly element: HTMLElement;
  readonly #ctx: ViewContext;
  readonly #picker: ClassPicker;
  readonly #queues: Record<AuditKind, AuditQueue<AuditFinding>> = {
    'label-error': new AuditQueue(),
    duplicate: new AuditQueue(),
    outlier: new AuditQueue(),
  };
  /** The latest list answer per queue, so a slower earlier one never replaces a later one. */
  readonly #asked: Record<AuditKind, number> = { 'label-error': 0, duplicate: 0, outlier: 0 };
  #kind: AuditKind = 'label-error';
  #summary: Omit<AuditResponse, 'findings'> | null = null;
  /** A list request of the queue shown is on its way. */
  #loading = false;
  #error: string | null = null;
  /** A decision on its way: keys wait for it, so one press decides one finding. */
  #busy = false;
  #shown = false;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last audit run this page heard of finished. */
  #lastFinished: string | null = null;

  readonly #tabs: HTMLElement;
  readonly #runButton: HTMLButtonElement;
  readonly #runLine: HTMLElement;
  readonly #runBar: HTMLProgressElement;
  readonly #notes: HTMLElement;
  readonly #stage: HTMLElement;
  readonly #photo: HTMLImageElement;
  readonly #group: HTMLElement;
  readonly #emptyBox: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #path: HTMLElement;
  readonly #position: HTMLElement;
  readonly #reason: HTMLElement;
  readonly #evidence: HTMLElement;
  readonly #neighbours: HTMLElement;
  readonly #actions: HTMLElement;
  readonly #correct: HTMLElement;
  readonly #reserved: HTMLElement;
  readonly #keyLists: Readonly<Record<AuditKind, HTMLElement>>;

  constructor(ctx: ViewContext) {
    this.#ctx = ctx;
    this.#picker = new ClassPicker({
      testId: 'audit-classes',
      classNames: () => ctx.live.classNames,
      onPick: (name) => void this.#relabel(name),
      commandKeys: ctx.commandKeys,
    });
    this.#tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Queue', 'data-testid': 'audit-tabs' });
    this.#tabs.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-kind]');
      if (!button) return;
      button.blur();
      this.#select(button.dataset.kind as AuditKind);
    });
    this.#runButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'audit-run' }, 'Run audit');
    this.#runButton.addEventListener('click', () => {
      this.#runButton.blur();
      void this.#run();
    });
    this.#runLine = h('span', { class: 'muted', 'data-testid': 'audit-progress', 'aria-live': 'polite' });
    this.#runBar = h('progress', { class: 'audit-bar', max: 1 });
    this.#notes = h('ul', { class: 'audit-notes', 'data-testid': 'audit-notes' });

    this.#photo = h('img', { class: 'photo', alt: '', 'data-testid': 'audit-image' });
    this.#group = h('div', { class: 'audit-group', 'data-testid': 'audit-group' });
    this.#group.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-keep]');
      if (!button) return;
      button.blur();
      void this.#keepOne(Number(button.dataset.keep));
    });
    this.#empty = h('p', { 'data-testid': 'audit-empty' }, 'Loading…');
    this.#emptyBox = h('div', { class: 'empty' }, this.#empty);
    this.#stage = h('div', { class: 'stage' }, this.#photo, this.#group, this.#emptyBox);

    this.#path = h('h2', { class: 'path', 'data-testid': 'audit-path' });
    this.#position = h('p', { class: 'muted', 'data-testid': 'audit-position' });
    this.#reason = h('p', { 'data-testid': 'audit-reason' });
    this.#evidence = h('div', { class: 'suggestion', 'data-testid': 'audit-evidence' });
    this.#neighbours = h('div', { class: 'audit-neighbours', 'data-testid': 'audit-neighbours' });
    this.#actions = h('div', { class: 'verify-actions', 'data-testid': 'audit-actions' });
    this.#actions.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-action]');
      if (!button) return;
      button.blur();
      this.#onAction(button.dataset.action!);
    });
    this.#reserved = h('p', { class: 'muted small' });
    this.#correct = h(
      'div',
      { class: 'verify-correct' },
      h('h3', {}, 'Relabel to'),
      this.#picker.buttons,
      this.#reserved,
      this.#picker.typeahead,
    );

    this.#keyLists = {
      'label-error': keyHints(KEYS['label-error']),
      duplicate: keyHints(KEYS.duplicate),
      outlier: keyHints(KEYS.outlier),
    };
    this.element = h(
      'section',
      { class: 'view audit', 'data-view': 'audit' },
      h(
        'div',
        { class: 'toolbar' },
        this.#tabs,
        h('div', { class: 'actions' }, this.#runLine, this.#runBar, this.#runButton),
      ),
      h(
        'div',
        { class: 'audit-body' },
        this.#stage,
        h(
          'aside',
          { class: 'panel' },
          this.#path,
          this.#position,
          this.#reason,
          this.#evidence,
          this.#neighbours,
          this.#actions,
          this.#correct,
          this.#notes,
          ...Object.values(this.#keyLists),
        ),
      ),
    );
    ctx.live.subscribe((change) => this.#onChange(change));
    window.addEventListener('hashchange', () => {
      const kind = kindInHash();
      if (this.#shown && kind !== null && kind !== this.#kind) this.#select(kind);
    });
  }

  /** The keys of the queue shown (each uses `f`, the one letter, so class keys never take it). */
  get keys(): readonly KeyBinding[] {
    return KEYS[this.#kind];
  }

  show(): void {
    this.#shown = true;
    this.#kind = kindInHash() ?? this.#kind;
    void this.#reload();
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
    const finding = this.#queue.current;
    if (finding?.kind === 'label-error') {
      // Class keys relabel: the picker handles them after the view's own commands.
      this.#picker.onKey(event, (pressed) => (this.#picker.typing ? false : this.#command(pressed)));
      return;
    }
    if (isForControl(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (this.#command(event)) event.preventDefault();
    else if (finding?.kind === 'duplicate' && /^[1-9]$/.test(event.key)) {
      const imageId = finding.imageIds[Number(event.key) - 1];
      if (imageId !== undefined) void this.#keepOne(imageId);
      event.preventDefault();
    }
  }

  get #queue(): AuditQueue<AuditFinding> {
    return this.#queues[this.#kind];
  }

  /** A key that means the same for every kind (or the kind's own Enter and Backspace); true when used. */
  #command(event: KeyboardEvent): boolean {
    const finding = this.#queue.current;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === 'ArrowRight' || key === 'ArrowLeft') {
      this.#picker.cancel();
      if (this.#queue.step(key === 'ArrowRight' ? 1 : -1)) this.#render();
      return true;
    }
    if (!finding) return false;
    if (key === FINE_KEY) void this.#resolve(finding, 'dismiss', 'marked fine');
    else if (key === 'Enter' && finding.kind === 'label-error') void this.#relabel(finding.likelyLabel);
    else if (REMOVE_KEYS.has(key) && finding.kind === 'label-error') void this.#removeLabel();
    else if (REMOVE_KEYS.has(key) && finding.kind === 'outlier') void this.#exclude(finding);
    else return false;
    return true;
  }

  #onAction(action: string): void {
    const finding = this.#queue.current;
    if (!finding) return;
    if (action === 'fine') void this.#resolve(finding, 'dismiss', 'marked fine');
    else if (action === 'relabel' && finding.kind === 'label-error') void this.#relabel(finding.likelyLabel);
    else if (action === 'remove') void this.#removeLabel();
    else if (action === 'exclude') void this.#exclude(finding);
  }

  #onChange(change: Change): void {
    if (change.kind === 'audit') {
      this.#renderRun();
      const finished = this.#ctx.live.audit?.state === 'done' ? this.#ctx.live.audit.finishedAt : null;
      if (finished !== null && finished !== this.#lastFinished) {
        this.#lastFinished = finished;
        for (const queue of Object.values(this.#queues)) queue.forgetHandled();
      }
    }
    // Hidden, it renders nothing (not even its class keys): `show` renders it afresh.
    if (!this.#shown) return;
    if (change.kind === 'stats') this.#renderClasses();
    // A run finished, a finding was decided, or labels changed (which settles the findings about them).
    const running = this.#ctx.live.audit?.state === 'running';
    if ((change.kind === 'audit' && !running) || change.kind === 'labels' || change.kind === 'resync') {
      this.#reloadSoon();
    }
  }

  /** A reload shortly: a burst of events (another tab deciding quickly) asks once. */
  #reloadSoon(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => void this.#reload(), RELOAD_DEBOUNCE_MS);
  }

  #select(kind: AuditKind): void {
    if (kind === this.#kind) return;
    this.#kind = kind;
    this.#picker.cancel();
    // The address names the queue, so a reload or a link from the dashboard lands on it.
    history.replaceState(null, '', `#/audit?kind=${kind}`);
    void this.#reload();
    this.#render();
  }

  /** The shown queue's findings and every queue's counts, afresh. */
  async #reload(): Promise<void> {
    clearTimeout(this.#reloadTimer);
    const kind = this.#kind;
    const asked = ++this.#asked[kind];
    const loading = this.#ctx.api.audit({ kind, limit: PAGE });
    this.#loading = true;
    this.#render();
    try {
      const { findings, ...summary } = await loading;
      if (asked !== this.#asked[kind]) return;
      this.#queues[kind].replace(findings);
      this.#summary = summary;
      this.#error = null;
    } catch (error) {
      if (asked === this.#asked[kind]) this.#error = (error as Error).message;
    } finally {
      if (asked === this.#asked[kind]) this.#loading = false;
      this.#render();
    }
  }

  async #run(): Promise<void> {
    try {
      await this.#ctx.api.runAudit();
      this.#renderRun();
    } catch (error) {
      this.#ctx.notify(`could not run the audit: ${(error as Error).message}`, 'error');
    }
  }

  async #relabel(label: string): Promise<void> {
    await this.#decide(async (finding) => {
      const imageId = finding.imageIds[0]!;
      await this.#ctx.api.setLabel(imageId, label);
      // The finding named the old label: it is settled. Keeping the label is `dismiss`, not this.
      return `${finding.images[0]}: relabelled ${label}`;
    });
  }

  async #removeLabel(): Promise<void> {
    await this.#decide(async (finding) => {
      await this.#ctx.api.clearLabel(finding.imageIds[0]!);
      return `${finding.images[0]}: label removed`;
    });
  }

  async #exclude(finding: AuditFinding): Promise<void> {
    await this.#resolve(finding, 'exclude', 'excluded from learning and export');
  }

  /** Keeps one image of the duplicate group shown and excludes the others. */
  async #keepOne(imageId: number): Promise<void> {
    await this.#decide(async (finding) => {
      const others = finding.imageIds.filter((id) => id !== imageId);
      await this.#ctx.api.resolveFinding(finding.id, 'exclude', others);
      const kept = finding.images[finding.imageIds.indexOf(imageId)] ?? `image ${imageId}`;
      return `kept ${kept}, excluded ${others.length} other${others.length === 1 ? '' : 's'}`;
    });
  }

  async #resolve(finding: AuditFinding, action: 'dismiss' | 'exclude', done: string): Promise<void> {
    await this.#decide(async () => {
      await this.#ctx.api.resolveFinding(finding.id, action);
      return `${finding.kind === 'duplicate' ? `group of ${finding.images.length}` : finding.images[0]}: ${done}`;
    });
  }

  /** One decision about the finding shown: nothing else runs meanwhile, then the next one is shown. */
  async #decide(work: (finding: AuditFinding) => Promise<string>): Promise<void> {
    const queue = this.#queue;
    const finding = queue.current;
    if (!finding || this.#busy) return;
    this.#busy = true;
    this.#picker.cancel();
    this.#render();
    try {
      const message = await work(finding);
      queue.handled(finding.id);
      this.#ctx.notify(message);
      void this.#reload();
    } catch (error) {
      queue.unhandled(finding.id);
      this.#ctx.notify(`could not decide about ${finding.images.join(', ')}: ${(error as Error).message}`, 'error');
    } finally {
      this.#busy = false;
      this.#render();
    }
  }

  #render(): void {
    if (!this.#shown) return;
    const finding = this.#queue.current;
    this.element.dataset.kind = this.#kind;
    for (const kind of AUDIT_KINDS) this.#keyLists[kind].hidden = kind !== this.#kind;
    this.element.dataset.state = finding ? 'finding' : this.#loading ? 'loading' : this.#error ? 'failed' : 'none';
    this.#stage.classList.toggle('busy', this.#busy);
    this.#renderTabs();
    this.#renderRun();
    this.#renderClasses();
    this.#picker.renderTypeahead();
    this.#notes.replaceChildren(...(this.#summary?.notes ?? []).map((note) => h('li', { class: 'muted small' }, note)));
    this.#notes.hidden = (this.#summary?.notes.length ?? 0) === 0;
    if (!finding) {
      this.#photo.hidden = true;
      this.#photo.removeAttribute('src');
      delete this.#photo.dataset.imageId;
      this.#group.hidden = true;
      this.#group.replaceChildren();
      delete this.element.dataset.findingId;
      this.#emptyBox.hidden = false;
      this.#empty.textContent = this.#emptyText();
      for (const part of [this.#path, this.#position, this.#reason]) part.textContent = '';
      this.#evidence.replaceChildren();
      this.#neighbours.replaceChildren();
      this.#actions.hidden = true;
      this.#correct.hidden = true;
      return;
    }
    this.element.dataset.findingId = finding.id;
    this.#emptyBox.hidden = true;
    this.#actions.hidden = false;
    this.#correct.hidden = finding.kind !== 'label-error';
    const { index, total } = this.#queue.position;
    const all = this.#summary?.counts[this.#kind] ?? total;
    this.#position.textContent = `${index} of ${all.toLocaleString('en-US')} · score ${finding.score.toFixed(2)}`;
    this.#reason.textContent = finding.reason;
    if (finding.kind === 'duplicate') this.#renderGroup(finding);
    else this.#renderOne(finding);
  }

  #renderOne(finding: LabelErrorFinding | OutlierFinding): void {
    const imageId = finding.imageIds[0]!;
    this.#group.hidden = true;
    this.#photo.hidden = false;
    if (this.#photo.dataset.imageId !== String(imageId)) {
      this.#photo.src = this.#ctx.api.fileUrl(imageId);
      this.#photo.alt = finding.images[0]!;
      this.#photo.dataset.imageId = String(imageId);
    }
    this.#path.textContent = finding.images[0]!;
    this.#path.title = finding.images[0]!;
    const button = (action: string, key: string, text: string, primary = false) =>
      h(
        'button',
        {
          type: 'button',
          class: primary ? 'primary' : undefined,
          'data-action': action,
          'data-testid': `audit-${action}`,
        },
        h('kbd', {}, key),
        ` ${text}`,
      );
    if (finding.kind === 'label-error') {
      this.#evidence.replaceChildren(
        h('span', {}, 'Labelled ', h('strong', { 'data-testid': 'audit-given' }, finding.givenLabel)),
        h(
          'span',
          {},
          ' · likely ',
          h('strong', { class: 'suggested-label', 'data-testid': 'audit-likely' }, finding.likelyLabel),
          ' ',
          h(
            'span',
            { class: 'conf suggested', 'data-testid': 'audit-likely-probability' },
            percent(finding.likelyProbability),
          ),
        ),
      );
      this.#renderNeighbours(finding);
      this.#actions.replaceChildren(
        button('relabel', 'Enter', `Relabel ${finding.likelyLabel}`, true),
        button('fine', 'f', 'Keep'),
        button('remove', '⌫', 'Remove label'),
      );
    } else {
      this.#evidence.replaceChildren(
        finding.decodeError
          ? h('span', {}, 'Could not be decoded: ', h('strong', {}, finding.decodeError))
          : h('span', {}, 'Distance ratio ', h('strong', {}, finding.distanceRatio.toFixed(2)), ' (1 is typical here)'),
      );
      this.#neighbours.replaceChildren();
      this.#actions.replaceChildren(button('fine', 'f', 'Fine'), button('exclude', '⌫', 'Exclude', true));
    }
  }

  #renderNeighbours(finding: LabelErrorFinding): void {
    const shown = finding.neighbours.slice(0, NEIGHBOURS);
    if (shown.length === 0) {
      this.#neighbours.replaceChildren();
      return;
    }
    this.#neighbours.replaceChildren(
      h('h3', {}, 'Nearest labelled images'),
      h(
        'ul',
        {},
        ...shown.map((n) =>
          h(
            'li',
            {
              'data-label': n.label,
              class: n.label === finding.givenLabel ? 'agrees' : 'disagrees',
              title: `${n.path}: ${n.label}, similarity ${n.similarity.toFixed(2)}`,
            },
            h('img', {
              src: this.#ctx.api.thumbnailUrl(n.imageId, 128),
              alt: n.path,
              loading: 'lazy',
              decoding: 'async',
            }),
            h('span', {}, n.label),
          ),
        ),
      ),
    );
  }

  #renderGroup(finding: DuplicateFinding): void {
    this.#photo.hidden = true;
    this.#group.hidden = false;
    this.#path.textContent = `${finding.images.length} ${finding.exact ? 'copies' : 'near-copies'}`;
    this.#path.title = finding.images.join('\n');
    this.#evidence.replaceChildren(
      h(
        'span',
        {},
        finding.mixedLabels ? 'Labelled differently' : 'Same label',
        ` · similarity ${finding.similarity.toFixed(3)}`,
      ),
    );
    this.#neighbours.replaceChildren();
    if (this.#group.dataset.findingId !== finding.id) {
      this.#group.dataset.findingId = finding.id;
      this.#group.replaceChildren(
        ...finding.imageIds.map((imageId, i) =>
          h(
            'figure',
            { 'data-image-id': imageId },
            h('img', { src: this.#ctx.api.fileUrl(imageId), alt: finding.images[i]!, decoding: 'async' }),
            h(
              'figcaption',
              {},
              h('span', { class: 'path' }, finding.images[i]!),
              h('strong', {}, finding.labels[i] ?? 'no label'),
              h(
                'button',
                { type: 'button', 'data-keep': imageId },
                i < KEYED_IMAGES ? h('kbd', {}, String(i + 1)) : null,
                ' Keep this one',
              ),
            ),
          ),
        ),
      );
    }
    this.#actions.replaceChildren(
      h(
        'button',
        { type: 'button', class: 'primary', 'data-action': 'fine', 'data-testid': 'audit-fine' },
        h('kbd', {}, 'f'),
        ' Fine, keep all',
      ),
    );
  }

  #renderTabs(): void {
    const counts = this.#summary?.counts;
    this.#tabs.replaceChildren(
      ...AUDIT_KINDS.map((kind) =>
        h(
          'button',
          { type: 'button', 'data-kind': kind, 'aria-pressed': String(kind === this.#kind) },
          KIND_TITLES[kind],
          counts ? h('span', { class: 'count' }, counts[kind].toLocaleString('en-US')) : null,
        ),
      ),
    );
  }

  #renderRun(): void {
    if (!this.#shown) return;
    const run = this.#ctx.live.audit;
    const running = run?.state === 'running';
    this.#runButton.disabled = running;
    this.#runButton.textContent = running ? 'Auditing…' : 'Run audit';
    // A failure's hint, worded for the app (embed first, say).
    const told = run?.state === 'failed' ? { ...run, message: describeApiError(run.message ?? '', run.hint) } : run;
    this.#runLine.textContent = runText(told, this.#summary?.ranAt ?? null);
    this.#runLine.classList.toggle('warn', run?.state === 'failed');
    const progress = run?.progress;
    this.#runBar.hidden = !running;
    if (progress && progress.total) this.#runBar.value = progress.done / progress.total;
    else this.#runBar.removeAttribute('value');
  }

  #renderClasses(): void {
    const finding = this.#queue.current;
    const given = finding?.kind === 'label-error' ? finding.givenLabel : null;
    const likely = finding?.kind === 'label-error' ? finding.likelyLabel : null;
    const { names, keys } = this.#picker.render([given, likely], (name) =>
      name === given
        ? { mark: 'current', title: `${name} is its label now` }
        : name === likely
          ? { mark: 'suggested', title: `relabel to ${name}, the likely class` }
          : { title: `relabel to ${name}` },
    );
    // Type-ahead cannot start with the command letter: say how to reach classes that do.
    const taken = names.flatMap((name) =>
      name.toLowerCase().startsWith(FINE_KEY)
        ? [`${name} with ${keys.has(name) ? `key ${keys.get(name)}` : 'its button'}`]
        : [],
    );
    this.#reserved.textContent =
      taken.length === 0 ? '' : `${FINE_KEY} keeps the label here: pick ${taken.join(', ')}.`;
    this.#reserved.hidden = taken.length === 0;
  }

  #emptyText(): string {
    if (this.#loading && !this.#queue.loaded) return 'Loading…';
    if (this.#error) return `Could not get the findings: ${this.#error}`;
    if (this.#ctx.live.audit?.state === 'running') return 'Auditing… the findings appear here when it is done.';
    if (!this.#summary || this.#summary.ranAt === null) {
      return 'No audit yet: Run audit looks for likely label errors, duplicates and outliers.';
    }
    const open = this.#summary.counts[this.#kind];
    if (open > 0) return 'Loading…';
    return `Nothing left here: no open ${openText(this.#kind, 0).replace(/^0 /, '')} in the last audit.`;
  }
}
