/**
 * @module Dependency-free SVG charts (line, bar, histogram, reliability diagram) as standalone strings.
 * Text, axes and grid are drawn in `currentColor` on a transparent background, so a chart takes the
 * colours of the page around it (light or dark theme); on its own it is black on the viewer's white.
 */
import type { ReliabilityBin } from '../learn/calibration.js';
import { escapeXml, formatNumber } from './text.js';

/**
 * Okabe & Ito (2008) colour-blind-safe palette, reordered so the colours that contrast best on white
 * come first; yellow is last because thin lines in it are hard to see. Its black is a mid grey here
 * (as in the R Cookbook's variant of the palette): black vanishes on a dark theme, and this grey keeps
 * at least 3:1 against white and against the dark theme's background alike.
 */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#888888',
  '#F0E442',
] as const;

/** Outer size in pixels; the SVG also carries a viewBox, so it scales when a page shrinks it. */
export interface ChartSize {
  readonly width?: number;
  readonly height?: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LineSeries {
  readonly name: string;
  /** Points with a non-finite coordinate are left out and break the line there. */
  readonly points: readonly Point[];
  readonly dashed?: boolean;
}

export interface LineChartOptions extends ChartSize {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Fixed axis range; without it the range is the data's, widened to round tick values. */
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
}

export interface BarSegment {
  readonly name: string;
  readonly value: number;
}

export interface Bar {
  readonly label: string;
  /** The bar's total, shown in its tooltip. */
  readonly value: number;
  /** Splits the bar into coloured segments, one colour per segment name across all bars; drawn instead of `value`. */
  readonly stack?: readonly BarSegment[];
}

export interface BarChartOptions extends ChartSize {
  readonly title: string;
  readonly xLabel?: string;
  readonly yLabel: string;
  readonly bars: readonly Bar[];
}

export interface HistogramBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

export interface HistogramOptions extends ChartSize {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly bins: readonly HistogramBin[];
  /** What is counted, named in the bars' tooltips. */
  readonly name?: string;
}

export interface ReliabilityDiagramOptions extends ChartSize {
  readonly title: string;
  /** As `reliabilityBins` returns them; empty bins (count 0, NaN accuracy) are not drawn. */
  readonly bins: readonly ReliabilityBin[];
}

/** Tick values for one axis and the range the axis spans. */
export interface Ticks {
  readonly domain: readonly [number, number];
  readonly values: readonly number[];
  /** Fraction digits every label on the axis shows. */
  readonly decimals: number;
}

const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 360;
const MIN_PLOT = 80;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const FONT_SIZE = 12;
const TITLE_SIZE = 15;
/** Baseline of the title's first line, and the distance between its lines. */
const TITLE_TOP = 22;
const TITLE_LINE = 19;
/** Baseline-to-baseline distance of wrapped legend text. */
const LINE = 15;
/** Smallest font category names shrink to before some are left out. */
const MIN_TICK_FONT = 8;
/** Text height in em that two neighbouring turned labels must leave between their baselines. */
const LINE_EM = 1.15;
/** Average glyph width in em, on the wide side so estimated label widths leave room rather than overlap. */
const CHAR_WIDTH = 0.6;
const TICK = 5;
// The page's text colour: dark on a light theme, light on a dark one. Axes and grid are it, fainter.
const INK = 'currentColor';
const AXIS_OPACITY = 0.6;
const GRID_OPACITY = 0.15;
const MAX_LABEL_CHARS = 24;
const MARKER_RADIUS = 3.5;
const DASH = '6 4';
const SIN_45 = Math.SQRT1_2;

type Scale = (value: number) => number;
type Attributes = Readonly<Record<string, string | number | undefined>>;

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface LinearAxis {
  readonly kind: 'linear';
  readonly label: string;
  readonly ticks: Ticks;
}

/** Categories sit in unit-wide bands: category i spans [i, i + 1] of a linear scale over [0, n]. */
interface CategoryAxis {
  readonly kind: 'category';
  readonly label: string;
  readonly categories: readonly string[];
}

interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly mark: 'line' | 'dashed' | 'box';
}

/** A legend entry placed: its swatch at (x, y), its text in lines. */
interface PlacedEntry {
  readonly entry: LegendEntry;
  readonly x: number;
  readonly y: number;
  readonly lines: readonly string[];
}

