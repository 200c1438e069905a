/** @module The SQL of the SQLite Store: its prepared statements, and the projections queries share. */
import type Database from 'better-sqlite3';
import type { ClassInfo } from '../store.js';
import type { ImageStatus, LabelSource, SkipReason, SuggestionStatus } from '../../domain/index.js';
import type {
  CheckDrawRow,
  CheckRow,
  ExportQueryRow,
  FitRow,
  ImageRow,
  LabelRow,
  PendingRow,
  SuggestionRow,
} from './rows.js';

/** Every image with its label (`l`) and its current suggestion (`s`), either of which may be missing. */
export const IMAGES_LABELS_SUGGESTIONS =
  'images i LEFT JOIN labels l ON l.image_id = i.id LEFT JOIN suggestions s ON s.image_id = i.id';

/**
 * An image's status over `IMAGES_LABELS_SUGGESTIONS`: the SQL twin of `imageStatus` (domain/status.ts),
 * written once here for every query that needs it.
 */
export const IMAGE_STATUS_SQL = `CASE WHEN l.source = 'accepted' THEN 'accepted' WHEN l.label IS NOT NULL THEN 'labeled'
  WHEN s.status IS NOT NULL THEN s.status ELSE 'unlabeled' END`;

/** The image `i` is not excluded from learning and export (the audit's `exclude`). */
const NOT_EXCLUDED_SQL = 'NOT EXISTS (SELECT 1 FROM excluded_images x WHERE x.image_id = i.id)';

/** What `queryImages` filters and sorts: one row per image that is not skipped (columns of `ImageItemRow`). */
const IMAGE_ITEMS = `SELECT i.id, i.path, i.width, i.height, ${IMAGE_STATUS_SQL} AS status,
    coalesce(l.label, s.label) AS label,
    CASE WHEN l.label IS NULL OR l.source = 'accepted' THEN coalesce(l.confidence, s.confidence) END AS confidence,
    CASE WHEN l.label IS NULL THEN s.runner_up END AS runner_up,
    CASE WHEN l.label IS NULL THEN s.runner_up_confidence END AS runner_up_confidence,
    l.origin
  FROM ${IMAGES_LABELS_SUGGESTIONS}
  WHERE i.skip_reason IS NULL`;

/** How many image items match `filter` (a WHERE clause over `IMAGE_ITEMS`, or ''). */
export function countImageItemsSql(filter: string): string {
  return `SELECT count(*) AS n FROM (${IMAGE_ITEMS}) ${filter}`;
}

