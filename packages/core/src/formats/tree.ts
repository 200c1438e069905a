/**
 * @module Folder formats' shared parts: reading `<root>/<class>/<image>` trees, and writing them
 * (with an optional stratified split) into a folder of links or copies, or into a tar stream.
 */
import { constants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import { isImageName } from '../image/scan.js';
import { readError, writeError } from '../util/fs.js';
import type { ExportRecord } from '../store/store.js';
import type { ExportRows, LabelEntry, TreeSink, TreeWriter, TreeWriteResult, WriteContext } from './format.js';
import { DEFAULT_SPLIT, labelCounts, SPLIT_NAMES, StratifiedSplitter } from './split.js';
import { withSpools } from './spool.js';
import type { TarWriter } from './tar.js';

/** A folder's entries, hidden ones (`.x`, macOS `._x`, `.ipynb_checkpoints`) left out; links followed. */
export async function listFolder(dir: string): Promise<{ name: string; path: string; isDirectory: boolean }[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw readError(dir, error, 'folder');
  }
  const out = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const isDirectory = entry.isSymbolicLink()
      ? ((await stat(path).catch(() => undefined))?.isDirectory() ?? false)
      : entry.isDirectory();
    out.push({ name: entry.name, path, isDirectory });
  }
  return out;
}

/** Image files under `dir` at any depth, sorted; links to files count (an exported folder is links). */
async function imageFiles(dir: string): Promise<{ files: string[]; others: number }> {
  const files: string[] = [];
  let others = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (
      relative(dir, path)
        .split(sep)
        .some((part) => part.startsWith('.'))
    )
      continue;
    if (entry.isDirectory()) continue;
    const isFile = entry.isFile() || (entry.isSymbolicLink() && (await isFileOrDangling(path)));
    if (isFile && isImageName(entry.name)) files.push(path);
    else if (isFile) others++;
  }
  return { files: files.sort(), others };
}

/** A link to a file, or one whose target is gone (matched by its path then, not by content). */
async function isFileOrDangling(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info === undefined || info.isFile();
}

/**
 * Entries of a `<root>/<class>/<image>` tree: each image file under a class folder, at any depth, has
 * that class; its path below the class folder is how it is named. An image directly in the root has
 * no class (an entry without a label). Files that are not images are counted in a note.
 */
export async function classTreeEntries(
  root: string,
  note: (text: string) => void,
): Promise<{ entries: AsyncIterable<LabelEntry>; classes: string[] }> {
  const top = await listFolder(root);
  const classes = top.filter((e) => e.isDirectory).map((e) => e.name);
  async function* entries(): AsyncGenerator<LabelEntry> {
    let others = 0;
    for (const entry of top) {
      if (!entry.isDirectory) {
        if (isImageName(entry.name))
          yield { where: entry.path, image: { path: entry.name, file: entry.path }, labels: [] };
        else others++;
        continue;
      }
      const listed = await imageFiles(entry.path);
      others += listed.others;
      for (const file of listed.files) {
        const path = relative(entry.path, file).split(sep).join('/');
        yield { where: file, image: { path, file }, labels: [entry.name] };
      }
    }
    if (others > 0) note(`${root}: ${others} file${others === 1 ? '' : 's'} that are not images left out`);
  }
  return { entries: entries(), classes };
}

/** How a folder export puts an image in place. */
export type Placement = 'link' | 'symlink' | 'copy';

/** Why a hard link cannot be made where a symbolic link still can: another file system, not allowed, too many links. */
const NO_HARD_LINK = new Set(['EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOENT']);

/**
 * Images placed in a folder, several at a time: hard links (`link`, the default), symbolic links
 * (`symlink`) or copies. A hard link makes no inode: on a busy disk it is 10 to 70 times cheaper than
 * a symbolic link or a copy (each allocates one), and it stays valid when the images folder moves.
 * Where the images cannot be hard-linked (another file system, a file owned by someone else), a
 * symbolic link is made instead, for that file and, after `EXDEV`, for every later one.
 */
export class FolderTree implements TreeSink {
  readonly #root: string;
  readonly #placement: Placement;
  #crossDevice = false;
  readonly #made = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;

  constructor(root: string, placement: Placement) {
    this.#root = root;
    this.#placement = placement;
  }

  async addFolder(path: string): Promise<void> {
    await this.#mkdir(join(this.#root, ...path.split('/')));
  }