interface ChartSpec {
  readonly title: string;
  readonly size: ChartSize;
  readonly x: LinearAxis | CategoryAxis;
  readonly y: LinearAxis;
  readonly legend: readonly LegendEntry[];
  /** The data marks, in the chart's pixel coordinates; they are clipped to the plot area. */
  readonly draw: (x: Scale, y: Scale) => string;
}

/** Lines with a marker on every point, e.g. accuracy against the number of labels for each learner. */
export function lineChart(options: LineChartOptions): string {
  const drawable = options.series.flatMap((series) => series.points.filter(isDrawable));
  const xs = drawable.map((p) => p.x);
  const ys = drawable.map((p) => p.y);
  return renderChart({
    title: options.title,
    size: options,
    x: { kind: 'linear', label: options.xLabel, ticks: axisTicks(options.xDomain, xs) },
    y: { kind: 'linear', label: options.yLabel, ticks: axisTicks(options.yDomain, ys) },
    legend: options.series.map((series, i) => ({
      name: series.name,
      color: colorAt(i),
      mark: series.dashed ? 'dashed' : 'line',
    })),
    draw: (x, y) => options.series.map((series, i) => lineSeries(series, colorAt(i), x, y)).join(''),
  });
}

/** Bars over categories from zero, optionally stacked, e.g. images per class split by labeled/auto/suggested. */
export function barChart(options: BarChartOptions): string {
  // One colour per segment name, in order of first appearance, so "auto" is the same colour in every bar.
  const segmentNames = [...new Set(options.bars.flatMap((bar) => (bar.stack ?? []).map((segment) => segment.name)))];
  const heights = options.bars.flatMap((bar) => [bar.value, sum((bar.stack ?? []).map((segment) => segment.value))]);
  return renderChart({
    title: options.title,
    size: options,
    x: { kind: 'category', label: options.xLabel ?? '', categories: options.bars.map((bar) => bar.label) },
    y: { kind: 'linear', label: options.yLabel, ticks: zeroBasedTicks(heights) },
    legend: segmentNames.map((name, i) => ({ name, color: colorAt(i), mark: 'box' })),
    draw: (x, y) =>
      options.bars
        .map((bar, i) => {
          const left = x(i + 0.1);
          const right = x(i + 0.9);
          const whole = `${bar.label}: ${formatNumber(bar.value)}`;
          if (!bar.stack) return rect(left, right, y(0), y(bar.value), PALETTE[0], whole);
          let base = 0;
          const segments = bar.stack.map((segment) => {
            if (!Number.isFinite(segment.value)) return '';
            const from = base;
            base += segment.value;
            const tooltip = `${bar.label} · ${segment.name}: ${formatNumber(segment.value)}`;
            return rect(left, right, y(from), y(base), colorAt(segmentNames.indexOf(segment.name)), tooltip);
          });
          return el('g', { class: 'bar-stack' }, tip(whole) + segments.join(''));
        })
        .join(''),
  });
}

/** Counts over adjacent numeric ranges, e.g. how confident the suggestions are. */
export function histogram(options: HistogramOptions): string {
  const bins = options.bins.filter((bin) => Number.isFinite(bin.from) && Number.isFinite(bin.to));
  const prefix = options.name ? `${options.name} ` : '';
  const edges = bins.flatMap((bin) => [bin.from, bin.to]);
  return renderChart({
    title: options.title,
    size: options,
    x: { kind: 'linear', label: options.xLabel, ticks: axisTicks(undefined, edges) },
    y: { kind: 'linear', label: options.yLabel, ticks: zeroBasedTicks(bins.map((bin) => bin.count)) },
    legend: [],
    draw: (x, y) =>
      bins
        .filter((bin) => bin.count > 0)
        .map((bin) => {
          const tooltip = `${prefix}${formatNumber(bin.from)}–${formatNumber(bin.to)}: ${formatNumber(bin.count)}`;
          return rect(x(bin.from), x(bin.to), y(0), y(bin.count), PALETTE[0], tooltip);
        })
        .join(''),
  });
}

