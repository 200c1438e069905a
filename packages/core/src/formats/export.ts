/** @module Exporting what the workspace knows: one row per image, as CSV or JSON. */
import { imageStatus, type ImageStatus, type LabelOrigin } from '../domain/index.js';
import type { ExportRow } from '../store/store.js';
import { formatCsvRow } from './csv.js';

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportedImage {
  readonly image: string;
  readonly label: string | null;
  /** See `ImageStatus` (domain/status.ts). */
  readonly status: ImageStatus;
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
    status: imageStatus(row),
    origin: row.origin,
    confidence: row.confidence === null ? null : Number(row.confidence.toFixed(4)),
    width: row.width,
    height: row.height,
  };
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
