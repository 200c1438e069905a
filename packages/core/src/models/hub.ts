/**
 * @module Hugging Face hub models in the local cache: each revision of a repository is a folder in
 * the hub's layout (`files/config.json`, `files/onnx/...`) with a manifest of what was downloaded
 * and verified (size, sha256, the hub's etag, the commit). A model in the cache is used without a
 * request; one that is not is fetched once, under a lock, while other processes wait for it.
 *
 * The hub's protocol (huggingface_hub's get_hf_file_metadata does the same): `HEAD
 * /REPO/resolve/REVISION/PATH` without following the redirect answers `X-Repo-Commit`, and for LFS
 * files `X-Linked-Size` and `X-Linked-Etag` (the file's sha256) next to the redirect to the CDN;
 * small files answer 200 with `Content-Length` and `ETag` (their git blob id). Files are then
 * fetched at the commit the first answer named, so one snapshot never mixes two commits.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { formatModelSpec, HF_DTYPES, type HfModelSpec } from '../domain/index.js';
import { AutolabelError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Progress, ProgressListener } from '../util/progress.js';
import { downloadFile, type RemoteFile } from './download.js';
import { filesFor, hasTextTower, type HubModelConfig, type ModelPart } from './files.js';
import { HttpConnectError, httpGet } from './http.js';
import { withLock } from './lock.js';
import type { HubSettings } from './settings.js';

export interface CachedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** A model ready in the cache. */
export interface HfSnapshot {
  readonly spec: HfModelSpec;
  /** The folder in the repository's own layout (config.json, onnx/...): what transformers.js opens. */
  readonly dir: string;
  readonly config: HubModelConfig;
  /** The commit the files are from, as the hub named it. */
  readonly commit: string | null;
  /** The files of the parts asked for, config.json first. */
  readonly files: readonly CachedFile[];
  /** Bytes this call downloaded: 0 when everything was cached. */
  readonly downloaded: number;
}

export interface EnsureOptions {
  /** Default: the image tower only. */
  readonly parts?: readonly ModelPart[];
  /** Download progress in bytes (phase `download SPEC`). */
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

const manifestSchema = z.object({
  version: z.literal(1),
  repo: z.string(),
  revision: z.string(),
  endpoint: z.string(),
  commit: z.string().nullable(),
  files: z.record(
    z.string(),
    z.object({ size: z.number().int().nonnegative(), sha256: z.string(), etag: z.string().nullable() }),
  ),
});
type Manifest = z.infer<typeof manifestSchema>;

const configSchema = z
  .object({
    model_type: z.string().optional(),
    'transformers.js_config': z
      .object({
        use_external_data_format: z
          .union([z.boolean(), z.number(), z.record(z.string(), z.union([z.boolean(), z.number()]))])
          .optional(),
      })
      .optional(),
  })
  .loose();

const MANIFEST = 'manifest.json';
const FILES = 'files';

/** The cache folder of one revision of a repository. */
export function snapshotDir(cacheDir: string, spec: HfModelSpec): string {
  const [owner = '', name = ''] = spec.repo.split('/');
  return join(cacheDir, 'hf', owner, name, encodeURIComponent(spec.revision));
}

/** The model from the cache, downloading what is missing first (once, whatever the number of processes asking). */
export async function ensureHfModel(
  spec: HfModelSpec,
  settings: HubSettings,
  options: EnsureOptions = {},
): Promise<HfSnapshot> {
  const dir = snapshotDir(settings.cacheDir, spec);
  const parts = options.parts ?? ['image'];
  const cached = await cachedSnapshot(dir, spec, parts);
  if (cached) return cached;
  const label = formatModelSpec(spec);
  if (settings.offline) throw notCached(label, settings, 'offline mode is on (HF_HUB_OFFLINE)');
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw new AutolabelError('IO_FAILED', `cannot create the model cache folder ${dir}: ${messageOf(error)}`, {
      cause: error,
    });
  });
  return withLock(
    join(dir, 'download.lock'),
    async () => {
      // Another process may have fetched it while this one waited.
      const ready = await cachedSnapshot(dir, spec, parts);
      if (ready) return ready;
      const fetcher = new Fetcher(spec, settings, dir, label, options);
      // config.json names the other files; it is small, so its download shows no progress of its own.
      await fetcher.fetch(['config.json'], false);
      const config = await readConfig(dir);
      if (parts.includes('text') && !hasTextTower(config)) {
        throw new AutolabelError(
          'MODEL_UNSUPPORTED',
          `${label} has no text tower (model_type "${config.model_type ?? '?'}"; text towers come with clip, siglip and jina_clip)`,
        );
      }
      await fetcher.fetch(neededFiles(config, spec, parts));
      const snapshot = await cachedSnapshot(dir, spec, parts);
      if (!snapshot) throw new AutolabelError('IO_FAILED', `${label}: the downloaded files are not in ${dir}`);
      return { ...snapshot, downloaded: fetcher.downloaded };
    },
    {
      signal: options.signal,
      onWait: (holder) =>
        options.onProgress?.({
          phase: `waiting for process ${holder.pid} to download ${label}`,
          done: 0,
          total: null,
          rate: 0,
          etaSeconds: null,
          unit: 'bytes',
        }),
    },
  );
}