/** Accuracy per confidence bin against the diagonal a perfectly calibrated model would follow. */
export function reliabilityDiagram(options: ReliabilityDiagramOptions): string {
  const unit = niceTicks(0, 1, { extend: false });
  const accuracy = PALETTE[0];
  // The reference line is ink, not a class colour: it reads on either theme.
  const perfect = INK;
  return renderChart({
    title: options.title,
    size: options,
    x: { kind: 'linear', label: 'Confidence', ticks: unit },
    y: { kind: 'linear', label: 'Accuracy', ticks: unit },
    legend: [
      { name: 'Accuracy', color: accuracy, mark: 'box' },
      { name: 'Perfect calibration', color: perfect, mark: 'dashed' },
    ],
    draw: (x, y) => {
      const bars = options.bins
        .filter((bin) => bin.count > 0 && Number.isFinite(bin.accuracy))
        .map((bin) => {
          const tooltip =
            `confidence ${formatNumber(bin.from)}–${formatNumber(bin.to)}: accuracy ${formatNumber(bin.accuracy)}, ` +
            `mean confidence ${formatNumber(bin.confidence)}, n = ${formatNumber(bin.count)}`;
          return rect(x(bin.from), x(bin.to), y(0), y(bin.accuracy), accuracy, tooltip);
        });
      const diagonal = el('line', {
        class: 'diagonal',
        x1: x(0),
        y1: y(0),
        x2: x(1),
        y2: y(1),
        stroke: perfect,
        'stroke-width': 1.5,
        'stroke-dasharray': DASH,
      });
      return bars.join('') + diagonal;
    },
  });
}

/**
 * Ticks at round values (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990). With `extend`
 * (the default) the axis grows to the nearest ticks outside [min, max], so the ticks cover the data;
 * without it the axis is exactly [min, max] and the ticks fall inside.
 */
export function niceTicks(min: number, max: number, options: { extend?: boolean; count?: number } = {}): Ticks {
  const [lo, hi] = widen(min, max);
  const step = niceNumber(niceNumber(hi - lo, false) / ((options.count ?? 5) - 1), true);
  const extend = options.extend ?? true;
  // The epsilon stops 0.3 / 0.1 = 2.9999999999999996 from adding a tick below 0.3.
  const epsilon = 1e-9;
  const first = extend ? Math.floor(lo / step + epsilon) : Math.ceil(lo / step - epsilon);
  const last = extend ? Math.ceil(hi / step - epsilon) : Math.floor(hi / step + epsilon);
  // toPrecision drops the binary noise of k * step (3 * 0.1 = 0.30000000000000004).
  const values = Array.from({ length: last - first + 1 }, (_, k) => Number(((first + k) * step).toPrecision(12)));
  return {
    domain: extend ? [values[0]!, values[values.length - 1]!] : [lo, hi],
    values,
    decimals: Math.max(0, -Math.floor(Math.log10(step) + epsilon)),
  };
}

const NICE = [1, 2, 5, 10];
/** Heckbert's cut-offs for rounding to the nearest of NICE, taken on a roughly logarithmic scale. */
const ROUND_BELOW = [1.5, 3, 7, Infinity];

/** The nearest 1, 2, 5 or 10 times a power of ten: rounded, or the smallest one at least `x`. */
function niceNumber(x: number, round: boolean): number {
  const power = 10 ** Math.floor(Math.log10(x));
  const fraction = x / power;
  const index = round ? ROUND_BELOW.findIndex((limit) => fraction < limit) : NICE.findIndex((nice) => fraction <= nice);
  return NICE[index]! * power;
}

/** A non-empty range: a single value gets room around it, since an axis of zero width has no scale. */
function widen(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max > min) return [min, max];
  if (min === 0) return [0, 1];
  const pad = Math.abs(min) * 0.1;
  return [min - pad, min + pad];
}

/** Ticks over a fixed domain when given, else over the finite values (or [0, 1] when there are none). */
function axisTicks(domain: readonly [number, number] | undefined, values: readonly number[]): Ticks {
  if (domain) return niceTicks(domain[0], domain[1], { extend: false });
  // A loop, not Math.min(...values): spreading a long series overflows the call stack.
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  return min <= max ? niceTicks(min, max) : niceTicks(0, 1);
}

/** Bars and counts are read by their length, so their axis always includes zero. */
function zeroBasedTicks(values: readonly number[]): Ticks {
  return axisTicks(undefined, [0, ...values]);
}

