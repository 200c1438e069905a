/**
 * @module The one list of label formats, and how a source's format is told when none is named.
 *
 * To add a format:
 *   1. Write `formats/<name>.ts` exporting one `LabelFormat` (format.ts): `name`, a one-line
 *      `description`, `roundTrip` (what export then import keeps, and what the format cannot carry),
 *      `sniff` (0 not mine, 1 my extension or shape, 2 my content), and `read` and/or `writer`.
 *      `read` checks each entry with zod at the boundary (`parseEntry` in entries.ts names the file,
 *      the entry and the field) and yields `LabelEntry`s: the image as written, its label(s), and for
 *      an accepted suggestion its confidence, for a person's label its provenance. Matching images,
 *      several labels on one image, and all-or-nothing are the import's work (labels/import.ts), not
 *      the format's. A `writer` is a `FileWriter` (text chunks, produced as rows arrive) or a
 *      `TreeWriter` (folders and image files, through a `TreeSink`); both must stream.
 *   2. Add it to `FORMATS` below (one line).
 *   3. Add a round-trip case to formats/round-trip.test.ts (formats with both directions), fixtures
 *      for the tool's quirks in `<name>.test.ts`, and a row to the README's Formats table.
 */
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { AutolabelError } from '../errors.js';
import { readError } from '../util/fs.js';
import { coco } from './coco.js';
import { csv } from './csv.js';
import { cvat } from './cvat.js';
import type { FileWriter, LabelFormat, SniffInput, TreeWriter } from './format.js';
import { imagefolder } from './imagefolder.js';
import { imagenetTxt } from './imagenet-txt.js';
import { json } from './json.js';
import { jsonl } from './jsonl.js';
import { labelStudio } from './label-studio.js';
import { roboflowCsv } from './roboflow-csv.js';
import { listFolder } from './tree.js';
import { voc } from './voc.js';
import { yoloCls } from './yolo-cls.js';

/** Every format, in the order help and the README list them. */
export const FORMATS = [
  csv,
  jsonl,
  json,
  imagefolder,
  yoloCls,
  imagenetTxt,
  coco,
  labelStudio,
  cvat,
  roboflowCsv,
  voc,
] as const;

type AnyFormat = (typeof FORMATS)[number];
export type FormatName = AnyFormat['name'];
/** Formats `import` reads. */
export type ImportFormat = Extract<AnyFormat, { read: unknown }>['name'];
/** Formats `export` writes. */
export type ExportFormat = Extract<AnyFormat, { writer: unknown }>['name'];

export const FORMAT_NAMES = FORMATS.map((f) => f.name) as [FormatName, ...FormatName[]];
export const IMPORT_FORMATS = FORMATS.flatMap((f) => ('read' in f ? [f.name] : [])) as [
  ImportFormat,
  ...ImportFormat[],
];
export const EXPORT_FORMATS = FORMATS.flatMap((f) => ('writer' in f ? [f.name] : [])) as [
  ExportFormat,
  ...ExportFormat[],
];

export function formatNamed(name: string): LabelFormat {
  const format: LabelFormat | undefined = FORMATS.find((f) => f.name === name);
  if (!format) {
    throw new AutolabelError('INVALID_ARGUMENT', `unknown format "${name}" (formats: ${FORMAT_NAMES.join(', ')})`);
  }
  return format;
}

/** A readable format's `read`, or a clear refusal. */
export function readerOf(name: string): Required<Pick<LabelFormat, 'read'>> & LabelFormat {
  const format = formatNamed(name);
  if (!format.read) throw new AutolabelError('INVALID_ARGUMENT', `the ${name} format can be exported, not imported`);
  return format as Required<Pick<LabelFormat, 'read'>> & LabelFormat;
}

export function writerOf(name: string): { format: LabelFormat; writer: FileWriter | TreeWriter } {
  const format = formatNamed(name);
  if (!format.writer) throw new AutolabelError('INVALID_ARGUMENT', `the ${name} format can be imported, not exported`);
  return { format, writer: format.writer };
}

/** What an HTTP download of a format is: a file of the format, or a tar archive of a folder format. */
export function downloadOf(name: string): { mediaType: string; fileName: string } {
  const { writer } = writerOf(name);
  return writer.kind === 'file'
    ? { mediaType: writer.mediaType, fileName: `labels.${writer.extension}` }
    : { mediaType: 'application/x-tar', fileName: `labels-${name}.tar` };
}

const HEAD_BYTES = 64 * 1024;

async function sniffInput(path: string): Promise<SniffInput> {
  const info = await stat(path).catch((error: unknown) => {
    throw readError(path, error, extname(path) === '' ? 'file or folder' : 'file');
  });
  if (info.isDirectory()) {
    const entries = (await listFolder(path)).map(({ name, isDirectory }) => ({ name, isDirectory }));
    return { path, isDirectory: true, head: '', entries };
  }
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw readError(path, error);
  });
  try {
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, info.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { path, isDirectory: false, head: buffer.subarray(0, bytesRead).toString('utf8'), entries: [] };
  } finally {
    await handle.close();
  }
}

/** The readable format a file or folder is in, by its content, else its name; refuses to guess between two. */
export async function sniffFormat(path: string): Promise<LabelFormat & Required<Pick<LabelFormat, 'read'>>> {
  const input = await sniffInput(path);
  const scored = FORMATS.map((f): { format: LabelFormat; score: number } => ({
    format: f,
    score: f.sniff(input),
  })).filter((s) => s.format.read !== undefined);
  const best = Math.max(...scored.map((s) => s.score));
  const top = scored.filter((s) => s.score === best && best > 0);
  if (top.length !== 1) {
    throw new AutolabelError(
      'IMPORT_INVALID',
      top.length === 0
        ? `${path}: cannot tell its format; name it (formats: ${IMPORT_FORMATS.join(', ')})`
        : `${path}: could be ${top.map((s) => s.format.name).join(' or ')}; name the format`,
    );
  }
  return readerOf(top[0]!.format.name);
}
