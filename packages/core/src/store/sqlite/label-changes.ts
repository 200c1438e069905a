/**
 * @module The undo journal of the SQLite Store: every `changeLabels` records each label row it changed as
 * it was before and after, and `undoLabelChanges` puts the rows back, refusing when anything changed
 * them since. Both run inside the caller's write transaction.
 */
import type Database from 'better-sqlite3';
import type { ImageId } from '../../domain/index.js';
import { AutolabelError } from '../../errors.js';
import type { LabelChangeRecord, LabelUndoRecord } from '../store.js';

/** Changes kept for undo; older ones are pruned as new ones are recorded. */
export const LABEL_UNDO_DEPTH = 100;
/** Images an undo refusal names, of those changed since. */
export const NAMED_CONFLICTS = 3;

/** A label row as the journal keeps it (JSON, keys in this order), or null for no label. */
export interface JournalRow {
  readonly label: string;
  readonly source: string;
  readonly confidence: number | null;
  readonly origin: string | null;
  readonly originDetail: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A label row as both stores read it (snake_case columns). */
export interface LabelRowNow {
  label: string;
  source: string;
  confidence: number | null;
  origin: string | null;
  origin_detail: string | null;
  created_at: string;
  updated_at: string;
}

/** A label row as the journal keeps it (the same JSON for the SQLite and PostgreSQL stores). */
export function journalRow(row: LabelRowNow | undefined): string | null {
  if (!row) return null;
  const kept: JournalRow = {
    label: row.label,
    source: row.source,
    confidence: row.confidence,
    origin: row.origin,
    originDetail: row.origin_detail,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  return JSON.stringify(kept);
}

/** How an image's label stands now, as a refusal names it. */
export function describe(row: LabelRowNow | undefined): string {
  if (!row) return 'has no label';
  return row.source === 'accepted' ? `is accepted as "${row.label}"` : `is labelled "${row.label}"`;
}

export class LabelChanges {
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#stmt = {
      labelRow: db.prepare<[number], LabelRowNow>(
        `SELECT label, source, confidence, origin, origin_detail, created_at, updated_at FROM labels WHERE image_id = ?`,
      ),
      insertChange: db.prepare<[]>('INSERT INTO label_changes DEFAULT VALUES'),
      insertRow: db.prepare<[number, number, string | null, string | null]>(
        'INSERT INTO label_change_rows (change_id, image_id, before, after) VALUES (?, ?, ?, ?)',
      ),
      prune: db.prepare<[number]>('DELETE FROM label_changes WHERE id <= ?'),
      change: db.prepare<[number], { id: number; undone_at: string | null }>(
        'SELECT id, undone_at FROM label_changes WHERE id = ?',
      ),
      rowsOf: db.prepare<[number], { image_id: number; before: string | null; after: string | null }>(
        'SELECT image_id, before, after FROM label_change_rows WHERE change_id = ? ORDER BY image_id',
      ),
      imagePath: db.prepare<[number], { path: string }>('SELECT path FROM images WHERE id = ?'),
      restoreRow: db.prepare<[number, string, string, number | null, string | null, string | null, string]>(
        `INSERT INTO labels (image_id, label, source, confidence, origin, origin_detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
           confidence = excluded.confidence, origin = excluded.origin, origin_detail = excluded.origin_detail,
           created_at = excluded.created_at, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
      ),
      dropLabel: db.prepare<[number]>('DELETE FROM labels WHERE image_id = ?'),
      addClass: db.prepare<[string]>('INSERT OR IGNORE INTO classes (name) VALUES (?)'),
      markUndone: db.prepare<[number]>(
        `UPDATE label_changes SET undone_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`,
      ),
    };
  }

  /**
   * Runs `work`, which writes the labels of `imageIds`, and journals the rows it changed as one change.
   * Call it inside a write transaction.
   */
  record(imageIds: readonly ImageId[], work: () => number): Omit<LabelChangeRecord, 'accepted'> & { result: number } {
    const touched = [...new Set(imageIds)];
    const before = touched.map((id) => journalRow(this.#stmt.labelRow.get(id)));
    const result = work();
    const changed: { imageId: ImageId; before: string | null; after: string | null }[] = [];
    touched.forEach((imageId, k) => {
      const after = journalRow(this.#stmt.labelRow.get(imageId));
      if (after !== before[k]) changed.push({ imageId, before: before[k]!, after });
    });
    if (changed.length === 0) return { id: null, imageIds: [], result };
    const id = Number(this.#stmt.insertChange.run().lastInsertRowid);
    for (const row of changed) this.#stmt.insertRow.run(id, row.imageId, row.before, row.after);
    this.#stmt.prune.run(id - LABEL_UNDO_DEPTH);
    return { id, imageIds: changed.map((row) => row.imageId), result };
  }

  /** Undoes changes, newest first, or throws having written nothing the transaction keeps. Call it inside a write transaction. */
  undo(changeIds: readonly number[]): LabelUndoRecord {
    const ids = [...new Set(changeIds)].sort((a, b) => b - a);
    if (ids.length === 0) throw new AutolabelError('INVALID_ARGUMENT', 'no changes to undo');
    // Rows put back by a newer change of this undo, as journaled: their update time is now the undo's.
    const restored = new Map<ImageId, string | null>();
    for (const id of ids) {
      const change = this.#stmt.change.get(id);
      if (!change) {
        throw new AutolabelError(
          'CHANGE_NOT_FOUND',
          `change ${id} cannot be undone: there is no such change, or it is older than the latest ${LABEL_UNDO_DEPTH}`,
        );
      }
      if (change.undone_at !== null) {
        throw new AutolabelError('UNDO_CONFLICT', `change ${id} was undone already (at ${change.undone_at})`);
      }
      const rows = this.#stmt.rowsOf.all(id);
      const conflicts: string[] = [];
      for (const row of rows) {
        const imageId = row.image_id as ImageId;
        const path = this.#stmt.imagePath.get(imageId)?.path;
        const now = this.#stmt.labelRow.get(imageId);
        const current = restored.has(imageId) ? restored.get(imageId)! : journalRow(now);
        if (path === undefined) conflicts.push(`image ${imageId} is no longer in the workspace`);
        else if (current !== row.after) conflicts.push(`${path} ${describe(now)}`);
      }
      if (conflicts.length > 0) {
        const named = conflicts.slice(0, NAMED_CONFLICTS).join('; ');
        const more = conflicts.length > NAMED_CONFLICTS ? `; and ${conflicts.length - NAMED_CONFLICTS} more` : '';
        throw new AutolabelError(
          'UNDO_CONFLICT',
          `cannot undo: ${conflicts.length} of the ${rows.length} images changed were changed again since (${named}${more}); nothing was undone`,
        );
      }
      for (const row of rows) {
        const before = row.before === null ? null : (JSON.parse(row.before) as JournalRow);
        if (before === null) this.#stmt.dropLabel.run(row.image_id);
        else {
          this.#stmt.restoreRow.run(
            row.image_id,
            before.label,
            before.source,
            before.confidence,
            before.origin,
            before.originDetail,
            before.createdAt,
          );
          this.#stmt.addClass.run(before.label);
        }
        restored.set(row.image_id as ImageId, row.before);
      }
      this.#stmt.markUndone.run(id);
    }
    return { changeIds: ids, imageIds: [...restored.keys()] };
  }
}
