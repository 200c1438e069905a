/** @module The default Store: one SQLite file (better-sqlite3, WAL), every multi-row write in one transaction. */
import Database from 'better-sqlite3';
import { AutolabelError, messageOf } from '../errors.js';
import type { SkipReason } from '../image/skip.js';
import { float16ToFloat32, float32ToFloat16 } from '../util/float16.js';
import type {
  EmbeddingBatch,
  ExportRow,
  ImageId,
  ImageRecord,
  LabelRecord,
  LabelSource,
  ModelRecord,
  PendingEmbedding,
  ScanChanges,
  Store,
  StoreStats,
} from './store.js';

/** Schema migrations, applied in order; `user_version` records how many ran. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    width INTEGER,
    height INTEGER,
    format TEXT,
    skip_reason TEXT,
    skip_detail TEXT,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE INDEX images_hash ON images(content_hash);
  CREATE TABLE models (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    dim INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE embeddings (
    content_hash TEXT NOT NULL,
    model_id TEXT NOT NULL REFERENCES models(id),
    dtype TEXT NOT NULL CHECK (dtype IN ('float32','float16')),
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (content_hash, model_id)
  ) WITHOUT ROWID;
  CREATE TABLE labels (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE INDEX labels_label ON labels(label);
  `,
];

interface ImageRow {
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

interface PendingRow {
  id: number;
  path: string;
  content_hash: string;
  width: number | null;
  height: number | null;
}

function toImage(row: ImageRow): ImageRecord {
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

export function openSqliteStore(file: string): SqliteStore {
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    throw new AutolabelError('STORE_FAILED', `cannot open database ${file}: ${messageOf(error)}`, { cause: error });
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new AutolabelError(
      'WORKSPACE_INVALID',
      `database ${file} has schema version ${version}, newer than this Autolabel (${MIGRATIONS.length}); upgrade Autolabel`,
    );
  }
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
  return new SqliteStore(db);
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = {
      allImages: db.prepare<[], ImageRow>('SELECT * FROM images ORDER BY id'),
      imageByPath: db.prepare<[string], ImageRow>('SELECT * FROM images WHERE path = ?'),
      imagesByHash: db.prepare<[string], ImageRow>('SELECT * FROM images WHERE content_hash = ? ORDER BY id'),
      upsertImage: db.prepare(
        `INSERT INTO images (path, content_hash, size, mtime_ms, width, height, format, skip_reason, skip_detail)
         VALUES (@path, @contentHash, @size, @mtimeMs, @width, @height, @format, @skipReason, @skipDetail)
         ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size,
           mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
           format = excluded.format, skip_reason = excluded.skip_reason, skip_detail = excluded.skip_detail`,
      ),
      labelOfPath: db.prepare<[string], { image_id: number; content_hash: string }>(
        'SELECT l.image_id, i.content_hash FROM labels l JOIN images i ON i.id = l.image_id WHERE i.path = ?',
      ),
      dropLabel: db.prepare<[number]>('DELETE FROM labels WHERE image_id = ?'),
      moveImage: db.prepare<[string, number, number]>('UPDATE images SET path = ?, mtime_ms = ? WHERE id = ?'),
      removeImage: db.prepare<[number]>('DELETE FROM images WHERE id = ?'),
      registerModel: db.prepare<[string, string, number]>(
        `INSERT INTO models (id, spec, dim) VALUES (?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, dim = excluded.dim`,
      ),
      modelDim: db.prepare<[string], { dim: number }>('SELECT dim FROM models WHERE id = ?'),
      countPending: db.prepare<[string], { n: number }>(
        `SELECT count(DISTINCT content_hash) AS n FROM images i WHERE skip_reason IS NULL AND NOT EXISTS
           (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = ?)`,
      ),
      listPending: db.prepare<{ model: string; after: number; limit: number }, PendingRow>(
        `SELECT min(id) AS id, path, content_hash, width, height FROM images i
         WHERE skip_reason IS NULL AND id > @after AND NOT EXISTS
           (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model_id = @model)
         GROUP BY content_hash ORDER BY id LIMIT @limit`,
      ),
      putEmbedding: db.prepare<[string, string, string, number, Buffer]>(
        `INSERT INTO embeddings (content_hash, model_id, dtype, dim, vector) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      markSkipped: db.prepare<[string, string, string]>(
        'UPDATE images SET skip_reason = ?, skip_detail = ? WHERE content_hash = ?',
      ),
      clearDecodeSkips: db.prepare(
        `UPDATE images SET skip_reason = NULL, skip_detail = NULL
         WHERE skip_reason IS NOT NULL AND content_hash != '' AND skip_reason NOT IN ('unreadable', 'symlink-loop')`,
      ),
      getEmbedding: db.prepare<[string, string], { dtype: string; dim: number; vector: Buffer }>(
        'SELECT dtype, dim, vector FROM embeddings WHERE model_id = ? AND content_hash = ?',
      ),
      setLabel: db.prepare<[number, string, string]>(
        `INSERT INTO labels (image_id, label, source) VALUES (?, ?, ?)
         ON CONFLICT(image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE labels.label IS NOT excluded.label OR labels.source IS NOT excluded.source`,
      ),
      listLabels: db.prepare<[], { image_id: number; path: string; label: string; source: string; updated_at: string }>(
        'SELECT l.image_id, i.path, l.label, l.source, l.updated_at FROM labels l JOIN images i ON i.id = l.image_id ORDER BY i.path',
      ),
      exportRows: db.prepare<[], { path: string; label: string | null; width: number | null; height: number | null }>(
        'SELECT i.path, l.label, i.width, i.height FROM images i LEFT JOIN labels l ON l.image_id = i.id ORDER BY i.path',
      ),
    };
  }

  async listImages(): Promise<ImageRecord[]> {
    return this.#stmt.allImages.all().map(toImage);
  }

  async applyScan(changes: ScanChanges): Promise<void> {
    this.#write('apply scan results', () => {
      for (const id of changes.removals) this.#stmt.removeImage.run(id);
      for (const move of changes.moves) this.#stmt.moveImage.run(move.path, move.mtimeMs, move.id);
      for (const image of changes.upserts) {
        // A label belongs to what the image showed: new content at the same path drops it.
        const labelled = this.#stmt.labelOfPath.get(image.path);
        if (labelled && labelled.content_hash !== image.contentHash) this.#stmt.dropLabel.run(labelled.image_id);
        this.#stmt.upsertImage.run(image);
      }
    });
  }

  async findImageByPath(path: string): Promise<ImageRecord | undefined> {
    const row = this.#stmt.imageByPath.get(path);
    return row && toImage(row);
  }

  async findImagesByHash(contentHash: string): Promise<ImageRecord[]> {
    return this.#stmt.imagesByHash.all(contentHash).map(toImage);
  }

  async registerModel(model: ModelRecord): Promise<void> {
    this.#write('register model', () => this.#stmt.registerModel.run(model.id, model.spec, model.dim));
  }

  async countPendingEmbeddings(modelId: string): Promise<number> {
    return this.#stmt.countPending.get(modelId)?.n ?? 0;
  }

  async listPendingEmbeddings(modelId: string, afterId: number, limit: number): Promise<PendingEmbedding[]> {
    return this.#stmt.listPending.all({ model: modelId, after: afterId, limit }).map((row) => ({
      id: row.id as ImageId,
      path: row.path,
      contentHash: row.content_hash,
      width: row.width,
      height: row.height,
    }));
  }

  async putEmbeddings(batch: EmbeddingBatch): Promise<void> {
    const expected = this.#stmt.modelDim.get(batch.modelId)?.dim;
    if (expected === undefined) throw new AutolabelError('STORE_FAILED', `model ${batch.modelId} is not registered`);
    this.#write('store embeddings', () => {
      for (const { contentHash, vector } of batch.vectors) {
        if (vector.length !== expected) {
          throw new AutolabelError(
            'STORE_FAILED',
            `embedding of length ${vector.length}, model ${batch.modelId} has ${expected}`,
          );
        }
        const packed = batch.dtype === 'float16' ? float32ToFloat16(vector) : vector;
        const blob = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
        this.#stmt.putEmbedding.run(contentHash, batch.modelId, batch.dtype, vector.length, blob);
      }
      for (const failure of batch.failures)
        this.#stmt.markSkipped.run(failure.reason, failure.detail, failure.contentHash);
    });
  }

  async getEmbedding(modelId: string, contentHash: string): Promise<Float32Array | undefined> {
    const row = this.#stmt.getEmbedding.get(modelId, contentHash);
    if (!row) return undefined;
    // Copy out of the row buffer so the vector is aligned and owned.
    const bytes = new Uint8Array(row.vector);
    if (row.dtype === 'float16') return float16ToFloat32(new Uint16Array(bytes.buffer, 0, row.dim));
    return new Float32Array(bytes.buffer, 0, row.dim);
  }

  async clearDecodeSkips(): Promise<number> {
    return this.#write('clear skips', () => this.#stmt.clearDecodeSkips.run().changes);
  }

  async setLabels(labels: readonly { imageId: ImageId; label: string; source: LabelSource }[]): Promise<void> {
    this.#write('set labels', () => {
      for (const { imageId, label, source } of labels) this.#stmt.setLabel.run(imageId, label, source);
    });
  }

  async clearLabels(imageIds: readonly ImageId[]): Promise<void> {
    this.#write('clear labels', () => {
      for (const id of imageIds) this.#stmt.dropLabel.run(id);
    });
  }

  async listLabels(): Promise<LabelRecord[]> {
    return this.#stmt.listLabels.all().map((row) => ({
      imageId: row.image_id as ImageId,
      path: row.path,
      label: row.label,
      source: row.source as LabelSource,
      updatedAt: row.updated_at,
    }));
  }

  async exportRows(): Promise<ExportRow[]> {
    return this.#stmt.exportRows.all();
  }

  async stats(): Promise<StoreStats> {
    const db = this.#db;
    const images = (db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
    const skipped = db
      .prepare(
        'SELECT path, skip_reason AS reason, skip_detail AS detail FROM images WHERE skip_reason IS NOT NULL ORDER BY path',
      )
      .all() as { path: string; reason: SkipReason; detail: string }[];
    const labelsPerClass = db
      .prepare('SELECT label, count(*) AS count FROM labels GROUP BY label ORDER BY label')
      .all() as { label: string; count: number }[];
    const embeddedPerModel = db
      .prepare(
        `SELECT m.id AS modelId, m.spec AS spec, count(DISTINCT i.id) AS embedded FROM models m
         LEFT JOIN embeddings e ON e.model_id = m.id LEFT JOIN images i ON i.content_hash = e.content_hash
         GROUP BY m.id ORDER BY m.created_at`,
      )
      .all() as { modelId: string; spec: string; embedded: number }[];
    return { images, skipped, labelsPerClass, embeddedPerModel };
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #write<T>(what: string, work: () => T): T {
    try {
      return this.#db.transaction(work)();
    } catch (error) {
      if (error instanceof AutolabelError) throw error;
      throw new AutolabelError('STORE_FAILED', `could not ${what}: ${messageOf(error)}`, { cause: error });
    }
  }
}