function renderChart(spec: ChartSpec): string {
  const requestedWidth = spec.size.width ?? DEFAULT_WIDTH;
  const yLabels = tickLabels(spec.y.ticks);
  let left = FONT_SIZE + 14 + TICK + Math.max(0, ...yLabels.map((text) => textWidth(text)));
  // Room for the half of the last x tick label that hangs past the plot.
  const overhang = spec.x.kind === 'linear' ? textWidth(tickLabels(spec.x.ticks).at(-1) ?? '') / 2 : 0;
  const right = Math.max(20, overhang + 6);
  const layoutX = (): XAxis => {
    const plotWidth = Math.max(MIN_PLOT, requestedWidth - left - right);
    return spec.x.kind === 'linear' ? linearXAxis(spec.x, plotWidth) : categoryXAxis(spec.x, plotWidth);
  };
  let xAxis = layoutX();
  // Turned category names hang to the left of their bands: the first one must not leave the chart.
  if (xAxis.leftOverhang > left) {
    left = Math.ceil(xAxis.leftOverhang);
    xAxis = layoutX();
  }
  const plotWidth = xAxis.plotWidth;
  const width = left + plotWidth + right;
  const titleLines = wrapText(spec.title, width - 16, TITLE_SIZE);
  const titleBottom = TITLE_TOP + (titleLines.length - 1) * TITLE_LINE + 14;
  // The legend sits under the title, as wide as the chart, entries side by side and wrapped into rows.
  const legendBox = layoutLegend(spec.legend, left, width - 8);
  const top = titleBottom + (legendBox.height > 0 ? legendBox.height + 8 : 0);
  const axisTitle = [spec.x.label, xAxis.note].filter((text) => text !== '').join(' ');
  const bottom = TICK + 6 + xAxis.labelHeight + (axisTitle ? 8 + FONT_SIZE + 8 : 8);
  const plotHeight = Math.max(MIN_PLOT, (spec.size.height ?? DEFAULT_HEIGHT) - top - bottom);
  const height = top + plotHeight + bottom;
  const plot: Box = { x: left, y: top, width: plotWidth, height: plotHeight };
  const x = linearScale(xAxis.domain, [plot.x, plot.x + plot.width]);
  const y = linearScale(spec.y.ticks.domain, [plot.y + plot.height, plot.y]);

  const body = [
    multiline(width / 2, TITLE_TOP, titleLines, TITLE_LINE, {
      class: 'chart-title',
      'font-size': TITLE_SIZE,
      'font-weight': 600,
      'text-anchor': 'middle',
    }),
    legend(legendBox.entries, titleBottom),
    yAxis(plot, spec.y, yLabels, y),
    xAxis.render(plot, x),
    label(plot.x + plot.width / 2, height - 10, axisTitle, { 'text-anchor': 'middle', class: 'axis-title' }),
    clipped(plot, spec.draw(x, y)),
    // The frame goes over the data so bars never hide the baseline.
    el('path', {
      d: `M${n(plot.x)},${n(plot.y)}V${n(plot.y + plot.height)}H${n(plot.x + plot.width)}`,
      fill: 'none',
      stroke: INK,
      'stroke-opacity': AXIS_OPACITY,
    }),
  ];
  const root = {
    xmlns: 'http://www.w3.org/2000/svg',
    width,
    height,
    viewBox: `0 0 ${n(width)} ${n(height)}`,
    role: 'img',
    'font-family': FONT,
    'font-size': FONT_SIZE,
  };
  // <title> first: it is the accessible name, and the tooltip of the whole chart.
  return el('svg', root, tip(spec.title) + body.join(''));
}

function yAxis(plot: Box, axis: LinearAxis, labels: readonly string[], y: Scale): string {
  const ticks = axis.ticks.values.map((value, i) => {
    const at = y(value);
    const grid = el('line', { x1: plot.x, x2: plot.x + plot.width, y1: at, y2: at, ...GRID_STROKE });
    const mark = el('line', { x1: plot.x - TICK, x2: plot.x, y1: at, y2: at, ...AXIS_STROKE });
    const text = label(plot.x - TICK - 3, at, labels[i]!, { class: 'y-tick', 'text-anchor': 'end', dy: '0.32em' });
    return grid + mark + text;
  });
  const title = label(-(plot.y + plot.height / 2), 16, axis.label, {
    class: 'axis-title',
    'text-anchor': 'middle',
    transform: 'rotate(-90)',
  });
  return ticks.join('') + title;
}

