/**
 * @module The verify checklist: one row per random check, `image,suggested,confidence,label,check`,
 * with `label` left empty for a person to fill (the suggested class to confirm, or the right one).
 * `import` reads it back (labels/import.ts).
 */
import type { CheckRecord } from '../store/store.js';
import { formatCsvRow } from './csv-syntax.js';

export const CHECKLIST_COLUMNS = ['image', 'suggested', 'confidence', 'label', 'check'] as const;

export function* checklistChunks(checks: readonly CheckRecord[]): Generator<string> {
  yield formatCsvRow(CHECKLIST_COLUMNS);
  for (const c of checks) yield formatCsvRow([c.path, c.suggested, Number(c.confidence.toFixed(4)), '', c.id]);
}
