/** @module A workspace: a folder with the config and the database, pointing at an images folder it never copies. */
import { existsSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import { KeptDecodeWorkers } from '../embed/decode-pool.js';
import type { Embedder } from '../embed/embedder.js';
import { loadEmbedder } from '../embed/load.js';
import { type EmbedResult, embedPending } from '../embed/pipeline.js';
import { embedOnQueue, type QueueEmbedResult } from '../queue/index.js';
import { DEFAULT_MODEL_SPEC, formatModelSpec, parseModelSpec } from '../embed/spec.js';
import { type ExportOptions, type ExportResult, exportLabels } from '../formats/index.js';
import { type ScanResult, scanImages } from '../image/scan.js';
import { LABEL_ORIGINS, SKIP_REASONS, type ImageStatus, type LabelOrigin, type SkipReason } from '../domain/index.js';
import { type ImportOptions, type ImportResult, importLabels } from '../labels/import.js';
import { openStore } from '../store/open.js';
import { checkStoreUrl, describeStoreUrl } from '../store/store-url.js';
import type { Learner, SharedLearner } from '../learn/learner.js';
import type { MapLayout, ProjectionOptions } from '../learn/projection.js';
import type { ClassInfo, Store } from '../store/store.js';
import type { ProgressListener } from '../util/progress.js';
import type { HubOptions } from '../models/index.js';
import type { Certificate } from '../verify/certify.js';
import { WorkspaceAudit } from './audit.js';
import { countChecks, type CheckCounts, WorkspaceChecks } from './checks.js';
import { WorkspaceClasses } from './classes.js';
import {
  CONFIG_FILE,
  DATABASE_FILE,
  locate,
  readConfig,
  resolveLocation,
  type WorkspaceConfig,
  writeConfig,
} from './config.js';
import type { WorkspaceContext } from './context.js';
import { accuracyOf, type AccuracyFigure, summaryOf } from './fit-summary.js';
import { WorkspaceImages } from './images.js';
import { WorkspaceLabels } from './labels.js';
import { mapClasses, type MapClasses, mapLayout } from './map.js';
import {
  exportModel,
  next,
  type NextOptions,
  type NextPick,
  openLearner,
  staleness,
  suggest,
  type SuggestOptions,
  type SuggestResult,
} from './learning.js';
import { writeReport } from './report.js';
import { WorkspaceSuggestions } from './suggestions.js';

export const DEFAULT_WORKSPACE_DIR = '.autolabel';

/** The store lock a fit holds from start to save: refits of several servers on one store run one at a time. */
const REFIT_LOCK = 'refit';

export interface InitOptions {
  readonly images: string;
  /** Defaults to `.autolabel` in the current folder. */
  readonly workspace?: string;
  readonly model?: string;
  readonly embeddingDtype?: 'float32' | 'float16';
  readonly maxPixels?: number;
  /** A shared store (postgres://user@host:port/database) instead of the workspace's own SQLite file. */
  readonly store?: string;
}

export interface OpenWorkspaceOptions {
  /**
   * A model spec to use instead of the workspace's default for this session: suggest, next,
   * openLearner, modelId and status all use it (`suggest --model`, `serve --model`).
   */
  readonly model?: string;
}

export interface JobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export interface EmbedJobOptions extends JobOptions {
  /** A model spec other than the workspace's default; embeddings of every model are kept. */
  readonly model?: string;
  readonly batchSize?: number;
  /** Images decoded ahead of the model (see EmbedOptions.prefetch). */
  readonly prefetch?: number;
  /** Decode worker threads (see EmbedOptions.decodeWorkers). */
  readonly decodeWorkers?: number;
  readonly threads?: number;
  /** Try again the images an earlier run could not decode. */
  readonly retrySkipped?: boolean;
  /** An embedder already loaded (benchmarks reuse one); the caller closes it. */
  readonly embedder?: Embedder;
  /** hf: models: where the model cache is and how the hub is reached (defaults from the environment). */
  readonly hub?: HubOptions;
  /**
   * A job queue (postgres://... or redis://...): the missing images go on it in batches of `jobSize`
   * for workers (`runWorker`) to embed, and the job follows the queue to the end.
   */
  readonly queue?: string;
  /** Images per queued job (see QueueEmbedOptions.jobSize). */
  readonly jobSize?: number;
}

export interface WorkspaceStatus {
  readonly workspace: string;
  readonly images: string;
  readonly model: string;
  readonly imageCount: number;
  /** Images with an embedding for the workspace's model. */
  readonly embedded: number;
  readonly labeled: number;
  /** People's labels by how their images were chosen. */
  readonly labelOrigins: Readonly<Record<LabelOrigin, number>>;
  readonly checks: CheckCounts;
  readonly classes: readonly { readonly label: string; readonly count: number }[];
  readonly skipped: readonly { readonly path: string; readonly reason: SkipReason; readonly detail: string }[];
  readonly skippedByReason: readonly {
    readonly reason: SkipReason;
    readonly meaning: string;
    readonly count: number;
  }[];
  readonly models: readonly { readonly spec: string; readonly embedded: number }[];
  /** The latest fit, if any: when, how good it expects to be, and whether it is out of date. */
  readonly fit: {
    readonly id: number;
    readonly createdAt: string;
    readonly labels: number;
    readonly suggestions: number;
    readonly auto: number;
    readonly accuracy: AccuracyFigure | null;
    readonly certificate: Certificate | null;
    /** Why it no longer describes the workspace, or null. */
    readonly stale: string | null;
    /** How the suggestions were made: the learner's method, `zero-shot`, or both pooled. */
    readonly method: string | null;
    /** Zero-shot from class names in them: its weight in the pool, and whether it stood alone for want of labels. */
    readonly zeroShot: { readonly weight: number; readonly coldStart: boolean } | null;
  } | null;
}

export async function initWorkspace(options: InitOptions): Promise<Workspace> {
  const dir = resolve(options.workspace ?? DEFAULT_WORKSPACE_DIR);
  const images = resolve(options.images);
  const info = await stat(images).catch((error: unknown) => {
    throw new AutolabelError('IMAGES_ROOT_NOT_FOUND', `images folder ${images} does not exist: ${messageOf(error)}`, {
      cause: error,
    });
  });
  if (!info.isDirectory()) throw new AutolabelError('IMAGES_ROOT_NOT_FOUND', `${images} is not a folder`);
  if (existsSync(join(dir, CONFIG_FILE))) {
    throw new AutolabelError('WORKSPACE_EXISTS', `${dir} is already a workspace (${CONFIG_FILE} exists)`);
  }
  const config: WorkspaceConfig = {
    version: 1,
    images: locate(dir, images),
    ...configuredModel(dir, options.model ?? DEFAULT_MODEL_SPEC),
    embeddings: { dtype: options.embeddingDtype ?? 'float32' },
    maxPixels: options.maxPixels ?? 100_000_000,
    store: options.store === undefined ? undefined : checkStoreUrl(options.store),
  };
  // The store's schema is created before the workspace is recorded: a store that cannot be opened leaves no workspace.
  if (config.store !== undefined) await (await openStore(config.store, join(dir, DATABASE_FILE))).close();
  await mkdir(dir, { recursive: true });
  await writeConfig(dir, config);
  return openWorkspace(dir);
}

/** Finds the workspace for `start` the way git finds a repository: this folder or a parent, itself or its `.autolabel`. */
export function findWorkspace(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const nested = join(dir, DEFAULT_WORKSPACE_DIR);
    if (existsSync(join(nested, CONFIG_FILE))) return nested;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AutolabelError(
        'WORKSPACE_NOT_FOUND',
        `no Autolabel workspace in ${resolve(start)} or any parent folder`,
        { hint: { action: 'init' } },
      );
    }
    dir = parent;
  }
}

