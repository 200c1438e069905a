/** @module Label formats: the registry, the export use case, the checklist, and the filter vocabulary. */
export * from './registry.js';
export { exportLabels, type ByteSink, type ExportOptions, type ExportResult } from './export.js';
export type { LabelEntry, LabelFormat, ImageRef, ReadOptions } from './format.js';
export type { ExportedImage } from './rows.js';
export { ExportFilterSchema, parseWhere, bothFilters, checkFilter } from './where.js';
export { DEFAULT_SPLIT, parseSplit, SPLIT_NAMES } from './split.js';
export { checklistChunks, CHECKLIST_COLUMNS } from './checklist.js';
export { CSV_COLUMNS } from './csv.js';
