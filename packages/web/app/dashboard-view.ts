/**
 * @module The dashboard: images per class and status (table and stacked bars), the model's estimated
 * accuracy and what it rests on, the suggestions certified, coverage, the open findings of the data
 * quality audit (each a link to its queue), the learning curve and the confidence histogram.
 */
import type { AuditResponse, ExportFormat, StatsResponse } from '@autolabel/core';
// Core's browser-safe entries: its dependency-free charts, and the domain's words (image statuses).
import { barChart, histogram, lineChart } from '@autolabel/core/charts';
import { AUDIT_KINDS, CLASS_STATUSES } from '@autolabel/core/domain';
import { openText, runText } from './audit-words.js';
import { queueText } from './embed-queue-words.js';
import { h, percent } from './dom.js';
import { accuracyParts, count as n } from './figures.js';
import type { View, ViewContext } from './view.js';

/** Every export format core writes (the type makes a new one a compile error here until it is listed); folder formats come as tar. */
const EXPORTS = {
  csv: { text: 'CSV', file: 'labels.csv' },
  jsonl: { text: 'JSONL', file: 'labels.jsonl' },
  json: { text: 'JSON', file: 'labels.json' },
  imagefolder: { text: 'ImageFolder (tar)', file: 'labels-imagefolder.tar' },
  'yolo-cls': { text: 'YOLO classification (tar)', file: 'labels-yolo-cls.tar' },
  'imagenet-txt': { text: 'ImageNet lists (tar)', file: 'labels-imagenet-txt.tar' },
  coco: { text: 'COCO', file: 'labels-coco.json' },
  'label-studio': { text: 'Label Studio tasks', file: 'labels-label-studio.json' },
  cvat: { text: 'CVAT for images 1.1', file: 'labels-cvat.xml' },
  voc: { text: 'PASCAL VOC lists (tar)', file: 'labels-voc.tar' },
} as const satisfies Record<ExportFormat, { text: string; file: string }>;

/** Charts are drawn this wide, or as wide as a narrow screen leaves (a phone), never narrower than the smallest. */
const CHART_WIDTH = 380;
const MIN_CHART_WIDTH = 240;
/** The chart card's padding and border, both sides. */
const CHART_FRAME = 18;

/** The width to draw charts at in a container `available` pixels wide (0: not laid out yet). */
function chartWidthFor(available: number): number {
  if (available <= 0) return CHART_WIDTH;
  return Math.max(MIN_CHART_WIDTH, Math.min(CHART_WIDTH, Math.floor(available - CHART_FRAME)));
}

export class DashboardView implements View {
  readonly element: HTMLElement;
  readonly #ctx: ViewContext;
  #shown = false;
  readonly #summary: HTMLElement;
  readonly #table: HTMLElement;
  readonly #charts: HTMLElement;
  readonly #exports: HTMLElement;
  readonly #audit: HTMLElement;
  /** The embedding queue's line (`serve --queue`); hidden without a queue. */
  readonly #queue: HTMLElement;
  #queueTimer: ReturnType<typeof setTimeout> | undefined;
  /** The audit's open counts as last fetched; null before they arrive. */
  #auditCounts: AuditResponse | null = null;
  #auditAsked = 0;
  #auditTimer: ReturnType<typeof setTimeout> | undefined;
  /** The width the charts were last drawn at: drawn again, in their own size, when a resize changes it. */
  #chartWidth = CHART_WIDTH;