/** One cached revision: its spec per complete dtype, its files and their size. */
export interface CachedModel {
  /** `hf:REPO[@REVISION][:DTYPE]`; without a dtype when no dtype is complete. */
  readonly spec: string;
  readonly complete: boolean;
  /** The text tower is cached too (zero-shot). */
  readonly text: boolean;
  readonly dir: string;
  readonly commit: string | null;
  readonly files: readonly CachedFile[];
  readonly bytes: number;
}

/** Every hub model in the cache, one entry per complete dtype (and one per revision with nothing complete). */
export async function listCachedModels(settings: HubSettings): Promise<CachedModel[]> {
  const root = join(settings.cacheDir, 'hf');
  const models: CachedModel[] = [];
  for (const owner of await folders(root)) {
    for (const name of await folders(join(root, owner))) {
      for (const revision of await folders(join(root, owner, name))) {
        const dir = join(root, owner, name, revision);
        const manifest = await readManifest(dir);
        if (!manifest) continue;
        const base: HfModelSpec = { kind: 'hf', repo: manifest.repo, revision: manifest.revision, dtype: 'fp32' };
        const config = manifest.files['config.json'] ? await readConfig(dir).catch(() => undefined) : undefined;
        let complete = 0;
        for (const dtype of config ? HF_DTYPES : []) {
          const spec = { ...base, dtype };
          const image = await present(dir, manifest, filesFor(config!, dtype, 'image'));
          if (!image) continue;
          complete++;
          const text = hasTextTower(config!) && (await present(dir, manifest, filesFor(config!, dtype, 'text')));
          const files = fileList(manifest, neededFiles(config!, spec, text ? ['image', 'text'] : ['image']));
          models.push(entry(formatModelSpec(spec), true, text, dir, manifest, files));
        }
        if (complete === 0) {
          const files = fileList(manifest, Object.keys(manifest.files));
          models.push(entry(formatModelSpec(base), false, false, dir, manifest, files));
        }
      }
    }
  }
  return models.sort((a, b) => a.spec.localeCompare(b.spec));
}

/** Deletes a revision from the cache (every dtype of it); returns the bytes freed, 0 when it was not there. */
export async function removeCachedModel(spec: HfModelSpec, settings: HubSettings): Promise<number> {
  const dir = snapshotDir(settings.cacheDir, spec);
  const manifest = await readManifest(dir);
  if (!manifest && !(await stat(dir).catch(() => undefined))) return 0;
  const bytes = Object.values(manifest?.files ?? {}).reduce((sum, f) => sum + f.size, 0);
  await withLock(join(dir, 'download.lock'), async () => {
    await rm(join(dir, FILES), { recursive: true, force: true });
    await rm(join(dir, MANIFEST), { force: true });
  });
  await rm(dir, { recursive: true, force: true });
  return bytes;
}

function entry(
  spec: string,
  complete: boolean,
  text: boolean,
  dir: string,
  manifest: Manifest,
  files: CachedFile[],
): CachedModel {
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  return { spec, complete, text, dir: join(dir, FILES), commit: manifest.commit, files, bytes };
}

function neededFiles(config: HubModelConfig, spec: HfModelSpec, parts: readonly ModelPart[]): string[] {
  return [...new Set(parts.flatMap((part) => filesFor(config, spec.dtype, part)))];
}

