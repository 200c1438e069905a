/**
 * @module The PostgreSQL Store (`pg`), for several processes and machines on one store: the same contract
 * as the SQLite store (store.contract.ts). Every multi-row write is one transaction; writes that read
 * before they write (labels, the undo journal, classes, checks, scans) run one at a time under an
 * advisory lock, as SQLite's do; embeddings are written concurrently (ON CONFLICT DO NOTHING: a batch
 * done twice stores each vector once), and a fit is saved in one transaction of its own, so readers see
 * the previous fit until it commits and a crash half-way leaves nothing.
 */
import type {
  AuditKind,
  ImageId,
  ImageStatus,
  LabelOrigin,
  LabelSource,
  SuggestionStatus,
} from '../../domain/index.js';
import { AutolabelError } from '../../errors.js';
import { float16ToFloat32, float32ToFloat16 } from '../../util/float16.js';
import {
  toCheck,
  toCheckDraw,
  toExportRecord,
  toExportRow,
  toFit,
  toImage,
  toImageItem,
  toLabel,
  toPending,
  toSuggestion,
  type CheckDrawRow,
  type CheckRow,
  type ExportQueryRow,
  type ExportRecordRow,
  type FitRow,
  type ImageItemRow,
  type ImageRow,
  type LabelRow,
  type PendingRow,
  type SuggestionRow,
} from '../sqlite/rows.js';
import type {
  AuditFindingRecord,
  AuditRunRecord,
  CheckDrawRecord,
  CheckRecord,
  ClassInfo,
  EmbeddingBatch,
  EmbeddingLoadOptions,
  EmbeddingSet,
  ExportFilter,
  ExportRecord,
  ExportRow,
  FitRecord,
  ImageItem,
  ImageQuery,
  ImageRecord,
  ImportedLabel,
  ImportExtra,
  LabelChangeRecord,
  LabelEdit,
  LabelRecord,
  LabelUndoRecord,
  ModelRecord,
  NewAuditFinding,
  NewCheck,
  NewFit,
  NewSuggestion,
  PendingEmbedding,
  PerceptualHashRecord,
  ScanChanges,
  Store,
  StoreLock,
  StoreStats,
  ImageClassVisitor,
  SuggestionRecord,
} from '../store.js';
import { Connection, type Queries } from './connection.js';
import { recordLabelChange, undoLabelChanges } from './label-changes.js';
import {
  ADVISORY_NAMESPACE,
  FIT_LOCK_KEY,
  lockForTransaction,
  tryNamedLock,
  withNamedLock,
  WRITE_LOCK_KEY,
} from './locks.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import {
  CHECK_SELECT,
  EXPORT_RECORDS,
  EXPORT_ROWS,
  exportFilterSql,
  IMAGE_ITEMS,
  IMAGE_STATUS_SQL,
  IMAGES_LABELS_SUGGESTIONS,
  LIST_CLASSES,
  NOT_EXCLUDED_SQL,
  Params,
  rowsPerInsert,
  valuesList,
} from './statements.js';

export interface PostgresStoreOptions {
  /** How long `saveFit` (and `withLock`, by default) waits for another process's save before it gives up. */
  readonly lockWaitMs?: number;
  /** Connections the store's pool opens at most (a held named lock has one more of its own). */
  readonly maxConnections?: number;
}

const DEFAULT_LOCK_WAIT_MS = 60_000;
const DEFAULT_MAX_CONNECTIONS = 4;
/** Rows `loadEmbeddings` reads per query: memory for the rows stays bounded, beside the matrix. */
const LOAD_PAGE = 4096;