const GRID_STROKE = { stroke: INK, 'stroke-opacity': GRID_OPACITY } as const;
const AXIS_STROKE = { stroke: INK, 'stroke-opacity': AXIS_OPACITY } as const;

interface XAxis {
  readonly domain: readonly [number, number];
  readonly plotWidth: number;
  /** Height the tick labels take below the tick marks. */
  readonly labelHeight: number;
  /** How far left of the plot's left edge the labels reach (turned category names), in pixels. */
  readonly leftOverhang: number;
  /** Said after the axis title, e.g. that some names were left out; '' when there is nothing to say. */
  readonly note: string;
  readonly render: (plot: Box, x: Scale) => string;
}

function linearXAxis(axis: LinearAxis, plotWidth: number): XAxis {
  const labels = tickLabels(axis.ticks);
  return {
    domain: axis.ticks.domain,
    plotWidth,
    labelHeight: FONT_SIZE,
    leftOverhang: 0,
    note: '',
    render: (plot, x) =>
      axis.ticks.values
        .map((value, i) => {
          const at = x(value);
          const bottom = plot.y + plot.height;
          const grid = el('line', { x1: at, x2: at, y1: plot.y, y2: bottom, ...GRID_STROKE });
          const mark = el('line', { x1: at, x2: at, y1: bottom, y2: bottom + TICK, ...AXIS_STROKE });
          const text = label(at, bottom + TICK + 3, labels[i]!, {
            class: 'x-tick',
            'text-anchor': 'middle',
            dy: '0.8em',
          });
          return grid + mark + text;
        })
        .join(''),
  };
}

/** How category names are set under their bands. */
export interface CategoryLabelLayout {
  /** 0: level; 45 or 90: turned that many degrees anticlockwise. */
  readonly angle: 0 | 45 | 90;
  readonly fontSize: number;
  /** Every k-th name is shown; 1 unless even the smallest font cannot fit them all. */
  readonly every: number;
}

/**
 * Every category name under its band: level when the widest fits its band, else turned 45°, else
 * upright (90°), else upright in a smaller font; only when even that overlaps is every k-th name
 * shown, and the axis says so. Long names are cut short, in full in their tooltip.
 */
export function categoryLabelLayout(names: readonly string[], band: number): CategoryLabelLayout {
  const widest = Math.max(0, ...names.map((name) => textWidth(shorten(name))));
  if (widest <= band - 4) return { angle: 0, fontSize: FONT_SIZE, every: 1 };
  // Turned labels are parallel: the distance between neighbouring baselines is band·sin(angle).
  if (band * SIN_45 >= FONT_SIZE * LINE_EM) return { angle: 45, fontSize: FONT_SIZE, every: 1 };
  if (band >= FONT_SIZE * LINE_EM) return { angle: 90, fontSize: FONT_SIZE, every: 1 };
  const fontSize = Math.max(MIN_TICK_FONT, Math.floor((band / LINE_EM) * 10) / 10);
  return { angle: 90, fontSize, every: Math.max(1, Math.ceil((fontSize * LINE_EM) / band - 1e-9)) };
}

function categoryXAxis(axis: CategoryAxis, plotWidth: number): XAxis {
  const count = Math.max(1, axis.categories.length);
  const band = plotWidth / count;
  const { angle, fontSize, every } = categoryLabelLayout(axis.categories, band);
  const scale = fontSize / FONT_SIZE;
  const widthOf = (category: string): number => textWidth(shorten(category), fontSize);
  const widest = Math.max(0, ...axis.categories.map(widthOf));
  const first = axis.categories[0] === undefined ? 0 : widthOf(axis.categories[0]);
  const shown = Math.ceil(axis.categories.length / every);
  const note =
    shown < axis.categories.length ? `(every ${ordinal(every)} of ${axis.categories.length} names shown)` : '';
  return {
    domain: [0, count],
    plotWidth,
    labelHeight: angle === 0 ? FONT_SIZE : angle === 45 ? (widest + fontSize) * SIN_45 : widest + 2 * scale,
    leftOverhang: angle === 45 ? first * SIN_45 - band / 2 + 4 : 0,
    note,
    render: (plot, x) => {
      const top = plot.y + plot.height + TICK + 3;
      const size = fontSize === FONT_SIZE ? undefined : fontSize;
      const ticks = axis.categories.map((category, i) => {
        if (i % every !== 0) return '';
        const at = x(i + 0.5);
        const turn = (dy: string) => ({
          class: 'x-tick',
          'text-anchor': 'end',
          'font-size': size,
          dy,
          transform: `rotate(-${angle} ${n(at)} ${n(top)})`,
        });
        const attributes =
          angle === 0
            ? { class: 'x-tick', 'text-anchor': 'middle', dy: '0.8em' }
            : turn(angle === 45 ? '0.8em' : '0.32em');
        return shortLabel(at, top, category, attributes);
      });
      const why = note
        ? tip(`Too many classes to name each one: ${note.slice(1, -1)}; each bar's tooltip names its class.`)
        : '';
      return el('g', { class: 'x-ticks' }, why + ticks.join(''));
    },
  };
}