/** The config's model fields for a spec: an onnx folder must hold model.onnx, and its path is kept both ways. */
function configuredModel(dir: string, model: string): Pick<WorkspaceConfig, 'model' | 'modelPath'> {
  const spec = parseModelSpec(model);
  if (spec.kind !== 'onnx') return { model: formatModelSpec(spec), modelPath: undefined };
  const path = resolve(spec.path);
  if (!existsSync(join(path, 'model.onnx'))) {
    throw new AutolabelError('MODEL_NOT_FOUND', `no model.onnx in ${path} (from model spec ${model})`);
  }
  return { model: formatModelSpec({ kind: 'onnx', path }), modelPath: locate(dir, path) };
}

export async function openWorkspace(dir: string, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const root = resolve(dir);
  if (!existsSync(join(root, CONFIG_FILE))) {
    throw new AutolabelError('WORKSPACE_NOT_FOUND', `${root} is not an Autolabel workspace (no ${CONFIG_FILE})`);
  }
  const config = await readConfig(root);
  const isDir = (path: string): boolean => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  };
  const imagesRoot = resolveLocation(root, config.images, isDir);
  // A bad --model fails here, before anything else is opened.
  if (options.model !== undefined) parseModelSpec(options.model);
  const store = await openStore(config.store, join(root, DATABASE_FILE));
  return new Workspace(root, config, imagesRoot, store, options.model);
}