function fileList(manifest: Manifest, paths: readonly string[]): CachedFile[] {
  return paths.flatMap((path) => {
    const file = manifest.files[path];
    return file ? [{ path, size: file.size, sha256: file.sha256 }] : [];
  });
}

/** The snapshot if every file the parts need is in the manifest and on disk at its size. No request. */
async function cachedSnapshot(
  dir: string,
  spec: HfModelSpec,
  parts: readonly ModelPart[],
): Promise<HfSnapshot | undefined> {
  const manifest = await readManifest(dir);
  if (!manifest?.files['config.json']) return undefined;
  const config = await readConfig(dir).catch(() => undefined);
  if (!config) return undefined;
  if (parts.includes('text') && !hasTextTower(config)) return undefined;
  const needed = neededFiles(config, spec, parts);
  if (!(await present(dir, manifest, needed))) return undefined;
  return {
    spec,
    dir: join(dir, FILES),
    config,
    commit: manifest.commit,
    files: fileList(manifest, needed),
    downloaded: 0,
  };
}

async function present(dir: string, manifest: Manifest, paths: readonly string[]): Promise<boolean> {
  for (const path of paths) {
    const file = manifest.files[path];
    const info = file ? await stat(join(dir, FILES, path)).catch(() => undefined) : undefined;
    if (!file || info?.size !== file.size) return false;
  }
  return true;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readConfig(dir: string): Promise<HubModelConfig> {
  const file = join(dir, FILES, 'config.json');
  const parsed = configSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AutolabelError('MODEL_INVALID', `${file}: field "${issue?.path.join('.')}": ${issue?.message}`);
  }
  return parsed.data as HubModelConfig;
}

async function folders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

function notCached(label: string, settings: HubSettings, why: string): AutolabelError {
  return new AutolabelError(
    'MODEL_NOT_FOUND',
    `${label} is not in the model cache ${settings.cacheDir}, and it cannot be downloaded: ${why}`,
    { hint: { action: 'pull-model', model: label } },
  );
}

interface Metadata {
  readonly path: string;
  readonly remote: RemoteFile;
  readonly etag: string | null;
}

/** Downloads the files a snapshot lacks, recording each in the manifest once verified. */
class Fetcher {
  /** Bytes that arrived over the network. */
  downloaded = 0;
  readonly #origin: string;

  constructor(
    readonly spec: HfModelSpec,
    readonly settings: HubSettings,
    readonly dir: string,
    readonly label: string,
    readonly options: EnsureOptions,
  ) {
    this.#origin = new URL(settings.endpoint).origin;
  }

