/**
 * @module The `roboflow-csv` format (read only): Roboflow's classification export, a one-hot
 * `_classes.csv` per split folder (`filename, classA, classB, ...`, cells 0 or 1) beside the images.
 * Roboflow renames the files (`cat_jpg.rf.<hash>.jpg`): an entry names the original (`cat.jpg`)
 * and points at the exported file, so an image is found where it leads, by content, or by name.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import { readError } from '../util/fs.js';
import { type CsvRecord, csvRecords, sniffDelimiter } from './csv-syntax.js';
import { parseEntry, readText } from './entries.js';
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
} from './format.js';
import { listFolder } from './tree.js';

export const CLASSES_FILE = '_classes.csv';

/** `IMG_1_jpg.rf.0a1b2c.jpg` was `IMG_1.jpg` before Roboflow renamed it. */
export function roboflowOriginal(name: string): string {
  return name.replace(/_(jpe?g|png|bmp|webp|tiff?|gif|heic|avif)\.rf\.[0-9a-z]+\.[a-z0-9]+$/i, '.$1');
}

const CellSchema = z.string().transform((value, ctx) => {
  const v = value.trim();
  if (v === '1' || v === '1.0') return true;
  if (v === '0' || v === '0.0' || v === '') return false;
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not 0 or 1` });
  return z.NEVER;
});

async function* fileEntries(file: string, ctx: ReadContext): AsyncGenerator<LabelEntry> {
  const text = await readText(file);
  const records = csvRecords(text, file, sniffDelimiter(text));
  const header: CsvRecord | undefined = records.next().value;
  const names = header?.fields.map((n) => n.trim()) ?? [];
  if (header === undefined || names.length < 2 || names[0]!.toLowerCase() !== 'filename') {
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${file}: line 1: expected the header "filename, <class>, <class>, ..." (Roboflow's one-hot _classes.csv)`,
    );
  }
  const columns = names.slice(1);
  let several = 0;
  for (const record of records) {
    const where = `${file}: line ${record.line}`;
    if (record.fields.length !== names.length) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${where}: ${record.fields.length} fields, but the header has ${names.length}`,
      );
    }
    const name = record.fields[0]!.trim();
    if (name === '') throw new AutolabelError('IMPORT_INVALID', `${where}: filename: the cell is empty`);
    const labels = columns.filter((column, i) => parseEntry(CellSchema, record.fields[i + 1]!, `${where}: ${column}`));
    if (labels.length > 1) several++;
    yield { where, image: { path: roboflowOriginal(name), file: join(dirname(file), name) }, labels };
  }
  if (several > 0)
    ctx.note(`${file}: ${several} image${several === 1 ? ' has' : 's have'} several classes (multi-label)`);
}

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const info = await stat(source).catch((error: unknown) => {
    throw readError(source, error, 'file or folder');
  });
  let files: string[] = [source];
  if (info.isDirectory()) {
    const top = await listFolder(source);
    const here = top.find((e) => !e.isDirectory && e.name === CLASSES_FILE);
    files = here
      ? [here.path]
      : (
          await Promise.all(
            top
              .filter((e) => e.isDirectory)
              .map(async (e) => (await listFolder(e.path)).filter((f) => f.name === CLASSES_FILE)),
          )
        ).flatMap((found) => found.map((f) => f.path));
    if (files.length === 0) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${source}: no ${CLASSES_FILE} in the folder or its split folders (train, valid, test)`,
      );
    }
  }
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (const file of files) yield* fileEntries(file, ctx);
  }
  return { entries: entries() };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return input.entries.some((e) => !e.isDirectory && e.name === CLASSES_FILE) ? 2 : 0;
  if (basename(input.path) === CLASSES_FILE) return 2;
  const [first, second] = input.head.replace(/^\ufeff/, '').split(/\r?\n/, 2);
  const delimiter = sniffDelimiter(first ?? '');
  const names = (first ?? '').split(delimiter).map((n) => n.trim().toLowerCase());
  const cells = (second ?? '')
    .split(delimiter)
    .slice(1)
    .map((c) => c.trim());
  return names[0] === 'filename' && names.length > 2 && cells.length > 0 && cells.every((c) => c === '0' || c === '1')
    ? 1
    : 0;
}

export const roboflowCsv = defineFormat({
  name: 'roboflow-csv',
  description: "Roboflow's one-hot _classes.csv (filename, classA, classB, ... with 0/1), per split folder; read only",
  roundTrip: 'read only',
  sniff,
  read,
});
