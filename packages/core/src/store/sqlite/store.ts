/** @module The default Store: one SQLite file (better-sqlite3, WAL), every multi-row write in one transaction. */
import type Database from 'better-sqlite3';
import type { AuditKind, ImageId, ImageStatus, LabelOrigin, LabelSource } from '../../domain/index.js';
import { AutolabelError } from '../../errors.js';
import { float16ToFloat32, float32ToFloat16 } from '../../util/float16.js';
import type {
  AuditFindingRecord,
  AuditRunRecord,
  CheckDrawRecord,
  CheckRecord,
  ClassInfo,
  EmbeddingBatch,
  EmbeddingLoadOptions,
  EmbeddingSet,
  ExportFilter,
  ExportRecord,
  ExportRow,
  FitRecord,
  ImageItem,
  ImageQuery,
  ImageRecord,
  ImportedLabel,
  ImportExtra,
  LabelChangeRecord,
  LabelEdit,
  LabelRecord,
  LabelUndoRecord,
  ModelRecord,
  NewAuditFinding,
  NewCheck,
  NewFit,
  NewSuggestion,
  PendingEmbedding,
  PerceptualHashRecord,
  ScanChanges,
  Store,
  StoreLock,
  StoreStats,
  ImageClassVisitor,
  SuggestionRecord,
} from '../store.js';
import { AuditTables } from './audit.js';
import { canWriteDatabase, openReadOnly, openWritable } from './connection.js';
import { FitSaves, type FitSaveSettings } from './fits.js';
import { LabelChanges } from './label-changes.js';
import { NamedLocks } from './locks.js';
import {
  toCheck,
  toCheckDraw,
  toExportRecord,
  toExportRow,
  toFit,
  toImage,
  toImageItem,
  toLabel,
  toPending,
  toSuggestion,
  type ExportRecordRow,
  type ImageItemRow,
} from './rows.js';
import {
  countExportRecordsSql,
  countImageItemsSql,
  exportRecordsPageSql,
  imageItemsPageSql,
  prepareStatements,
  type Statements,
} from './statements.js';
import { write, type WriteTarget } from './transaction.js';

export interface SqliteStoreOptions {
  /** Open for reading only. Default: when the database or its folder cannot be written (a read-only workspace). */
  readonly readOnly?: boolean;
  /** How long `saveFit` waits for another process's save to finish before it gives up. */
  readonly lockWaitMs?: number;
  /** A lock whose holder has not shown a sign of life for this long is taken over. */
  readonly lockStaleMs?: number;
}

const DEFAULT_LOCK_WAIT_MS = 60_000;
const DEFAULT_LOCK_STALE_MS = 30_000;

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readOnly = options.readOnly ?? !canWriteDatabase(file);
  const db = readOnly ? openReadOnly(file) : openWritable(file);
  return new SqliteStore(db, {
    file,
    readOnly,
    lockWaitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    lockStaleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
  });
}

