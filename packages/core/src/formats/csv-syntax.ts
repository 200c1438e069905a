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
  const parser = new CsvParser(source, delimiter);
  yield* parser.push(text, true);
}

/** The records of CSV text that comes in chunks (a file read as a stream), one at a time as they complete. */
export async function* csvRecordsOf(
  chunks: AsyncIterable<string>,
  source: string,
  delimiter: CsvDelimiter = ',',
): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser(source, delimiter);
  for await (const chunk of chunks) yield* parser.push(chunk, false);
  yield* parser.push('', true);
}

/**
 * RFC 4180 records parsed from text given piece by piece: the state between pieces is the record and
 * field being read, so a quoted field, a `""` or a CRLF may be cut anywhere.
 */
class CsvParser {
  readonly #source: string;
  readonly #delimiter: string;
  #line = 1;
  #start = 1;
  #fields: string[] = [];
  #field = '';
  #quoted = false;
  #atFieldStart = true;
  #afterQuote = false;
  #rest = '';
  #first = true;

  constructor(source: string, delimiter: CsvDelimiter) {
    this.#source = source;
    this.#delimiter = delimiter;
  }

  /** The records `chunk` completes; `final` says the text ends with it. */
  *push(chunk: string, final: boolean): Generator<CsvRecord> {
    const text = this.#rest + chunk;
    const n = text.length;
    const delimiter = this.#delimiter;
    let i = 0;
    if (this.#first && n > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    let field = this.#field;
    let quoted = this.#quoted;
    let atFieldStart = this.#atFieldStart;
    let afterQuote = this.#afterQuote;
    while (i < n) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          // `""` or the closing quote: the next character decides.
          if (i + 1 >= n && !final) break;
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          afterQuote = true;
          i++;
          continue;
        }
        if (ch === '\n') this.#line++;
        field += ch;
        i++;
        continue;
      }
      if (afterQuote) {
        afterQuote = false;
        if (ch !== delimiter && ch !== '\n' && ch !== '\r') {
          throw new AutolabelError(
            'CSV_INVALID',
            `${this.#source}: line ${this.#line}: unexpected text after a closing quote`,
          );
        }
      }
      if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i++;
        continue;
      }
      if (ch === delimiter) {
        this.#fields.push(field);
        field = '';
        atFieldStart = true;
        i++;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\r' && i + 1 >= n && !final) break;
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        this.#line++;
        const record = this.#end(field);
        field = '';
        atFieldStart = true;
        if (record) yield record;
        continue;
      }
      field += ch;
      atFieldStart = false;
      i++;
    }
    this.#rest = text.slice(i);
    this.#field = field;
    this.#quoted = quoted;
    this.#atFieldStart = atFieldStart;
    this.#afterQuote = afterQuote;
    if (!final) return;
    if (quoted) {
      throw new AutolabelError('CSV_INVALID', `${this.#source}: line ${this.#start}: a quoted field is never closed`);
    }
    const record = this.#end(field);
    this.#field = '';
    if (record) yield record;
  }

  /** Ends the record being read; a blank line is no record. */
  #end(field: string): CsvRecord | undefined {
    const fields = this.#fields;
    fields.push(field);
    const start = this.#start;
    this.#fields = [];
    this.#start = this.#line;
    return fields.length === 1 && fields[0] === '' ? undefined : { line: start, fields };
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
