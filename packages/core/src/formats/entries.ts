/** @module Reading entries at a format's boundary: zod-checked, errors naming the file, the entry and the field. */
import { z } from 'zod';
import { IMAGE_STATUSES, type ImageStatus } from '../domain/index.js';
import { AutolabelError, type ErrorCode, messageOf } from '../errors.js';
import { readError } from '../util/fs.js';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { ImageRef, LabelEntry } from './format.js';
import { provenanceOf } from './rows.js';

/** Parses `value` with `schema`, or throws naming `where` and the field (`labels.json: images[3]: confidence: ...`). */
export function parseEntry<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: string,
  code: ErrorCode = 'IMPORT_INVALID',
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  throw new AutolabelError(code, `${where}: ${field === '' ? '' : `${field}: `}${issue.message}`);
}

/** A confidence: a number from 0 to 1, or null. */
export const ConfidenceSchema = z
  .number({ error: 'must be a number from 0 to 1' })
  .min(0, 'must be a number from 0 to 1')
  .max(1, 'must be a number from 0 to 1')
  .nullable();

export const StatusSchema = z.enum(IMAGE_STATUSES, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a status (expected ${IMAGE_STATUSES.join(', ')})`,
});

/** Statuses whose label is the machine's guess: never imported (it would teach the model its own guesses). */
const MACHINE_STATUSES: ReadonlySet<ImageStatus> = new Set(['auto', 'suggested', 'unlabeled']);

/** One row of a tabular export (csv, json, jsonl) as a label entry: people's and accepted labels, never suggestions. */
export function entryOfRow(row: {
  readonly where: string;
  readonly image: ImageRef;
  readonly labels: readonly string[];
  readonly status?: ImageStatus | null;
  readonly confidence?: number | null;
  readonly origin?: string | null;
  readonly originDetail?: string | null;
}): LabelEntry {
  const labels = row.labels.filter((l) => l.trim() !== '');
  if (labels.length === 0 || (row.status != null && MACHINE_STATUSES.has(row.status))) {
    return { where: row.where, image: row.image, labels: [] };
  }
  if (row.status === 'accepted') {
    return { where: row.where, image: row.image, labels, accepted: true, confidence: row.confidence ?? null };
  }
  return { where: row.where, image: row.image, labels, provenance: provenanceOf(row.origin, row.originDetail) };
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw readError(file, error);
  }
}

/**
 * A text file's content in pieces as it is read (UTF-8; a byte order mark is left for the reader), so
 * a file of any size is never one string; an error names the file. The file is closed however the
 * reading ends.
 */
export async function* textChunks(file: string, chunkBytes = 1 << 20): AsyncGenerator<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw readError(file, error);
  }
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null).catch((error: unknown) => {
        throw readError(file, error);
      });
      if (bytesRead === 0) break;
      const text = decoder.write(buffer.subarray(0, bytesRead));
      if (text !== '') yield text;
    }
    const tail = decoder.end();
    if (tail !== '') yield tail;
  } finally {
    await handle.close();
  }
}

/** `work`'s result; when it throws, the file `chunks` reads is closed first (a reader that fails on its header). */
export async function closedOnError<T>(chunks: AsyncGenerator<string>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await chunks.return(undefined);
    throw error;
  }
}

/** The lines of text in pieces, numbered from 1, without their `\n` (a `\r` before it is kept); the piece after a last `\n` too. */
export async function* linesOf(chunks: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let rest = '';
  let line = 0;
  for await (const chunk of chunks) {
    const pieces = (rest + chunk).split('\n');
    rest = pieces.pop()!;
    for (const text of pieces) yield { line: ++line, text };
  }
  yield { line: ++line, text: rest };
}

/** A JSON file's value (a byte order mark allowed), or an error naming the file. */
export async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text.replace(/^\ufeff/, '')) as unknown;
  } catch (error) {
    throw new AutolabelError('IMPORT_INVALID', `${file}: not valid JSON: ${messageOf(error)}`, { cause: error });
  }
}

/** A whole file's document parsed with `schema`; the error says what was expected (`expected`). */
export function parseDocument<T extends z.ZodType>(
  schema: T,
  value: unknown,
  file: string,
  expected: string,
): z.infer<T> {
  try {
    return parseEntry(schema, value, file);
  } catch (error) {
    throw new AutolabelError('IMPORT_INVALID', `${messageOf(error)} (${expected})`, { cause: error });
  }
}
