/**
 * @module The `jsonl` format: one JSON object per line and per image, with everything Autolabel
 * knows of it (label, source, origin, when, the current suggestion with its runner-up and fit, size,
 * content hash, why a file was skipped). Import reads back labels, accepted labels and provenance,
 * and matches images by content hash when their paths no longer do.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import type { ExportRecord } from '../store/store.js';
import {
  closedOnError,
  ConfidenceSchema,
  entryOfRow,
  linesOf,
  parseEntry,
  StatusSchema,
  textChunks,
} from './entries.js';
import { defineFormat, type LabelEntry, type ReadSession, type SniffInput, type SniffScore } from './format.js';
import { recordFields, renderedChunks } from './rows.js';

/** One line as written. */
export function jsonlObject(row: ExportRecord): Record<string, unknown> {
  const s = row.suggestion;
  return {
    image: row.path,
    status: recordFields(row).status,
    label: row.label,
    confidence: row.confidence,
    source: row.source,
    origin: row.origin,
    originDetail: row.originDetail,
    labeledAt: row.labeledAt,
    suggestion:
      s === null
        ? null
        : {
            label: s.label,
            confidence: s.confidence,
            runnerUp: s.runnerUp,
            runnerUpConfidence: s.runnerUpConfidence,
            status: s.status,
            fit: s.fitId,
          },
    width: row.width,
    height: row.height,
    contentHash: row.contentHash,
    skipReason: row.skipReason,
  };
}

/** What import reads of a line; other keys are allowed and ignored. */
const LineSchema = z.looseObject({
  image: z.string({ error: 'must be a string naming the image' }).min(1, 'is empty'),
  label: z.string().nullable().optional(),
  /** Several labels on one image, for other tools' multi-label lines. */
  labels: z.array(z.string()).optional(),
  status: StatusSchema.nullable().optional(),
  confidence: ConfidenceSchema.optional(),
  origin: z.string().nullable().optional(),
  originDetail: z.string().nullable().optional(),
  contentHash: z.string().nullable().optional(),
});

async function read(source: string): Promise<ReadSession> {
  // Line by line as the file is read; a missing file fails here, before any entry.
  const chunks = textChunks(source);
  const lines = linesOf(chunks);
  const first = await closedOnError(chunks, () => lines.next());
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (let next = first; !next.done; next = await lines.next()) {
      const { line } = next.value;
      const raw = line === 1 ? next.value.text.replace(/^\ufeff/, '') : next.value.text;
      if (raw.trim() === '') continue;
      const where = `${source}: line ${line}`;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        throw new AutolabelError('IMPORT_INVALID', `${where}: not valid JSON (${(error as Error).message})`, {
          cause: error,
        });
      }
      const row = parseEntry(LineSchema, value, where);
      yield entryOfRow({
        where,
        image: { path: row.image, ...(row.contentHash ? { contentHash: row.contentHash } : {}) },
        labels: row.labels ?? (row.label == null ? [] : [row.label]),
        status: row.status,
        confidence: row.confidence,
        origin: row.origin,
        originDetail: row.originDetail,
      });
    }
  }
  return { entries: entries() };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const ext = extname(input.path).toLowerCase();
  const lines = input.head
    .replace(/^\ufeff/, '')
    .split('\n', 3)
    .filter((l) => l.trim() !== '');
  try {
    const first = JSON.parse(lines[0] ?? '') as unknown;
    if (typeof first === 'object' && first !== null && 'image' in first && (lines.length > 1 || ext !== '.json')) {
      return 2;
    }
  } catch {
    // Not one object on the first line.
  }
  return ext === '.jsonl' || ext === '.ndjson' ? 1 : 0;
}

export const jsonl = defineFormat({
  name: 'jsonl',
  description:
    'one JSON object per image with everything Autolabel knows: label, source, origin, suggestion, runner-up, fit, size, hash',
  roundTrip:
    "people's labels (origin kept as provenance) and accepted ones with their exact confidence; images found by content hash when moved; suggestions written, never imported",
  sniff,
  read,
  writer: {
    kind: 'file',
    mediaType: 'application/x-ndjson',
    extension: 'jsonl',
    async *chunks(rows, ctx) {
      yield* renderedChunks(rows, ctx, (row) => `${JSON.stringify(jsonlObject(row))}\n`);
    },
  },
});