/**
 * Legend entries left to right from `left`, wrapped into a new row when the next would pass `right`;
 * a name wider than the whole row is wrapped into lines itself. Nothing is cut short.
 */
function layoutLegend(
  entries: readonly LegendEntry[],
  left: number,
  right: number,
): { entries: PlacedEntry[]; height: number } {
  if (entries.length < 2) return { entries: [], height: 0 };
  const placed: PlacedEntry[] = [];
  const available = Math.max(60, right - left);
  let x = left;
  let y = 0;
  let rowHeight = 0;
  for (const entry of entries) {
    const lines = wrapText(entry.name, available - legendTextOffset(entry), FONT_SIZE);
    const width = legendTextOffset(entry) + Math.max(...lines.map((line) => textWidth(line)));
    if (x > left && x + width > left + available) {
      x = left;
      y += rowHeight;
      rowHeight = 0;
    }
    placed.push({ entry, x, y, lines });
    rowHeight = Math.max(rowHeight, lines.length * LINE + 5);
    x += width + 16;
  }
  return { entries: placed, height: y + rowHeight };
}

function legendTextOffset(entry: LegendEntry): number {
  return entry.mark === 'box' ? 20 : 26;
}

/** A key to the colours, drawn only when there is more than one series to tell apart. */
function legend(entries: readonly PlacedEntry[], top: number): string {
  if (entries.length === 0) return '';
  const rows = entries.map(({ entry, x: left, y, lines }) => {
    const middle = top + y + 8;
    const swatch =
      entry.mark === 'box'
        ? el('rect', { x: left, y: middle - 6, width: 14, height: 12, fill: entry.color })
        : el('line', {
            x1: left,
            x2: left + 20,
            y1: middle,
            y2: middle,
            stroke: entry.color,
            'stroke-width': 2,
            'stroke-dasharray': entry.mark === 'dashed' ? DASH : undefined,
          });
    const text = multiline(left + legendTextOffset(entry), middle, lines, LINE, { dy: '0.32em' });
    return el('g', {}, swatch + text);
  });
  return el('g', { class: 'legend' }, rows.join(''));
}

function lineSeries(series: LineSeries, color: string, x: Scale, y: Scale): string {
  // A point that cannot be drawn ends the current run of points, leaving a visible gap.
  const runs: Point[][] = [[]];
  for (const point of series.points) {
    if (isDrawable(point)) runs[runs.length - 1]!.push(point);
    else if (runs[runs.length - 1]!.length > 0) runs.push([]);
  }
  const d = runs
    .filter((run) => run.length > 0)
    .map((run) => 'M' + run.map((p) => `${n(x(p.x))},${n(y(p.y))}`).join('L'))
    .join('');
  const dash = series.dashed ? DASH : undefined;
  const line = d ? el('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash }) : '';
  const markers = series.points.filter(isDrawable).map((p) => {
    const tooltip = `${series.name}: ${formatNumber(p.x)}, ${formatNumber(p.y)}`;
    // The white ring parts a marker from its line; pages recolour it to their background (class marker).
    const attributes = { class: 'marker', cx: x(p.x), cy: y(p.y), r: MARKER_RADIUS, fill: color, stroke: '#ffffff' };
    return el('circle', attributes, tip(tooltip));
  });
  return el('g', { class: 'series', 'data-series': series.name }, line + markers.join(''));
}

/**
 * A bar between two x and two y pixel positions, in either order, with a tooltip. Its white edge parts
 * neighbouring bars; pages recolour it to their background (class bar).
 */
function rect(x0: number, x1: number, y0: number, y1: number, fill: string, tooltip: string): string {
  if (![x0, x1, y0, y1].every(Number.isFinite)) return '';
  const attributes = {
    class: 'bar',
    x: Math.min(x0, x1),
    y: Math.min(y0, y1),
    width: Math.abs(x1 - x0),
    height: Math.abs(y1 - y0),
    fill,
    stroke: '#ffffff',
    'stroke-width': 0.5,
  };
  return el('rect', attributes, tip(tooltip));
}

/**
 * Data marks inside a nested <svg>, which clips to its viewport: lines past a fixed domain stop at the
 * plot's edge. A clipPath would need an id, and ids clash when several charts share one HTML page. The
 * margin keeps markers on the edge whole.
 */
function clipped(plot: Box, content: string): string {
  const margin = MARKER_RADIUS + 1.5;
  const [x, y, width, height] = [plot.x - margin, plot.y - margin, plot.width + 2 * margin, plot.height + 2 * margin];
  const viewBox = `${n(x)} ${n(y)} ${n(width)} ${n(height)}`;
  return el('svg', { x, y, width, height, viewBox, overflow: 'hidden' }, content);
}

function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  const k = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * k;
}

