/** @module The SQLite schema: its migrations, in order (SQLite's `user_version` counts those applied), and the migrator. */
import type Database from 'better-sqlite3';

/** Schema migrations, applied in order; `user_version` records how many ran. */
export const MIGRATIONS: readonly string[] = [
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
  `
  -- The undo journal (label-changes.ts). AUTOINCREMENT: an id is never reused once old changes are pruned.
  CREATE TABLE label_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    undone_at TEXT
  );
  CREATE TABLE label_change_rows (
    change_id INTEGER NOT NULL REFERENCES label_changes(id) ON DELETE CASCADE,
    -- No foreign key: an image removed since must make the undo refuse, not vanish from the change.
    image_id INTEGER NOT NULL,
    -- The label row as JSON before and after the change; NULL where the image had no label.
    before TEXT,
    after TEXT,
    PRIMARY KEY (change_id, image_id)
  ) WITHOUT ROWID;
  `,
  `
  -- The data quality audit (audit/, store/sqlite/audit.ts): perceptual hashes by content, the latest
  -- findings, dismissals by finding id (a fingerprint of content and labels), excluded images.
  CREATE TABLE perceptual_hashes (
    content_hash TEXT PRIMARY KEY,
    phash TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE audit_runs (
    id INTEGER PRIMARY KEY,
    kinds TEXT NOT NULL,
    notes TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE audit_findings (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    image_ids TEXT NOT NULL,
    detail TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX audit_findings_score ON audit_findings(score DESC);
  CREATE TABLE audit_dismissals (
    finding_id TEXT PRIMARY KEY,
    dismissed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  ) WITHOUT ROWID;
  CREATE TABLE excluded_images (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    excluded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  `,
  `
  -- What an import file held that Autolabel has no field for (formats/coco.ts), by format: per image,
  -- and for the file under image_id 0. Not a foreign key: an image removed leaves a row nothing reads.
  CREATE TABLE import_extras (
    format TEXT NOT NULL,
    image_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (format, image_id)
  ) WITHOUT ROWID;
  `,
];

/** The schema version this Autolabel writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings a database at schema `version` up to `SCHEMA_VERSION`, in one transaction. */
export function migrate(db: Database.Database, version: number): void {
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}
