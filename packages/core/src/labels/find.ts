/**
 * @module Finding the image a person or a file means by a written path: as written, trimmed, absolute
 * inside the images folder, relative to the file that names it; for copies elsewhere, by content;
 * else by its file name when only one image has it.
 */
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageRef } from '../formats/format.js';
import type { ImageRecord, Store } from '../store/store.js';
import { sha256 } from '../util/hash.js';
import { imagePathCandidates } from './label.js';

/**
 * The stored image a written path names: exactly as written first, then trimmed (a space after a
 * CSV comma); an absolute path inside `imagesRoot` (what tab completion gives) as its relative path.
 */
export async function findImageByWrittenPath(
  store: Store,
  raw: string,
  imagesRoot?: string,
): Promise<ImageRecord | undefined> {
  const written = [raw];
  if (imagesRoot !== undefined && isAbsolute(raw.trim())) {
    const rel = insideRoot(imagesRoot, raw.trim());
    if (rel !== undefined) written.push(rel);
  }
  for (const candidate of written.flatMap(imagePathCandidates)) {
    const image = await store.findImageByPath(candidate);
    if (image) return image;
  }
  return undefined;
}

/** `path` (absolute) relative to `root`, '/'-separated, when it lies inside it. */
function insideRoot(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined;
}

export type Match =
  | { readonly kind: 'found'; readonly image: ImageRecord }
  | { readonly kind: 'missing' }
  /** Several images fit equally well: the paths of (some of) them. */
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] };

/** Label Studio's upload prefix: `/data/upload/3/8f3a2b1c-cat.jpg` is the upload of `cat.jpg`. */
const UPLOAD_HASH = /^[0-9a-f]{8}-/i;

function decode(text: string): string {
  try {
    return text.includes('%') ? decodeURIComponent(text) : text;
  } catch {
    return text;
  }
}

/** What a written path may also mean: a `file:` URL's path, an http(s) URL's path, the text URL-decoded. */
function writtenForms(written: string): string[] {
  const forms = [written];
  if (/^file:\/\//i.test(written)) {
    try {
      forms.push(fileURLToPath(written));
    } catch {
      // Not a usable file URL: the other rules may still find it.
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(written)) {
    try {
      const url = new URL(written);
      // Label Studio serves local files as /data/local-files/?d=<path>.
      const local = url.searchParams.get('d');
      forms.push(local ?? decode(url.pathname).replace(/^\/+/, ''));
    } catch {
      // Not a URL after all.
    }
  } else if (/^\/[^?]*\?(.*&)?d=/.test(written)) {
    const local = new URLSearchParams(written.slice(written.indexOf('?') + 1)).get('d');
    if (local) forms.push(local);
  }
  const decoded = decode(written);
  if (decoded !== written && !forms.includes(decoded)) forms.push(decoded);
  return forms;
}

/** The path segments a written path names, its URL parts removed and decoded, for matching by name. */
function segmentsOf(written: string): string[] {
  const path = writtenForms(written).at(-1)!;
  return path.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
}

function sharedTail(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/**
 * Of the images named `segments`' last part, the one whose path ends in the most of the written
 * folders (`cats/1.jpg` over `dogs/1.jpg`); ambiguous when two tie.
 */
function byTail(candidates: readonly ImageRecord[], segments: readonly string[]): Match {
  if (candidates.length === 0) return { kind: 'missing' };
  if (candidates.length === 1) return { kind: 'found', image: candidates[0]! };
  const scored = candidates.map((image) => ({ image, shared: sharedTail(image.path.split('/'), segments) }));
  const best = Math.max(...scored.map((s) => s.shared));
  const top = scored.filter((s) => s.shared === best);
  return top.length === 1
    ? { kind: 'found', image: top[0]!.image }
    : { kind: 'ambiguous', candidates: top.map((s) => s.image.path).sort() };
}

/**
 * Matches what an import file names to stored images. In order: the file an entry is (a folder
 * format's image, or a link to one) where it leads inside the images folder; the path as written
 * (`findImageByWrittenPath`, URLs decoded); relative to the import file's folder; by content (a
 * hash the file records, or the entry's own file); by file name, when one image has it (Label
 * Studio's upload prefix stripped), or when the written folders single one out.
 */
export class ImageMatcher {
  readonly #store: Store;
  readonly #imagesRoot: string;
  readonly #baseDir: string | undefined;
  #realRoot: Promise<string> | undefined;
  #byName: Promise<Map<string, ImageRecord[]>> | undefined;

  constructor(store: Store, imagesRoot: string, baseDir?: string) {
    this.#store = store;
    this.#imagesRoot = imagesRoot;
    this.#baseDir = baseDir;
  }

  async match(ref: ImageRef): Promise<Match> {
    const segments = segmentsOf(ref.path);
    if (ref.file !== undefined) {
      // A folder format's file: where it leads, else its content, decide; its relative path is only a name.
      const real = await realpath(ref.file).catch(() => undefined);
      const rel = real === undefined ? undefined : insideRoot(await this.#real(), real);
      const image = rel === undefined ? undefined : await this.#store.findImageByPath(rel);
      if (image) return { kind: 'found', image };
      const byContent = await this.#byContent(await readFile(ref.file).then(sha256, () => undefined), segments);
      if (byContent) return byContent;
    }
    const forms = writtenForms(ref.path);
    for (const written of forms) {
      const image = await findImageByWrittenPath(this.#store, written, this.#imagesRoot);
      if (image) return { kind: 'found', image };
    }
    if (this.#baseDir !== undefined) {
      for (const written of forms.filter((f) => !isAbsolute(f.trim()))) {
        const rel = insideRoot(this.#imagesRoot, resolve(this.#baseDir, written.trim()));
        const image = rel === undefined ? undefined : await this.#store.findImageByPath(rel);
        if (image) return { kind: 'found', image };
      }
    }
    const byContent = await this.#byContent(ref.contentHash, segments);
    if (byContent) return byContent;
    const name = segments.at(-1);
    if (name === undefined) return { kind: 'missing' };
    const byName = await this.#names();
    const exact = byName.get(name) ?? [];
    if (exact.length > 0 || !UPLOAD_HASH.test(name)) return byTail(exact, segments);
    const stripped = name.replace(UPLOAD_HASH, '');
    return byTail(byName.get(stripped) ?? [], [...segments.slice(0, -1), stripped]);
  }

  /** The image with this content (the written path picks among duplicates); undefined when none has it. */
  async #byContent(hash: string | undefined, segments: readonly string[]): Promise<Match | undefined> {
    if (hash === undefined) return undefined;
    const same = await this.#store.findImagesByHash(hash);
    return same.length > 0 ? byTail(same, segments) : undefined;
  }

  #real(): Promise<string> {
    this.#realRoot ??= realpath(this.#imagesRoot).catch(() => this.#imagesRoot);
    return this.#realRoot;
  }

  /** Images by file name, built the first time a path does not match as written. */
  #names(): Promise<Map<string, ImageRecord[]>> {
    this.#byName ??= this.#store.listImages().then((images) => {
      const byName = new Map<string, ImageRecord[]>();
      for (const image of images) {
        const name = image.path.slice(image.path.lastIndexOf('/') + 1);
        const list = byName.get(name);
        if (list) list.push(image);
        else byName.set(name, [image]);
      }
      return byName;
    });
    return this.#byName;
  }
}
