/** @module The default Store: one SQLite file (better-sqlite3, WAL), every multi-row write in one transaction. */
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, readlinkSync, readSync, statfsSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AutolabelError, messageOf } from '../errors.js';
import type { SkipReason } from '../image/skip.js';
import { float16ToFloat32, float32ToFloat16 } from '../util/float16.js';
import type {
  CheckDrawRecord,
  CheckRecord,
  EmbeddingBatch,
  ClassInfo,
  EmbeddingSet,
  ExportRow,
  FitRecord,
  ImageId,
  ImageItem,
  ImageQuery,
  ImageRecord,
  ImageStatus,
  LabelOrigin,
  LabelRecord,
  LabelSource,
  ModelRecord,
  NewCheck,
  NewFit,
  NewSuggestion,
  PendingEmbedding,
  ScanChanges,
  Store,
  StoreStats,
  SuggestionRecord,
  SuggestionStatus,
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
  `
  CREATE TABLE fits (
    id INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL,
    classes TEXT NOT NULL,
    labels INTEGER NOT NULL,
    summary TEXT NOT NULL,
    head BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE suggestions (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    fit_id INTEGER NOT NULL REFERENCES fits(id),
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    runner_up TEXT,
    runner_up_confidence REAL,
    status TEXT NOT NULL CHECK (status IN ('auto','suggested'))
  );
  CREATE INDEX suggestions_confidence ON suggestions(confidence);
  ALTER TABLE labels ADD COLUMN confidence REAL;
  `,
  `
  CREATE TABLE classes (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  INSERT OR IGNORE INTO classes (name) SELECT DISTINCT label FROM labels;
  CREATE INDEX suggestions_label ON suggestions(label);
  `,
  `
  ALTER TABLE fits ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
  `,
  `
  ALTER TABLE labels ADD COLUMN origin TEXT;
  ALTER TABLE labels ADD COLUMN origin_detail TEXT;
  UPDATE labels SET origin = CASE source WHEN 'import' THEN 'import' WHEN 'manual' THEN 'chosen' END;
  CREATE TABLE picks (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    strategy TEXT NOT NULL,
    picked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE check_draws (
    id INTEGER PRIMARY KEY,
    fit_id INTEGER NOT NULL,
    target_precision REAL NOT NULL,
    seed INTEGER NOT NULL,
    strata TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    draw_id INTEGER NOT NULL REFERENCES check_draws(id),
    image_id INTEGER NOT NULL UNIQUE REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    stratum INTEGER NOT NULL,
    suggested TEXT NOT NULL,
    confidence REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    skipped_at TEXT,
    retired_fit INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE INDEX checks_draw ON checks(draw_id, position);
  `,
  `
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid_namespace TEXT NOT NULL,
    taken_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL
  );
  `,
];