/** One page (`@limit`, `@offset`) of the image items matching `filter`, in `order`. */
export function imageItemsPageSql(filter: string, order: string): string {
  return `SELECT * FROM (${IMAGE_ITEMS}) ${filter} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
}

/** What `exportRecords` reads: one row per image, skipped ones included (columns of `ExportRecordRow`). */
const EXPORT_RECORDS = `SELECT i.id, i.path, i.content_hash, i.skip_reason, i.width, i.height, ${IMAGE_STATUS_SQL} AS status,
    coalesce(l.label, s.label) AS label, l.source, l.origin, l.origin_detail, l.updated_at AS labeled_at,
    CASE WHEN l.label IS NULL THEN s.status END AS suggestion_status,
    CASE WHEN l.label IS NULL THEN s.confidence ELSE l.confidence END AS confidence,
    s.label AS s_label, s.confidence AS s_confidence, s.runner_up AS s_runner_up,
    s.runner_up_confidence AS s_runner_up_confidence, s.status AS s_status, s.fit_id AS s_fit_id
  FROM ${IMAGES_LABELS_SUGGESTIONS}
  WHERE ${NOT_EXCLUDED_SQL}`;

/** One page (`@limit` rows after path `@after`) of the export records matching `filter` (AND-ed conditions, or ''). */
export function exportRecordsPageSql(filter: string): string {
  return `SELECT * FROM (${EXPORT_RECORDS}) WHERE path > @after ${filter} ORDER BY path LIMIT @limit`;
}

/** How many export records match `filter` (AND-ed conditions, or ''). */
export function countExportRecordsSql(filter: string): string {
  return `SELECT count(*) AS n FROM (${EXPORT_RECORDS}) WHERE 1 ${filter}`;
}

/** A check with its image's path and its answer (a person's label, not an accepted suggestion). */
const CHECK_SELECT = `SELECT c.*, i.path, l.label AS answer, l.updated_at AS answered_at
  FROM checks c JOIN images i ON i.id = c.image_id
  LEFT JOIN labels l ON l.image_id = c.image_id AND l.source != 'accepted'`;

/** SQL text, with the parameters it binds and the row it returns (types only, for `prepareStatements`). */
interface Query<Params extends unknown[] | object, Row> {
  readonly sql: string;
  readonly shape?: [Params, Row];
}

function query<Params extends unknown[] | object = unknown[], Row = unknown>(sql: string): Query<Params, Row> {
  return { sql };
}

/** Every fixed statement of the Store. */
const QUERIES = {
  allImages: query<[], ImageRow>('SELECT * FROM images ORDER BY id'),
  imageByPath: query<[string], ImageRow>('SELECT * FROM images WHERE path = ?'),
  imagesByHash: query<[string], ImageRow>('SELECT * FROM images WHERE content_hash = ? ORDER BY id'),
  imageById: query<[number], ImageRow>('SELECT * FROM images WHERE id = ?'),
  upsertImage: query(
    `INSERT INTO images (path, content_hash, size, mtime_ms, width, height, format, skip_reason, skip_detail)
     VALUES (@path, @contentHash, @size, @mtimeMs, @width, @height, @format, @skipReason, @skipDetail)
     ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size,
       mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
       format = excluded.format, skip_reason = excluded.skip_reason, skip_detail = excluded.skip_detail`,
  ),
  labelOfPath: query<[string], { image_id: number; content_hash: string }>(
    'SELECT l.image_id, i.content_hash FROM labels l JOIN images i ON i.id = l.image_id WHERE i.path = ?',
  ),
  moveImage: query<[string, number, number]>('UPDATE images SET path = ?, mtime_ms = ? WHERE id = ?'),
  removeImage: query<[number]>('DELETE FROM images WHERE id = ?'),

  registerModel: query<[string, string, number]>(
    `INSERT INTO models (id, spec, dim) VALUES (?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, dim = excluded.dim`,
  ),
  modelDim: query<[string], { dim: number }>('SELECT dim FROM models WHERE id = ?'),
  countPending: query<[string], { n: number }>(
    `SELECT count(DISTINCT content_hash) AS n FROM images i WHERE skip_reason IS NULL AND NOT EXISTS
       (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = ?)`,
  ),
  listPending: query<{ model: string; after: number; limit: number }, PendingRow>(
    `SELECT min(id) AS id, path, content_hash, width, height FROM images i
     WHERE skip_reason IS NULL AND id > @after AND NOT EXISTS
       (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = @model)
     GROUP BY content_hash ORDER BY id LIMIT @limit`,
  ),
  putEmbedding: query<[string, string, string, number, Buffer]>(
    `INSERT INTO embeddings (content_hash, model_id, dtype, dim, vector) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  ),
  markSkipped: query<[string, string, string]>(
    'UPDATE images SET skip_reason = ?, skip_detail = ? WHERE content_hash = ?',
  ),
  clearDecodeSkips: query(
    `UPDATE images SET skip_reason = NULL, skip_detail = NULL
     WHERE skip_reason IS NOT NULL AND content_hash != '' AND skip_reason NOT IN ('unreadable', 'symlink-loop')`,
  ),
  getEmbedding: query<[string, string], { dtype: string; dim: number; vector: Buffer }>(
    'SELECT dtype, dim, vector FROM embeddings WHERE model_id = ? AND content_hash = ?',
  ),
  // The rows `embeddings` reads (same parameters), and how many are float16.
  // Parameters: model, 1 to include excluded images, the image id the rows start after, at most how many (-1: all).
  embeddingCounts: query<[string, number, number, number], { n: number; half: number }>(
    `SELECT count(*) AS n, coalesce(sum(dtype = 'float16'), 0) AS half FROM (SELECT e.dtype FROM images i
     JOIN embeddings e ON e.content_hash = i.content_hash AND e.model_id = ?
     WHERE i.skip_reason IS NULL AND (? OR ${NOT_EXCLUDED_SQL}) AND i.id > ? ORDER BY i.id LIMIT ?)`,
  ),
  embeddings: query<[string, number, number, number], { id: number; dim: number; dtype: string; vector: Buffer }>(
    `SELECT i.id, e.dim, e.dtype, e.vector FROM images i
     JOIN embeddings e ON e.content_hash = i.content_hash AND e.model_id = ?
     WHERE i.skip_reason IS NULL AND (? OR ${NOT_EXCLUDED_SQL}) AND i.id > ? ORDER BY i.id LIMIT ?`,
  ),

  setLabel: query<[number, string, string, string | null, string | null]>(
    `INSERT INTO labels (image_id, label, source, origin, origin_detail) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
       origin = excluded.origin, origin_detail = excluded.origin_detail,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE labels.label IS NOT excluded.label OR labels.source IS NOT excluded.source`,
  ),
  dropLabel: query<[number]>('DELETE FROM labels WHERE image_id = ?'),
  checkOfImage: query<[number], { draw_id: number }>('SELECT draw_id FROM checks WHERE image_id = ?'),
  pickOfImage: query<[number], { strategy: string }>('SELECT strategy FROM picks WHERE image_id = ?'),
  listLabels: query<[], LabelRow>(
    `SELECT l.image_id, i.path, l.label, l.source, l.created_at, l.updated_at, l.confidence, l.origin,
       l.origin_detail
     FROM labels l JOIN images i ON i.id = l.image_id ORDER BY i.path`,
  ),
  importLabel: query<[number, string, string, string | null, string | null, number | null]>(
    `INSERT INTO labels (image_id, label, source, origin, origin_detail, confidence) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
       origin = excluded.origin, origin_detail = excluded.origin_detail, confidence = excluded.confidence,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE labels.label IS NOT excluded.label OR labels.source IS NOT excluded.source
       OR labels.origin_detail IS NOT excluded.origin_detail OR labels.confidence IS NOT excluded.confidence`,
  ),
  upsertImportExtra: query<[string, number, string]>(
    `INSERT INTO import_extras (format, image_id, data) VALUES (?, ?, ?)
     ON CONFLICT(format, image_id) DO UPDATE SET data = excluded.data`,
  ),
  // The ids as a JSON array: one query for a page of an export.
  importExtras: query<[string, string], { image_id: number; data: string }>(
    'SELECT image_id, data FROM import_extras WHERE format = ? AND image_id IN (SELECT value FROM json_each(?))',
  ),
  upsertPick: query<[number, string]>(
    `INSERT INTO picks (image_id, strategy) VALUES (?, ?)
     ON CONFLICT(image_id) DO UPDATE SET strategy = excluded.strategy, picked_at = excluded.picked_at`,
  ),
  exportRows: query<[], ExportQueryRow>(
    `SELECT i.path, coalesce(l.label, s.label) AS label, l.source, l.origin,
       CASE WHEN l.label IS NULL THEN s.status END AS suggestion_status,
       CASE WHEN l.label IS NULL THEN s.confidence ELSE l.confidence END AS confidence, i.width, i.height
     FROM ${IMAGES_LABELS_SUGGESTIONS}
     WHERE ${NOT_EXCLUDED_SQL}
     ORDER BY i.path`,
  ),

  latestFit: query<[], FitRow>('SELECT * FROM fits WHERE complete = 1 ORDER BY id DESC LIMIT 1'),
  allFits: query<[], FitRow>('SELECT * FROM fits WHERE complete = 1 ORDER BY id'),
  listSuggestions: query<[], SuggestionRow>(
    `SELECT s.*, i.path FROM suggestions s JOIN images i ON i.id = s.image_id
     WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)
     ORDER BY s.confidence DESC, i.path`,
  ),
  imageClasses: query<
    [],
    { image_id: number; label: string; source: LabelSource | null; suggestion_status: SuggestionStatus | null }
  >(
    `SELECT image_id, label, source, NULL AS suggestion_status FROM labels
     UNION ALL
     SELECT s.image_id, s.label, NULL, s.status FROM suggestions s
     WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)`,
  ),
  acceptSuggestion: query<[number]>(
    `INSERT INTO labels (image_id, label, source, confidence)
     SELECT image_id, label, 'accepted', confidence FROM suggestions WHERE image_id = ?
     ON CONFLICT(image_id) DO NOTHING`,
  ),
  statusCounts: query<[], { status: ImageStatus; n: number }>(
    `SELECT ${IMAGE_STATUS_SQL} AS status, count(*) AS n
     FROM ${IMAGES_LABELS_SUGGESTIONS}
     WHERE i.skip_reason IS NULL GROUP BY 1`,
  ),
  confidenceHistogram: query<[number, number], { bin: number; n: number }>(
    `SELECT min(CAST(s.confidence * ? AS INTEGER), ? - 1) AS bin, count(*) AS n FROM suggestions s
     WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id) GROUP BY 1`,
  ),

  addClass: query<[string]>('INSERT OR IGNORE INTO classes (name) VALUES (?)'),
  classExists: query<[string, string], { n: number }>(
    'SELECT (SELECT count(*) FROM classes WHERE name = ?) + (SELECT count(*) FROM labels WHERE label = ?) AS n',
  ),
  // Every image counts once, under its label or else its suggestion's, by its status (unlabeled ones under none).
  listClasses: query<[], ClassInfo>(
    `WITH names AS (SELECT name FROM classes UNION SELECT label FROM labels UNION SELECT label FROM suggestions),
       counted AS (SELECT coalesce(l.label, s.label) AS label, ${IMAGE_STATUS_SQL} AS status
                   FROM ${IMAGES_LABELS_SUGGESTIONS}),
       tally AS (SELECT label, sum(status = 'labeled') AS labeled, sum(status = 'accepted') AS accepted,
                   sum(status = 'auto') AS auto, sum(status = 'suggested') AS suggested
                 FROM counted WHERE label IS NOT NULL GROUP BY label)
     SELECT n.name, coalesce(t.labeled, 0) AS labeled, coalesce(t.accepted, 0) AS accepted,
       coalesce(t.auto, 0) AS auto, coalesce(t.suggested, 0) AS suggested
     FROM names n LEFT JOIN tally t ON t.label = n.name
     ORDER BY n.name`,
  ),
  countLabelsOf: query<[string], { n: number }>('SELECT count(*) AS n FROM labels WHERE label = ?'),
  deleteLabelsOf: query<[string]>('DELETE FROM labels WHERE label = ?'),
  deleteSuggestionsOf: query<[string]>('DELETE FROM suggestions WHERE label = ?'),
  deleteClass: query<[string]>('DELETE FROM classes WHERE name = ?'),
  relabel: query<[string, string]>(
    `UPDATE labels SET label = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE label = ?`,
  ),
  relabelSuggestions: query<[string, string]>('UPDATE suggestions SET label = ? WHERE label = ?'),
  relabelRunnersUp: query<[string, string]>('UPDATE suggestions SET runner_up = ? WHERE runner_up = ?'),

  insertDraw: query<[number, number, number, string]>(
    'INSERT INTO check_draws (fit_id, target_precision, seed, strata) VALUES (?, ?, ?, ?)',
  ),
  // An image labelled or drawn meanwhile (another process) is left out.
  insertCheck: query<[number, number, number, number, string, number, number]>(
    `INSERT INTO checks (draw_id, image_id, position, stratum, suggested, confidence)
     SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM labels WHERE image_id = ?)
     ON CONFLICT(image_id) DO NOTHING`,
  ),
  allDraws: query<[], CheckDrawRow>('SELECT * FROM check_draws ORDER BY id'),
  checksOfDraw: query<[number], CheckRow>(`${CHECK_SELECT} WHERE c.draw_id = ? ORDER BY c.position`),
  allChecks: query<[], CheckRow>(`${CHECK_SELECT} ORDER BY c.draw_id, c.position`),
  checkById: query<[number], CheckRow>(`${CHECK_SELECT} WHERE c.id = ?`),
  nextOpenCheck: query<{ client: string; expired: number }, { id: number }>(
    `SELECT c.id FROM checks c
     WHERE c.skipped_at IS NULL AND c.retired_fit IS NULL
       AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = c.image_id)
       AND (c.claimed_by IS NULL OR c.claimed_by = @client OR c.claimed_at < @expired)
     ORDER BY c.claimed_by = @client DESC, c.draw_id, c.position LIMIT 1`,
  ),
  claimCheck: query<[string, number, number]>('UPDATE checks SET claimed_by = ?, claimed_at = ? WHERE id = ?'),
  skipCheck: query<[number]>(
    `UPDATE checks SET skipped_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), claimed_by = NULL WHERE id = ?`,
  ),
  retireCheck: query<[number, number]>('UPDATE checks SET retired_fit = ? WHERE id = ? AND retired_fit IS NULL'),

  countImages: query<[], { n: number }>('SELECT count(*) AS n FROM images'),
  skippedImages: query<[], { path: string; reason: SkipReason; detail: string }>(
    'SELECT path, skip_reason AS reason, skip_detail AS detail FROM images WHERE skip_reason IS NOT NULL ORDER BY path',
  ),
  labelsPerClass: query<[], { label: string; count: number }>(
    'SELECT label, count(*) AS count FROM labels GROUP BY label ORDER BY label',
  ),
  embeddedPerModel: query<[], { modelId: string; spec: string; embedded: number }>(
    `SELECT m.id AS modelId, m.spec AS spec, count(DISTINCT i.id) AS embedded FROM models m
     LEFT JOIN embeddings e ON e.model_id = m.id LEFT JOIN images i ON i.content_hash = e.content_hash
     GROUP BY m.id ORDER BY m.created_at`,
  ),
};

/** The Store's statements, prepared once per connection (SQLite prepares them again after a schema change). */
export type Statements = {
  readonly [K in keyof typeof QUERIES]: (typeof QUERIES)[K] extends Query<infer Params, infer Row>
    ? Database.Statement<Params, Row>
    : never;
};

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(QUERIES).map(([name, { sql }]) => [name, db.prepare(sql)])) as Statements;
}
