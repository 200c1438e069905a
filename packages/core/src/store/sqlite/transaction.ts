/** @module Write transactions of the SQLite Store: refused when read-only, immediate, and failing as AutolabelErrors. */
import { basename, dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { AutolabelError } from '../../errors.js';
import { storeError } from './store-error.js';

/** The connection a write runs on, and what to say when it cannot. */
export interface WriteTarget {
  readonly db: Database.Database;
  readonly file: string;
  readonly readOnly: boolean;
}

/**
 * One transaction, immediate by default: it takes the write lock before reading, so a commit by another
 * connection in between makes it wait (busy_timeout) instead of failing at once with SQLITE_BUSY.
 */
export function write<T>({ db, file, readOnly }: WriteTarget, what: string, work: () => T, immediate = true): T {
  if (readOnly) {
    throw new AutolabelError(
      'STORE_FAILED',
      `cannot ${what}: the workspace folder ${dirname(file)} is read-only, so ${basename(file)} was opened for reading only`,
    );
  }
  try {
    const transaction = db.transaction(work);
    return immediate ? transaction.immediate() : transaction();
  } catch (error) {
    throw storeError(file, what, error);
  }
}

/** A transaction for cleanup only: it never throws, since the caller already has its result or its error. */
export function bestEffort(db: Database.Database, work: () => unknown): void {
  try {
    db.transaction(work)();
  } catch {
    // Cleanup only; the caller already has its result or its error.
  }
}