interface CheckRow {
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

function toCheck(row: CheckRow): CheckRecord {
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

/** A check with its image's path and its answer (a person's label, not an accepted suggestion). */
const CHECK_SELECT = `SELECT c.*, i.path, l.label AS answer, l.updated_at AS answered_at
  FROM checks c JOIN images i ON i.id = c.image_id
  LEFT JOIN labels l ON l.image_id = c.image_id AND l.source != 'accepted'`;

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

/** Suggestions written per transaction while a fit is saved. */
const SAVE_CHUNK = 2000;

interface FitRow {
  id: number;
  model_id: string;
  classes: string;
  labels: number;
  summary: string;
  head: Buffer;
  created_at: string;
}

function toFit(row: FitRow): FitRecord {
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

export interface SqliteStoreOptions {
  /** Open for reading only. Default: when the database or its folder cannot be written (a read-only workspace). */
  readonly readOnly?: boolean;
  /** How long `saveFit` waits for another process's save to finish before it gives up. */
  readonly lockWaitMs?: number;
  /** A lock whose holder has not shown a sign of life for this long is taken over. */
  readonly lockStaleMs?: number;
}

const DEFAULT_LOCK_WAIT_MS = 60_000;
const DEFAULT_LOCK_STALE_MS = 30_000;

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readOnly = options.readOnly ?? !canWriteDatabase(file);
  const db = readOnly ? openReadOnly(file) : openWritable(file);
  return new SqliteStore(db, {
    file,
    readOnly,
    lockWaitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    lockStaleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
  });
}

function openWritable(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
    } catch (error) {
      // WAL mode needs room for its -shm file; on a full disk, read in rollback-journal mode (writes fail clearly).
      if (!diskFull(file, error)) throw error;
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db?.close();
    throw storeError(file, 'open the database', error);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  checkNotNewer(db, file, version);
  // Only a database that needs it is written at open: a full disk must not stop reading.
  if (version < MIGRATIONS.length) {
    try {
      db.transaction(() => {
        for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${MIGRATIONS.length}`);
      })();
    } catch (error) {
      db.close();
      throw storeError(file, `upgrade the database from schema version ${version}`, error);
    }
  }
  return db;
}

/**
 * A read-only folder (a read-only mount, an archive): reads work, nothing is migrated. SQLite can read
 * a database in WAL mode from such a folder only while its -shm and -wal files exist, which is why a
 * closing store leaves the database in rollback-journal mode (see `close`).
 */
function openReadOnly(file: string): Database.Database {
  let db: Database.Database | undefined;
  let version: number;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    db?.close();
    if (existsSync(file) && inWalMode(file) && !existsSync(`${file}-shm`)) {
      throw new AutolabelError(
        'WORKSPACE_INVALID',
        `cannot read database ${file}: its folder ${dirname(file)} is read-only, and the database was left in ` +
          `write-ahead-log mode without its ${basename(file)}-shm file (by an older Autolabel, or while another ` +
          'process had it open), which SQLite needs to read it; open the workspace once where its folder is ' +
          'writable, and it can be read from a read-only folder after that',
        { cause: error },
      );
    }
    throw storeError(file, 'open the database for reading', error);
  }
  checkNotNewer(db, file, version);
  if (version < MIGRATIONS.length) {
    db.close();
    throw new AutolabelError(
      'WORKSPACE_INVALID',
      `database ${file} has schema version ${version}, older than this Autolabel (${MIGRATIONS.length}), and its ` +
        `folder ${dirname(file)} is read-only: open the workspace once where it is writable to upgrade it`,
    );
  }
  return db;
}

function checkNotNewer(db: Database.Database, file: string, version: number): void {
  if (version > MIGRATIONS.length) {
    db.close();
    throw new AutolabelError(
      'WORKSPACE_INVALID',
      `database ${file} has schema version ${version}, newer than this Autolabel (${MIGRATIONS.length}); upgrade Autolabel`,
    );
  }
}

/** Whether the database (or, before it exists, its folder) can be written, with its -wal and -shm files. */
function canWriteDatabase(file: string): boolean {
  const writable = (path: string): boolean => {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch (error) {
      // A missing folder is for the writable open to report.
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
  };
  if (!writable(dirname(file))) return false;
  return [file, `${file}-wal`, `${file}-shm`].every((path) => !existsSync(path) || writable(path));
}

/** Bytes 18 and 19 of the header are 2 for a database in WAL mode. */
function inWalMode(file: string): boolean {
  try {
    const header = Buffer.alloc(20);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, header, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
    return header[18] === 2 && header[19] === 2;
  } catch {
    return false;
  }
}

/** A failed SQLite call as an AutolabelError that names the file and, for a full disk or read-only folder, says so. */
function storeError(file: string, what: string, error: unknown): AutolabelError {
  if (error instanceof AutolabelError) return error;
  if (diskFull(file, error)) {
    return new AutolabelError('STORE_FAILED', `could not ${what} in ${file}: the disk is full (${messageOf(error)})`, {
      cause: error,
    });
  }
  if (errorCode(error).startsWith('SQLITE_READONLY')) {
    return new AutolabelError(
      'STORE_FAILED',
      `could not ${what} in ${file}: the workspace folder ${dirname(file)} or the database is read-only (${messageOf(error)})`,
      { cause: error },
    );
  }
  return new AutolabelError('STORE_FAILED', `could not ${what} in ${file}: ${messageOf(error)}`, { cause: error });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** SQLite says SQLITE_FULL, or an I/O error (the -shm file cannot grow) while the disk has no room left. */
function diskFull(file: string, error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return true;
  if (!code.startsWith('SQLITE_IOERR')) return false;
  try {
    return statfsSync(dirname(file)).bavail === 0;
  } catch {
    return false;
  }
}

/** The name of the lock `saveFit` holds; one row of `locks`. */
const FIT_LOCK = 'fit-save';

interface LockRow {
  owner: string;
  pid: number;
  host: string;
  pid_namespace: string;
  taken_at: number;
  heartbeat_at: number;
}

/** Which process table a pid belongs to: the host and, on Linux, the pid namespace (containers). */
function processSpace(): { host: string; pidNamespace: string } {
  let pidNamespace = '';
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host alone says which processes a pid can name.
  }
  return { host: hostname(), pidNamespace };
}

/** Whether a process of this machine is running: signal 0 checks without sending anything. */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

interface SqliteStoreSettings {
  readonly file: string;
  readonly readOnly: boolean;
  readonly lockWaitMs: number;
  readonly lockStaleMs: number;
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #settings: SqliteStoreSettings;
  readonly #stmt;

  constructor(db: Database.Database, settings: SqliteStoreSettings) {
    this.#db = db;
    this.#settings = settings;
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
      setLabel: db.prepare<[number, string, string, string | null, string | null]>(
        `INSERT INTO labels (image_id, label, source, origin, origin_detail) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
           origin = excluded.origin, origin_detail = excluded.origin_detail,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE labels.label IS NOT excluded.label OR labels.source IS NOT excluded.source`,
      ),
      checkOfImage: db.prepare<[number], { draw_id: number }>('SELECT draw_id FROM checks WHERE image_id = ?'),
      pickOfImage: db.prepare<[number], { strategy: string }>('SELECT strategy FROM picks WHERE image_id = ?'),
      listLabels: db.prepare<
        [],
        {
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
      >(
        `SELECT l.image_id, i.path, l.label, l.source, l.created_at, l.updated_at, l.confidence, l.origin,
           l.origin_detail
         FROM labels l JOIN images i ON i.id = l.image_id ORDER BY i.path`,
      ),
      exportRows: db.prepare<
        [],
        {
          path: string;
          label: string | null;
          source: string | null;
          origin: string | null;
          suggestion_status: string | null;
          confidence: number | null;
          width: number | null;
          height: number | null;
        }
      >(
        `SELECT i.path, coalesce(l.label, s.label) AS label, l.source, l.origin,
           CASE WHEN l.label IS NULL THEN s.status END AS suggestion_status,
           CASE WHEN l.label IS NULL THEN s.confidence ELSE l.confidence END AS confidence, i.width, i.height
         FROM images i LEFT JOIN labels l ON l.image_id = i.id LEFT JOIN suggestions s ON s.image_id = i.id
         ORDER BY i.path`,
      ),
      embeddings: db.prepare<[string], { id: number; dim: number; dtype: string; vector: Buffer }>(
        `SELECT i.id, e.dim, e.dtype, e.vector FROM images i
         JOIN embeddings e ON e.content_hash = i.content_hash AND e.model_id = ?
         WHERE i.skip_reason IS NULL ORDER BY i.id`,
      ),
      // Incomplete until its suggestions are in place (the column defaults to complete, for old rows).
      insertFit: db.prepare<[string, string, number, string, Buffer]>(
        'INSERT INTO fits (model_id, classes, labels, summary, head, complete) VALUES (?, ?, ?, ?, ?, 0)',
      ),
      latestFit: db.prepare<[], FitRow>('SELECT * FROM fits WHERE complete = 1 ORDER BY id DESC LIMIT 1'),
      allFits: db.prepare<[], FitRow>('SELECT * FROM fits WHERE complete = 1 ORDER BY id'),
      listSuggestions: db.prepare<
        [],
        {
          image_id: number;
          path: string;
          fit_id: number;
          label: string;
          confidence: number;
          runner_up: string | null;
          runner_up_confidence: number | null;
          status: string;
        }
      >(
        `SELECT s.*, i.path FROM suggestions s JOIN images i ON i.id = s.image_id
         WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id)
         ORDER BY s.confidence DESC, i.path`,
      ),
      addClass: db.prepare<[string]>('INSERT OR IGNORE INTO classes (name) VALUES (?)'),
      classExists: db.prepare<[string, string], { n: number }>(
        'SELECT (SELECT count(*) FROM classes WHERE name = ?) + (SELECT count(*) FROM labels WHERE label = ?) AS n',
      ),
      imageById: db.prepare<[number], ImageRow>('SELECT * FROM images WHERE id = ?'),
      listClasses: db.prepare<[], { name: string; labeled: number; accepted: number; auto: number; suggested: number }>(
        `WITH names AS (SELECT name FROM classes UNION SELECT label FROM labels UNION SELECT label FROM suggestions),
           given AS (SELECT label, sum(source != 'accepted') AS labeled, sum(source = 'accepted') AS accepted
                     FROM labels GROUP BY label),
           open AS (SELECT s.label, sum(s.status = 'auto') AS auto, sum(s.status = 'suggested') AS suggested
                    FROM suggestions s LEFT JOIN labels l ON l.image_id = s.image_id
                    WHERE l.image_id IS NULL GROUP BY s.label)
         SELECT n.name, coalesce(g.labeled, 0) AS labeled, coalesce(g.accepted, 0) AS accepted,
           coalesce(o.auto, 0) AS auto, coalesce(o.suggested, 0) AS suggested
         FROM names n LEFT JOIN given g ON g.label = n.name LEFT JOIN open o ON o.label = n.name
         ORDER BY n.name`,
      ),
      statusCounts: db.prepare<[], { status: ImageStatus; n: number }>(
        `SELECT CASE WHEN l.source = 'accepted' THEN 'accepted' WHEN l.label IS NOT NULL THEN 'labeled'
                     WHEN s.status IS NOT NULL THEN s.status ELSE 'unlabeled' END AS status, count(*) AS n
         FROM images i LEFT JOIN labels l ON l.image_id = i.id LEFT JOIN suggestions s ON s.image_id = i.id
         WHERE i.skip_reason IS NULL GROUP BY 1`,
      ),
      confidenceHistogram: db.prepare<[number, number], { bin: number; n: number }>(
        `SELECT min(CAST(s.confidence * ? AS INTEGER), ? - 1) AS bin, count(*) AS n FROM suggestions s
         WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id) GROUP BY 1`,
      ),
      acceptSuggestion: db.prepare<[number]>(
        `INSERT INTO labels (image_id, label, source, confidence)
         SELECT image_id, label, 'accepted', confidence FROM suggestions WHERE image_id = ?
         ON CONFLICT(image_id) DO NOTHING`,
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
      for (const { imageId, label, source } of labels) {
        const { origin, detail } = this.#originOf(imageId, source);
        this.#stmt.setLabel.run(imageId, label, source, origin, detail);
        this.#stmt.addClass.run(label);
      }
    });
  }

  /** The one rule for a label's origin: a drawn check, else an import, else a `next` pick, else the person's choice. */
  #originOf(imageId: ImageId, source: LabelSource): { origin: LabelOrigin | null; detail: string | null } {
    if (source === 'accepted') return { origin: null, detail: null };
    const check = this.#stmt.checkOfImage.get(imageId);
    if (check) return { origin: 'verify', detail: `draw ${check.draw_id}` };
    if (source === 'import') return { origin: 'import', detail: null };
    const pick = this.#stmt.pickOfImage.get(imageId);
    return pick ? { origin: 'next', detail: pick.strategy } : { origin: 'chosen', detail: null };
  }

  async recordPicks(picks: readonly { imageId: ImageId; strategy: string }[]): Promise<void> {
    const upsert = this.#db.prepare(
      `INSERT INTO picks (image_id, strategy) VALUES (?, ?)
       ON CONFLICT(image_id) DO UPDATE SET strategy = excluded.strategy, picked_at = excluded.picked_at`,
    );
    this.#write('record picks', () => {
      for (const pick of picks) upsert.run(pick.imageId, pick.strategy);
    });
  }

  async saveCheckDraw(
    draw: Omit<CheckDrawRecord, 'id' | 'createdAt'>,
    checks: readonly NewCheck[],
  ): Promise<CheckRecord[]> {
    const db = this.#db;
    return this.#write('save a draw of checks', () => {
      const drawId = Number(
        db
          .prepare('INSERT INTO check_draws (fit_id, target_precision, seed, strata) VALUES (?, ?, ?, ?)')
          .run(draw.fitId, draw.targetPrecision, draw.seed, JSON.stringify(draw.strata)).lastInsertRowid,
      );
      // An image labelled or drawn meanwhile (another process) is left out.
      const insert = db.prepare(
        `INSERT INTO checks (draw_id, image_id, position, stratum, suggested, confidence)
         SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM labels WHERE image_id = ?)
         ON CONFLICT(image_id) DO NOTHING`,
      );
      checks.forEach((c, position) =>
        insert.run(drawId, c.imageId, position, c.stratum, c.suggested, c.confidence, c.imageId),
      );
      return (db.prepare(`${CHECK_SELECT} WHERE c.draw_id = ? ORDER BY c.position`).all(drawId) as CheckRow[]).map(
        toCheck,
      );
    });
  }

  async listCheckDraws(): Promise<CheckDrawRecord[]> {
    const rows = this.#db.prepare('SELECT * FROM check_draws ORDER BY id').all() as {
      id: number;
      fit_id: number;
      target_precision: number;
      seed: number;
      strata: string;
      created_at: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      fitId: row.fit_id,
      targetPrecision: row.target_precision,
      seed: row.seed,
      strata: JSON.parse(row.strata) as CheckDrawRecord['strata'],
      createdAt: row.created_at,
    }));
  }

  async listChecks(): Promise<CheckRecord[]> {
    return (this.#db.prepare(`${CHECK_SELECT} ORDER BY c.draw_id, c.position`).all() as CheckRow[]).map(toCheck);
  }

  async claimCheck(client: string, leaseMs: number): Promise<CheckRecord | undefined> {
    const db = this.#db;
    return this.#write('claim a check', () => {
      const now = Date.now();
      const row = db
        .prepare(
          `SELECT c.id FROM checks c
           WHERE c.skipped_at IS NULL AND c.retired_fit IS NULL
             AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id = c.image_id)
             AND (c.claimed_by IS NULL OR c.claimed_by = @client OR c.claimed_at < @expired)
           ORDER BY c.claimed_by = @client DESC, c.draw_id, c.position LIMIT 1`,
        )
        .get({ client, expired: now - leaseMs }) as { id: number } | undefined;
      if (!row) return undefined;
      db.prepare('UPDATE checks SET claimed_by = ?, claimed_at = ? WHERE id = ?').run(client, now, row.id);
      return toCheck(db.prepare(`${CHECK_SELECT} WHERE c.id = ?`).get(row.id) as CheckRow);
    });
  }

  async skipCheck(id: number): Promise<void> {
    this.#write('skip a check', () => {
      const changed = this.#db
        .prepare(`UPDATE checks SET skipped_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), claimed_by = NULL WHERE id = ?`)
        .run(id).changes;
      if (changed === 0) throw new AutolabelError('IMAGE_NOT_FOUND', `no check with id ${id}`);
    });
  }

  async retireChecks(ids: readonly number[], fitId: number): Promise<void> {
    const retire = this.#db.prepare('UPDATE checks SET retired_fit = ? WHERE id = ? AND retired_fit IS NULL');
    this.#write('retire checks', () => {
      for (const id of ids) retire.run(fitId, id);
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
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      confidence: row.confidence,
      origin: row.origin as LabelOrigin | null,
      originDetail: row.origin_detail,
    }));
  }

  async loadEmbeddings(modelId: string): Promise<EmbeddingSet> {
    const dim = this.#stmt.modelDim.get(modelId)?.dim ?? 0;
    const ids: number[] = [];
    let vectors = new Float32Array(1024 * dim);
    for (const row of this.#stmt.embeddings.iterate(modelId)) {
      if (row.dim !== dim) {
        throw new AutolabelError(
          'STORE_FAILED',
          `embedding of image ${row.id} has ${row.dim} values, model ${modelId} has ${dim}`,
        );
      }
      if ((ids.length + 1) * dim > vectors.length) {
        const grown = new Float32Array(vectors.length * 2);
        grown.set(vectors);
        vectors = grown;
      }
      const bytes = new Uint8Array(row.vector);
      const vector =
        row.dtype === 'float16'
          ? float16ToFloat32(new Uint16Array(bytes.buffer, 0, dim))
          : new Float32Array(bytes.buffer, 0, dim);
      vectors.set(vector, ids.length * dim);
      ids.push(row.id);
    }
    return { modelId, dim, imageIds: Int32Array.from(ids), vectors: vectors.slice(0, ids.length * dim) };
  }

  /**
   * Suggestions are written into a fresh table in small transactions, so label writes from other
   * connections wait milliseconds, not the whole save; one short transaction then swaps the tables
   * and marks the fit complete. The fit row stays incomplete until then, so a crash before the swap
   * leaves the previous fit and its suggestions in place. One process saves at a time, under the
   * fit-save lock (`#takeFitLock`), refreshed with every transaction of the save.
   */
  async saveFit(fit: NewFit, suggestions: readonly NewSuggestion[]): Promise<number> {
    const db = this.#db;
    const owner = await this.#takeFitLock();
    let started = false;
    try {
      const fitId = this.#write('start saving a fit', () => {
        this.#refreshFitLock(owner);
        // Leftovers of a save that never finished: the lock says nobody is still on it.
        db.exec('DROP TABLE IF EXISTS suggestions_next; DROP TABLE IF EXISTS suggestions_old;');
        db.prepare('DELETE FROM fits WHERE complete = 0').run();
        const id = Number(
          this.#stmt.insertFit.run(
            fit.modelId,
            JSON.stringify(fit.classes),
            fit.labels,
            JSON.stringify(fit.summary),
            Buffer.from(fit.head.buffer, fit.head.byteOffset, fit.head.byteLength),
          ).lastInsertRowid,
        );
        // The same table as the current one (constraints included), from its own definition.
        const { sql } = db
          .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'suggestions'`)
          .get() as {
          sql: string;
        };
        db.exec(sql.replace(/^CREATE TABLE\s+"?suggestions"?/i, 'CREATE TABLE suggestions_next'));
        return id;
      });
      started = true;
      const insert = db.prepare(
        `INSERT INTO suggestions_next (image_id, fit_id, label, confidence, runner_up, runner_up_confidence, status)
         VALUES (@imageId, @fitId, @label, @confidence, @runnerUp, @runnerUpConfidence, @status)`,
      );
      for (let start = 0; start < suggestions.length; start += SAVE_CHUNK) {
        this.#write('save suggestions', () => {
          this.#refreshFitLock(owner);
          for (const suggestion of suggestions.slice(start, start + SAVE_CHUNK)) insert.run({ ...suggestion, fitId });
        });
      }
      this.#write('finish saving a fit', () => {
        this.#refreshFitLock(owner);
        db.exec(`
          CREATE INDEX suggestions_confidence_${fitId} ON suggestions_next(confidence);
          CREATE INDEX suggestions_label_${fitId} ON suggestions_next(label);
          ALTER TABLE suggestions RENAME TO suggestions_old;
          ALTER TABLE suggestions_next RENAME TO suggestions;`);
        db.prepare('UPDATE fits SET complete = 1 WHERE id = ?').run(fitId);
      });
      started = false;
      // Saved: the old table is only space now, and the next save drops it if this fails.
      this.#bestEffort(() => db.exec('DROP TABLE IF EXISTS suggestions_old'));
      return fitId;
    } catch (error) {
      if (started) {
        // Leave no half table behind when we can (on a full disk this may fail too; the next save cleans up).
        this.#bestEffort(() => {
          this.#refreshFitLock(owner);
          db.exec('DROP TABLE IF EXISTS suggestions_next');
          db.prepare('DELETE FROM fits WHERE complete = 0').run();
        });
      }
      throw error;
    } finally {
      this.#releaseFitLock(owner);
    }
  }

  async waitForFitLock(): Promise<void> {
    this.#releaseFitLock(await this.#takeFitLock());
  }

  /**
   * Takes the fit-save lock: a row of `locks` with the owner's pid, host and a heartbeat, taken in an
   * immediate transaction. A lock whose owner is gone (same host and pid namespace, and the pid is no
   * longer running) or whose heartbeat is older than `lockStaleMs` is taken over; a live one is waited
   * for, polling, for up to `lockWaitMs`. Returns the owner token to refresh and release it with.
   */
  async #takeFitLock(): Promise<string> {
    const { file, lockWaitMs } = this.#settings;
    const owner = randomBytes(8).toString('hex');
    const deadline = Date.now() + lockWaitMs;
    for (let pause = 20; ; pause = Math.min(2 * pause, 500)) {
      const holder = this.#write('take the lock for saving a fit', () => this.#tryTakeFitLock(owner), true);
      if (!holder) return owner;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new AutolabelError(
          'STORE_FAILED',
          `cannot save a fit in ${file}: another process (pid ${holder.pid} on ${holder.host}) has been saving one ` +
            `since ${new Date(holder.taken_at).toISOString()}, and still was after waiting ${seconds(lockWaitMs)}; ` +
            'try again once it is done',
        );
      }
      await sleep(Math.min(pause, left));
    }
  }

  /** In an immediate transaction: takes the lock, or returns its live holder. */
  #tryTakeFitLock(owner: string): LockRow | undefined {
    const now = Date.now();
    const row = this.#db.prepare('SELECT * FROM locks WHERE name = ?').get(FIT_LOCK) as LockRow | undefined;
    if (row && !this.#abandoned(row, now)) return row;
    const here = processSpace();
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO locks (name, owner, pid, host, pid_namespace, taken_at, heartbeat_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(FIT_LOCK, owner, process.pid, here.host, here.pidNamespace, now, now);
    return undefined;
  }

  #abandoned(row: LockRow, now: number): boolean {
    if (now - row.heartbeat_at > this.#settings.lockStaleMs) return true;
    const here = processSpace();
    return row.host === here.host && row.pid_namespace === here.pidNamespace && !processAlive(row.pid);
  }

  /** Inside a save's transaction: shows the lock is alive, and stops the save if it was taken over. */
  #refreshFitLock(owner: string): void {
    const changed = this.#db
      .prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner = ?')
      .run(Date.now(), FIT_LOCK, owner).changes;
    if (changed === 0) {
      throw new AutolabelError(
        'STORE_FAILED',
        `cannot save a fit in ${this.#settings.file}: the save stalled for more than ` +
          `${seconds(this.#settings.lockStaleMs)} and another process took over its lock; this fit was not saved`,
      );
    }
  }

  /** Never throws: a lock left behind is taken over once this process is gone or its heartbeat ages. */
  #releaseFitLock(owner: string): void {
    this.#bestEffort(() => this.#db.prepare('DELETE FROM locks WHERE name = ? AND owner = ?').run(FIT_LOCK, owner));
  }

