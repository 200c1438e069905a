/**
 * @module The `json` format, Autolabel's own: `{"version": 1, "classes": [...], "images": [...]}`,
 * each image with the columns of the csv format. The class list holds every class of the workspace
 * (those without images too), and import adds them back.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import {
  closedOnError,
  ConfidenceSchema,
  entryOfRow,
  parseDocument,
  parseEntry,
  StatusSchema,
  textChunks,
} from './entries.js';
import { type JsonEvent, jsonEvents } from './json-stream.js';
import { defineFormat, type LabelEntry, type ReadSession, type SniffInput, type SniffScore } from './format.js';
import { renderedChunks, toExported } from './rows.js';

const ImageSchema = z.looseObject({
  image: z.string({ error: 'must be a string naming the image' }).min(1, 'is empty'),
  label: z.string().nullable(),
  status: StatusSchema.optional(),
  confidence: ConfidenceSchema.optional(),
  origin: z.string().nullable().optional(),
  originDetail: z.string().nullable().optional(),
});

const DocumentSchema = z.looseObject({
  version: z.literal(1, { error: 'must be 1 (this Autolabel reads version 1)' }).optional(),
  classes: z.array(z.string()).optional(),
  images: z.array(z.unknown(), { error: 'must be a list of images' }),
});

const EXPECTED = 'expected Autolabel\'s JSON export: {"images": [{"image", "label", "status"}]}';

async function read(source: string): Promise<ReadSession> {
  // Streamed: the keys before the first image (the version, the class list) are checked before any
  // entry is read; images one at a time; the whole document again once it is read.
  const chunks = textChunks(source);
  return closedOnError(chunks, () => readHead(source, chunks));
}

async function readHead(source: string, chunks: AsyncGenerator<string>): Promise<ReadSession> {
  const events = jsonEvents(chunks, source, 'images');
  const keys: Record<string, unknown> = {};
  let next = await events.next();
  for (; !next.done && next.value.kind === 'value'; next = await events.next()) keys[next.value.key] = next.value.value;
  if (!next.done && next.value.kind === 'document') parseDocument(DocumentSchema, next.value.value, source, EXPECTED);
  const check = (document: Record<string, unknown>): z.infer<typeof DocumentSchema> =>
    parseDocument(DocumentSchema, document, source, EXPECTED);
  let document = check(next.done ? keys : { images: [], ...keys });
  let pending = next.done ? undefined : next.value;
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (; pending !== undefined; pending = (await events.next()).value as JsonEvent | undefined) {
      if (pending.kind !== 'item') {
        if (pending.kind === 'value') keys[pending.key] = pending.value;
        continue;
      }
      const where = `${source}: images[${pending.index}]`;
      const image = parseEntry(ImageSchema, pending.value, where);
      yield entryOfRow({
        where,
        image: { path: image.image },
        labels: image.label === null ? [] : [image.label],
        status: image.status,
        confidence: image.confidence,
        origin: image.origin,
        originDetail: image.originDetail,
      });
    }
    document = check(keys);
  }
  return {
    entries: entries(),
    // Known once the entries are read (a class list may follow the images).
    get classes() {
      return document.classes ?? [];
    },
  };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const head = input.head.replace(/^\ufeff/, '').trimStart();
  if (head.startsWith('{') && /"images"\s*:/.test(head) && /"version"\s*:\s*1\b/.test(head)) return 2;
  return extname(input.path).toLowerCase() === '.json' ? 1 : 0;
}

export const json = defineFormat({
  name: 'json',
  description: "Autolabel's own JSON: the class list and one object per image with the csv format's columns",
  roundTrip:
    "people's labels (origin kept as provenance), accepted ones with their confidence, and every class, those without images too; suggestions written, never imported",
  sniff,
  read,
  writer: {
    kind: 'file',
    mediaType: 'application/json',
    extension: 'json',
    async *chunks(rows, ctx) {
      yield `{\n  "version": 1,\n  "classes": ${JSON.stringify(ctx.classes)},\n  "images": [`;
      yield* renderedChunks(
        rows,
        ctx,
        (row, i) => `${i === 0 ? '' : ','}\n    ${JSON.stringify(toExported(row))}`,
        '\n  ]\n}\n',
      );
    },
  },
});
