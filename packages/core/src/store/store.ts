/** @module The Store port: everything Autolabel persists, behind one async interface (SQLite now, PostgreSQL later). */
import type {
  AuditKind,
  ImageId,
  ImageStatus,
  LabelOrigin,
  LabelSource,
  SkipReason,
  SuggestionStatus,
} from '../domain/index.js';

export type EmbeddingDtype = 'float32' | 'float16';

export interface ImageRecord {
  readonly id: ImageId;
  /** Relative to the images root, '/'-separated. */
  readonly path: string;
  readonly contentHash: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly width: number | null;
  readonly height: number | null;
  readonly format: string | null;
  readonly skipReason: SkipReason | null;
  readonly skipDetail: string | null;
}

export type NewImage = Omit<ImageRecord, 'id'>;

/** One batch of scan results, applied atomically. */
export interface ScanChanges {
  /** New paths, or paths whose content changed (matched by path). */
  readonly upserts: readonly NewImage[];
  /** Files that moved: same content, new path; their labels move with them. */
  readonly moves: readonly { readonly id: ImageId; readonly path: string; readonly mtimeMs: number }[];
  /** Paths that are gone; their labels go too. */
  readonly removals: readonly ImageId[];
}

export interface PendingEmbedding {
  readonly id: ImageId;
  readonly path: string;
  readonly contentHash: string;
  /** Displayed size recorded at scan time. */
  readonly width: number | null;
  readonly height: number | null;
}

export interface EmbeddingBatch {
  readonly modelId: string;
  readonly dtype: EmbeddingDtype;
  readonly dim: number;
  readonly vectors: readonly { readonly contentHash: string; readonly vector: Float32Array }[];
  readonly failures: readonly {
    readonly id: ImageId;
    readonly contentHash: string;
    readonly reason: SkipReason;
    readonly detail: string;
  }[];
}

export interface ModelRecord {
  readonly id: string;
  readonly spec: string;
  readonly dim: number;
}

export interface LabelRecord {
  readonly imageId: ImageId;
  readonly path: string;
  readonly label: string;
  readonly source: LabelSource;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Confidence of the suggestion an `accepted` label came from. */
  readonly confidence: number | null;
  /** For people's labels: how the image was chosen (null for accepted suggestions). */
  readonly origin: LabelOrigin | null;
  /** The `next` strategy, or the check draw ("draw 3"). */
  readonly originDetail: string | null;
}

/** One change of labels (`Store.changeLabels`): written, and journaled so it can be undone, in one transaction. */
export interface LabelEdit {
  /** Labels to give or replace. */
  readonly set?: readonly { readonly imageId: ImageId; readonly label: string; readonly source: LabelSource }[];
  /** Images whose label is removed. */
  readonly clear?: readonly ImageId[];
  /** Images whose current suggestion becomes an `accepted` label; images with a label keep it. */
  readonly accept?: readonly ImageId[];
}

/** What `changeLabels` did. */
export interface LabelChangeRecord {
  /** The change's id, for `undoLabelChanges`; null when no label row changed (nothing to undo). */
  readonly id: number | null;
  /** The images whose label row changed. */
  readonly imageIds: readonly ImageId[];
  /** Suggestions turned into labels. */
  readonly accepted: number;
}

/** What `undoLabelChanges` did. */
export interface LabelUndoRecord {
  /** The changes undone, newest first. */
  readonly changeIds: readonly number[];
  /** The images whose label rows were put back as they were before the changes. */
  readonly imageIds: readonly ImageId[];
}

/** A stratum of a draw of random checks (verify/design.ts). */
export interface CheckStratum {
  readonly name: 'frame' | 'rest';
  /** Confidences in [minConfidence, maxConfidence] (by the fit the draw was made from). */
  readonly minConfidence: number;
  readonly maxConfidence: number;
  /** Suggestions in the stratum when the draw was made, and checks drawn from it. */
  readonly population: number;
  readonly drawn: number;
}

/** One random draw of checks (verify/design.ts): the strata as they were when it was made. */
export interface CheckDrawRecord {
  readonly id: number;
  /** The fit whose suggestions were drawn from. */
  readonly fitId: number;
  readonly targetPrecision: number;
  readonly seed: number;
  readonly strata: readonly CheckStratum[];
  readonly createdAt: string;
}