type SqliteStoreSettings = Omit<FitSaveSettings, 'db'>;

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #settings: SqliteStoreSettings;
  readonly #stmt: Statements;
  readonly #target: WriteTarget;
  readonly #fits: FitSaves;
  readonly #labelChanges: LabelChanges;
  readonly #locks: NamedLocks;
  readonly #audit: AuditTables;

  constructor(db: Database.Database, settings: SqliteStoreSettings) {
    this.#db = db;
    this.#settings = settings;
    this.#stmt = prepareStatements(db);
    this.#target = { db, file: settings.file, readOnly: settings.readOnly };
    this.#fits = new FitSaves({ db, ...settings });
    this.#labelChanges = new LabelChanges(db);
    this.#locks = new NamedLocks({
      ...this.#target,
      lockWaitMs: settings.lockWaitMs,
      lockStaleMs: settings.lockStaleMs,
    });
    this.#audit = new AuditTables(db);
  }

  async listImages(): Promise<ImageRecord[]> {
    return this.#stmt.allImages.all().map(toImage);
  }

  async applyScan(changes: ScanChanges): Promise<void> {
    this.#write('apply scan results', () => {
      for (const id of changes.removals) this.#stmt.removeImage.run(id);
      for (const move of changes.moves) this.#stmt.moveImage.run(move.path, move.mtimeMs, move.id);
      for (const image of changes.upserts) {
        // A label belongs to what the image showed: new content at the same path drops it.
        const labelled = this.#stmt.labelOfPath.get(image.path);
        if (labelled && labelled.content_hash !== image.contentHash) this.#stmt.dropLabel.run(labelled.image_id);
        this.#stmt.upsertImage.run(image);
      }
    });
  }

  async findImageByPath(path: string): Promise<ImageRecord | undefined> {
    const row = this.#stmt.imageByPath.get(path);
    return row && toImage(row);
  }

  async findImagesByHash(contentHash: string): Promise<ImageRecord[]> {
    return this.#stmt.imagesByHash.all(contentHash).map(toImage);
  }

  async registerModel(model: ModelRecord): Promise<void> {
    this.#write('register model', () => this.#stmt.registerModel.run(model.id, model.spec, model.dim));
  }

  async countPendingEmbeddings(modelId: string): Promise<number> {
    return this.#stmt.countPending.get(modelId)?.n ?? 0;
  }

  async listPendingEmbeddings(modelId: string, afterId: number, limit: number): Promise<PendingEmbedding[]> {
    return this.#stmt.listPending.all({ model: modelId, after: afterId, limit }).map(toPending);
  }

  async putEmbeddings(batch: EmbeddingBatch): Promise<void> {
    const expected = this.#stmt.modelDim.get(batch.modelId)?.dim;
    if (expected === undefined) throw new AutolabelError('STORE_FAILED', `model ${batch.modelId} is not registered`);
    this.#write('store embeddings', () => {
      for (const { contentHash, vector } of batch.vectors) {
        if (vector.length !== expected) {
          throw new AutolabelError(
            'STORE_FAILED',
            `embedding of length ${vector.length}, model ${batch.modelId} has ${expected}`,
          );
        }
        const packed = batch.dtype === 'float16' ? float32ToFloat16(vector) : vector;
        const blob = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
        this.#stmt.putEmbedding.run(contentHash, batch.modelId, batch.dtype, vector.length, blob);
      }
      for (const failure of batch.failures)
        this.#stmt.markSkipped.run(failure.reason, failure.detail, failure.contentHash);
    });
  }

  async getEmbedding(modelId: string, contentHash: string): Promise<Float32Array | undefined> {
    const row = this.#stmt.getEmbedding.get(modelId, contentHash);
    if (!row) return undefined;
    // Copy out of the row buffer so the vector is aligned and owned.
    const bytes = new Uint8Array(row.vector);
    if (row.dtype === 'float16') return float16ToFloat32(new Uint16Array(bytes.buffer, 0, row.dim));
    return new Float32Array(bytes.buffer, 0, row.dim);
  }

  async clearDecodeSkips(): Promise<number> {
    return this.#write('clear skips', () => this.#stmt.clearDecodeSkips.run().changes);
  }

  async setLabels(labels: readonly { imageId: ImageId; label: string; source: LabelSource }[]): Promise<void> {
    this.#write('set labels', () => {
      for (const { imageId, label, source } of labels) {
        const { origin, detail } = this.#originOf(imageId, source);
        this.#stmt.setLabel.run(imageId, label, source, origin, detail);
        this.#stmt.addClass.run(label);
      }
    });
  }

  /** The one rule for a label's origin: a drawn check, else an import, else a `next` pick, else the person's choice. */
  #originOf(imageId: ImageId, source: LabelSource): { origin: LabelOrigin | null; detail: string | null } {
    if (source === 'accepted') return { origin: null, detail: null };
    const check = this.#stmt.checkOfImage.get(imageId);
    if (check) return { origin: 'verify', detail: `draw ${check.draw_id}` };
    if (source === 'import') return { origin: 'import', detail: null };
    const pick = this.#stmt.pickOfImage.get(imageId);
    return pick ? { origin: 'next', detail: pick.strategy } : { origin: 'chosen', detail: null };
  }

  async recordPicks(picks: readonly { imageId: ImageId; strategy: string }[]): Promise<void> {
    this.#write('record picks', () => {
      for (const pick of picks) this.#stmt.upsertPick.run(pick.imageId, pick.strategy);
    });
  }

  async saveCheckDraw(
    draw: Omit<CheckDrawRecord, 'id' | 'createdAt'>,
    checks: readonly NewCheck[],
  ): Promise<CheckRecord[]> {
    return this.#write('save a draw of checks', () => {
      const drawId = Number(
        this.#stmt.insertDraw.run(draw.fitId, draw.targetPrecision, draw.seed, JSON.stringify(draw.strata))
          .lastInsertRowid,
      );
      checks.forEach((c, position) =>
        this.#stmt.insertCheck.run(drawId, c.imageId, position, c.stratum, c.suggested, c.confidence, c.imageId),
      );
      return this.#stmt.checksOfDraw.all(drawId).map(toCheck);
    });
  }

  async listCheckDraws(): Promise<CheckDrawRecord[]> {
    return this.#stmt.allDraws.all().map(toCheckDraw);
  }

  async listChecks(): Promise<CheckRecord[]> {
    return this.#stmt.allChecks.all().map(toCheck);
  }

  async claimCheck(client: string, leaseMs: number): Promise<CheckRecord | undefined> {
    return this.#write('claim a check', () => {
      const now = Date.now();
      const row = this.#stmt.nextOpenCheck.get({ client, expired: now - leaseMs });
      if (!row) return undefined;
      this.#stmt.claimCheck.run(client, now, row.id);
      return toCheck(this.#stmt.checkById.get(row.id)!);
    });
  }

  async skipCheck(id: number): Promise<void> {
    this.#write('skip a check', () => {
      const changed = this.#stmt.skipCheck.run(id).changes;
      if (changed === 0) throw new AutolabelError('IMAGE_NOT_FOUND', `no check with id ${id}`);
    });
  }

  async retireChecks(ids: readonly number[], fitId: number): Promise<void> {
    this.#write('retire checks', () => {
      for (const id of ids) this.#stmt.retireCheck.run(fitId, id);
    });
  }

  async clearLabels(imageIds: readonly ImageId[]): Promise<void> {
    this.#write('clear labels', () => {
      for (const id of imageIds) this.#stmt.dropLabel.run(id);
    });
  }

  async listLabels(): Promise<LabelRecord[]> {
    return this.#stmt.listLabels.all().map(toLabel);
  }

  /** See label-changes.ts: the writes of `setLabels`, `clearLabels` and `acceptSuggestions`, journaled. */
  async changeLabels(edit: LabelEdit): Promise<LabelChangeRecord> {
    const set = edit.set ?? [];
    const clear = edit.clear ?? [];
    const accept = edit.accept ?? [];
    const touched = [...set.map((s) => s.imageId), ...clear, ...accept];
    return this.#write('change labels', () => {
      const { id, imageIds, result } = this.#labelChanges.record(touched, () => {
        for (const { imageId, label, source } of set) {
          const { origin, detail } = this.#originOf(imageId, source);
          this.#stmt.setLabel.run(imageId, label, source, origin, detail);
          this.#stmt.addClass.run(label);
        }
        for (const imageId of clear) this.#stmt.dropLabel.run(imageId);
        let accepted = 0;
        for (const imageId of accept) accepted += this.#stmt.acceptSuggestion.run(imageId).changes;
        return accepted;
      });
      return { id, imageIds, accepted: result };
    });
  }

  async undoLabelChanges(changeIds: readonly number[]): Promise<LabelUndoRecord> {
    return this.#write('undo label changes', () => this.#labelChanges.undo(changeIds));
  }

  /**
   * One buffer, sized from a count first (no doubling), in the stored precision: float16 stays
   * float16 unless the model's vectors mix precisions. Images embedded between the count and the read
   * are left for the next load.
   */
  async loadEmbeddings(modelId: string, options: EmbeddingLoadOptions = {}): Promise<EmbeddingSet> {
    const dim = this.#stmt.modelDim.get(modelId)?.dim ?? 0;
    const included = options.includeExcluded ? 1 : 0;
    const page = [options.afterId ?? 0, options.limit ?? -1] as const;
    const { n, half } = this.#stmt.embeddingCounts.get(modelId, included, ...page) ?? { n: 0, half: 0 };
    const dtype = n > 0 && half === n ? 'float16' : 'float32';
    const vectors = dtype === 'float16' ? new Uint16Array(n * dim) : new Float32Array(n * dim);
    const ids = new Int32Array(n);
    let count = 0;
    for (const row of this.#stmt.embeddings.iterate(modelId, included, ...page)) {
      if (count === n) break;
      if (row.dim !== dim) {
        throw new AutolabelError(
          'STORE_FAILED',
          `embedding of image ${row.id} has ${row.dim} values, model ${modelId} has ${dim}`,
        );
      }
      if (row.dtype === dtype) {
        new Uint8Array(vectors.buffer, count * dim * vectors.BYTES_PER_ELEMENT, row.vector.length).set(row.vector);
      } else {
        // A float16 row among float32 ones; copied out of the row buffer, which may be unaligned.
        const half = new Uint16Array(new Uint8Array(row.vector).buffer, 0, dim);
        float16ToFloat32(half, vectors as Float32Array, count * dim);
      }
      ids[count++] = row.id;
    }
    return {
      modelId,
      dim,
      dtype,
      imageIds: count === n ? ids : ids.slice(0, count),
      vectors: count === n ? vectors : vectors.slice(0, count * dim),
    };
  }

  /** See fits.ts: the crash-safe swap, under the fit-save lock. */
  async saveFit(fit: NewFit, suggestions: readonly NewSuggestion[]): Promise<number> {
    return this.#fits.save(fit, suggestions);
  }

  async waitForFitLock(): Promise<void> {
    return this.#fits.waitForLock();
  }

  async latestFit(): Promise<FitRecord | undefined> {
    const row = this.#stmt.latestFit.get();
    return row && toFit(row);
  }

  async listFits(): Promise<FitRecord[]> {
    return this.#stmt.allFits.all().map(toFit);
  }

  async listSuggestions(): Promise<SuggestionRecord[]> {
    return this.#stmt.listSuggestions.all().map(toSuggestion);
  }

  async visitImageClasses(visit: ImageClassVisitor): Promise<void> {
    for (const row of this.#stmt.imageClasses.iterate()) {
      visit(row.image_id as ImageId, row.label, row.source, row.suggestion_status);
    }
  }

  async acceptSuggestions(imageIds: readonly ImageId[]): Promise<number> {
    return this.#write('accept suggestions', () => {
      let accepted = 0;
      for (const id of imageIds) accepted += this.#stmt.acceptSuggestion.run(id).changes;
      return accepted;
    });
  }

  async queryImages(query: ImageQuery): Promise<{ total: number; items: ImageItem[] }> {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.ids !== undefined) {
      // Ids are integers by type; placed inline, since SQLite has no array parameter.
      where.push(`id IN (${query.ids.map((id) => Math.trunc(id)).join(',') || 'NULL'})`);
    }
    if (query.status !== undefined) {
      where.push('status = @status');
      params.status = query.status;
    }
    if (query.label !== undefined) {
      where.push('label = @label');
      params.label = query.label;
    }
    if (query.minConfidence !== undefined) {
      where.push('confidence >= @min');
      params.min = query.minConfidence;
    }
    if (query.maxConfidence !== undefined) {
      where.push('confidence <= @max');
      params.max = query.maxConfidence;
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order =
      query.sort === 'confidence'
        ? 'confidence IS NULL, confidence ASC, path'
        : query.sort === '-confidence'
          ? 'confidence IS NULL, confidence DESC, path'
          : 'path';
    const total = (this.#db.prepare(countImageItemsSql(filter)).get(params) as { n: number }).n;
    const rows = this.#db
      .prepare(imageItemsPageSql(filter, order))
      .all({ ...params, limit: query.limit, offset: query.offset }) as ImageItemRow[];
    return { total, items: rows.map(toImageItem) };
  }

  async getImage(id: ImageId): Promise<ImageRecord | undefined> {
    const row = this.#stmt.imageById.get(id);
    return row && toImage(row);
  }

  async statusCounts(): Promise<Record<ImageStatus, number>> {
    const counts: Record<ImageStatus, number> = { labeled: 0, accepted: 0, auto: 0, suggested: 0, unlabeled: 0 };
    for (const row of this.#stmt.statusCounts.all()) counts[row.status] = row.n;
    return counts;
  }

  async confidenceHistogram(bins: number): Promise<number[]> {
    const counts = new Array<number>(bins).fill(0);
    for (const row of this.#stmt.confidenceHistogram.all(bins, bins)) counts[row.bin] = row.n;
    return counts;
  }

  async listClasses(): Promise<ClassInfo[]> {
    return this.#stmt.listClasses.all();
  }

  async addClass(name: string): Promise<void> {
    this.#write('add a class', () => this.#stmt.addClass.run(name));
  }

  async renameClass(from: string, to: string): Promise<void> {
    this.#write('rename a class', () => {
      this.#requireClass(from);
      if (this.#hasClass(to)) {
        throw new AutolabelError('CLASS_EXISTS', `class "${to}" exists already: merge "${from}" into it instead`);
      }
      this.#moveClass(from, to);
    });
  }

  async mergeClass(from: string, into: string): Promise<number> {
    return this.#write('merge classes', () => {
      this.#requireClass(from);
      this.#requireClass(into);
      return this.#moveClass(from, into);
    });
  }

  async deleteClass(name: string, clearLabels: boolean): Promise<number> {
    return this.#write('delete a class', () => {
      this.#requireClass(name);
      const used = this.#stmt.countLabelsOf.get(name)!.n;
      if (used > 0 && !clearLabels) {
        throw new AutolabelError(
          'CLASS_IN_USE',
          `class "${name}" has ${used} labels: merge it into another class, or delete it with its labels`,
        );
      }
      this.#stmt.deleteLabelsOf.run(name);
      this.#stmt.deleteSuggestionsOf.run(name);
      this.#stmt.deleteClass.run(name);
      return used;
    });
  }

  #hasClass(name: string): boolean {
    return (this.#stmt.classExists.get(name, name)?.n ?? 0) > 0;
  }

  #requireClass(name: string): void {
    if (!this.#hasClass(name)) throw new AutolabelError('CLASS_NOT_FOUND', `no class "${name}"`);
  }

  /** Relabels every label and suggestion of `from` as `to`; returns the labels moved. */
  #moveClass(from: string, to: string): number {
    this.#stmt.addClass.run(to);
    const moved = this.#stmt.relabel.run(to, from).changes;
    this.#stmt.relabelSuggestions.run(to, from);
    this.#stmt.relabelRunnersUp.run(to, from);
    this.#stmt.deleteClass.run(from);
    return moved;
  }

  async exportRows(): Promise<ExportRow[]> {
    return this.#stmt.exportRows.all().map(toExportRow);
  }

  /** Keyset pages by path: each page is one short query, so writes are never held up by an export. */
  async *exportRecords(filter: ExportFilter = {}, pageSize = 2000): AsyncGenerator<ExportRecord> {
    const { sql, params } = exportFilterSql(filter);
    const page = this.#db.prepare<Record<string, unknown>, ExportRecordRow>(exportRecordsPageSql(sql));
    let after = '';
    for (;;) {
      const rows = page.all({ ...params, after, limit: pageSize });
      for (const row of rows) yield toExportRecord(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.path;
    }
  }

  async countExportRecords(filter: ExportFilter = {}): Promise<number> {
    const { sql, params } = exportFilterSql(filter);
    return (this.#db.prepare(countExportRecordsSql(sql)).get(params) as { n: number }).n;
  }

  async importLabels(labels: readonly ImportedLabel[], classes: readonly string[] = []): Promise<void> {
    this.#write('import labels', () => {
      for (const name of classes) this.#stmt.addClass.run(name);
      for (const l of labels) {
        const source: LabelSource = l.accepted ? 'accepted' : 'import';
        const { origin, detail } = this.#originOf(l.imageId, source);
        // A drawn check's answer keeps its draw; any other imported label keeps where it came from.
        const originDetail = origin === 'import' ? l.provenance : detail;
        this.#stmt.importLabel.run(l.imageId, l.label, source, origin, originDetail, l.accepted ? l.confidence : null);
        this.#stmt.addClass.run(l.label);
      }
    });
  }

  async saveImportExtras(format: string, extras: readonly ImportExtra[]): Promise<void> {
    this.#write('keep what an import file held', () => {
      for (const e of extras) this.#stmt.upsertImportExtra.run(format, e.imageId ?? 0, e.data);
    });
  }

  async importExtras(format: string, imageIds: readonly (ImageId | null)[]): Promise<Map<ImageId | null, string>> {
    const rows = this.#stmt.importExtras.all(format, JSON.stringify(imageIds.map((id) => id ?? 0)));
    return new Map(rows.map((row) => [row.image_id === 0 ? null : (row.image_id as ImageId), row.data]));
  }

  async stats(): Promise<StoreStats> {
    return {
      images: this.#stmt.countImages.get()!.n,
      skipped: this.#stmt.skippedImages.all(),
      labelsPerClass: this.#stmt.labelsPerClass.all(),
      embeddedPerModel: this.#stmt.embeddedPerModel.all(),
    };
  }

  async getPerceptualHashes(contentHashes: readonly string[]): Promise<PerceptualHashRecord[]> {
    return this.#audit.getHashes(contentHashes);
  }

  async putPerceptualHashes(hashes: readonly PerceptualHashRecord[]): Promise<void> {
    this.#write('store perceptual hashes', () => this.#audit.putHashes(hashes));
  }

  async saveAudit(
    run: { readonly kinds: readonly AuditKind[]; readonly notes: readonly string[] },
    findings: readonly NewAuditFinding[],
  ): Promise<void> {
    this.#write('save the audit', () => this.#audit.save(run, findings));
  }

  async listAuditFindings(): Promise<AuditFindingRecord[]> {
    return this.#audit.findings();
  }

  async latestAudit(): Promise<AuditRunRecord | undefined> {
    return this.#audit.latestRun();
  }

  async dismissAuditFindings(ids: readonly string[]): Promise<void> {
    this.#write('dismiss findings', () => this.#audit.dismiss(ids));
  }

  async setExcluded(imageIds: readonly ImageId[], excluded: boolean): Promise<void> {
    this.#write(excluded ? 'exclude images' : 'include images', () => this.#audit.setExcluded(imageIds, excluded));
  }

  async listExcluded(): Promise<ImageId[]> {
    return this.#audit.excluded();
  }

  async tryLock(name: string): Promise<StoreLock | undefined> {
    return this.#locks.tryLock(name);
  }

  async withLock<T>(
    name: string,
    work: (signal: AbortSignal) => Promise<T>,
    options: { readonly waitMs?: number } = {},
  ): Promise<T> {
    return this.#locks.withLock(name, work, options.waitMs);
  }

  /**
   * The last connection to close leaves the database in rollback-journal mode (the next open turns
   * WAL on again), so it stays readable from a read-only folder, where SQLite cannot create the -shm
   * file that WAL mode needs. While other connections are open this fails at once, and is left to them.
   */
  async close(): Promise<void> {
    if (!this.#db.open) return;
    await this.#locks.releaseAll();
    if (!this.#settings.readOnly) {
      try {
        this.#db.pragma('busy_timeout = 0');
        this.#db.pragma('journal_mode = DELETE');
      } catch {
        // Another connection is open, or the disk is full: the WAL files stay, which is fine.
      }
    }
    this.#db.close();
  }

  #write<T>(what: string, work: () => T): T {
    return write(this.#target, what, work);
  }
}

/** An export filter as AND-ed SQL conditions over `exportRecordsPageSql`'s columns, with named parameters. */
function exportFilterSql(filter: ExportFilter): { sql: string; params: Record<string, string | number> } {
  const conditions: string[] = [];
  const params: Record<string, string | number> = {};
  const anyOf = (column: string, name: string, values: readonly string[]): void => {
    values.forEach((value, i) => (params[`${name}${i}`] = value));
    conditions.push(`${column} IN (${values.map((_, i) => `@${name}${i}`).join(', ') || 'NULL'})`);
  };
  if (filter.status !== undefined) anyOf('status', 'status', filter.status);
  if (filter.label !== undefined) anyOf('label', 'label', filter.label);
  if (filter.minConfidence !== undefined) {
    conditions.push('confidence >= @minConfidence');
    params.minConfidence = filter.minConfidence;
  }
  if (filter.maxConfidence !== undefined) {
    conditions.push('confidence <= @maxConfidence');
    params.maxConfidence = filter.maxConfidence;
  }
  return { sql: conditions.map((c) => `AND ${c}`).join(' '), params };
}