  constructor(ctx: ViewContext) {
    this.#ctx = ctx;
    this.#summary = h('div', { class: 'cards', 'data-testid': 'summary' });
    this.#table = h('div', { class: 'table-wrap' });
    this.#charts = h('div', { class: 'charts' });
    this.#exports = h('p', { class: 'exports' });
    this.#audit = h('p', { class: 'audit-counts', 'data-testid': 'audit-counts' });
    this.#queue = h('p', { class: 'embed-queue', 'data-testid': 'embed-queue', hidden: '' });
    this.element = h(
      'section',
      { class: 'view dashboard', 'data-view': 'dashboard' },
      this.#summary,
      this.#queue,
      h('h2', {}, 'Data quality audit'),
      this.#audit,
      h('h2', {}, 'Classes'),
      this.#table,
      this.#charts,
      this.#exports,
    );
    ctx.live.subscribe((change) => {
      if (change.kind === 'stats' || change.kind === 'model') this.#render();
      // A run finished, a finding was decided, or labels changed (which settles findings about them).
      if (this.#shown && (change.kind === 'audit' || change.kind === 'labels' || change.kind === 'resync')) {
        this.#renderAudit();
        // Counted again once a run is done, not at each of its progress reports; a burst of label events asks once.
        clearTimeout(this.#auditTimer);
        if (ctx.live.audit?.state !== 'running') this.#auditTimer = setTimeout(() => void this.#loadAudit(), 150);
      }
    });
    // Drawn at the size shown, so text stays its size on a phone instead of being scaled down.
    new ResizeObserver(() => {
      if (this.#shown && chartWidthFor(this.#charts.clientWidth) !== this.#chartWidth) this.#render();
    }).observe(this.#charts);
  }

  show(): void {
    this.#shown = true;
    this.#render();
    this.#ctx.live.refreshStats(0);
    void this.#loadAudit();
    void this.#loadQueue();
  }

  /** The embedding queue's figures, asked again every 5 s while the dashboard shows them. */
  async #loadQueue(): Promise<void> {
    clearTimeout(this.#queueTimer);
    try {
      const { queue } = await this.#ctx.api.queue();
      if (queue === null) return; // no queue: nothing to show or poll
      this.#queue.replaceChildren(h('strong', {}, 'Embedding queue: '), queueText(queue));
      this.#queue.hidden = false;
    } catch (error) {
      // The queue unreachable is news about the queue, not a failure of the page: said on its line.
      this.#queue.replaceChildren(
        h('strong', {}, 'Embedding queue: '),
        error instanceof Error ? error.message : String(error),
      );
      this.#queue.hidden = false;
    }
    if (this.#shown) this.#queueTimer = setTimeout(() => void this.#loadQueue(), 5000);
  }

  async #loadAudit(): Promise<void> {
    const asked = ++this.#auditAsked;
    try {
      // One finding is the least a page holds; the counts cover the whole audit.
      const answer = await this.#ctx.api.audit({ limit: 1 });
      if (asked !== this.#auditAsked) return;
      this.#auditCounts = answer;
      this.#renderAudit();
    } catch (error) {
      this.#ctx.live.reportError(error);
    }
  }

  #renderAudit(): void {
    const audit = this.#auditCounts;
    const run = this.#ctx.live.audit;
    if (!this.#shown || !audit) return;
    if (audit.ranAt === null || run?.state === 'running' || run?.state === 'failed') {
      this.#audit.replaceChildren(runText(run, audit.ranAt), ' ', h('a', { href: '#/audit' }, 'Open Audit'));
      return;
    }
    this.#audit.replaceChildren(
      'Open findings: ',
      ...AUDIT_KINDS.flatMap((kind, i) => [
        ...(i === 0 ? [] : [' · ']),
        h(
          'a',
          { href: `#/audit?kind=${kind}`, 'data-kind': kind, 'data-count': audit.counts[kind] },
          openText(kind, audit.counts[kind]),
        ),
      ]),
      audit.excluded > 0 ? ` · ${n(audit.excluded)} image${audit.excluded === 1 ? '' : 's'} excluded` : '',
      h('span', { class: 'muted' }, ` (${runText(run, audit.ranAt).replace(/\.$/, '').toLowerCase()})`),
    );
  }

  hide(): void {
    this.#shown = false;
    clearTimeout(this.#queueTimer);
  }

  #render(): void {
    const stats = this.#ctx.live.stats;
    if (!this.#shown || !stats) return;
    this.#renderSummary(stats);
    this.#renderTable(stats);
    this.#renderCharts(stats);
    this.#exports.replaceChildren(
      'Export all labels and suggestions: ',
      ...Object.entries(EXPORTS).flatMap(([format, { text, file }], i) => [
        ...(i === 0 ? [] : [' · ']),
        h('a', { href: this.#ctx.api.exportUrl(format as ExportFormat), download: file }, text),
      ]),
    );
  }

  #renderSummary(stats: StatsResponse): void {
    const model = this.#ctx.live.model ?? stats.model;
    const by = stats.byStatus;
    const accuracy = accuracyParts(model.accuracy);
    const covered = by.labeled + by.accepted + by.auto;
    const card = (title: string, value: string, note: string, testId?: string) =>
      h(
        'div',
        { class: 'card', 'data-testid': testId },
        h('div', { class: 'card-title' }, title),
        h('div', { class: 'card-value' }, value),
        h('div', { class: 'muted' }, note),
      );
    const target =
      model.targetPrecision === null ? 'the precision target' : `${percent(model.targetPrecision)} precision`;
    const certifiedNote =
      model.threshold === null
        ? `none yet at ${target}`
        : `confidence ≥ ${model.threshold.toFixed(2)}, ${target} by random checks`;
    this.#summary.replaceChildren(
      card('Images', n(stats.images), `${n(stats.classes.length)} classes`),
      card('Labeled by people', n(by.labeled), `${n(by.accepted)} suggestions accepted`),
      card('Suggestions', n(by.auto + by.suggested), `${n(by.auto)} auto · ${n(by.suggested)} to review`),
      card(
        'Estimated accuracy',
        accuracy.value,
        model.fitId === null ? 'no fit yet' : (accuracy.basis ?? `no estimate from fit #${model.fitId}`),
        'estimated-accuracy',
      ),
      card('Certified', n(model.certified), certifiedNote, 'certified'),
      card(
        'Coverage',
        stats.images === 0 ? '–' : percent(covered / stats.images),
        'labeled, accepted or auto',
        'coverage',
      ),
    );
  }

  #renderTable(stats: StatsResponse): void {
    const head = h(
      'tr',
      {},
      h('th', {}, 'Class'),
      ...CLASS_STATUSES.map((s) => h('th', { class: 'num' }, s)),
      h('th', { class: 'num' }, 'total'),
    );
    const rows = stats.classes.map((c) =>
      h(
        'tr',
        { 'data-class': c.name },
        h('td', {}, c.name),
        ...CLASS_STATUSES.map((s) => h('td', { class: 'num', 'data-status': s }, c[s].toLocaleString('en-US'))),
        h('td', { class: 'num' }, CLASS_STATUSES.reduce((sum, s) => sum + c[s], 0).toLocaleString('en-US')),
      ),
    );
    const unlabeled = h(
      'tr',
      { class: 'muted' },
      h('td', {}, 'no label or suggestion'),
      ...CLASS_STATUSES.map(() => h('td', { class: 'num' }, '')),
      h('td', { class: 'num' }, stats.byStatus.unlabeled.toLocaleString('en-US')),
    );
    this.#table.replaceChildren(
      h('table', { 'data-testid': 'class-table' }, h('thead', {}, head), h('tbody', {}, ...rows, unlabeled)),
    );
  }