export interface NewCheck {
  readonly imageId: ImageId;
  readonly stratum: number;
  /** The suggestion shown: what the person confirms or corrects. */
  readonly suggested: string;
  readonly confidence: number;
}

export interface CheckRecord extends NewCheck {
  readonly id: number;
  readonly drawId: number;
  readonly path: string;
  /** Order within its draw (a random order). */
  readonly position: number;
  /** A person's label of the image: the answer. */
  readonly answer: string | null;
  readonly answeredAt: string | null;
  readonly skipped: boolean;
  /** Handed to this client (a browser tab) and not answered yet. */
  readonly claimedBy: string | null;
  /** The fit whose accept took the region this check stood for; retired checks certify nothing more. */
  readonly retiredByFit: number | null;
}

export interface ExportRow {
  readonly path: string;
  /** The label, else the current suggestion's label, else null. */
  readonly label: string | null;
  readonly source: LabelSource | null;
  readonly origin: LabelOrigin | null;
  readonly suggestionStatus: SuggestionStatus | null;
  /** The suggestion's calibrated confidence (also kept for accepted labels). */
  readonly confidence: number | null;
  readonly width: number | null;
  readonly height: number | null;
}

/** Which images an export takes, in the vocabulary of `ImageQuery`: every condition given must hold. */
export interface ExportFilter {
  /** Any of these statuses. */
  readonly status?: readonly ImageStatus[];
  /** Any of these labels (for suggestions, the suggested label). */
  readonly label?: readonly string[];
  readonly minConfidence?: number;
  readonly maxConfidence?: number;
}

/** An export row with everything stored about its image (what the jsonl format writes). */
export interface ExportRecord extends ExportRow {
  readonly id: ImageId;
  readonly contentHash: string;
  readonly skipReason: SkipReason | null;
  /** The `next` strategy, the check draw, or an imported label's origin where it came from. */
  readonly originDetail: string | null;
  /** When the label was given or last changed. */
  readonly labeledAt: string | null;
  /** The current suggestion for the image, labelled or not (a labelled image's one may predate its label). */
  readonly suggestion: {
    readonly label: string;
    readonly confidence: number;
    readonly runnerUp: string | null;
    readonly runnerUpConfidence: number | null;
    readonly status: SuggestionStatus;
    readonly fitId: number;
  } | null;
}

/** One label an import writes (`Store.importLabels`). */
export interface ImportedLabel {
  readonly imageId: ImageId;
  readonly label: string;
  /** An accepted suggestion where it came from: stored as one (source `accepted`), so it never trains. */
  readonly accepted: boolean;
  /** An accepted suggestion's confidence. */
  readonly confidence: number | null;
  /** A person's label: its origin where it came from ("chosen", "next: uncertain"), kept as the origin detail. */
  readonly provenance: string | null;
}

/**
 * What an import file held that Autolabel has no field of its own for (COCO's `info`, `licenses`,
 * other tools' keys on images and annotations), as JSON text the format reads back: for one image,
 * or for the file as a whole (`imageId` null).
 */
export interface ImportExtra {
  readonly imageId: ImageId | null;
  readonly data: string;
}

/** All stored vectors of one model, one row per image (images sharing content share a vector). */
export interface EmbeddingLoadOptions {
  readonly includeExcluded?: boolean;
  /** Only images with a greater id. */
  readonly afterId?: number;
  /** At most this many rows (the first by image id). */
  readonly limit?: number;
}

export interface EmbeddingSet {
  readonly modelId: string;
  readonly dim: number;
  readonly imageIds: Int32Array;
  /**
   * How `vectors` holds the values, as stored: float16 stays IEEE half-precision bits (a Uint16Array,
   * half the memory; `embeddingRows` converts a block of rows to float32 where the math needs it).
   */
  readonly dtype: EmbeddingDtype;
  /** Row-major [imageIds.length, dim]. */
  readonly vectors: Float32Array | Uint16Array;
}

export interface NewSuggestion {
  readonly imageId: ImageId;
  readonly label: string;
  readonly confidence: number;
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: number | null;
  readonly status: SuggestionStatus;
}

/** One image's class for `Store.visitImageClasses`: `source` for a label, else `suggestionStatus`. */
export type ImageClassVisitor = (
  imageId: ImageId,
  label: string,
  source: LabelSource | null,
  suggestionStatus: SuggestionStatus | null,
) => void;

export interface SuggestionRecord extends NewSuggestion {
  readonly path: string;
  readonly fitId: number;
}

