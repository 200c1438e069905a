/**
 * @module RFC 4180 CSV reading and writing, with line numbers kept for error messages; the field
 * delimiter may be `,`, `;` or tab (what spreadsheets write in locales with a decimal comma).
 */
import { AutolabelError } from '../errors.js';

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

/** Parses CSV text (LF or CRLF, quoted fields with "" escapes, optional UTF-8 BOM); blank lines are skipped. */
export function parseCsv(text: string, source: string, delimiter: CsvDelimiter = ','): CsvRecord[] {
  return [...csvRecords(text, source, delimiter)];
}

/**
 * The delimiter of CSV text, from its first line (the header): whichever of `,` `;` tab occurs most
 * outside quotes; a comma when none does.
 */
export function sniffDelimiter(text: string): CsvDelimiter {
  const counts = new Map<CsvDelimiter, number>(CSV_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch as CsvDelimiter))
      counts.set(ch as CsvDelimiter, counts.get(ch as CsvDelimiter)! + 1);
  }
  let best: CsvDelimiter = ',';
  for (const d of CSV_DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/** The records of CSV text one at a time, so a million-row file never becomes a million-row array. */
export function* csvRecords(text: string, source: string, delimiter: CsvDelimiter = ','): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    for (;;) {
      if (i >= text.length) {
        if (quoted) throw new AutolabelError('CSV_INVALID', `${source}: line ${start}: a quoted field is never closed`);
        break;
      }
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          const after = text[i];
          if (after !== undefined && after !== delimiter && after !== '\n' && after !== '\r') {
            throw new AutolabelError('CSV_INVALID', `${source}: line ${line}: unexpected text after a closing quote`);
          }
          continue;
        }
        if (ch === '\n') line++;
        field += ch;
        i++;
        continue;
      }
      if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i++;
        continue;
      }
      if (ch === delimiter) {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i++;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      }
      field += ch;
      atFieldStart = false;
      i++;
    }
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) yield { line: start, fields };
  }
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function formatCsvRow(values: readonly (string | number | null)[]): string {
  return `${values.map((value) => (value === null ? '' : quote(typeof value === 'string' ? escapeFormula(value) : String(value)))).join(',')}\n`;
}

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula
 * ("CSV injection", OWASP): such text cells are written with a leading apostrophe, which
 * spreadsheets hide and `unescapeFormula` removes on import.
 */
function escapeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Reverses `escapeFormula` for a cell read from a CSV. */
export function unescapeFormula(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}