  async addImage(path: string, source: string): Promise<void> {
    const target = join(this.#root, ...path.split('/'));
    const dir = dirname(target);
    if (!this.#made.has(dir)) await this.#mkdir(dir);
    const placed = this.#place(source, target).catch((error: unknown) => {
      this.#failure ??= new AutolabelError(
        'IO_FAILED',
        `cannot ${this.#placement === 'copy' ? 'copy' : 'link'} ${source} to ${target}: ${messageOf(error)}`,
        { cause: error },
      );
    });
    this.#inFlight.add(placed);
    void placed.then(() => this.#inFlight.delete(placed));
    // A few file operations at a time keep the disk busy without holding every row in memory.
    if (this.#inFlight.size >= 32) await Promise.race(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #place(source: string, target: string): Promise<void> {
    if (this.#placement === 'copy') return copyFile(source, target, constants.COPYFILE_EXCL);
    if (this.#placement === 'link' && !this.#crossDevice) {
      try {
        return await link(source, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!NO_HARD_LINK.has(code)) throw error;
        if (code === 'EXDEV') this.#crossDevice = true;
      }
    }
    await symlink(source, target);
  }

  async addText(path: string, text: string | AsyncIterable<string>): Promise<void> {
    const target = join(this.#root, ...path.split('/'));
    await this.#mkdir(dirname(target));
    try {
      await writeFile(target, text, { flag: 'wx' });
    } catch (error) {
      throw writeError(target, error);
    }
  }

  /** Waits for every file in flight; throws the first failure. */
  async finish(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #mkdir(dir: string): Promise<void> {
    if (this.#made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#made.add(dir);
  }
}

/** Images placed in a tar archive being streamed (copies: a link means nothing in a download). */
export class TarTree implements TreeSink {
  readonly #tar: TarWriter;

  constructor(tar: TarWriter) {
    this.#tar = tar;
  }

  async addFolder(path: string): Promise<void> {
    await this.#tar.folder(path);
  }

  async addImage(path: string, source: string): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(source);
    } catch (error) {
      throw readError(source, error);
    }
    await this.#tar.file(path, data);
  }

  async addText(path: string, text: string | AsyncIterable<string>): Promise<void> {
    if (typeof text === 'string') return this.#tar.file(path, Buffer.from(text, 'utf8'));
    // A tar header announces the size: a long text waits in a temporary file until it is known.
    await withSpools(1, async ([spool]) => {
      for await (const chunk of text) await spool!.append(chunk);
      const size = await spool!.size();
      await this.#tar.fileFrom(path, size, encoded(spool!.read()));
    });
  }
}

async function* encoded(chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) yield Buffer.from(chunk, 'utf8');
}

/** What the second pass of a folder export counted. */
export interface LabelledPass {
  /** Rows that had a class (each given to `each`). */
  readonly images: number;
  /** Rows left out because they had no class. */
  readonly withoutClass: number;
  /** Images per split (train, val, test) when `fractions` split them. */
  readonly splits?: Readonly<Record<string, number>>;
}

/**
 * The second pass of a folder export: `each` gets every row that has a class, with the part a
 * stratified split of `counts` (the first pass, `labelCounts`) puts it in, 0 without `fractions`;
 * progress is reported per row.
 */
export async function eachLabelledRow(
  rows: ExportRows,
  ctx: WriteContext,
  fractions: readonly number[] | undefined,
  counts: ReadonlyMap<string, number>,
  each: (row: ExportRecord, label: string, part: number) => void | Promise<void>,
): Promise<LabelledPass> {
  const splitter = fractions === undefined ? undefined : new StratifiedSplitter(counts, fractions, ctx.seed);
  const perPart = Array.from({ length: fractions?.length ?? 1 }, () => 0);
  // The part each duplicate group went to, by its first member (groupOf).
  const partOfGroup = new Map<string, number>();
  let images = 0;
  let withoutClass = 0;
  for await (const row of rows()) {
    ctx.advance(1);
    if (row.label === null) {
      withoutClass++;
      continue;
    }
    const group = splitter && ctx.groupOf?.(row.path);
    const groupPart = group === undefined ? undefined : partOfGroup.get(group);
    const part = groupPart !== undefined ? splitter!.take(row.label, groupPart) : (splitter?.assign(row.label) ?? 0);
    if (group !== undefined) partOfGroup.set(group, part);
    await each(row, row.label, part);
    perPart[part]!++;
    images++;
  }
  return {
    images,
    withoutClass,
    ...(fractions !== undefined && {
      splits: Object.fromEntries(SPLIT_NAMES.slice(0, fractions.length).map((name, i) => [name, perPart[i]!])),
    }),
  };
}

/**
 * Writes `<class>/<image path>` (or `<split>/<class>/<image path>` with a split) for every row with a
 * class. The image keeps its path below the class folder, so names never collide and an import finds
 * it by path. Every class gets a folder in every split, empty or not: tools that number classes by
 * their folders (torchvision ImageFolder, Ultralytics) then number them alike in train and val.
 */
export function classTreeWriter(options: { readonly alwaysSplit: boolean }): TreeWriter {
  return {
    kind: 'tree',
    async write(rows: ExportRows, tree: TreeSink, ctx: WriteContext): Promise<TreeWriteResult> {
      const counts = await labelCounts(rows());
      const classes = [...counts.keys()].sort();
      const fractions = ctx.split ?? (options.alwaysSplit ? DEFAULT_SPLIT : undefined);
      const parts = fractions === undefined ? [''] : SPLIT_NAMES.slice(0, fractions.length).map((p) => `${p}/`);
      for (const [i, part] of parts.entries()) {
        if (fractions !== undefined && fractions[i] === 0) continue;
        if (part !== '') await tree.addFolder(part);
        for (const name of classes) await tree.addFolder(`${part}${name}`);
      }
      const pass = await eachLabelledRow(rows, ctx, fractions, counts, (row, label, part) =>
        tree.addImage(`${parts[part]}${label}/${row.path}`, join(ctx.imagesRoot, ...row.path.split('/'))),
      );
      const hidden = classes.filter((name) => name.startsWith('.'));
      return {
        ...pass,
        warnings: hidden.map(
          (name) => `class "${name}" starts with a dot: tools that read class folders take it for a hidden folder`,
        ),
      };
    },
  };
}