export interface NewFit {
  readonly modelId: string;
  readonly classes: readonly string[];
  /** Human labels the fit learned from. */
  readonly labels: number;
  /** JSON-serialisable facts about the fit (method, calibration, threshold, estimates). */
  readonly summary: Readonly<Record<string, unknown>>;
  /** The exported linear part (see learn/model-file.ts). */
  readonly head: Uint8Array;
}

export interface FitRecord extends NewFit {
  readonly id: number;
  readonly createdAt: string;
}

export interface ImageQuery {
  /** Only these images. */
  readonly ids?: readonly ImageId[];
  readonly status?: ImageStatus;
  /** The label, or for suggestions the suggested label. */
  readonly label?: string;
  readonly minConfidence?: number;
  readonly maxConfidence?: number;
  /** `path` (default), `confidence` (least sure first) or `-confidence` (most sure first). */
  readonly sort?: 'path' | 'confidence' | '-confidence';
  readonly offset: number;
  readonly limit: number;
}

export interface ImageItem {
  readonly id: ImageId;
  readonly path: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly status: ImageStatus;
  /** The label, else the suggested label, else null. */
  readonly label: string | null;
  readonly confidence: number | null;
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: number | null;
  /** How a person's label was chosen (LabelOrigin); null for suggestions and accepted labels. */
  readonly origin: LabelOrigin | null;
}

export interface ClassInfo {
  readonly name: string;
  readonly labeled: number;
  readonly accepted: number;
  readonly auto: number;
  readonly suggested: number;
}

export interface StoreStats {
  readonly images: number;
  readonly skipped: readonly { readonly path: string; readonly reason: SkipReason; readonly detail: string }[];
  readonly labelsPerClass: readonly { readonly label: string; readonly count: number }[];
  readonly embeddedPerModel: readonly { readonly modelId: string; readonly spec: string; readonly embedded: number }[];
}

/** A 64-bit perceptual hash of an image's content (audit/phash.ts), as 16 hex digits. */
export interface PerceptualHashRecord {
  readonly contentHash: string;
  readonly hash: string;
}

/** One finding of the data quality audit (audit/), as stored. */
export interface NewAuditFinding {
  /** A fingerprint of the finding's kind, content and labels (workspace/audit.ts). */
  readonly id: string;
  readonly kind: AuditKind;
  readonly score: number;
  readonly imageIds: readonly ImageId[];
  /** Its kind's evidence, JSON-serialisable. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface AuditFindingRecord extends NewAuditFinding {
  /** A person marked it fine (`dismissAuditFindings`). */
  readonly dismissed: boolean;
}

/** The latest audit: which kinds it computed, and why any part could not run. */
export interface AuditRunRecord {
  readonly kinds: readonly AuditKind[];
  readonly notes: readonly string[];
  readonly createdAt: string;
}

/** A named lock held by this process across every process on the store (`Store.tryLock`). */
export interface StoreLock {
  readonly name: string;
  /**
   * Aborted when the lock is lost while held: its connection to the server went (PostgreSQL), or
   * another process took it over (SQLite, after the heartbeat stalled). Work under the lock should stop.
   */
  readonly signal: AbortSignal;
  /** Lets go of the lock; calling it again does nothing. */
  release(): Promise<void>;
}

export interface Store {
  /** Every image row; used to diff a scan against what is stored. */
  listImages(): Promise<ImageRecord[]>;
  applyScan(changes: ScanChanges): Promise<void>;
  findImageByPath(path: string): Promise<ImageRecord | undefined>;
  findImagesByHash(contentHash: string): Promise<ImageRecord[]>;

  registerModel(model: ModelRecord): Promise<void>;
  countPendingEmbeddings(modelId: string): Promise<number>;
  /** Up to `limit` images that need an embedding for this model, one per content hash, ordered by id after `afterId`. */
  listPendingEmbeddings(modelId: string, afterId: number, limit: number): Promise<PendingEmbedding[]>;
  /** Stores vectors and decode failures of one batch in one transaction. */
  putEmbeddings(batch: EmbeddingBatch): Promise<void>;
  getEmbedding(modelId: string, contentHash: string): Promise<Float32Array | undefined>;
  /** Forgets decode failures (not unreadable files) so the next embed tries those images again. */
  clearDecodeSkips(): Promise<number>;

