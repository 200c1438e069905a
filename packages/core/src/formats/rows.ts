/** @module What the tabular formats (csv, json) write per image, and how a label's provenance is spelled. */
import { imageStatus, type ImageStatus, type LabelOrigin } from '../domain/index.js';
import type { ExportRecord } from '../store/store.js';

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
  const status = imageStatus(row);
  const suggestion = status === 'auto' || status === 'suggested' ? row.suggestion : null;
  return {
    image: row.path,
    label: row.label,
    status,
    origin: row.origin,
    originDetail: row.originDetail,
    confidence: round4(row.confidence),
    runnerUp: suggestion?.runnerUp ?? null,
    runnerUpConfidence: round4(suggestion?.runnerUpConfidence ?? null),
    fit: suggestion?.fitId ?? null,
    width: row.width,
    height: row.height,
  };
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