  async fetch(paths: readonly string[], showProgress = true): Promise<void> {
    const manifest: Manifest = (await readManifest(this.dir)) ?? {
      version: 1,
      repo: this.spec.repo,
      revision: this.spec.revision,
      endpoint: this.settings.endpoint,
      commit: null,
      files: {},
    };
    const missing: string[] = [];
    for (const path of paths) if (!(await present(this.dir, manifest, [path]))) missing.push(path);
    if (missing.length === 0) return;
    const metadata: Metadata[] = [];
    for (const path of missing) metadata.push(await this.#head(path, manifest));
    const sizes = metadata.map((m) => m.remote.size);
    const total = sizes.every((s) => s !== null) ? sizes.reduce((a, b) => a! + b!, 0) : null;
    const progress = new ByteProgress(
      `download ${this.label}`,
      total,
      showProgress ? this.options.onProgress : undefined,
    );
    const token = this.settings.token ? { value: this.settings.token, origin: this.#origin } : undefined;
    try {
      for (const { path, remote, etag } of metadata) {
        const file = await downloadFile(remote, join(this.dir, FILES, path), {
          timeoutMs: this.settings.timeoutMs,
          retries: this.settings.retries,
          token,
          signal: this.options.signal,
          onBytes: (bytes, fromDisk) => {
            if (!fromDisk) this.downloaded += bytes;
            progress.add(bytes, fromDisk);
          },
        });
        manifest.files[path] = { size: file.size, sha256: file.sha256, etag };
        await writeFileAtomic(join(this.dir, MANIFEST), [`${JSON.stringify(manifest, null, 2)}\n`]);
      }
    } finally {
      progress.finish();
    }
  }

  /** What the hub says about one file, without downloading it. */
  async #head(path: string, manifest: Manifest): Promise<Metadata> {
    const revision = manifest.commit ?? this.spec.revision;
    const url = `${this.settings.endpoint}/${this.spec.repo}/resolve/${encodeURIComponent(revision)}/${path
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;
    let response;
    try {
      response = await httpGet(url, {
        method: 'HEAD',
        timeoutMs: this.settings.timeoutMs,
        redirects: 'same-origin',
        token: this.settings.token ? { value: this.settings.token, origin: this.#origin } : undefined,
        signal: this.options.signal,
      });
    } catch (error) {
      if (this.options.signal?.aborted) throw new AutolabelError('ABORTED', `download of ${this.label} stopped`);
      const reason = error instanceof HttpConnectError ? error.reason : messageOf(error);
      throw notCached(this.label, this.settings, `${this.settings.endpoint} cannot be reached: ${reason}`);
    }
    response.body.resume();
    const { status, headers } = response;
    const header = (name: string): string | undefined => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (status >= 400) throw this.#refusal(path, status, header('x-error-code'), revision);
    manifest.commit ??= header('x-repo-commit') ?? null;
    const etag = cleanEtag(header('x-linked-etag') ?? header('etag'));
    const sizeHeader = header('x-linked-size') ?? (status < 300 ? header('content-length') : undefined);
    const size = sizeHeader !== undefined && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : null;
    // An LFS file's etag is its sha256; a small file's is its git blob id (40 hex), not checked here.
    const sha256 = etag !== null && /^[0-9a-f]{64}$/.test(etag) ? etag : null;
    return { path, remote: { path, url, size, sha256 }, etag };
  }

  #refusal(path: string, status: number, code: string | undefined, revision: string): AutolabelError {
    const where = `${this.spec.repo} at ${this.settings.endpoint}`;
    if (code === 'RepoNotFound' || (path === 'config.json' && status === 404 && code === undefined)) {
      return new AutolabelError(
        'MODEL_NOT_FOUND',
        `${this.label}: no repository ${where} (a private one needs an access token: set HF_TOKEN)`,
      );
    }
    if (code === 'GatedRepo' || status === 401 || status === 403) {
      return new AutolabelError(
        'MODEL_NOT_FOUND',
        `${this.label}: ${where} refused access (HTTP ${status}${code ? `, ${code}` : ''}): a gated or private repository needs its terms accepted on the hub and an access token (HF_TOKEN)`,
      );
    }
    if (code === 'RevisionNotFound') {
      return new AutolabelError('MODEL_NOT_FOUND', `${this.label}: ${where} has no revision "${revision}"`);
    }
    if (status === 404) {
      const dtype = path.startsWith('onnx/')
        ? ` (is the ${this.spec.dtype} weight type published for it? try another: ${HF_DTYPES.join(', ')})`
        : '';
      return new AutolabelError('MODEL_NOT_FOUND', `${this.label}: ${where} has no ${path} at ${revision}${dtype}`);
    }
    return new AutolabelError('MODEL_DOWNLOAD_FAILED', `${this.label}: ${where} answered HTTP ${status} for ${path}`);
  }
}

/** `W/"abc"` -> `abc`. */
function cleanEtag(value: string | undefined): string | null {
  if (!value) return null;
  return value.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Download progress in bytes: rate and ETA over what arrived in this run, not what was resumed from disk. */
class ByteProgress {
  readonly #started = performance.now();
  #done = 0;
  #fresh = 0;
  #last = 0;

  constructor(
    readonly phase: string,
    readonly total: number | null,
    readonly listener: ProgressListener | undefined,
  ) {
    this.#report();
  }

  add(bytes: number, fromDisk: boolean): void {
    this.#done += bytes;
    if (!fromDisk) this.#fresh += bytes;
    const now = performance.now();
    if (now - this.#last >= 100) this.#report();
  }

  finish(): void {
    this.#report();
  }

  #report(): void {
    if (!this.listener) return;
    const now = performance.now();
    this.#last = now;
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? Math.max(0, this.#fresh) / seconds : 0;
    const left = this.total === null ? null : Math.max(0, this.total - this.#done);
    const progress: Progress = {
      phase: this.phase,
      done: this.#done,
      total: this.total,
      rate,
      etaSeconds: left === null || rate === 0 ? null : left / rate,
      unit: 'bytes',
    };
    this.listener(progress);
  }
}
