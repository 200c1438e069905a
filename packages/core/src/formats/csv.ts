/**
 * @module The `csv` format: one row per image. In: lenient, as people's CSVs are (the delimiter
 * sniffed among `,` `;` tab, BOM and CRLF, columns found by name or named by the caller, other
 * columns noted and ignored); Autolabel's own export and its verify checklist read back. Out:
 * image, label, status, confidence, origin and its detail, runner-up and its probability, fit.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { IMAGE_STATUSES } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import { type CsvRecord, csvRecordsOf, formatCsvRow, sniffDelimiter, unescapeFormula } from './csv-syntax.js';
import { closedOnError, entryOfRow, parseEntry, StatusSchema, textChunks } from './entries.js';
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
} from './format.js';
import { renderedChunks, toExported } from './rows.js';

/** What the export writes; the first five are what older Autolabel wrote, so those files read back too. */
export const CSV_COLUMNS = [
  'image',
  'label',
  'status',
  'confidence',
  'origin',
  'origin_detail',
  'runner_up',
  'runner_up_confidence',
  'fit',
] as const;

/** Header names people's CSVs use for the image and the label, in order of preference (lower case). */
const IMAGE_COLUMNS = ['image', 'path', 'file', 'filename', 'file_name', 'image_path', 'filepath', 'img', 'image_name'];
const LABEL_COLUMNS = ['label', 'class', 'category', 'class_name', 'label_name'];
/** Columns a verify checklist adds (formats/checklist.ts). */
const CHECKLIST_COLUMNS = ['suggested', 'check'];

const CellSchema = z.object({
  image: z.string().min(1, 'the cell is empty'),
  label: z.string(),
  status: z.union([z.literal(''), StatusSchema], {
    error: (issue) => `${JSON.stringify(issue.input)} is not a status (expected ${IMAGE_STATUSES.join(', ')})`,
  }),
  confidence: z.string().transform((value, ctx) => {
    if (value.trim() === '') return null;
    const n = Number(value);
    if (!(n >= 0 && n <= 1)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a number from 0 to 1` });
      return z.NEVER;
    }
    return n;
  }),
});

function columnOf(names: readonly string[], wanted: string | undefined, preferred: readonly string[]): number {
  if (wanted !== undefined) return names.indexOf(wanted.trim().toLowerCase());
  for (const name of preferred) if (names.includes(name)) return names.indexOf(name);
  return -1;
}

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  // Read as a stream, record by record: the head (enough to hold the header line) tells the delimiter.
  const chunks = textChunks(source);
  return closedOnError(chunks, () => readHeader(source, ctx, chunks));
}

async function readHeader(source: string, ctx: ReadContext, chunks: AsyncGenerator<string>): Promise<ReadSession> {
  let head = '';
  while (!/[\r\n]/.test(head)) {
    const next = await chunks.next();
    if (next.done) break;
    head += next.value;
  }
  const delimiter = sniffDelimiter(head);
  const records = csvRecordsOf(textAfter(head, chunks), source, delimiter);
  const header: CsvRecord | undefined = (await records.next()).value;
  if (!header)
    throw new AutolabelError('CSV_INVALID', `${source}: line 1: empty file, expected a header such as image,label`);
  const where = `${source}: line ${header.line}`;
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const image = columnOf(names, ctx.imageColumn, IMAGE_COLUMNS);
  const label = columnOf(names, ctx.labelColumn, LABEL_COLUMNS);
  for (const [given, index, what] of [
    [ctx.imageColumn, image, 'image'],
    [ctx.labelColumn, label, 'label'],
  ] as const) {
    if (given !== undefined && index < 0) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: no column "${given}" for the ${what} (columns: ${header.fields.join(', ')})`,
      );
    }
  }
  if (image < 0 || label < 0) {
    throw new AutolabelError(
      'CSV_INVALID',
      `${where}: the header must name the columns image and label (or say which columns hold them); it has ${header.fields.join(', ')}`,
    );
  }
  // Autolabel's own columns, where present; never the one already read as the image or the label.
  const column = (name: string): number =>
    names.indexOf(name) === image || names.indexOf(name) === label ? -1 : names.indexOf(name);
  const status = column('status');
  const confidence = column('confidence');
  const origin = column('origin');
  const originDetail = column('origin_detail');
  const known = new Set<string>([...CSV_COLUMNS, ...CHECKLIST_COLUMNS]);
  const unused = header.fields.filter((name, i) => i !== image && i !== label && !known.has(names[i]!));
  if (unused.length > 0) {
    ctx.note(`${source}: column${unused.length === 1 ? '' : 's'} ${unused.map((n) => `"${n}"`).join(', ')} not used`);
  }
  if (delimiter !== ',')
    ctx.note(`${source}: read with ${delimiter === '\t' ? 'tab' : `"${delimiter}"`} as the delimiter`);

  async function* entries(): AsyncGenerator<LabelEntry> {
    for await (const record of records) {
      const at = `${source}: line ${record.line}`;
      if (record.fields.length !== names.length) {
        // A wrong count is most often an unquoted delimiter inside a name: guessing would mislabel.
        throw new AutolabelError(
          'CSV_INVALID',
          `${at}: ${record.fields.length} fields, but the header has ${names.length}`,
        );
      }
      const cell = (i: number): string => (i < 0 ? '' : unescapeFormula(record.fields[i]!));
      const row = parseEntry(
        CellSchema,
        {
          image: cell(image),
          label: cell(label),
          status: cell(status).trim().toLowerCase(),
          confidence: cell(confidence),
        },
        at,
        'CSV_INVALID',
      );
      yield entryOfRow({
        where: at,
        image: { path: row.image },
        labels: [row.label],
        status: row.status === '' ? null : row.status,
        confidence: row.confidence,
        origin: cell(origin),
        originDetail: cell(originDetail),
      });
    }
  }
  return {
    entries: entries(),
    // A checklist answers checks of existing classes: a class name it does not know is a typo, not a new class.
    checklist: names.includes('suggested'),
  };
}

/** `head`, then the rest of the chunks it was taken from. */
async function* textAfter(head: string, rest: AsyncIterator<string>): AsyncGenerator<string> {
  if (head !== '') yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const ext = extname(input.path).toLowerCase();
  const firstLine = input.head.replace(/^\ufeff/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = sniffDelimiter(firstLine);
  const names = firstLine.split(delimiter).map((n) => n.trim().replace(/^"|"$/g, '').toLowerCase());
  if (names.some((n) => IMAGE_COLUMNS.includes(n)) && names.some((n) => LABEL_COLUMNS.includes(n))) return 2;
  return ext === '.csv' || ext === '.tsv' ? 1 : 0;
}

export const csv = defineFormat({
  name: 'csv',
  description:
    'one row per image: image,label (any delimiter, extra columns ignored); the export adds status, confidence, origin, runner-up and fit',
  roundTrip:
    "people's labels (origin kept as provenance) and accepted ones with their confidence; suggestions are written but never imported",
  sniff,
  read,
  writer: {
    kind: 'file',
    mediaType: 'text/csv; charset=utf-8',
    extension: 'csv',
    async *chunks(rows, ctx) {
      yield formatCsvRow(CSV_COLUMNS);
      yield* renderedChunks(rows, ctx, (row) => {
        const e = toExported(row);
        return formatCsvRow([
          e.image,
          e.label,
          e.status,
          e.confidence,
          e.origin,
          e.originDetail,
          e.runnerUp,
          e.runnerUpConfidence,
          e.fit,
        ]);
      });
    },
  },
});