/**
 * An element with escaped attribute values; `content` is markup. Every string that reaches the SVG
 * passes through here or `label`, so escaping is not left to each caller.
 */
function el(name: string, attributes: Attributes, content = ''): string {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) open += ` ${key}="${typeof value === 'number' ? n(value) : escapeXml(value)}"`;
  }
  return content === '' ? `${open}/>` : `${open}>${content}</${name}>`;
}

function label(x: number, y: number, text: string, attributes: Attributes): string {
  return text === '' ? '' : el('text', { x, y, fill: INK, ...attributes }, escapeXml(text));
}

/** Text of one line as is; of several, one <tspan> per line, each `step` pixels under the last. */
function multiline(x: number, y: number, lines: readonly string[], step: number, attributes: Attributes): string {
  if (lines.length <= 1) return label(x, y, lines[0] ?? '', attributes);
  const spans = lines.map((line, i) => el('tspan', { x, dy: i === 0 ? undefined : step }, escapeXml(line)));
  return el('text', { x, y, fill: INK, ...attributes }, spans.join(''));
}

/**
 * Text broken at spaces into lines no wider than `maxWidth` (by the estimated glyph width); a word
 * wider than a line on its own is broken inside. Always at least one line.
 */
export function wrapText(text: string, maxWidth: number, size = FONT_SIZE): string[] {
  const perLine = Math.max(4, Math.floor(maxWidth / (size * CHAR_WIDTH)));
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter((w) => w !== '')) {
    while (word.length > perLine) {
      if (line) lines.push(line);
      lines.push(word.slice(0, perLine));
      word = word.slice(perLine);
      line = '';
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= perLine) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** 2nd, 3rd, 4th, 11th, 21st. */
function ordinal(k: number): string {
  const teen = k % 100 >= 11 && k % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return `${k}${suffix}`;
}

/** A label cut short when long, with the whole text in its tooltip. */
function shortLabel(x: number, y: number, text: string, attributes: Attributes): string {
  const shown = shorten(text);
  return el('text', { x, y, fill: INK, ...attributes }, escapeXml(shown) + (shown === text ? '' : tip(text)));
}

function tip(text: string): string {
  return `<title>${escapeXml(text)}</title>`;
}

/** Pixel coordinates to two decimals: sharp enough on any screen, and half the bytes. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Tick labels with the same number of fraction digits, so `0.0, 0.5, 1.0` line up. */
function tickLabels(ticks: Ticks): string[] {
  const digits = { minimumFractionDigits: ticks.decimals, maximumFractionDigits: ticks.decimals };
  return ticks.values.map((value) => value.toLocaleString('en-US', digits));
}

function textWidth(text: string, size = FONT_SIZE): number {
  return text.length * size * CHAR_WIDTH;
}

function shorten(text: string): string {
  return text.length <= MAX_LABEL_CHARS ? text : `${text.slice(0, MAX_LABEL_CHARS - 1)}…`;
}

function isDrawable(point: Point): boolean {
  return Number.isFinite(point.x) && Number.isFinite(point.y);
}

function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
