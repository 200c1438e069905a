/** @module Exporting what the workspace knows: one row per image, as CSV or JSON. */
import type { ExportRow, LabelOrigin } from '../store/store.js';
import { formatCsvRow } from './csv.js';

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * `labeled`: a person's label; `accepted`: a suggestion a person accepted; `auto`: a suggestion that
 * meets the precision target, not yet accepted; `suggested`: any other suggestion; `unlabeled`: nothing.
 */
export const LABEL_STATUSES = ['labeled', 'accepted', 'auto', 'suggested', 'unlabeled'] as const;
export type LabelStatus = (typeof LABEL_STATUSES)[number];

export interface ExportedImage {
  readonly image: string;
  readonly label: string | null;
  readonly status: LabelStatus;
  /** How a person's label was chosen (see LabelOrigin); null for suggestions and accepted ones. */
  readonly origin: LabelOrigin | null;
  readonly confidence: number | null;
  readonly width: number | null;
  readonly height: number | null;
}

export function toExported(row: ExportRow): ExportedImage {
  return {
    image: row.path,
    label: row.label,
    status: statusOf(row),
    origin: row.origin,
    confidence: row.confidence === null ? null : Number(row.confidence.toFixed(4)),
    width: row.width,
    height: row.height,
  };
}

function statusOf(row: ExportRow): LabelStatus {
  if (row.source === 'accepted') return 'accepted';
  if (row.source !== null) return 'labeled';
  return row.suggestionStatus ?? 'unlabeled';
}

export function* csvChunks(rows: readonly ExportRow[]): Generator<string> {
  yield formatCsvRow(['image', 'label', 'status', 'confidence', 'origin']);
  for (const row of rows) {
    const image = toExported(row);
    yield formatCsvRow([image.image, image.label, image.status, image.confidence, image.origin]);
  }
}

export function* jsonChunks(rows: readonly ExportRow[]): Generator<string> {
  const images = rows.map(toExported);
  const classes = [...new Set(images.flatMap((image) => (image.label === null ? [] : [image.label])))].sort();
  yield `{\n  "version": 1,\n  "classes": ${JSON.stringify(classes)},\n  "images": [`;
  for (let i = 0; i < images.length; i++) yield `${i === 0 ? '' : ','}\n    ${JSON.stringify(images[i])}`;
  yield '\n  ]\n}\n';
}
