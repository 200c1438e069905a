/**
 * @module @autolabel/core/charts: dependency-free SVG charts and a self-contained HTML page to put them in.
 * Browser-safe (strings in, strings out), so the web app bundles them; the workspace's HTML report uses them too.
 */
export {
  barChart,
  categoryLabelLayout,
  histogram,
  lineChart,
  niceTicks,
  PALETTE,
  reliabilityDiagram,
  type Bar,
  type BarChartOptions,
  type BarSegment,
  type CategoryLabelLayout,
  type ChartSize,
  type HistogramBin,
  type HistogramOptions,
  type LineChartOptions,
  type LineSeries,
  type Point,
  type ReliabilityDiagramOptions,
  type Ticks,
  wrapText,
} from './svg.js';
export { timeUnitFor, type TimeUnit } from './time.js';
export {
  reportHtml,
  type Cell,
  type GalleryGroup,
  type GalleryItem,
  type ReportOptions,
  type ReportSection,
  type ReportTable,
} from './html.js';
export { escapeXml, formatNumber } from './text.js';
