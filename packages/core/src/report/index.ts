/** @module Report: dependency-free SVG charts and a self-contained HTML page to put them in. */
export {
  barChart,
  histogram,
  lineChart,
  niceTicks,
  PALETTE,
  reliabilityDiagram,
  type Bar,
  type BarChartOptions,
  type BarSegment,
  type ChartSize,
  type HistogramBin,
  type HistogramOptions,
  type LineChartOptions,
  type LineSeries,
  type Point,
  type ReliabilityDiagramOptions,
  type Ticks,
} from './svg.js';
export { reportHtml, type Cell, type ReportOptions, type ReportSection, type ReportTable } from './html.js';
export { escapeXml, formatNumber } from './text.js';
