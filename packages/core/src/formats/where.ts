/**
 * @module Export filters written as text, `status=auto,suggested label=cat min-confidence=0.8`: the
 * vocabulary of GET /api/images (status, label, minConfidence, maxConfidence), for `export --where`
 * and GET /api/export alike.
 */
import { z } from 'zod';
import { IMAGE_STATUSES } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import type { ExportFilter } from '../store/store.js';

const confidence = z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1');

/** An export filter; every condition given must hold. */
export const ExportFilterSchema = z
  .object({
    status: z
      .array(z.enum(IMAGE_STATUSES, { error: () => `expected any of ${IMAGE_STATUSES.join(', ')}` }))
      .min(1)
      .optional(),
    label: z.array(z.string().min(1)).min(1).optional(),
    minConfidence: confidence.optional(),
    maxConfidence: confidence.optional(),
  })
  .strict();

const KEYS: Readonly<Record<string, keyof ExportFilter>> = {
  status: 'status',
  label: 'label',
  minconfidence: 'minConfidence',
  maxconfidence: 'maxConfidence',
};

interface Term {
  readonly name: string;
  /** Null: the term has no `=`. */
  readonly items: string[] | null;
  readonly text: string;
}

/** Terms separated by spaces, each `name=item,item`; double quotes protect spaces and commas (`""` is a quote). */
function terms(text: string): Term[] {
  const out: Term[] = [];
  let name = '';
  let items: string[] | null = null;
  let item = '';
  let raw = '';
  let quoted = false;
  const endTerm = (): void => {
    if (raw.trim() === '') return;
    if (items !== null) items.push(item);
    out.push({ name, items, text: raw });
    name = '';
    items = null;
    item = '';
    raw = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      raw += ch;
      if (ch === '"' && text[i + 1] === '"') {
        item += '"';
        raw += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else if (items === null) name += ch;
      else item += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      endTerm();
      continue;
    }
    raw += ch;
    if (ch === '"') quoted = true;
    else if (ch === '=' && items === null) items = [];
    else if (ch === ',' && items !== null) {
      items.push(item);
      item = '';
    } else if (items === null) name += ch;
    else item += ch;
  }
  if (quoted) throw whereError(`a quote is never closed in "${text}"`);
  endTerm();
  return out;
}

function whereError(message: string): AutolabelError {
  return new AutolabelError('INVALID_ARGUMENT', `where: ${message}`);
}

/**
 * Parses `key=value` terms separated by spaces; a value may list several (`status=auto,suggested`)
 * and be quoted (`label="dog, big"`). Keys: status, label, min-confidence, max-confidence (or
 * minConfidence, maxConfidence, as GET /api/images spells them).
 */
export function parseWhere(text: string): ExportFilter {
  const raw: Record<string, unknown> = {};
  for (const term of terms(text)) {
    if (term.items === null || term.name === '') {
      throw whereError(`"${term.text}" is not key=value (keys: status, label, min-confidence, max-confidence)`);
    }
    const key = KEYS[term.name.toLowerCase().replace(/[-_]/g, '')];
    if (key === undefined) {
      throw whereError(`unknown key "${term.name}" (keys: status, label, min-confidence, max-confidence)`);
    }
    if (raw[key] !== undefined) throw whereError(`"${term.name}" is given twice`);
    const items = term.items.map((v) => v.trim());
    if (key === 'minConfidence' || key === 'maxConfidence') {
      const number = items.length === 1 && items[0] !== '' ? Number(items[0]) : NaN;
      if (!Number.isFinite(number)) throw whereError(`${term.name}: "${items.join(',')}" is not a number`);
      raw[key] = number;
    } else {
      raw[key] = items.filter((v) => v !== '');
    }
  }
  return checkFilter(raw);
}

/** Checks a filter given as data (the programmatic API, HTTP query parameters). */
export function checkFilter(raw: unknown): ExportFilter {
  const parsed = ExportFilterSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.filter((p) => typeof p === 'string').join('.');
    throw whereError(`${field || 'filter'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Both filters at once (every condition of each must hold). */
export function bothFilters(a: ExportFilter, b: ExportFilter): ExportFilter {
  const both = <T>(x: readonly T[] | undefined, y: readonly T[] | undefined): readonly T[] | undefined =>
    x === undefined ? y : y === undefined ? x : x.filter((v) => y.includes(v));
  const min = [a.minConfidence, b.minConfidence].filter((v) => v !== undefined);
  const max = [a.maxConfidence, b.maxConfidence].filter((v) => v !== undefined);
  return {
    ...(both(a.status, b.status) && { status: both(a.status, b.status) }),
    ...(both(a.label, b.label) && { label: both(a.label, b.label) }),
    ...(min.length > 0 && { minConfidence: Math.max(...min) }),
    ...(max.length > 0 && { maxConfidence: Math.min(...max) }),
  };
}