const stores = new WeakMap<Workspace, Store>();

/**
 * The store behind a workspace, for core's own benchmarks and tests that set up data no front end
 * could (synthetic embeddings, fits). Front ends call the Workspace's use cases; lint keeps it so.
 */
export function storeOf(ws: Workspace): Store {
  return stores.get(ws)!;
}

/** Figures of the whole workspace for a dashboard: images by status, classes, the learning curve, confidences. */
export interface WorkspaceStats {
  readonly images: number;
  readonly byStatus: Readonly<Record<ImageStatus, number>>;
  readonly classes: readonly ClassInfo[];
  /** Each fit's accuracy estimate (random checks, else cross-validated) by number of labels: the learning curve. */
  readonly curve: readonly { readonly labels: number; readonly accuracy: number }[];
  /** Confidence histogram of current suggestions, 20 bins over [0, 1]. */
  readonly confidence: readonly number[];
}

/**
 * One workspace and every use case on it: the one programmatic API that the CLI, the server and the
 * benchmarks call. Jobs are methods (scan, embed, suggest, next, export, report); what people work
 * on has a namespace (images, labels, classes, suggestions, checks). The store stays inside core.
 */
export class Workspace {
  readonly images: WorkspaceImages;
  readonly labels: WorkspaceLabels;
  readonly classes: WorkspaceClasses;
  readonly suggestions: WorkspaceSuggestions;
  readonly checks: WorkspaceChecks;
  /** The data quality audit: likely label errors, near-duplicates, outliers (workspace/audit.ts). */
  readonly audit: WorkspaceAudit;
  readonly #store: Store;
  /** The embed jobs' decode workers, kept between them (a server embeds as images arrive). */
  readonly #decodeWorkers = new KeptDecodeWorkers();
  readonly #ctx: WorkspaceContext;
  #config: WorkspaceConfig;
  /** `modelId()` by resolved spec, once found. */
  readonly #modelIds = new Map<string, string>();

