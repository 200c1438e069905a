/**
 * @module The SQL of the PostgreSQL Store that differs from SQLite's, or is shared by several methods:
 * projections over images with their labels and suggestions (the status derivation itself is SQLite's
 * `IMAGE_STATUS_SQL`, written once), and filters with numbered parameters.
 */
import type { ExportFilter } from '../store.js';
import { IMAGE_STATUS_SQL, IMAGES_LABELS_SUGGESTIONS } from '../sqlite/statements.js';

export { IMAGE_STATUS_SQL, IMAGES_LABELS_SUGGESTIONS };

/** The image `i` is not excluded from learning and export (the audit's `exclude`). */
export const NOT_EXCLUDED_SQL = 'NOT EXISTS (SELECT 1 FROM excluded_images x WHERE x.image_id = i.id)';

/** What `queryImages` filters and sorts: one row per image that is not skipped (columns of `ImageItemRow`). */
export const IMAGE_ITEMS = `SELECT i.id, i.path, i.width, i.height, ${IMAGE_STATUS_SQL} AS status,
    coalesce(l.label, s.label) AS label,
    CASE WHEN l.label IS NULL OR l.source = 'accepted' THEN coalesce(l.confidence, s.confidence) END AS confidence,
    CASE WHEN l.label IS NULL THEN s.runner_up END AS runner_up,
    CASE WHEN l.label IS NULL THEN s.runner_up_confidence END AS runner_up_confidence,
    l.origin
  FROM ${IMAGES_LABELS_SUGGESTIONS}
  WHERE i.skip_reason IS NULL`;

/** What `exportRecords` reads: one row per image that is not excluded, skipped ones included (columns of `ExportRecordRow`). */
export const EXPORT_RECORDS = `SELECT i.id, i.path, i.content_hash, i.skip_reason, i.width, i.height,
    ${IMAGE_STATUS_SQL} AS status,
    coalesce(l.label, s.label) AS label, l.source, l.origin, l.origin_detail, l.updated_at AS labeled_at,
    CASE WHEN l.label IS NULL THEN s.status END AS suggestion_status,
    CASE WHEN l.label IS NULL THEN s.confidence ELSE l.confidence END AS confidence,
    s.label AS s_label, s.confidence AS s_confidence, s.runner_up AS s_runner_up,
    s.runner_up_confidence AS s_runner_up_confidence, s.status AS s_status, s.fit_id AS s_fit_id
  FROM ${IMAGES_LABELS_SUGGESTIONS}
  WHERE ${NOT_EXCLUDED_SQL}`;

export const EXPORT_ROWS = `SELECT i.path, coalesce(l.label, s.label) AS label, l.source, l.origin,
    CASE WHEN l.label IS NULL THEN s.status END AS suggestion_status,
    CASE WHEN l.label IS NULL THEN s.confidence ELSE l.confidence END AS confidence, i.width, i.height
  FROM ${IMAGES_LABELS_SUGGESTIONS}
  WHERE ${NOT_EXCLUDED_SQL}
  ORDER BY i.path`;

/** A check with its image's path and its answer (a person's label, not an accepted suggestion). */
export const CHECK_SELECT = `SELECT c.*, i.path, l.label AS answer, l.updated_at AS answered_at
  FROM checks c JOIN images i ON i.id = c.image_id
  LEFT JOIN labels l ON l.image_id = c.image_id AND l.source != 'accepted'`;

/** Every class (added, or named by a label or suggestion); each image counts once, under its label or else its suggestion's. */
export const LIST_CLASSES = `WITH names AS (SELECT name FROM classes UNION SELECT label FROM labels UNION SELECT label FROM suggestions),
    counted AS (SELECT coalesce(l.label, s.label) AS label, ${IMAGE_STATUS_SQL} AS status FROM ${IMAGES_LABELS_SUGGESTIONS}),
    tally AS (SELECT label, count(*) FILTER (WHERE status = 'labeled') AS labeled,
                count(*) FILTER (WHERE status = 'accepted') AS accepted,
                count(*) FILTER (WHERE status = 'auto') AS auto,
                count(*) FILTER (WHERE status = 'suggested') AS suggested
              FROM counted WHERE label IS NOT NULL GROUP BY label)
  SELECT n.name, coalesce(t.labeled, 0)::int AS labeled, coalesce(t.accepted, 0)::int AS accepted,
    coalesce(t.auto, 0)::int AS auto, coalesce(t.suggested, 0)::int AS suggested
  FROM names n LEFT JOIN tally t ON t.label = n.name
  ORDER BY n.name`;

/** Numbered parameters, collected as a statement's conditions are written. */
export class Params {
  readonly values: unknown[] = [];
  constructor(first: readonly unknown[] = []) {
    this.values.push(...first);
  }
  /** Adds a value; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** An export filter as AND-ed conditions over `EXPORT_RECORDS`' columns. */
export function exportFilterSql(filter: ExportFilter, params: Params): string {
  const conditions: string[] = [];
  if (filter.status !== undefined) conditions.push(`status = ANY(${params.add([...filter.status])}::text[])`);
  if (filter.label !== undefined) conditions.push(`label = ANY(${params.add([...filter.label])}::text[])`);
  if (filter.minConfidence !== undefined) conditions.push(`confidence >= ${params.add(filter.minConfidence)}`);
  if (filter.maxConfidence !== undefined) conditions.push(`confidence <= ${params.add(filter.maxConfidence)}`);
  return conditions.map((c) => `AND ${c}`).join(' ');
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters a statement. */
export function rowsPerInsert(columns: number): number {
  return Math.floor(60_000 / columns);
}

/**
 * `($1, $2), ($3, $4), ...` for `rows` rows of `columns` parameters, numbered from `first`, each cast to
 * its column's type where given (a VALUES list that is not an INSERT's has no column types to go by).
 */
export function valuesList(
  rows: number,
  columns: number,
  { first = 1, casts = [] }: { first?: number; casts?: readonly string[] } = {},
): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < columns; c++) {
      const cast = casts[c] === undefined ? '' : `::${casts[c]}`;
      row.push(`$${first + r * columns + c}${cast}`);
    }
    out.push(`(${row.join(', ')})`);
  }
  return out.join(', ');
}
