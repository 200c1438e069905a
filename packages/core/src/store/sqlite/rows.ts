/** @module Rows as SQLite returns them (snake_case columns), and their mappers to the Store's records. */
import type {
  ImageId,
  ImageStatus,
  LabelOrigin,
  LabelSource,
  SkipReason,
  SuggestionStatus,
} from '../../domain/index.js';
import type {
  CheckDrawRecord,
  CheckRecord,
  ExportRecord,
  ExportRow,
  FitRecord,
  ImageItem,
  ImageRecord,
  LabelRecord,
  PendingEmbedding,
  SuggestionRecord,
} from '../store.js';

export interface ImageRow {
  id: number;
  path: string;
  content_hash: string;
  size: number;
  mtime_ms: number;
  width: number | null;
  height: number | null;
  format: string | null;
  skip_reason: string | null;
  skip_detail: string | null;
}

export function toImage(row: ImageRow): ImageRecord {
  return {
    id: row.id as ImageId,
    path: row.path,
    contentHash: row.content_hash,
    size: row.size,
    mtimeMs: row.mtime_ms,
    width: row.width,
    height: row.height,
    format: row.format,
    skipReason: row.skip_reason as SkipReason | null,
    skipDetail: row.skip_detail,
  };
}

export interface PendingRow {
  id: number;
  path: string;
  content_hash: string;
  width: number | null;
  height: number | null;
}

export function toPending(row: PendingRow): PendingEmbedding {
  return {
    id: row.id as ImageId,
    path: row.path,
    contentHash: row.content_hash,
    width: row.width,
    height: row.height,
  };
}

export interface LabelRow {
  image_id: number;
  path: string;
  label: string;
  source: string;
  created_at: string;
  updated_at: string;
  confidence: number | null;
  origin: string | null;
  origin_detail: string | null;
}

export function toLabel(row: LabelRow): LabelRecord {
  return {
    imageId: row.image_id as ImageId,
    path: row.path,
    label: row.label,
    source: row.source as LabelSource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    confidence: row.confidence,
    origin: row.origin as LabelOrigin | null,
    originDetail: row.origin_detail,
  };
}

export interface FitRow {
  id: number;
  model_id: string;
  classes: string;
  labels: number;
  summary: string;
  head: Buffer;
  created_at: string;
}

export function toFit(row: FitRow): FitRecord {
  return {
    id: row.id,
    modelId: row.model_id,
    classes: JSON.parse(row.classes) as string[],
    labels: row.labels,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
    head: new Uint8Array(row.head),
    createdAt: row.created_at,
  };
}

export interface SuggestionRow {
  image_id: number;
  path: string;
  fit_id: number;
  label: string;
  confidence: number;
  runner_up: string | null;
  runner_up_confidence: number | null;
  status: string;
}

export function toSuggestion(row: SuggestionRow): SuggestionRecord {
  return {
    imageId: row.image_id as ImageId,
    path: row.path,
    fitId: row.fit_id,
    label: row.label,
    confidence: row.confidence,
    runnerUp: row.runner_up,
    runnerUpConfidence: row.runner_up_confidence,
    status: row.status as SuggestionStatus,
  };
}

export interface ExportQueryRow {
  path: string;
  label: string | null;
  source: string | null;
  origin: string | null;
  suggestion_status: string | null;
  confidence: number | null;
  width: number | null;
  height: number | null;
}

export function toExportRow(row: ExportQueryRow): ExportRow {
  return {
    path: row.path,
    label: row.label,
    source: row.source as LabelSource | null,
    origin: row.origin as LabelOrigin | null,
    suggestionStatus: row.suggestion_status as SuggestionStatus | null,
    confidence: row.confidence,
    width: row.width,
    height: row.height,
  };
}

export interface ExportRecordRow extends ExportQueryRow {
  id: number;
  content_hash: string;
  skip_reason: string | null;
  origin_detail: string | null;
  labeled_at: string | null;
  s_label: string | null;
  s_confidence: number | null;
  s_runner_up: string | null;
  s_runner_up_confidence: number | null;
  s_status: string | null;
  s_fit_id: number | null;
}

export function toExportRecord(row: ExportRecordRow): ExportRecord {
  return {
    ...toExportRow(row),
    id: row.id as ImageId,
    contentHash: row.content_hash,
    skipReason: row.skip_reason as SkipReason | null,
    originDetail: row.origin_detail,
    labeledAt: row.labeled_at,
    suggestion:
      row.s_label === null
        ? null
        : {
            label: row.s_label,
            confidence: row.s_confidence!,
            runnerUp: row.s_runner_up,
            runnerUpConfidence: row.s_runner_up_confidence,
            status: row.s_status as SuggestionStatus,
            fitId: row.s_fit_id!,
          },
  };
}

export interface ImageItemRow {
  id: number;
  path: string;
  width: number | null;
  height: number | null;
  status: ImageStatus;
  label: string | null;
  confidence: number | null;
  runner_up: string | null;
  runner_up_confidence: number | null;
  origin: string | null;
}

export function toImageItem(row: ImageItemRow): ImageItem {
  return {
    id: row.id as ImageId,
    path: row.path,
    width: row.width,
    height: row.height,
    status: row.status,
    label: row.label,
    confidence: row.confidence,
    runnerUp: row.runner_up,
    runnerUpConfidence: row.runner_up_confidence,
    origin: row.origin as LabelOrigin | null,
  };
}

export interface CheckDrawRow {
  id: number;
  fit_id: number;
  target_precision: number;
  seed: number;
  strata: string;
  created_at: string;
}

export function toCheckDraw(row: CheckDrawRow): CheckDrawRecord {
  return {
    id: row.id,
    fitId: row.fit_id,
    targetPrecision: row.target_precision,
    seed: row.seed,
    strata: JSON.parse(row.strata) as CheckDrawRecord['strata'],
    createdAt: row.created_at,
  };
}

export interface CheckRow {
  id: number;
  draw_id: number;
  image_id: number;
  path: string;
  position: number;
  stratum: number;
  suggested: string;
  confidence: number;
  claimed_by: string | null;
  skipped_at: string | null;
  retired_fit: number | null;
  answer: string | null;
  answered_at: string | null;
}

export function toCheck(row: CheckRow): CheckRecord {
  return {
    id: row.id,
    drawId: row.draw_id,
    imageId: row.image_id as ImageId,
    path: row.path,
    position: row.position,
    stratum: row.stratum,
    suggested: row.suggested,
    confidence: row.confidence,
    answer: row.answer,
    answeredAt: row.answered_at,
    skipped: row.skipped_at !== null,
    claimedBy: row.claimed_by,
    retiredByFit: row.retired_fit,
  };
}