/**
 * Opens the store at `url` (postgres://user:password@host:port/database): connects, and creates or
 * migrates the schema. Fails as an AutolabelError naming the server (never the password) and what to check.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const connection = new Connection(url, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  try {
    await connection.withClient('open the store', (client) =>
      migrate(
        client,
        (version) =>
          new AutolabelError(
            'WORKSPACE_INVALID',
            `the store in ${connection.where} has schema version ${version}, newer than this Autolabel (${SCHEMA_VERSION}); upgrade Autolabel`,
          ),
      ),
    );
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  return new PostgresStore(connection, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
}

const packed = (dtype: EmbeddingBatch['dtype'], vector: Float32Array): Buffer => {
  const values = dtype === 'float16' ? float32ToFloat16(vector) : vector;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
};

export class PostgresStore implements Store {
  readonly #db: Connection;
  readonly #lockWaitMs: number;
  /** Named locks taken by `tryLock` and not released yet. */
  readonly #held = new Set<StoreLock>();

  constructor(connection: Connection, lockWaitMs: number) {
    this.#db = connection;
    this.#lockWaitMs = lockWaitMs;
  }

  /** Where the store is, as messages name it (no password). */
  get where(): string {
    return this.#db.where;
  }

  /** A transaction that waits for every other serialized write of the store (WRITE_LOCK_KEY). */
  #write<T>(what: string, work: (q: Queries) => Promise<T>): Promise<T> {
    return this.#db.transaction(what, async (q) => {
      await q.run('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_NAMESPACE, WRITE_LOCK_KEY]);
      return work(q);
    });
  }

  #read<T>(what: string, work: (q: Queries) => Promise<T>): Promise<T> {
    return this.#db.read(what, work);
  }

  async listImages(): Promise<ImageRecord[]> {
    return (await this.#read('list images', (q) => q.rows<ImageRow>('SELECT * FROM images ORDER BY id'))).map(toImage);
  }

  async applyScan(changes: ScanChanges): Promise<void> {
    await this.#write('apply scan results', async (q) => {
      if (changes.removals.length > 0) {
        await q.run('DELETE FROM images WHERE id = ANY($1::int[])', [[...changes.removals]]);
      }
      if (changes.moves.length > 0) {
        await q.run(
          `UPDATE images i SET path = m.path, mtime_ms = m.mtime_ms
           FROM unnest($1::int[], $2::text[], $3::double precision[]) AS m (id, path, mtime_ms) WHERE i.id = m.id`,
          [changes.moves.map((m) => m.id), changes.moves.map((m) => m.path), changes.moves.map((m) => m.mtimeMs)],
        );
      }
      const columns = 9;
      const chunk = rowsPerInsert(columns);
      // One row per path (the last wins, as one upsert after another would): a statement may not update a row twice.
      const upserts = [...new Map(changes.upserts.map((image) => [image.path, image])).values()];
      for (let start = 0; start < upserts.length; start += chunk) {
        const images = upserts.slice(start, start + chunk);
        // A label belongs to what the image showed: new content at the same path drops it.
        await q.run(
          `DELETE FROM labels l USING images i, unnest($1::text[], $2::text[]) AS n(path, content_hash)
           WHERE l.image_id = i.id AND i.path = n.path AND i.content_hash != n.content_hash`,
          [images.map((i) => i.path), images.map((i) => i.contentHash)],
        );
        await q.run(
          `INSERT INTO images (path, content_hash, size, mtime_ms, width, height, format, skip_reason, skip_detail)
           VALUES ${valuesList(images.length, columns)}
           ON CONFLICT (path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size,
             mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
             format = excluded.format, skip_reason = excluded.skip_reason, skip_detail = excluded.skip_detail`,
          images.flatMap((i) => [
            i.path,
            i.contentHash,
            i.size,
            i.mtimeMs,
            i.width,
            i.height,
            i.format,
            i.skipReason,
            i.skipDetail,
          ]),
        );
      }
    });
  }

  /**
   * Brings the planner's statistics of the big tables up to date when they changed by more than a
   * tenth since the last ANALYZE: right after a scan or an embed of many rows, autovacuum may not have
   * run yet, and a plan made for an empty table (nested loops over full scans) takes minutes at 100,000 rows.
   */
  async #freshStatistics(): Promise<void> {
    await this.#read('update table statistics', async (q) => {
      const stale = await q.rows<{ name: string }>(
        `SELECT relid::regclass::text AS name FROM pg_stat_user_tables
         WHERE relid IN ('images'::regclass, 'embeddings'::regclass)
           AND n_mod_since_analyze > greatest(1000, n_live_tup / 10)`,
      );
      for (const { name } of stale) await q.run(`ANALYZE ${name === 'embeddings' ? 'embeddings' : 'images'}`);
    });
  }

  async findImageByPath(path: string): Promise<ImageRecord | undefined> {
    const row = await this.#read('find an image', (q) =>
      q.one<ImageRow>('SELECT * FROM images WHERE path = $1', [path]),
    );
    return row && toImage(row);
  }

  async findImagesByHash(contentHash: string): Promise<ImageRecord[]> {
    const rows = await this.#read('find images', (q) =>
      q.rows<ImageRow>('SELECT * FROM images WHERE content_hash = $1 ORDER BY id', [contentHash]),
    );
    return rows.map(toImage);
  }

  async getImage(id: ImageId): Promise<ImageRecord | undefined> {
    const row = await this.#read('read an image', (q) => q.one<ImageRow>('SELECT * FROM images WHERE id = $1', [id]));
    return row && toImage(row);
  }

  async registerModel(model: ModelRecord): Promise<void> {
    await this.#db.transaction('register model', (q) =>
      q.run(
        `INSERT INTO models (id, spec, dim) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, dim = excluded.dim`,
        [model.id, model.spec, model.dim],
      ),
    );
  }

  async countPendingEmbeddings(modelId: string): Promise<number> {
    await this.#freshStatistics();
    const row = await this.#read('count images to embed', (q) =>
      q.one<{ n: number }>(
        `SELECT count(DISTINCT content_hash)::int AS n FROM images i WHERE skip_reason IS NULL AND NOT EXISTS
           (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = $1)`,
        [modelId],
      ),
    );
    return row?.n ?? 0;
  }

  /** One image per content: the first of its copies (by id), so the scan by id stops after `limit` rows. */
  async listPendingEmbeddings(modelId: string, afterId: number, limit: number): Promise<PendingEmbedding[]> {
    const rows = await this.#read('list images to embed', (q) =>
      q.rows<PendingRow>(
        `SELECT i.id, i.path, i.content_hash, i.width, i.height FROM images i
         WHERE i.skip_reason IS NULL AND i.id > $2
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = $1)
           AND NOT EXISTS (SELECT 1 FROM images j
                           WHERE j.content_hash = i.content_hash AND j.id < i.id AND j.id > $2 AND j.skip_reason IS NULL)
         ORDER BY i.id LIMIT $3`,
        [modelId, afterId, limit],
      ),
    );
    return rows.map(toPending);
  }

  async putEmbeddings(batch: EmbeddingBatch): Promise<void> {
    const model = await this.#read('store embeddings', (q) =>
      q.one<{ dim: number }>('SELECT dim FROM models WHERE id = $1', [batch.modelId]),
    );
    if (!model) throw new AutolabelError('STORE_FAILED', `model ${batch.modelId} is not registered`);
    for (const { vector } of batch.vectors) {
      if (vector.length !== model.dim) {
        throw new AutolabelError(
          'STORE_FAILED',
          `embedding of length ${vector.length}, model ${batch.modelId} has ${model.dim}`,
        );
      }
    }
    await this.#db.transaction('store embeddings', async (q) => {
      // Vectors go as binary parameters (bytea), several rows a statement.
      const chunk = 256;
      for (let start = 0; start < batch.vectors.length; start += chunk) {
        const rows = batch.vectors.slice(start, start + chunk);
        await q.run(
          `INSERT INTO embeddings (content_hash, model_id, dtype, dim, vector)
           SELECT v.content_hash, $1, $2, $3, v.vector
           FROM (VALUES ${valuesList(rows.length, 2, { first: 4, casts: ['text', 'bytea'] })}) AS v (content_hash, vector)
           ON CONFLICT DO NOTHING`,
          [
            batch.modelId,
            batch.dtype,
            model.dim,
            ...rows.flatMap((r) => [r.contentHash, packed(batch.dtype, r.vector)]),
          ],
        );
      }
      for (const failure of batch.failures) {
        await q.run('UPDATE images SET skip_reason = $1, skip_detail = $2 WHERE content_hash = $3', [
          failure.reason,
          failure.detail,
          failure.contentHash,
        ]);
      }
    });
  }

  async getEmbedding(modelId: string, contentHash: string): Promise<Float32Array | undefined> {
    const row = await this.#read('read an embedding', (q) =>
      q.one<{ dtype: string; dim: number; vector: Buffer }>(
        'SELECT dtype, dim, vector FROM embeddings WHERE model_id = $1 AND content_hash = $2',
        [modelId, contentHash],
      ),
    );
    if (!row) return undefined;
    const bytes = new Uint8Array(row.vector);
    if (row.dtype === 'float16') return float16ToFloat32(new Uint16Array(bytes.buffer, 0, row.dim));
    return new Float32Array(bytes.buffer, 0, row.dim);
  }

  async clearDecodeSkips(): Promise<number> {
    return this.#write('clear skips', (q) =>
      q.run(
        `UPDATE images SET skip_reason = NULL, skip_detail = NULL
         WHERE skip_reason IS NOT NULL AND content_hash != '' AND skip_reason NOT IN ('unreadable', 'symlink-loop')`,
      ),
    );
  }

  /**
   * One buffer, sized from a count first, in the stored precision (float16 stays float16 unless the
   * model's vectors mix precisions), read in keyset pages by image id. Images embedded between the
   * count and the read are left for the next load.
   */
  async loadEmbeddings(modelId: string, options: EmbeddingLoadOptions = {}): Promise<EmbeddingSet> {
    const included = options.includeExcluded === true;
    const first = options.afterId ?? 0;
    const limit = options.limit ?? null; // LIMIT NULL: all
    await this.#freshStatistics();
    return this.#read('load embeddings', async (q) => {
      const dim = (await q.one<{ dim: number }>('SELECT dim FROM models WHERE id = $1', [modelId]))?.dim ?? 0;
      const where = `FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model_id = $1
        WHERE i.skip_reason IS NULL ${included ? '' : `AND ${NOT_EXCLUDED_SQL}`}`;
      const counts = await q.one<{ n: number; half: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE dtype = 'float16')::int AS half
         FROM (SELECT e.dtype ${where} AND i.id > $2 ORDER BY i.id LIMIT $3) page`,
        [modelId, first, limit],
      );
      const n = counts?.n ?? 0;
      const dtype = n > 0 && counts!.half === n ? 'float16' : 'float32';
      const vectors = dtype === 'float16' ? new Uint16Array(n * dim) : new Float32Array(n * dim);
      const ids = new Int32Array(n);
      let count = 0;
      for (let after = first; count < n;) {
        const rows = await q.rows<{ id: number; dim: number; dtype: string; vector: Buffer }>(
          `SELECT i.id, e.dim, e.dtype, e.vector ${where} AND i.id > $2 ORDER BY i.id LIMIT $3`,
          [modelId, after, Math.min(LOAD_PAGE, n - count)],
        );
        for (const row of rows) {
          if (count === n) break;
          if (row.dim !== dim) {
            throw new AutolabelError(
              'STORE_FAILED',
              `embedding of image ${row.id} has ${row.dim} values, model ${modelId} has ${dim}`,
            );
          }
          if (row.dtype === dtype) {
            new Uint8Array(vectors.buffer, count * dim * vectors.BYTES_PER_ELEMENT, row.vector.length).set(row.vector);
          } else {
            const half = new Uint16Array(new Uint8Array(row.vector).buffer, 0, dim);
            float16ToFloat32(half, vectors as Float32Array, count * dim);
          }
          ids[count++] = row.id;
        }
        if (rows.length < LOAD_PAGE) break;
        after = rows[rows.length - 1]!.id;
      }
      return {
        modelId,
        dim,
        dtype,
        imageIds: count === n ? ids : ids.slice(0, count),
        vectors: count === n ? vectors : vectors.slice(0, count * dim),
      };
    });
  }

  async setLabels(labels: readonly { imageId: ImageId; label: string; source: LabelSource }[]): Promise<void> {
    await this.#write('set labels', (q) => this.#setLabels(q, labels));
  }

  /**
   * Sets labels in a few statements however many there are (one round trip a label was 60 times
   * SQLite's time at 10,000): origins looked up for all at once, rows upserted from arrays.
   */
  async #setLabels(
    q: Queries,
    labels: readonly { imageId: ImageId; label: string; source: LabelSource }[],
  ): Promise<void> {
    if (labels.length === 0) return;
    // One row per image, the last wins, as one write after another would (a statement may not update a row twice).
    const rows = [...new Map(labels.map((l) => [l.imageId, l])).values()];
    const origins = await this.#originsOf(q, rows);
    await q.run(
      `INSERT INTO labels (image_id, label, source, origin, origin_detail)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
         origin = excluded.origin, origin_detail = excluded.origin_detail, updated_at = autolabel_now()
       WHERE labels.label IS DISTINCT FROM excluded.label OR labels.source IS DISTINCT FROM excluded.source`,
      [
        rows.map((r) => r.imageId),
        rows.map((r) => r.label),
        rows.map((r) => r.source),
        origins.map((o) => o.origin),
        origins.map((o) => o.detail),
      ],
    );
    await this.#addClasses(
      q,
      rows.map((r) => r.label),
    );
  }

  #addClass(q: Queries, name: string): Promise<number> {
    return this.#addClasses(q, [name]);
  }

  #addClasses(q: Queries, names: readonly string[]): Promise<number> {
    if (names.length === 0) return Promise.resolve(0);
    return q.run('INSERT INTO classes (name) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING', [
      [...new Set(names)],
    ]);
  }

  /**
   * The one rule for a label's origin, as SQLite's: a drawn check, else an import, else a `next` pick,
   * else chosen; the checks and picks of all the images looked up at once. In the order of `labels`.
   */
  async #originsOf(
    q: Queries,
    labels: readonly { imageId: ImageId; source: LabelSource }[],
  ): Promise<{ origin: LabelOrigin | null; detail: string | null }[]> {
    const ids = labels.filter((l) => l.source !== 'accepted').map((l) => l.imageId);
    const checks = new Map(
      (
        await q.rows<{ image_id: number; draw_id: number }>(
          'SELECT image_id, draw_id FROM checks WHERE image_id = ANY($1::int[])',
          [ids],
        )
      ).map((row) => [row.image_id, row.draw_id]),
    );
    const picks = new Map(
      (
        await q.rows<{ image_id: number; strategy: string }>(
          'SELECT image_id, strategy FROM picks WHERE image_id = ANY($1::int[])',
          [ids],
        )
      ).map((row) => [row.image_id, row.strategy]),
    );
    return labels.map(({ imageId, source }) => {
      if (source === 'accepted') return { origin: null, detail: null };
      const draw = checks.get(imageId);
      if (draw !== undefined) return { origin: 'verify', detail: `draw ${draw}` };
      if (source === 'import') return { origin: 'import', detail: null };
      const strategy = picks.get(imageId);
      return strategy !== undefined ? { origin: 'next', detail: strategy } : { origin: 'chosen', detail: null };
    });
  }

  async clearLabels(imageIds: readonly ImageId[]): Promise<void> {
    await this.#write('clear labels', (q) =>
      q.run('DELETE FROM labels WHERE image_id = ANY($1::int[])', [[...imageIds]]),
    );
  }

  async listLabels(): Promise<LabelRecord[]> {
    const rows = await this.#read('list labels', (q) =>
      q.rows<LabelRow>(
        `SELECT l.image_id, i.path, l.label, l.source, l.created_at, l.updated_at, l.confidence, l.origin,
           l.origin_detail
         FROM labels l JOIN images i ON i.id = l.image_id ORDER BY i.path`,
      ),
    );
    return rows.map(toLabel);
  }

  async changeLabels(edit: LabelEdit): Promise<LabelChangeRecord> {
    const set = edit.set ?? [];
    const clear = edit.clear ?? [];
    const accept = edit.accept ?? [];
    const touched = [...set.map((s) => s.imageId), ...clear, ...accept];
    return this.#write('change labels', async (q) => {
      const { id, imageIds, result } = await recordLabelChange(q, touched, async () => {
        await this.#setLabels(q, set);
        if (clear.length > 0) await q.run('DELETE FROM labels WHERE image_id = ANY($1::int[])', [[...clear]]);
        return this.#accept(q, accept);
      });
      return { id, imageIds, accepted: result };
    });
  }

  async undoLabelChanges(changeIds: readonly number[]): Promise<LabelUndoRecord> {
    return this.#write('undo label changes', (q) => undoLabelChanges(q, changeIds));
  }

  async acceptSuggestions(imageIds: readonly ImageId[]): Promise<number> {
    return this.#write('accept suggestions', (q) => this.#accept(q, imageIds));
  }

  /** Suggestions become `accepted` labels; an image labelled meanwhile keeps its label. */
  #accept(q: Queries, imageIds: readonly ImageId[]): Promise<number> {
    if (imageIds.length === 0) return Promise.resolve(0);
    return q.run(
      `INSERT INTO labels (image_id, label, source, confidence)
       SELECT image_id, label, 'accepted', confidence FROM suggestions WHERE image_id = ANY($1::int[])
       ON CONFLICT (image_id) DO NOTHING`,
      [[...imageIds]],
    );
  }

  /**
   * One transaction: the fit-save lock (waited for up to `lockWaitMs`), the fit row, the suggestions
   * replaced. Readers see the previous fit and its suggestions until it commits; a crash rolls it all
   * back, and the server lets go of the lock with the connection.
   */
  async saveFit(fit: NewFit, suggestions: readonly NewSuggestion[]): Promise<number> {
    return this.#db.transaction('save a fit', async (q) => {
      await this.#lockFitSave(q);
      const { id } = (await q.one<{ id: number }>(
        'INSERT INTO fits (model_id, classes, labels, summary, head) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [
          fit.modelId,
          JSON.stringify(fit.classes),
          fit.labels,
          JSON.stringify(fit.summary),
          Buffer.from(fit.head.buffer, fit.head.byteOffset, fit.head.byteLength),
        ],
      ))!;
      await q.run('DELETE FROM suggestions');
      const columns = 7;
      const chunk = rowsPerInsert(columns);
      for (let start = 0; start < suggestions.length; start += chunk) {
        const rows = suggestions.slice(start, start + chunk);
        await q.run(
          `INSERT INTO suggestions (image_id, fit_id, label, confidence, runner_up, runner_up_confidence, status)
           VALUES ${valuesList(rows.length, columns)}`,
          rows.flatMap((s) => [s.imageId, id, s.label, s.confidence, s.runnerUp, s.runnerUpConfidence, s.status]),
        );
      }
      return id;
    });
  }

  async waitForFitLock(): Promise<void> {
    await this.#db.transaction('wait for the lock for saving a fit', (q) => this.#lockFitSave(q));
  }

  #lockFitSave(q: Queries): Promise<void> {
    return lockForTransaction(
      q,
      this.#db,
      FIT_LOCK_KEY,
      this.#lockWaitMs,
      (holder, waited) =>
        `cannot save a fit in ${this.#db.where}: ${holder} has been saving one, and still was after waiting ${waited}; ` +
        'try again once it is done',
    );
  }

  async latestFit(): Promise<FitRecord | undefined> {
    const row = await this.#read('read the latest fit', (q) =>
      q.one<FitRow>('SELECT * FROM fits ORDER BY id DESC LIMIT 1'),
    );
    return row && toFit(row);
  }

  async listFits(): Promise<FitRecord[]> {
    return (await this.#read('list fits', (q) => q.rows<FitRow>('SELECT * FROM fits ORDER BY id'))).map(toFit);
  }

  async listSuggestions(): Promise<SuggestionRecord[]> {
    const rows = await this.#read('list suggestions', (q) =>
      q.rows<SuggestionRow>(
        `SELECT s.*, i.path FROM suggestions s JOIN images i ON i.id = s.image_id
         WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)
         ORDER BY s.confidence DESC, i.path`,
      ),
    );
    return rows.map(toSuggestion);
  }

  async visitImageClasses(visit: ImageClassVisitor): Promise<void> {
    const rows = await this.#read('list image classes', (q) =>
      q.rows<{
        image_id: number;
        label: string;
        source: LabelSource | null;
        suggestion_status: SuggestionStatus | null;
      }>(
        `SELECT image_id, label, source, NULL AS suggestion_status FROM labels
         UNION ALL
         SELECT s.image_id, s.label, NULL, s.status FROM suggestions s
         WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)`,
      ),
    );
    for (const row of rows) visit(row.image_id as ImageId, row.label, row.source, row.suggestion_status);
  }

  async exportRows(): Promise<ExportRow[]> {
    return (await this.#read('export labels', (q) => q.rows<ExportQueryRow>(EXPORT_ROWS))).map(toExportRow);
  }

  /** Keyset pages by path: each page is one short query, so writes are never held up by an export. */
  async *exportRecords(filter: ExportFilter = {}, pageSize = 2000): AsyncGenerator<ExportRecord> {
    let after = '';
    for (;;) {
      const params = new Params([after, pageSize]);
      const conditions = exportFilterSql(filter, params);
      const rows = await this.#read('export labels', (q) =>
        q.rows<ExportRecordRow>(
          `SELECT * FROM (${EXPORT_RECORDS}) r WHERE path > $1 ${conditions} ORDER BY path LIMIT $2`,
          params.values,
        ),
      );
      for (const row of rows) yield toExportRecord(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.path;
    }
  }

  async countExportRecords(filter: ExportFilter = {}): Promise<number> {
    const params = new Params();
    const conditions = exportFilterSql(filter, params);
    const row = await this.#read('count export records', (q) =>
      q.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM (${EXPORT_RECORDS}) r WHERE TRUE ${conditions}`,
        params.values,
      ),
    );
    return row?.n ?? 0;
  }

  async importLabels(labels: readonly ImportedLabel[], classes: readonly string[] = []): Promise<void> {
    await this.#write('import labels', async (q) => {
      await this.#addClasses(q, classes);
      if (labels.length === 0) return;
      // One row per image, the last wins (as #setLabels).
      const rows = [...new Map(labels.map((l) => [l.imageId, l])).values()];
      const sources: LabelSource[] = rows.map((l) => (l.accepted ? 'accepted' : 'import'));
      const origins = await this.#originsOf(
        q,
        rows.map((l, k) => ({ imageId: l.imageId, source: sources[k]! })),
      );
      await q.run(
        `INSERT INTO labels (image_id, label, source, origin, origin_detail, confidence)
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::double precision[])
         ON CONFLICT (image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
           origin = excluded.origin, origin_detail = excluded.origin_detail, confidence = excluded.confidence,
           updated_at = autolabel_now()
         WHERE labels.label IS DISTINCT FROM excluded.label OR labels.source IS DISTINCT FROM excluded.source
           OR labels.origin_detail IS DISTINCT FROM excluded.origin_detail
           OR labels.confidence IS DISTINCT FROM excluded.confidence`,
        [
          rows.map((l) => l.imageId),
          rows.map((l) => l.label),
          sources,
          origins.map((o) => o.origin),
          // A drawn check's answer keeps its draw; any other imported label keeps where it came from.
          origins.map((o, k) => (o.origin === 'import' ? rows[k]!.provenance : o.detail)),
          rows.map((l) => (l.accepted ? l.confidence : null)),
        ],
      );
      await this.#addClasses(
        q,
        rows.map((l) => l.label),
      );
    });
  }

  async saveImportExtras(format: string, extras: readonly ImportExtra[]): Promise<void> {
    await this.#write('keep what an import file held', async (q) => {
      for (const e of extras) {
        await q.run(
          `INSERT INTO import_extras (format, image_id, data) VALUES ($1, $2, $3)
           ON CONFLICT (format, image_id) DO UPDATE SET data = excluded.data`,
          [format, e.imageId ?? 0, e.data],
        );
      }
    });
  }

  async importExtras(format: string, imageIds: readonly (ImageId | null)[]): Promise<Map<ImageId | null, string>> {
    const rows = await this.#read('read what an import file held', (q) =>
      q.rows<{ image_id: number; data: string }>(
        'SELECT image_id, data FROM import_extras WHERE format = $1 AND image_id = ANY($2::int[])',
        [format, imageIds.map((id) => id ?? 0)],
      ),
    );
    return new Map(rows.map((row) => [row.image_id === 0 ? null : (row.image_id as ImageId), row.data]));
  }

  async recordPicks(picks: readonly { imageId: ImageId; strategy: string }[]): Promise<void> {
    await this.#write('record picks', async (q) => {
      for (const pick of picks) {
        await q.run(
          `INSERT INTO picks (image_id, strategy) VALUES ($1, $2)
           ON CONFLICT (image_id) DO UPDATE SET strategy = excluded.strategy, picked_at = excluded.picked_at`,
          [pick.imageId, pick.strategy],
        );
      }
    });
  }

  async saveCheckDraw(
    draw: Omit<CheckDrawRecord, 'id' | 'createdAt'>,
    checks: readonly NewCheck[],
  ): Promise<CheckRecord[]> {
    return this.#write('save a draw of checks', async (q) => {
      const { id } = (await q.one<{ id: number }>(
        'INSERT INTO check_draws (fit_id, target_precision, seed, strata) VALUES ($1, $2, $3, $4) RETURNING id',
        [draw.fitId, draw.targetPrecision, draw.seed, JSON.stringify(draw.strata)],
      ))!;
      // An image labelled or drawn already is left out.
      for (const [position, c] of checks.entries()) {
        await q.run(
          `INSERT INTO checks (draw_id, image_id, position, stratum, suggested, confidence)
           SELECT $1::int, $2::int, $3::int, $4::int, $5::text, $6::double precision
           WHERE NOT EXISTS (SELECT 1 FROM labels WHERE image_id = $2::int)
           ON CONFLICT (image_id) DO NOTHING`,
          [id, c.imageId, position, c.stratum, c.suggested, c.confidence],
        );
      }
      return (await q.rows<CheckRow>(`${CHECK_SELECT} WHERE c.draw_id = $1 ORDER BY c.position`, [id])).map(toCheck);
    });
  }

  async listCheckDraws(): Promise<CheckDrawRecord[]> {
    const rows = await this.#read('list draws', (q) => q.rows<CheckDrawRow>('SELECT * FROM check_draws ORDER BY id'));
    return rows.map(toCheckDraw);
  }

  async listChecks(): Promise<CheckRecord[]> {
    const rows = await this.#read('list checks', (q) =>
      q.rows<CheckRow>(`${CHECK_SELECT} ORDER BY c.draw_id, c.position`),
    );
    return rows.map(toCheck);
  }

  async claimCheck(client: string, leaseMs: number): Promise<CheckRecord | undefined> {
    return this.#write('claim a check', async (q) => {
      const now = Date.now();
      const row = await q.one<{ id: number }>(
        `SELECT c.id FROM checks c
         WHERE c.skipped_at IS NULL AND c.retired_fit IS NULL
           AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = c.image_id)
           AND (c.claimed_by IS NULL OR c.claimed_by = $1 OR c.claimed_at < $2)
         ORDER BY (c.claimed_by IS NOT DISTINCT FROM $1) DESC, c.draw_id, c.position LIMIT 1`,
        [client, now - leaseMs],
      );
      if (!row) return undefined;
      await q.run('UPDATE checks SET claimed_by = $1, claimed_at = $2 WHERE id = $3', [client, now, row.id]);
      return toCheck((await q.one<CheckRow>(`${CHECK_SELECT} WHERE c.id = $1`, [row.id]))!);
    });
  }

  async skipCheck(id: number): Promise<void> {
    await this.#write('skip a check', async (q) => {
      const changed = await q.run('UPDATE checks SET skipped_at = autolabel_now(), claimed_by = NULL WHERE id = $1', [
        id,
      ]);
      if (changed === 0) throw new AutolabelError('IMAGE_NOT_FOUND', `no check with id ${id}`);
    });
  }

  async retireChecks(ids: readonly number[], fitId: number): Promise<void> {
    await this.#write('retire checks', (q) =>
      q.run('UPDATE checks SET retired_fit = $1 WHERE id = ANY($2::int[]) AND retired_fit IS NULL', [fitId, [...ids]]),
    );
  }

  async queryImages(query: ImageQuery): Promise<{ total: number; items: ImageItem[] }> {
    const params = new Params();
    const where: string[] = [];
    if (query.ids !== undefined) where.push(`id = ANY(${params.add(query.ids.map((id) => Math.trunc(id)))}::int[])`);
    if (query.status !== undefined) where.push(`status = ${params.add(query.status)}`);
    if (query.label !== undefined) where.push(`label = ${params.add(query.label)}`);
    if (query.minConfidence !== undefined) where.push(`confidence >= ${params.add(query.minConfidence)}`);
    if (query.maxConfidence !== undefined) where.push(`confidence <= ${params.add(query.maxConfidence)}`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order =
      query.sort === 'confidence'
        ? 'confidence IS NULL, confidence ASC, path'
        : query.sort === '-confidence'
          ? 'confidence IS NULL, confidence DESC, path'
          : 'path';
    return this.#read('query images', async (q) => {
      const total = (await q.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM (${IMAGE_ITEMS}) r ${filter}`,
        params.values,
      ))!.n;
      const limit = params.add(query.limit);
      const offset = params.add(query.offset);
      const rows = await q.rows<ImageItemRow>(
        `SELECT * FROM (${IMAGE_ITEMS}) r ${filter} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`,
        params.values,
      );
      return { total, items: rows.map(toImageItem) };
    });
  }

  async statusCounts(): Promise<Record<ImageStatus, number>> {
    const counts: Record<ImageStatus, number> = { labeled: 0, accepted: 0, auto: 0, suggested: 0, unlabeled: 0 };
    const rows = await this.#read('count images by status', (q) =>
      q.rows<{ status: ImageStatus; n: number }>(
        `SELECT ${IMAGE_STATUS_SQL} AS status, count(*)::int AS n FROM ${IMAGES_LABELS_SUGGESTIONS}
         WHERE i.skip_reason IS NULL GROUP BY 1`,
      ),
    );
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async confidenceHistogram(bins: number): Promise<number[]> {
    const counts = new Array<number>(bins).fill(0);
    const rows = await this.#read('count suggestions by confidence', (q) =>
      q.rows<{ bin: number; n: number }>(
        `SELECT least(floor(s.confidence * $1::int)::int, $1::int - 1) AS bin, count(*)::int AS n FROM suggestions s
         WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id) GROUP BY 1`,
        [bins],
      ),
    );
    for (const row of rows) counts[row.bin] = row.n;
    return counts;
  }

  async listClasses(): Promise<ClassInfo[]> {
    return this.#read('list classes', (q) => q.rows<ClassInfo>(LIST_CLASSES));
  }

  async addClass(name: string): Promise<void> {
    await this.#write('add a class', (q) => this.#addClass(q, name));
  }

  async renameClass(from: string, to: string): Promise<void> {
    await this.#write('rename a class', async (q) => {
      await this.#requireClass(q, from);
      if (await this.#hasClass(q, to)) {
        throw new AutolabelError('CLASS_EXISTS', `class "${to}" exists already: merge "${from}" into it instead`);
      }
      await this.#moveClass(q, from, to);
    });
  }

  async mergeClass(from: string, into: string): Promise<number> {
    return this.#write('merge classes', async (q) => {
      await this.#requireClass(q, from);
      await this.#requireClass(q, into);
      return this.#moveClass(q, from, into);
    });
  }

  async deleteClass(name: string, clearLabels: boolean): Promise<number> {
    return this.#write('delete a class', async (q) => {
      await this.#requireClass(q, name);
      const used = (await q.one<{ n: number }>('SELECT count(*)::int AS n FROM labels WHERE label = $1', [name]))!.n;
      if (used > 0 && !clearLabels) {
        throw new AutolabelError(
          'CLASS_IN_USE',
          `class "${name}" has ${used} labels: merge it into another class, or delete it with its labels`,
        );
      }
      await q.run('DELETE FROM labels WHERE label = $1', [name]);
      await q.run('DELETE FROM suggestions WHERE label = $1', [name]);
      await q.run('DELETE FROM classes WHERE name = $1', [name]);
      return used;
    });
  }

  async #hasClass(q: Queries, name: string): Promise<boolean> {
    const row = await q.one<{ found: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM classes WHERE name = $1) OR EXISTS (SELECT 1 FROM labels WHERE label = $1) AS found',
      [name],
    );
    return row?.found === true;
  }

  async #requireClass(q: Queries, name: string): Promise<void> {
    if (!(await this.#hasClass(q, name))) throw new AutolabelError('CLASS_NOT_FOUND', `no class "${name}"`);
  }

  /** Relabels every label and suggestion of `from` as `to`; returns the labels moved. */
  async #moveClass(q: Queries, from: string, to: string): Promise<number> {
    await this.#addClass(q, to);
    const moved = await q.run('UPDATE labels SET label = $1, updated_at = autolabel_now() WHERE label = $2', [
      to,
      from,
    ]);
    await q.run('UPDATE suggestions SET label = $1 WHERE label = $2', [to, from]);
    await q.run('UPDATE suggestions SET runner_up = $1 WHERE runner_up = $2', [to, from]);
    await q.run('DELETE FROM classes WHERE name = $1', [from]);
    return moved;
  }

  async stats(): Promise<StoreStats> {
    return this.#read('read statistics', async (q) => ({
      images: (await q.one<{ n: number }>('SELECT count(*)::int AS n FROM images'))!.n,
      skipped: await q.rows<StoreStats['skipped'][number]>(
        `SELECT path, skip_reason AS reason, skip_detail AS detail FROM images WHERE skip_reason IS NOT NULL ORDER BY path`,
      ),
      labelsPerClass: await q.rows<StoreStats['labelsPerClass'][number]>(
        'SELECT label, count(*)::int AS count FROM labels GROUP BY label ORDER BY label',
      ),
      embeddedPerModel: await q.rows<StoreStats['embeddedPerModel'][number]>(
        `SELECT m.id AS "modelId", m.spec AS spec, count(DISTINCT i.id)::int AS embedded FROM models m
         LEFT JOIN embeddings e ON e.model_id = m.id LEFT JOIN images i ON i.content_hash = e.content_hash
         GROUP BY m.id ORDER BY m.created_at, m.id`,
      ),
    }));
  }

  async getPerceptualHashes(contentHashes: readonly string[]): Promise<PerceptualHashRecord[]> {
    const rows = await this.#read('read perceptual hashes', (q) =>
      q.rows<{ content_hash: string; phash: string }>(
        'SELECT content_hash, phash FROM perceptual_hashes WHERE content_hash = ANY($1::text[])',
        [[...contentHashes]],
      ),
    );
    return rows.map((row) => ({ contentHash: row.content_hash, hash: row.phash }));
  }

  async putPerceptualHashes(hashes: readonly PerceptualHashRecord[]): Promise<void> {
    // One row per content (the last wins): a statement may not update a row twice.
    const unique = new Map(hashes.map((h) => [h.contentHash, h.hash]));
    await this.#db.transaction('store perceptual hashes', (q) =>
      q.run(
        `INSERT INTO perceptual_hashes (content_hash, phash) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (content_hash) DO UPDATE SET phash = excluded.phash`,
        [[...unique.keys()], [...unique.values()]],
      ),
    );
  }

  async saveAudit(
    run: { readonly kinds: readonly AuditKind[]; readonly notes: readonly string[] },
    findings: readonly NewAuditFinding[],
  ): Promise<void> {
    await this.#write('save the audit', async (q) => {
      await q.run('DELETE FROM audit_findings WHERE kind = ANY($1::text[])', [[...run.kinds]]);
      // One row per finding id, the last wins: a statement may not update a row twice.
      const unique = [...new Map(findings.map((f) => [f.id, f])).values()];
      if (unique.length > 0) {
        await q.run(
          `INSERT INTO audit_findings (id, kind, score, image_ids, detail)
           SELECT * FROM unnest($1::text[], $2::text[], $3::double precision[], $4::text[], $5::text[])
           ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, score = excluded.score,
             image_ids = excluded.image_ids, detail = excluded.detail`,
          [
            unique.map((f) => f.id),
            unique.map((f) => f.kind),
            unique.map((f) => f.score),
            unique.map((f) => JSON.stringify(f.imageIds)),
            unique.map((f) => JSON.stringify(f.detail)),
          ],
        );
      }
      await q.run('INSERT INTO audit_runs (kinds, notes) VALUES ($1, $2)', [
        JSON.stringify(run.kinds),
        JSON.stringify(run.notes),
      ]);
      await q.run('DELETE FROM audit_runs WHERE id < (SELECT max(id) FROM audit_runs)');
    });
  }

  async listAuditFindings(): Promise<AuditFindingRecord[]> {
    const rows = await this.#read('list audit findings', (q) =>
      q.rows<{ id: string; kind: AuditKind; score: number; image_ids: string; detail: string; dismissed: boolean }>(
        `SELECT f.*, d.finding_id IS NOT NULL AS dismissed FROM audit_findings f
         LEFT JOIN audit_dismissals d ON d.finding_id = f.id ORDER BY f.score DESC, f.id`,
      ),
    );
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      score: row.score,
      imageIds: JSON.parse(row.image_ids) as ImageId[],
      detail: JSON.parse(row.detail) as Record<string, unknown>,
      dismissed: row.dismissed,
    }));
  }

  async latestAudit(): Promise<AuditRunRecord | undefined> {
    const row = await this.#read('read the latest audit', (q) =>
      q.one<{ kinds: string; notes: string; created_at: string }>(
        'SELECT kinds, notes, created_at FROM audit_runs ORDER BY id DESC LIMIT 1',
      ),
    );
    if (!row) return undefined;
    return {
      kinds: JSON.parse(row.kinds) as AuditKind[],
      notes: JSON.parse(row.notes) as string[],
      createdAt: row.created_at,
    };
  }

  async dismissAuditFindings(ids: readonly string[]): Promise<void> {
    await this.#write('dismiss findings', (q) =>
      q.run('INSERT INTO audit_dismissals (finding_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [[...ids]]),
    );
  }

  async setExcluded(imageIds: readonly ImageId[], excluded: boolean): Promise<void> {
    await this.#write(excluded ? 'exclude images' : 'include images', (q) =>
      excluded
        ? q.run(
            'INSERT INTO excluded_images (image_id) SELECT id FROM images WHERE id = ANY($1::int[]) ON CONFLICT DO NOTHING',
            [[...imageIds]],
          )
        : q.run('DELETE FROM excluded_images WHERE image_id = ANY($1::int[])', [[...imageIds]]),
    );
  }

  async listExcluded(): Promise<ImageId[]> {
    const rows = await this.#read('list excluded images', (q) =>
      q.rows<{ image_id: number }>('SELECT image_id FROM excluded_images ORDER BY image_id'),
    );
    return rows.map((row) => row.image_id as ImageId);
  }

  async tryLock(name: string): Promise<StoreLock | undefined> {
    const lock = await tryNamedLock(this.#db, name);
    if (!lock) return undefined;
    this.#held.add(lock);
    return {
      name,
      signal: lock.signal,
      release: async () => {
        this.#held.delete(lock);
        await lock.release();
      },
    };
  }

  async withLock<T>(
    name: string,
    work: (signal: AbortSignal) => Promise<T>,
    options: { readonly waitMs?: number } = {},
  ): Promise<T> {
    return withNamedLock(this.#db, name, options.waitMs ?? this.#lockWaitMs, work);
  }

  /** Lets go of the locks this store still holds, and closes its connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#held].map((lock) => lock.release()));
    this.#held.clear();
    await this.#db.close();
  }
}
