/**
 * @module What the writers say of each export record (its status, label, confidence, origin,
 * runner-up, fit: derived here once, so csv, json, jsonl, coco, label-studio and cvat agree), how a
 * file writer streams its rows as text, and how a label's provenance is spelled.
 */
import { hasSuggestion, imageStatus, type ImageStatus, type LabelOrigin } from '../domain/index.js';
import type { ExportRecord } from '../store/store.js';
import type { WriteContext } from './format.js';

/** What an export record says of its image's class, for every writer. */
export interface RecordFields {
  /** See `ImageStatus` (domain/status.ts). */
  readonly status: ImageStatus;
  /** The current suggestion where it is the image's class (status auto or suggested), else null. */
  readonly suggestion: ExportRecord['suggestion'];
  /** The label, else that suggestion's label, else null. */
  readonly label: string | null;
  /** A label's confidence (an accepted suggestion's), else the current suggestion's, else null. */
  readonly confidence: number | null;
  /** For suggestions: the second most likely class and its probability. */
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: number | null;
  /** For suggestions: the fit (model version) that made it. */
  readonly fit: number | null;
}

export function recordFields(row: ExportRecord): RecordFields {
  const status = imageStatus(row);
  const suggestion = hasSuggestion(status) ? row.suggestion : null;
  return {
    status,
    suggestion,
    label: row.label ?? suggestion?.label ?? null,
    confidence: row.label !== null ? row.confidence : (row.suggestion?.confidence ?? null),
    runnerUp: suggestion?.runnerUp ?? null,
    runnerUpConfidence: suggestion?.runnerUpConfidence ?? null,
    fit: suggestion?.fitId ?? null,
  };
}

/** One image as csv and json write it. */
export interface ExportedImage {
  readonly image: string;
  /** The label, else the suggested label, else null. */
  readonly label: string | null;
  /** See `ImageStatus` (domain/status.ts). */
  readonly status: ImageStatus;
  /** How a person's label was chosen (see LabelOrigin); null for suggestions and accepted ones. */
  readonly origin: LabelOrigin | null;
  /** The `next` strategy, the check draw, or an imported label's origin where it came from. */
  readonly originDetail: string | null;
  /** A suggestion's (or an accepted one's) calibrated confidence, to 4 decimals. */
  readonly confidence: number | null;
  /** For suggestions: the second most likely class and its probability. */
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: number | null;
  /** For suggestions: the fit (model version) that made it. */
  readonly fit: number | null;
  readonly width: number | null;
  readonly height: number | null;
}

const round4 = (value: number | null): number | null => (value === null ? null : Number(value.toFixed(4)));

export function toExported(row: ExportRecord): ExportedImage {
  const fields = recordFields(row);
  return {
    image: row.path,
    label: row.label,
    status: fields.status,
    origin: row.origin,
    originDetail: row.originDetail,
    confidence: round4(row.confidence),
    runnerUp: fields.runnerUp,
    runnerUpConfidence: round4(fields.runnerUpConfidence),
    fit: fields.fit,
    width: row.width,
    height: row.height,
  };
}

/** Rows a file writer renders before it yields them and reports progress. */
export const ROWS_PER_CHUNK = 256;

/**
 * A file writer's body: each row rendered (`index` counts from 0, for separators and ids), yielded
 * `ROWS_PER_CHUNK` rows at a time as progress is reported; `tail` ends the last chunk.
 */
export async function* renderedChunks(
  rows: AsyncIterable<ExportRecord>,
  ctx: WriteContext,
  render: (row: ExportRecord, index: number) => string,
  tail = '',
): AsyncGenerator<string> {
  let chunk = '';
  let count = 0;
  let index = 0;
  for await (const row of rows) {
    chunk += render(row, index++);
    if (++count === ROWS_PER_CHUNK) {
      ctx.advance(count);
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  ctx.advance(count);
  if (chunk + tail !== '') yield chunk + tail;
}

/**
 * A label's provenance as another workspace keeps it: its origin with the detail ("next: uncertain",
 * "verify: draw 3", "chosen"); a label imported already keeps the provenance it was imported with.
 */
export function provenanceOf(origin: string | null | undefined, detail: string | null | undefined): string | null {
  const o = origin?.trim() || null;
  const d = detail?.trim() || null;
  if (o === null || o === 'import') return d;
  return d === null ? o : `${o}: ${d}`;
}
