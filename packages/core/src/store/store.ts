/** @module The Store port: everything Autolabel persists, behind one async interface (SQLite now, PostgreSQL later). */
import type { SkipReason } from '../image/skip.js';

export type ImageId = number & { readonly __brand: 'ImageId' };

export type EmbeddingDtype = 'float32' | 'float16';

export type LabelSource = 'manual' | 'import';

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
  readonly updatedAt: string;
}

export interface ExportRow {
  readonly path: string;
  readonly label: string | null;
  readonly width: number | null;
  readonly height: number | null;
}

export interface StoreStats {
  readonly images: number;
  readonly skipped: readonly { readonly path: string; readonly reason: SkipReason; readonly detail: string }[];
  readonly labelsPerClass: readonly { readonly label: string; readonly count: number }[];
  readonly embeddedPerModel: readonly { readonly modelId: string; readonly spec: string; readonly embedded: number }[];
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

  exportRows(): Promise<ExportRow[]>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
