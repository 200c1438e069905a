/** @module SQLite failures as AutolabelErrors that name the file and say when the disk is full or the folder read-only. */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AutolabelError, messageOf } from '../../errors.js';

/** A failed SQLite call as an AutolabelError that names the file and, for a full disk or read-only folder, says so. */
export function storeError(file: string, what: string, error: unknown): AutolabelError {
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
export function diskFull(file: string, error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return true;
  if (!code.startsWith('SQLITE_IOERR')) return false;
  try {
    return statfsSync(dirname(file)).bavail === 0;
  } catch {
    return false;
  }
}