  #bestEffort(work: () => unknown): void {
    try {
      this.#db.transaction(work)();
    } catch {
      // Cleanup only; the caller already has its result or its error.
    }
  }

  async latestFit(): Promise<FitRecord | undefined> {
    const row = this.#stmt.latestFit.get();
    return row && toFit(row);
  }

  async listFits(): Promise<FitRecord[]> {
    return this.#stmt.allFits.all().map(toFit);
  }

  async listSuggestions(): Promise<SuggestionRecord[]> {
    return this.#stmt.listSuggestions.all().map((row) => ({
      imageId: row.image_id as ImageId,
      path: row.path,
      fitId: row.fit_id,
      label: row.label,
      confidence: row.confidence,
      runnerUp: row.runner_up,
      runnerUpConfidence: row.runner_up_confidence,
      status: row.status as SuggestionStatus,
    }));
  }

  async acceptSuggestions(imageIds: readonly ImageId[]): Promise<number> {
    return this.#write('accept suggestions', () => {
      let accepted = 0;
      for (const id of imageIds) accepted += this.#stmt.acceptSuggestion.run(id).changes;
      return accepted;
    });
  }

  async queryImages(query: ImageQuery): Promise<{ total: number; items: ImageItem[] }> {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.ids !== undefined) {
      // Ids are integers by type; placed inline, since SQLite has no array parameter.
      where.push(`id IN (${query.ids.map((id) => Math.trunc(id)).join(',') || 'NULL'})`);
    }
    if (query.status !== undefined) {
      where.push('status = @status');
      params.status = query.status;
    }
    if (query.label !== undefined) {
      where.push('label = @label');
      params.label = query.label;
    }
    if (query.minConfidence !== undefined) {
      where.push('confidence >= @min');
      params.min = query.minConfidence;
    }
    if (query.maxConfidence !== undefined) {
      where.push('confidence <= @max');
      params.max = query.maxConfidence;
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order =
      query.sort === 'confidence'
        ? 'confidence IS NULL, confidence ASC, path'
        : query.sort === '-confidence'
          ? 'confidence IS NULL, confidence DESC, path'
          : 'path';
    const view = `SELECT i.id, i.path, i.width, i.height,
        CASE WHEN l.source = 'accepted' THEN 'accepted' WHEN l.label IS NOT NULL THEN 'labeled'
             WHEN s.status IS NOT NULL THEN s.status ELSE 'unlabeled' END AS status,
        coalesce(l.label, s.label) AS label,
        CASE WHEN l.label IS NULL OR l.source = 'accepted' THEN coalesce(l.confidence, s.confidence) END AS confidence,
        CASE WHEN l.label IS NULL THEN s.runner_up END AS runner_up,
        CASE WHEN l.label IS NULL THEN s.runner_up_confidence END AS runner_up_confidence,
        l.origin
      FROM images i LEFT JOIN labels l ON l.image_id = i.id LEFT JOIN suggestions s ON s.image_id = i.id
      WHERE i.skip_reason IS NULL`;
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM (${view}) ${filter}`).get(params) as { n: number }).n;
    const rows = this.#db
      .prepare(`SELECT * FROM (${view}) ${filter} ORDER BY ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: query.limit, offset: query.offset }) as {
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
    }[];
    return {
      total,
      items: rows.map((row) => ({
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
      })),
    };
  }

  async getImage(id: ImageId): Promise<ImageRecord | undefined> {
    const row = this.#stmt.imageById.get(id);
    return row && toImage(row);
  }

  async statusCounts(): Promise<Record<ImageStatus, number>> {
    const counts: Record<ImageStatus, number> = { labeled: 0, accepted: 0, auto: 0, suggested: 0, unlabeled: 0 };
    for (const row of this.#stmt.statusCounts.all()) counts[row.status] = row.n;
    return counts;
  }

  async confidenceHistogram(bins: number): Promise<number[]> {
    const counts = new Array<number>(bins).fill(0);
    for (const row of this.#stmt.confidenceHistogram.all(bins, bins)) counts[row.bin] = row.n;
    return counts;
  }

  async listClasses(): Promise<ClassInfo[]> {
    return this.#stmt.listClasses.all();
  }

  async addClass(name: string): Promise<void> {
    this.#write('add a class', () => this.#stmt.addClass.run(name));
  }

  async renameClass(from: string, to: string): Promise<void> {
    this.#write('rename a class', () => {
      this.#requireClass(from);
      if (this.#hasClass(to)) {
        throw new AutolabelError('CLASS_EXISTS', `class "${to}" exists already: merge "${from}" into it instead`);
      }
      this.#moveClass(from, to);
    });
  }

  async mergeClass(from: string, into: string): Promise<number> {
    return this.#write('merge classes', () => {
      this.#requireClass(from);
      this.#requireClass(into);
      return this.#moveClass(from, into);
    });
  }

  async deleteClass(name: string, clearLabels: boolean): Promise<number> {
    return this.#write('delete a class', () => {
      this.#requireClass(name);
      const used = (this.#db.prepare('SELECT count(*) AS n FROM labels WHERE label = ?').get(name) as { n: number }).n;
      if (used > 0 && !clearLabels) {
        throw new AutolabelError(
          'CLASS_IN_USE',
          `class "${name}" has ${used} labels: merge it into another class, or delete it with its labels`,
        );
      }
      this.#db.prepare('DELETE FROM labels WHERE label = ?').run(name);
      this.#db.prepare('DELETE FROM suggestions WHERE label = ?').run(name);
      this.#db.prepare('DELETE FROM classes WHERE name = ?').run(name);
      return used;
    });
  }

  #hasClass(name: string): boolean {
    return (this.#stmt.classExists.get(name, name)?.n ?? 0) > 0;
  }

  #requireClass(name: string): void {
    if (!this.#hasClass(name)) throw new AutolabelError('CLASS_NOT_FOUND', `no class "${name}"`);
  }

  /** Relabels every label and suggestion of `from` as `to`; returns the labels moved. */
  #moveClass(from: string, to: string): number {
    this.#stmt.addClass.run(to);
    const moved = this.#db
      .prepare(`UPDATE labels SET label = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE label = ?`)
      .run(to, from).changes;
    this.#db.prepare('UPDATE suggestions SET label = ? WHERE label = ?').run(to, from);
    this.#db.prepare('UPDATE suggestions SET runner_up = ? WHERE runner_up = ?').run(to, from);
    this.#db.prepare('DELETE FROM classes WHERE name = ?').run(from);
    return moved;
  }

  async exportRows(): Promise<ExportRow[]> {
    return this.#stmt.exportRows.all().map((row) => ({
      path: row.path,
      label: row.label,
      source: row.source as LabelSource | null,
      origin: row.origin as LabelOrigin | null,
      suggestionStatus: row.suggestion_status as SuggestionStatus | null,
      confidence: row.confidence,
      width: row.width,
      height: row.height,
    }));
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

  /**
   * The last connection to close leaves the database in rollback-journal mode (the next open turns
   * WAL on again), so it stays readable from a read-only folder, where SQLite cannot create the -shm
   * file that WAL mode needs. While other connections are open this fails at once, and is left to them.
   */
  async close(): Promise<void> {
    if (!this.#db.open) return;
    if (!this.#settings.readOnly) {
      try {
        this.#db.pragma('busy_timeout = 0');
        this.#db.pragma('journal_mode = DELETE');
      } catch {
        // Another connection is open, or the disk is full: the WAL files stay, which is fine.
      }
    }
    this.#db.close();
  }

  /**
   * One transaction, immediate by default: it takes the write lock before reading, so a commit by another
   * connection in between makes it wait (busy_timeout) instead of failing at once with SQLITE_BUSY.
   */
  #write<T>(what: string, work: () => T, immediate = true): T {
    const { file, readOnly } = this.#settings;
    if (readOnly) {
      throw new AutolabelError(
        'STORE_FAILED',
        `cannot ${what}: the workspace folder ${dirname(file)} is read-only, so ${basename(file)} was opened for reading only`,
      );
    }
    try {
      const transaction = this.#db.transaction(work);
      return immediate ? transaction.immediate() : transaction();
    } catch (error) {
      throw storeError(file, what, error);
    }
  }
}