  #renderCharts(stats: StatsResponse): void {
    const width = chartWidthFor(this.#charts.clientWidth);
    this.#chartWidth = width;
    const bars = barChart({
      title: 'Images per class',
      yLabel: 'Images',
      width,
      height: 300,
      bars: stats.classes.map((c) => ({
        label: c.name,
        value: CLASS_STATUSES.reduce((sum, s) => sum + c[s], 0),
        stack: CLASS_STATUSES.map((s) => ({ name: s, value: c[s] })),
      })),
    });
    const curve = lineChart({
      title: 'Learning curve',
      xLabel: 'Labels',
      yLabel: 'Estimated accuracy',
      width,
      height: 300,
      yDomain: [0, 1],
      series: [{ name: 'accuracy', points: stats.curve.map((p) => ({ x: p.labels, y: p.accuracy })) }],
    });
    const bins = stats.confidence.map((count, i, all) => ({ from: i / all.length, to: (i + 1) / all.length, count }));
    const confidence = histogram({
      title: 'Confidence of suggestions',
      xLabel: 'Confidence',
      yLabel: 'Suggestions',
      name: 'suggestions with confidence',
      width,
      height: 300,
      bins,
    });
    // The chart functions escape every text they draw, so their markup is safe to insert.
    const figure = (svg: string, testId: string, note: string | null) => {
      const element = h('figure', { class: 'chart', 'data-testid': testId });
      element.innerHTML = svg;
      if (note) element.append(h('figcaption', { class: 'muted' }, note));
      return element;
    };
    this.#charts.replaceChildren(
      figure(bars, 'chart-classes', stats.classes.length === 0 ? 'No classes yet.' : null),
      figure(curve, 'chart-curve', stats.curve.length === 0 ? 'Appears after the first full fit.' : null),
      figure(confidence, 'chart-confidence', stats.confidence.every((c) => c === 0) ? 'No suggestions yet.' : null),
    );
  }
}