  /** Sets labels atomically: all or none. */
  setLabels(
    labels: readonly { readonly imageId: ImageId; readonly label: string; readonly source: LabelSource }[],
  ): Promise<void>;
  clearLabels(imageIds: readonly ImageId[]): Promise<void>;
  listLabels(): Promise<LabelRecord[]>;
  /**
   * Sets, clears and accepts labels in one transaction (origins as `setLabels` gives them), and journals
   * each label row it changed as it was before and after, so that `undoLabelChanges` can put it back.
   * Only the latest 100 changes are kept.
   */
  changeLabels(edit: LabelEdit): Promise<LabelChangeRecord>;
  /**
   * Undoes changes made by `changeLabels`, newest first, in one transaction: each label row they changed
   * is put back as it was (label, source, confidence, origin, creation time; its update time is the
   * undo's), or removed where there was none, so an accepted suggestion is a suggestion again. All or
   * nothing: refused with UNDO_CONFLICT when any of those images was labelled, cleared or removed since
   * by anything else, or a change was undone already; CHANGE_NOT_FOUND for a change not kept.
   */
  undoLabelChanges(changeIds: readonly number[]): Promise<LabelUndoRecord>;

  /**
   * Every image with an embedding of this model and no skip reason, ordered by image id; images excluded
   * from learning (`setExcluded`) only with `includeExcluded` (the audit sees them). With `afterId` and
   * `limit`, one page of them: big pools are read a page at a time (the learner's features).
   */
  loadEmbeddings(modelId: string, options?: EmbeddingLoadOptions): Promise<EmbeddingSet>;
  /**
   * Records a fit and replaces every suggestion with its own, atomically: until it is done (and after
   * a crash half-way) `latestFit` and the suggestions stay those of the previous fit. A suggestion
   * the fit makes as it is stored (same label, runner-up and status, confidences within 5e-4) may be
   * left as it is, keeping the fit that made it: a refit writes what changed. One save at a
   * time: a save by another process is waited for (bounded), and one whose process died is taken over.
   * Returns the fit id.
   */
  saveFit(fit: NewFit, suggestions: readonly NewSuggestion[]): Promise<number>;
  /**
   * Resolves when a fit could be saved now, waiting as `saveFit` would for another process's save;
   * throws when the wait runs out or the store cannot be written. Call it before the expensive work
   * of a fit, so a fit is not computed only to be thrown away.
   */
  waitForFitLock(): Promise<void>;
  latestFit(): Promise<FitRecord | undefined>;
  listFits(): Promise<FitRecord[]>;
  /** Suggestions for images that still have no label, most confident first. */
  listSuggestions(): Promise<SuggestionRecord[]>;
  /**
   * Calls `visit` once for every image with a label or a suggestion: its label and the label's source,
   * else its suggestion's label and status. One pass in no order, without paths: a million images in
   * about a CPU-second (the map's colours), where `listSuggestions` alone takes several.
   */
  visitImageClasses(visit: ImageClassVisitor): Promise<void>;
  /** Turns suggestions into `accepted` labels, skipping images labelled since; returns how many. */
  acceptSuggestions(imageIds: readonly ImageId[]): Promise<number>;

  exportRows(): Promise<ExportRow[]>;
  /**
   * Export records matching `filter`, ordered by path, read `pageSize` rows at a time: memory stays
   * bounded, and other reads and writes go on between pages (so a long export is not one snapshot).
   */
  exportRecords(filter?: ExportFilter, pageSize?: number): AsyncIterable<ExportRecord>;
  countExportRecords(filter?: ExportFilter): Promise<number>;
  /**
   * Writes imported labels, and adds `classes`, in one transaction. A person's label gets origin
   * `import` (`verify` for an image drawn for a check, as `setLabels` does) with its provenance as the
   * origin detail; an accepted one keeps source `accepted` and its confidence.
   */
  importLabels(labels: readonly ImportedLabel[], classes?: readonly string[]): Promise<void>;
  /** Keeps `extras` of an import in `format`, each replacing what was kept for its image (or the file). */
  saveImportExtras(format: string, extras: readonly ImportExtra[]): Promise<void>;
  /** The extras kept in `format` for these images (null: the file's), where there are any. */
  importExtras(format: string, imageIds: readonly (ImageId | null)[]): Promise<Map<ImageId | null, string>>;