  constructor(
    readonly dir: string,
    config: WorkspaceConfig,
    readonly imagesRoot: string,
    store: Store,
    /** The model this session uses instead of the config's (OpenWorkspaceOptions.model). */
    readonly modelOverride?: string,
  ) {
    this.#config = config;
    this.#store = store;
    stores.set(this, store);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context reads the model as it is now (setModel)
    const ws = this;
    this.#ctx = {
      store,
      dir,
      imagesRoot,
      get modelSpec() {
        return ws.modelSpec;
      },
      modelId: () => this.modelId(),
    };
    this.images = new WorkspaceImages(this.#ctx);
    this.labels = new WorkspaceLabels(this.#ctx, this.images);
    this.classes = new WorkspaceClasses(this.#ctx);
    this.suggestions = new WorkspaceSuggestions(this.#ctx);
    this.checks = new WorkspaceChecks(this.#ctx);
    this.audit = new WorkspaceAudit(this.#ctx, () => this.#config.maxPixels);
  }

  get config(): WorkspaceConfig {
    return this.#config;
  }

  /** Where a shared store lives (its URL without the password), or undefined for the workspace's own SQLite file. */
  get storeLocation(): string | undefined {
    return this.#config.store === undefined ? undefined : describeStoreUrl(this.#config.store);
  }

  /** The model in use: the session's override, else the workspace's, with any path resolved from where the workspace is now. */
  get modelSpec(): string {
    if (this.modelOverride !== undefined) return resolveSpecPath(formatModelSpec(parseModelSpec(this.modelOverride)));
    const spec = parseModelSpec(this.config.model);
    if (spec.kind === 'onnx' && this.config.modelPath) {
      return formatModelSpec({ kind: 'onnx', path: resolveLocation(this.dir, this.config.modelPath, existsSync) });
    }
    return this.config.model;
  }

  /**
   * Makes `model` the workspace's default model (written to the config). Embeddings of every model
   * are kept: the old model's stay, and `embed` adds what the new one lacks. Returns the new spec.
   */
  async setModel(model: string): Promise<string> {
    this.#config = { ...this.#config, ...configuredModel(this.dir, model) };
    await writeConfig(this.dir, this.#config);
    return this.modelSpec;
  }

  async scan(options: JobOptions & { full?: boolean } = {}): Promise<ScanResult> {
    await this.#requireImagesRoot();
    return scanImages(this.imagesRoot, this.#store, {
      maxPixels: this.config.maxPixels,
      exclude: [this.dir],
      ...options,
    });
  }

  async embed(options: EmbedJobOptions = {}): Promise<EmbedResult | QueueEmbedResult> {
    await this.#requireImagesRoot();
    const spec = options.model ? formatModelSpec(parseModelSpec(options.model)) : this.modelSpec;
    if (options.retrySkipped) await this.#store.clearDecodeSkips();
    const embedder = options.embedder ?? (await loadEmbedder(spec, options));
    try {
      const embedOptions = {
        imagesRoot: this.imagesRoot,
        maxPixels: this.config.maxPixels,
        dtype: this.config.embeddings.dtype,
        spec: resolveSpecPath(spec),
        batchSize: options.batchSize,
        prefetch: options.prefetch,
        decodeWorkers: options.decodeWorkers,
        keptDecodeWorkers: this.#decodeWorkers,
        signal: options.signal,
        onProgress: options.onProgress,
      };
      if (options.queue !== undefined) {
        return await embedOnQueue(this.#store, embedder, {
          ...embedOptions,
          queue: options.queue,
          jobSize: options.jobSize,
        });
      }
      return await embedPending(this.#store, embedder, embedOptions);
    } finally {
      if (!options.embedder) await embedder.close();
    }
  }

  /**
   * Imports labels from a file or folder in any readable format (told from the source when not
   * given): all or nothing, see labels/import.ts. People's labels record origin `import` (`verify`
   * for an answer to a random check), accepted ones stay accepted; suggestions are never imported.
   */
  async import(source: string, options: ImportOptions = {}): Promise<ImportResult> {
    return importLabels(this.#store, resolve(source), this.imagesRoot, options, {
      modelId: () =>
        this.modelId().catch((error: unknown) => {
          if (error instanceof AutolabelError && error.code === 'NO_EMBEDDINGS') return null;
          throw error;
        }),
    });
  }

  async status(): Promise<WorkspaceStatus> {
    const stats = await this.#store.stats();
    const spec = resolveSpecPath(this.modelSpec);
    const byReason = new Map<SkipReason, number>();
    for (const skip of stats.skipped) byReason.set(skip.reason, (byReason.get(skip.reason) ?? 0) + 1);
    const models = stats.embeddedPerModel.map(({ spec: modelSpec, embedded }) => ({ spec: modelSpec, embedded }));
    return {
      workspace: this.dir,
      images: this.imagesRoot,
      model: spec,
      imageCount: stats.images,
      embedded: models.filter((model) => model.spec === spec).reduce((most, m) => Math.max(most, m.embedded), 0),
      labeled: stats.labelsPerClass.reduce((sum, c) => sum + c.count, 0),
      labelOrigins: await this.#labelOrigins(),
      checks: countChecks(await this.#store.listChecks()),
      classes: stats.labelsPerClass,
      skipped: stats.skipped,
      skippedByReason: [...byReason].map(([reason, count]) => ({ reason, meaning: SKIP_REASONS[reason], count })),
      models,
      fit: await this.#fitStatus(models.find((m) => m.spec === spec && m.embedded > 0) ? await this.modelId() : null),
    };
  }

  /** Images by status, classes, the learning curve and the confidence histogram (the web app's dashboard). */
  async stats(): Promise<WorkspaceStats> {
    const byStatus = await this.#store.statusCounts();
    return {
      images: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      classes: await this.#store.listClasses(),
      curve: (await this.#store.listFits()).flatMap((f) => {
        const accuracy = accuracyOf(f)?.estimate;
        return accuracy === undefined ? [] : [{ labels: f.labels, accuracy }];
      }),
      confidence: await this.#store.confidenceHistogram(20),
    };
  }

  async #fitStatus(modelId: string | null): Promise<WorkspaceStatus['fit']> {
    const fit = await this.#store.latestFit();
    if (!fit) return null;
    const summary = summaryOf(fit);
    return {
      id: fit.id,
      createdAt: fit.createdAt,
      labels: fit.labels,
      suggestions: summary?.suggestions ?? 0,
      auto: summary?.auto ?? 0,
      accuracy: accuracyOf(fit) ?? null,
      certificate: summary?.certificate ?? null,
      stale: await staleness(this.#store, fit, modelId),
      method: summary?.method ?? null,
      zeroShot: summary?.zeroShot ? { weight: summary.zeroShot.weight, coldStart: summary.zeroShot.coldStart } : null,
    };
  }

  /**
   * Exports the images matching `where` (default: the format's) in `format`: to a file (atomically),
   * a folder (folder formats: links or copies), or a byte sink (folder formats as tar); streamed, so
   * memory does not grow with the workspace. See formats/export.ts.
   */
  async export(options: ExportOptions): Promise<ExportResult> {
    const out = typeof options.out === 'string' ? resolve(options.out) : options.out;
    // A split keeps each of the audit's duplicate groups on one side.
    const groups = options.groups ?? (options.split === undefined ? undefined : await this.audit.splitGroups());
    return exportLabels(this.#store, this.imagesRoot, { ...options, out, groups });
  }

  /**
   * Fits the human labels and replaces every suggestion (see learn/fit.ts). One fit at a time across
   * every process on the store (servers behind one address, workers, the CLI): another's is waited for.
   */
  async suggest(options: SuggestOptions = {}): Promise<SuggestResult> {
    return this.#store.withLock(REFIT_LOCK, () => suggest(this.#ctx, options));
  }

  /**
   * A learner over this workspace's embeddings, for callers that refit often (the server); they close
   * it. `shared`: another thread's learner memory (`Learner.share`), used in place instead of loading.
   * `onProgress` hears the graph build (phase `graph`, images), when its graph is not cached.
   */
  async openLearner(
    shared?: SharedLearner,
    options: { readonly onProgress?: ProgressListener } = {},
  ): Promise<Learner> {
    return openLearner(this.#ctx, shared, options.onProgress);
  }

  /**
   * The 2-D map of `learner`'s images (`xy`, row-major [images, 2], about [-1, 1]): UMAP of a sample
   * stratified by class (labels, else suggestions; k-means cells where neither), the rest placed by
   * their neighbours.
   */
  async mapLayout(
    learner: Learner,
    options: ProjectionOptions & { readonly sample?: number } = {},
  ): Promise<MapLayout> {
    return mapLayout(this.#ctx, learner, options);
  }

  /** What the map's points `ids` are coloured by: each one's class (label, else suggestion) and status. */
  async mapClasses(ids: ArrayLike<number>): Promise<MapClasses> {
    return mapClasses(this.#ctx, ids);
  }

  /** Images to label next, each with a reason. */
  async next(options: NextOptions = {}): Promise<NextPick[]> {
    return next(this.#ctx, options);
  }

  /** Writes the latest fit as one ONNX classifier, backbone included. */
  async exportModel(out: string): Promise<{ fitId: number; classes: readonly string[] }> {
    return exportModel(this.#ctx, resolve(out));
  }

  /** Writes `outDir/index.html`, a self-contained page of figures and plots; returns its path. */
  async report(outDir: string): Promise<string> {
    return writeReport(this.#store, resolve(outDir), {
      title: `Autolabel report: ${this.imagesRoot}`,
      modelSpec: this.modelSpec,
      imagesRoot: this.imagesRoot,
      maxPixels: this.config.maxPixels,
    });
  }

  /**
   * The id embeddings of the workspace's model are stored under (known once something was embedded
   * with it). Kept per spec once found: finding it counts every image's embeddings (2.4 s at a
   * million images), which each refit of the review app paid.
   */
  async modelId(): Promise<string> {
    const spec = resolveSpecPath(this.modelSpec);
    const known = this.#modelIds.get(spec);
    if (known !== undefined) return known;
    const stats = await this.#store.stats();
    const model = stats.embeddedPerModel.find((m) => m.spec === spec && m.embedded > 0);
    if (!model) {
      const hint =
        this.modelOverride === undefined ? { action: 'embed' as const } : { action: 'embed' as const, model: spec };
      throw new AutolabelError('NO_EMBEDDINGS', `no embeddings for model ${spec} yet`, { hint });
    }
    this.#modelIds.set(spec, model.modelId);
    return model.modelId;
  }

  async close(): Promise<void> {
    await this.#decodeWorkers.close();
    await this.#store.close();
  }

  async #labelOrigins(): Promise<Record<LabelOrigin, number>> {
    const counts = Object.fromEntries(LABEL_ORIGINS.map((o) => [o, 0])) as Record<LabelOrigin, number>;
    for (const label of await this.#store.listLabels()) if (label.origin) counts[label.origin]++;
    return counts;
  }

  async #requireImagesRoot(): Promise<void> {
    const info = await stat(this.imagesRoot).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new AutolabelError(
        'IMAGES_ROOT_NOT_FOUND',
        `images folder not found: tried ${join(this.dir, this.config.images.relative)} and ${this.config.images.absolute}`,
      );
    }
  }
}

/** Spec strings are recorded with absolute paths so the same model matches from any folder. */
function resolveSpecPath(spec: string): string {
  const parsed = parseModelSpec(spec);
  return parsed.kind === 'onnx' ? formatModelSpec({ kind: 'onnx', path: resolve(parsed.path) }) : spec;
}
