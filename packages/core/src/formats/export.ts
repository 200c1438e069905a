/**
 * @module The export use case: rows streamed from the store through a format's writer into a file
 * (written atomically), a folder (links or copies, put in place when complete) or a byte sink (an
 * HTTP response; folder formats as a tar archive), in bounded memory, with progress.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { AutolabelError } from '../errors.js';
import type { ExportFilter, Store } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { type ProgressListener, ProgressTracker } from '../util/progress.js';
import type { TreeWriteResult, WriteContext } from './format.js';
import { type ExportFormat, writerOf } from './registry.js';
import { parseSplit } from './split.js';
import { type ByteSink, TarWriter } from './tar.js';
import { FolderTree, TarTree } from './tree.js';
import { checkFilter, parseWhere } from './where.js';

export type { ByteSink } from './tar.js';

export interface ExportOptions {
  readonly format: ExportFormat;
  /**
   * A file (file formats) or a folder (folder formats: it must not exist yet, or be empty) to write;
   * or a sink that takes the bytes, where folder formats come as a tar archive.
   */
  readonly out: string | ByteSink;
  /** `status=auto,suggested label=cat min-confidence=0.8` (see where.ts), or the filter as data. Default: the format's. */
  readonly where?: string | ExportFilter;
  /** Train, val (and test) fractions for folder formats: `0.8,0.1,0.1`. */
  readonly split?: string | readonly number[];
  /** Seed of the split's random draw (default 0: the same split every time). */
  readonly seed?: number;
  /** Splits: the duplicate group of each image by path (`WriteContext.groupOf`), kept on one side. */
  readonly groups?: ReadonlyMap<string, string>;
  /** Folder formats: copy the images instead of linking to them. */
  readonly copy?: boolean;
  /**
   * Folder formats: symbolic links instead of hard links (the default, where the file system allows;
   * see `FolderTree`), for an export that should follow the images folder rather than hold its files.
   */
  readonly symlink?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export interface ExportResult {
  readonly format: ExportFormat;
  /** The file or folder written; null when written to a sink. */
  readonly out: string | null;
  /** Images written: rows of a file format, image files of a folder format. */
  readonly images: number;
  /** Rows a folder format left out because they have no class. */
  readonly withoutClass: number;
  /** Images per split, for folder formats that split. */
  readonly splits?: Readonly<Record<string, number>>;
  /** The filter applied (the format's default when none was given). */
  readonly filter: ExportFilter;
  readonly warnings: readonly string[];
  readonly seconds: number;
}

export async function exportLabels(store: Store, imagesRoot: string, options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const { format, writer } = writerOf(options.format);
  const filter =
    options.where === undefined
      ? (format.defaultFilter ?? {})
      : typeof options.where === 'string'
        ? parseWhere(options.where)
        : checkFilter(options.where);
  const split = options.split === undefined ? undefined : parseSplit(options.split);
  if (writer.kind === 'file' && (split !== undefined || options.copy || options.symlink)) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `${split !== undefined ? 'split' : options.copy ? 'copy' : 'symlink'}: the ${format.name} format is one file; splits, copies and links are for folder formats`,
    );
  }
  if (options.copy && options.symlink) {
    throw new AutolabelError('INVALID_ARGUMENT', 'copy, symlink: choose one (copies, or symbolic links)');
  }
  const total = await store.countExportRecords(filter);
  const progress = new ProgressTracker('export', total, options.onProgress);
  const ctx: WriteContext = {
    imagesRoot,
    classes: (await store.listClasses()).map((c) => c.name).sort(),
    split,
    seed: options.seed ?? 0,
    ...(options.groups && { groupOf: (path: string) => options.groups!.get(path) }),
    advance(rows) {
      if (options.signal?.aborted) throw new AutolabelError('ABORTED', 'export interrupted: nothing was written');
      progress.advance(rows);
    },
    importExtras: (imageIds) => store.importExtras(options.format, imageIds),
  };
  const rows = () => store.exportRecords(filter);
  const out = typeof options.out === 'string' ? options.out : null;
  let written: TreeWriteResult;
  if (writer.kind === 'file') {
    const chunks = writer.chunks(rows(), ctx);
    if (out !== null) await writeFileAtomic(out, chunks);
    else for await (const chunk of chunks) await (options.out as ByteSink).write(chunk);
    written = { images: progress.done, withoutClass: 0, warnings: [] };
  } else if (out === null) {
    const tar = new TarWriter(options.out as ByteSink);
    written = await writer.write(rows, new TarTree(tar), ctx);
    await tar.end();
  } else {
    written = await intoFolder(out, imagesRoot, async (folder) => {
      const tree = new FolderTree(folder, options.copy ? 'copy' : options.symlink ? 'symlink' : 'link');
      try {
        return await writer.write(rows, tree, ctx);
      } finally {
        await tree.finish();
      }
    });
  }
  return {
    format: options.format,
    out,
    images: written.images,
    withoutClass: written.withoutClass,
    ...(written.splits && { splits: written.splits }),
    filter,
    warnings: written.warnings,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Writes a folder export into a fresh folder beside `out`, then puts it in place: an interrupted
 * export leaves no half-written dataset under the name a training script reads.
 */
async function intoFolder<T>(out: string, imagesRoot: string, work: (folder: string) => Promise<T>): Promise<T> {
  const inside = relative(imagesRoot, out);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `${out} is inside the images folder ${imagesRoot}: the next scan would take the exported images for new ones; write it elsewhere`,
    );
  }
  const existing = await stat(out).catch(() => undefined);
  if (existing && (!existing.isDirectory() || (await readdir(out)).length > 0)) {
    throw new AutolabelError('INVALID_ARGUMENT', `${out} exists and is not an empty folder: choose a new one`);
  }
  await mkdir(dirname(out), { recursive: true });
  const folder = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.partial`);
  await mkdir(folder);
  try {
    const result = await work(folder);
    if (existing) await rmdir(out);
    await rename(folder, out);
    return result;
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}