  /** Remembers what `next` recommended, so a label given to one of them records origin `next`. */
  recordPicks(picks: readonly { readonly imageId: ImageId; readonly strategy: string }[]): Promise<void>;
  /** Stores a draw and its checks in one transaction; images already drawn are left out. Returns what was stored. */
  saveCheckDraw(draw: Omit<CheckDrawRecord, 'id' | 'createdAt'>, checks: readonly NewCheck[]): Promise<CheckRecord[]>;
  listCheckDraws(): Promise<CheckDrawRecord[]>;
  /** Every check, in draw order. */
  listChecks(): Promise<CheckRecord[]>;
  /**
   * Hands the next open check (no label, not skipped, not retired) to `client`, atomically: one held
   * by another client less than `leaseMs` ago is not handed out again.
   */
  claimCheck(client: string, leaseMs: number): Promise<CheckRecord | undefined>;
  skipCheck(id: number): Promise<void>;
  retireChecks(ids: readonly number[], fitId: number): Promise<void>;

  /** One page of images matching the query, and how many match in all. */
  queryImages(query: ImageQuery): Promise<{ total: number; items: ImageItem[] }>;
  getImage(id: ImageId): Promise<ImageRecord | undefined>;

  /** How many images have each status. */
  statusCounts(): Promise<Record<ImageStatus, number>>;
  /** Counts of current suggestions (of unlabelled images) by confidence, in `bins` equal bins over [0, 1]. */
  confidenceHistogram(bins: number): Promise<number[]>;
  /** Every class (added, or named by a label), with counts by status. */
  listClasses(): Promise<ClassInfo[]>;
  addClass(name: string): Promise<void>;
  /** Renames a class in labels and suggestions; the new name must not exist yet (merge instead). */
  renameClass(from: string, to: string): Promise<void>;
  /** Moves every label and suggestion of `from` to `into` and removes `from`; returns labels moved. */
  mergeClass(from: string, into: string): Promise<number>;
  /** Removes a class; its labels block that unless `clearLabels`, which removes them too. Returns labels removed. */
  deleteClass(name: string, clearLabels: boolean): Promise<number>;
  stats(): Promise<StoreStats>;

  /** Stored perceptual hashes of these contents (those not stored yet are missing from the answer). */
  getPerceptualHashes(contentHashes: readonly string[]): Promise<PerceptualHashRecord[]>;
  putPerceptualHashes(hashes: readonly PerceptualHashRecord[]): Promise<void>;
  /**
   * Records an audit of `run.kinds` in one transaction: the findings of those kinds are replaced by
   * `findings` (other kinds' stay), and the run becomes the latest. Dismissals are kept by finding id.
   */
  saveAudit(
    run: { readonly kinds: readonly AuditKind[]; readonly notes: readonly string[] },
    findings: readonly NewAuditFinding[],
  ): Promise<void>;
  /** Every stored finding, highest score first, each marked dismissed or not. */
  listAuditFindings(): Promise<AuditFindingRecord[]>;
  latestAudit(): Promise<AuditRunRecord | undefined>;
  /** Marks findings fine, by id; a finding saved later with the same id stays dismissed. */
  dismissAuditFindings(ids: readonly string[]): Promise<void>;
  /**
   * Excludes images from learning and export (or, `excluded: false`, takes them back): `loadEmbeddings`,
   * `exportRows`, `exportRecords` and `countExportRecords` leave excluded images out.
   */
  setExcluded(imageIds: readonly ImageId[], excluded: boolean): Promise<void>;
  /** Excluded images, by id. */
  listExcluded(): Promise<ImageId[]>;

  /**
   * Takes the lock `name` if no process on this store holds it (this one included), else resolves
   * undefined at once: e.g. "exactly one refit at a time" across servers on one store. Held until
   * `release`; a holder that dies lets go of it (PostgreSQL: with its connection; SQLite: once its
   * process is gone, or its heartbeat is older than the stale limit).
   */
  tryLock(name: string): Promise<StoreLock | undefined>;
  /**
   * Runs `work` holding the lock `name`, waiting for it up to `waitMs` (default: as long as `saveFit`
   * waits); throws, naming the holder, when the wait runs out. The lock is let go when `work` settles;
   * `work` is given the lock's `signal`, aborted if the lock is lost meanwhile.
   */
  withLock<T>(
    name: string,
    work: (signal: AbortSignal) => Promise<T>,
    options?: { readonly waitMs?: number },
  ): Promise<T>;
  close(): Promise<void>;
}
