/** @module Opening the database file: writable (WAL, migrated on open) or read-only (a read-only folder). */
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AutolabelError } from '../../errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { diskFull, storeError } from './store-error.js';

/** Opens the database, creating it if needed, in WAL mode; a database of an older schema is migrated. */
export function openWritable(file: string): Database.Database {
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
  if (version < SCHEMA_VERSION) {
    try {
      migrate(db, version);
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
 * closing store leaves the database in rollback-journal mode (see `SqliteStore.close`).
 */
export function openReadOnly(file: string): Database.Database {
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
  if (version < SCHEMA_VERSION) {
    db.close();
    throw new AutolabelError(
      'WORKSPACE_INVALID',
      `database ${file} has schema version ${version}, older than this Autolabel (${SCHEMA_VERSION}), and its ` +
        `folder ${dirname(file)} is read-only: open the workspace once where it is writable to upgrade it`,
    );
  }
  return db;
}

function checkNotNewer(db: Database.Database, file: string, version: number): void {
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new AutolabelError(
      'WORKSPACE_INVALID',
      `database ${file} has schema version ${version}, newer than this Autolabel (${SCHEMA_VERSION}); upgrade Autolabel`,
    );
  }
}

/** Whether the database (or, before it exists, its folder) can be written, with its -wal and -shm files. */
export function canWriteDatabase(file: string): boolean {
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
