/**
 * @module The undo journal of the PostgreSQL Store, as SQLite's (sqlite/label-changes.ts): every
 * `changeLabels` records each label row it changed as it was before and after, and `undoLabelChanges`
 * puts the rows back, refusing when anything changed them since. Both run inside the caller's
 * serialized write transaction.
 */
import type { ImageId } from '../../domain/index.js';
import { AutolabelError } from '../../errors.js';
import { describe, journalRow, LABEL_UNDO_DEPTH, type LabelRowNow, NAMED_CONFLICTS } from '../sqlite/label-changes.js';
import type { LabelChangeRecord, LabelUndoRecord } from '../store.js';
import type { Queries } from './connection.js';

const LABEL_ROWS = `SELECT image_id, label, source, confidence, origin, origin_detail, created_at, updated_at
  FROM labels WHERE image_id = ANY($1::int[])`;

async function labelRows(q: Queries, imageIds: readonly number[]): Promise<Map<number, LabelRowNow>> {
  const rows = await q.rows<LabelRowNow & { image_id: number }>(LABEL_ROWS, [imageIds]);
  return new Map(rows.map((row) => [row.image_id, row]));
}

/**
 * Runs `work`, which writes the labels of `imageIds`, and journals the rows it changed as one change.
 * Call it inside a write transaction.
 */
export async function recordLabelChange(
  q: Queries,
  imageIds: readonly ImageId[],
  work: () => Promise<number>,
): Promise<Omit<LabelChangeRecord, 'accepted'> & { result: number }> {
  const touched = [...new Set(imageIds)];
  const beforeRows = await labelRows(q, touched);
  const before = touched.map((id) => journalRow(beforeRows.get(id)));
  const result = await work();
  const afterRows = await labelRows(q, touched);
  const changed: { imageId: ImageId; before: string | null; after: string | null }[] = [];
  touched.forEach((imageId, k) => {
    const after = journalRow(afterRows.get(imageId));
    if (after !== before[k]) changed.push({ imageId, before: before[k]!, after });
  });
  if (changed.length === 0) return { id: null, imageIds: [], result };
  const { id } = (await q.one<{ id: number }>('INSERT INTO label_changes DEFAULT VALUES RETURNING id'))!;
  await q.run(
    `INSERT INTO label_change_rows (change_id, image_id, before, after)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[])`,
    [id, changed.map((c) => c.imageId), changed.map((c) => c.before), changed.map((c) => c.after)],
  );
  await q.run('DELETE FROM label_changes WHERE id <= $1', [id - LABEL_UNDO_DEPTH]);
  return { id, imageIds: changed.map((row) => row.imageId), result };
}

/** Undoes changes, newest first, or throws having written nothing the transaction keeps. Call it inside a write transaction. */
export async function undoLabelChanges(q: Queries, changeIds: readonly number[]): Promise<LabelUndoRecord> {
  const ids = [...new Set(changeIds)].sort((a, b) => b - a);
  if (ids.length === 0) throw new AutolabelError('INVALID_ARGUMENT', 'no changes to undo');
  const restored = new Map<ImageId, string | null>();
  for (const id of ids) {
    const change = await q.one<{ undone_at: string | null }>('SELECT undone_at FROM label_changes WHERE id = $1', [id]);
    if (!change) {
      throw new AutolabelError(
        'CHANGE_NOT_FOUND',
        `change ${id} cannot be undone: there is no such change, or it is older than the latest ${LABEL_UNDO_DEPTH}`,
      );
    }
    if (change.undone_at !== null) {
      throw new AutolabelError('UNDO_CONFLICT', `change ${id} was undone already (at ${change.undone_at})`);
    }
    const rows = await q.rows<{ image_id: number; before: string | null; after: string | null; path: string | null }>(
      `SELECT r.image_id, r.before, r.after, i.path FROM label_change_rows r LEFT JOIN images i ON i.id = r.image_id
       WHERE r.change_id = $1 ORDER BY r.image_id`,
      [id],
    );
    const now = await labelRows(
      q,
      rows.map((row) => row.image_id),
    );
    const conflicts: string[] = [];
    for (const row of rows) {
      const imageId = row.image_id as ImageId;
      const current = restored.has(imageId) ? restored.get(imageId)! : journalRow(now.get(imageId));
      if (row.path === null) conflicts.push(`image ${imageId} is no longer in the workspace`);
      else if (current !== row.after) conflicts.push(`${row.path} ${describe(now.get(imageId))}`);
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
      const before = row.before === null ? null : (JSON.parse(row.before) as Record<string, string | number | null>);
      if (before === null) await q.run('DELETE FROM labels WHERE image_id = $1', [row.image_id]);
      else {
        await q.run(
          `INSERT INTO labels (image_id, label, source, confidence, origin, origin_detail, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (image_id) DO UPDATE SET label = excluded.label, source = excluded.source,
             confidence = excluded.confidence, origin = excluded.origin, origin_detail = excluded.origin_detail,
             created_at = excluded.created_at, updated_at = autolabel_now()`,
          [
            row.image_id,
            before.label,
            before.source,
            before.confidence,
            before.origin,
            before.originDetail,
            before.createdAt,
          ],
        );
        await q.run('INSERT INTO classes (name) VALUES ($1) ON CONFLICT DO NOTHING', [before.label]);
      }
      restored.set(row.image_id as ImageId, row.before);
    }
    await q.run('UPDATE label_changes SET undone_at = autolabel_now() WHERE id = $1', [id]);
  }
  return { changeIds: ids, imageIds: [...restored.keys()] };
}
