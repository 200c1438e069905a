/** @module File writes that never leave half a file, or a temporary file, behind. */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';

/** Small chunks (CSV rows) are gathered into writes of about this size. */
const WRITE_SIZE = 1 << 20;

/**
 * Writes chunks to a temporary file next to `file`, flushes it to disk, then renames it into place
 * (and flushes the folder, where the platform can), so `file` is either the old or the whole new
 * content, even after a crash. On any failure the temporary file is removed.
 */
export async function writeFileAtomic(
  file: string,
  chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
): Promise<void> {
  const folder = dirname(file);
  const temporary = join(folder, `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
    const out = handle;
    let pending: Uint8Array[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (size === 0) return;
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
      pending = [];
      size = 0;
      await writeAll(out, bytes);
    };
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      pending.push(bytes);
      size += bytes.byteLength;
      if (size >= WRITE_SIZE) await flush();
    }
    await flush();
    await out.sync();
    handle = undefined;
    await out.close();
    await rename(temporary, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error instanceof AutolabelError ? error : writeError(file, error);
  }
  await syncFolder(folder);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename durable. Not every platform can open a folder (Windows): there the rename stands alone. */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // The file is in place; only its durability across a power cut is left to the file system.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** A failed write as IO_FAILED, naming the file and, for the usual causes, saying what is wrong. */
export function writeError(file: string, error: unknown): AutolabelError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `the disk is full (${code})`
      : code === 'EROFS'
        ? `${dirname(file)} is on a read-only file system (EROFS)`
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied (${code})`
          : code === 'ENOENT'
            ? `folder ${dirname(file)} does not exist (ENOENT)`
            : messageOf(error);
  return new AutolabelError('IO_FAILED', `cannot write ${file}: ${why}`, { cause: error });
}

/** A failed read of an input file or folder: FILE_NOT_FOUND when it is not there, else IO_FAILED; names it. */
export function readError(path: string, error: unknown, what = 'file'): AutolabelError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new AutolabelError('FILE_NOT_FOUND', `no such ${what}: ${path}`, { cause: error });
  const why = code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})` : messageOf(error);
  return new AutolabelError('IO_FAILED', `cannot read ${what} ${path}: ${why}`, { cause: error });
}
