/** @module Scanning the images root: finds added, changed, moved and removed images by content hash. */
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import type { ImageId } from '../domain/index.js';
import type { ImageRecord, NewImage, Store } from '../store/store.js';
import { sha256 } from '../util/hash.js';
import { mapOrdered } from '../util/pool.js';
import { type ProgressListener, ProgressTracker } from '../util/progress.js';
import { readImageInfo } from './decode.js';
import { ImageSkipError, type Skip } from './skip.js';

/** File name endings scanned as images (case-insensitive). */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
  '.jxl',
] as const;

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export interface ScanOptions {
  readonly maxPixels: number;
  /** Absolute folders never descended into (the workspace itself when it sits inside the images root). */
  readonly exclude?: readonly string[];
  /** Re-hash files whose size and mtime did not change. */
  readonly full?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export interface ScanResult {
  readonly added: number;
  readonly changed: number;
  readonly moved: number;
  readonly removed: number;
  readonly unchanged: number;
  /** Files found in this scan that cannot be used, with reasons (also stored). */
  readonly skipped: number;
  /** True when the scan was interrupted: what was found is stored; removals were not applied. */
  readonly aborted: boolean;
}

interface FoundFile {
  readonly path: string;
  readonly absolute: string;
  /** Set when the entry could not even be stat'ed (dangling link, loop). */
  readonly skip?: Skip;
}

const FLUSH_EVERY = 256;
const READ_CONCURRENCY = 8;

export async function scanImages(root: string, store: Store, options: ScanOptions): Promise<ScanResult> {
  await stat(root).catch((error: unknown) => {
    throw new AutolabelError('IMAGES_ROOT_NOT_FOUND', `images folder ${root} cannot be read: ${messageOf(error)}`, {
      cause: error,
    });
  });
  const known = new Map<string, ImageRecord>();
  for (const image of await store.listImages()) known.set(image.path, image);
  const seen = new Set<string>();
  const movedAway = new Set<ImageId>();
  const counts = { added: 0, changed: 0, moved: 0, unchanged: 0, skipped: 0 };
  const tracker = new ProgressTracker('scan', null, options.onProgress);
  let pending: NewImage[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await store.applyScan({ upserts: pending, moves: [], removals: [] });
    pending = [];
  };

  const files = walk(root, options.exclude ?? [], options.signal);
  for await (const outcome of mapOrdered(files, READ_CONCURRENCY, (file) =>
    inspect(file, known.get(file.path), options),
  )) {
    const { file, record } = outcome;
    seen.add(file.path);
    tracker.advance(1);
    if (record === undefined) {
      counts.unchanged++;
      continue;
    }
    if (record.skipReason) counts.skipped++;
    const previous = known.get(file.path);
    if (previous) {
      counts.changed++;
    } else {
      const origin = await findMoveOrigin(store, record, seen, root);
      if (origin) {
        await flush();
        await store.applyScan({
          upserts: [],
          moves: [{ id: origin.id, path: file.path, mtimeMs: record.mtimeMs }],
          removals: [],
        });
        movedAway.add(origin.id);
        counts.moved++;
        continue;
      }
      counts.added++;
    }
    pending.push(record);
    if (pending.length >= FLUSH_EVERY) await flush();
  }
  await flush();

  const aborted = options.signal?.aborted ?? false;
  let removed = 0;
  if (!aborted) {
    const removals = [...known.values()]
      .filter((image) => !seen.has(image.path) && !movedAway.has(image.id))
      .map((image) => image.id);
    await store.applyScan({ upserts: [], moves: [], removals });
    removed = removals.length;
  }
  return { ...counts, removed, aborted };
}

/** Reads and hashes a file unless its size and mtime say it is unchanged; undefined means unchanged. */
async function inspect(
  file: FoundFile,
  previous: ImageRecord | undefined,
  options: ScanOptions,
): Promise<{ file: FoundFile; record: NewImage | undefined }> {
  const base = { path: file.path, width: null, height: null, format: null };
  if (file.skip) {
    return {
      file,
      record: {
        ...base,
        contentHash: '',
        size: 0,
        mtimeMs: 0,
        skipReason: file.skip.reason,
        skipDetail: file.skip.detail,
      },
    };
  }
  let size = 0;
  let mtimeMs = 0;
  let data: Buffer;
  try {
    const info = await stat(file.absolute);
    size = info.size;
    mtimeMs = info.mtimeMs;
    const retry = previous?.skipReason === 'unreadable' || previous?.skipReason === 'symlink-loop';
    if (previous && !options.full && !retry && previous.size === size && previous.mtimeMs === mtimeMs) {
      return { file, record: undefined };
    }
    data = await readFile(file.absolute);
  } catch (error) {
    const detail = messageOf(error);
    const reason = /ELOOP/.test(detail) ? 'symlink-loop' : 'unreadable';
    return { file, record: { ...base, contentHash: '', size, mtimeMs, skipReason: reason, skipDetail: detail } };
  }
  const contentHash = sha256(data);
  if (previous && !options.full && previous.contentHash === contentHash && !previous.skipReason) {
    // Touched but identical: keep everything, refresh the mtime so the next scan is fast.
    return { file, record: { ...previous, size, mtimeMs } };
  }
  try {
    const info = await readImageInfo(data, { maxPixels: options.maxPixels });
    return { file, record: { ...base, ...info, contentHash, size, mtimeMs, skipReason: null, skipDetail: null } };
  } catch (error) {
    if (!(error instanceof ImageSkipError)) throw error;
    return {
      file,
      record: { ...base, contentHash, size, mtimeMs, skipReason: error.skip.reason, skipDetail: error.skip.detail },
    };
  }
}

/** A stored image with the same content whose file is gone: the new path is that image, moved. */
async function findMoveOrigin(
  store: Store,
  record: NewImage,
  seen: ReadonlySet<string>,
  root: string,
): Promise<ImageRecord | undefined> {
  if (record.contentHash === '' || record.skipReason) return undefined;
  for (const candidate of await store.findImagesByHash(record.contentHash)) {
    if (candidate.path === record.path || seen.has(candidate.path)) continue;
    const stillThere = await stat(join(root, candidate.path)).then(
      () => true,
      () => false,
    );
    if (!stillThere) return candidate;
  }
  return undefined;
}

/**
 * Walks the tree depth first in name order, following symbolic links that stay inside the images
 * folder and visiting each real folder once (so link loops end). A link that leads outside is never
 * followed but listed as skipped: the server never serves such a file, so it is not indexed either.
 * Named pipes, sockets and devices are listed as skipped (reading one could block forever). Hidden
 * entries (dot files, e.g. macOS `._x.jpg`) are ignored.
 */
async function* walk(root: string, exclude: readonly string[], signal?: AbortSignal): AsyncGenerator<FoundFile> {
  const realRoot = await realpath(root);
  const inside = (real: string): boolean => {
    const rel = relative(realRoot, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  const visited = new Set<string>();
  const excluded = new Set(await Promise.all(exclude.map((dir) => realpath(dir).catch(() => dir))));
  const stack: string[] = [root];
  while (stack.length > 0) {
    if (signal?.aborted) return;
    const dir = stack.pop()!;
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined || visited.has(real) || excluded.has(real)) continue;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const absolute = join(dir, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (entry.isDirectory()) {
        subdirs.push(absolute);
      } else if (entry.isSymbolicLink()) {
        const target = await stat(absolute).catch((error: unknown) => error as NodeJS.ErrnoException);
        if (target instanceof Error) {
          if (!isImageName(entry.name)) continue;
          const reason = target.code === 'ELOOP' ? 'symlink-loop' : 'unreadable';
          yield { path, absolute, skip: { reason, detail: `${target.code ?? 'error'}: ${messageOf(target)}` } };
        } else if (!inside(await realpath(absolute).catch(() => absolute))) {
          if (target.isDirectory() || isImageName(entry.name)) {
            const to = await realpath(absolute).catch(() => '?');
            yield { path, absolute, skip: { reason: 'outside-root', detail: `links to ${to}` } };
          }
        } else if (target.isDirectory()) {
          subdirs.push(absolute);
        } else if (target.isFile() && isImageName(entry.name)) {
          yield { path, absolute };
        } else if (!target.isFile() && isImageName(entry.name)) {
          yield {
            path,
            absolute,
            skip: { reason: 'not-a-file', detail: 'the link leads to a pipe, socket or device' },
          };
        }
      } else if (entry.isFile() && isImageName(entry.name)) {
        yield { path, absolute };
      } else if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) {
        const kind = entry.isFIFO() ? 'a named pipe' : entry.isSocket() ? 'a socket' : 'a device';
        yield { path, absolute, skip: { reason: 'not-a-file', detail: `${kind}, not a regular file` } };
      }
    }
    // Reverse so that popping visits folders in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
