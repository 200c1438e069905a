/**
 * @module The `coco` format, image-level: COCO's `images`, `categories` and `annotations`, where an
 * annotation without a `bbox` gives its image a class (the "labels" variant). In: detection files
 * too, each image taking its annotations' categories (several: the import's multi rule); ids need
 * not start at 1 nor be dense; unknown keys (`info`, `licenses`, `segmentation`, extra keys on
 * images and categories) are accepted and not kept. Out: every image, one annotation per label or
 * suggestion with Autolabel's `status`, `score`, `origin` and `origin_detail`.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { hasSuggestion } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import { ConfidenceSchema, entryOfRow, parseDocument, parseEntry, readJson, StatusSchema } from './entries.js';
import type { ExportRecord } from '../store/store.js';
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
  type WriteContext,
} from './format.js';
import { recordFields, ROWS_PER_CHUNK } from './rows.js';

const IdSchema = z.union([z.number().int(), z.string().min(1)], { error: 'must be an id (a number or a string)' });

const ImageSchema = z.looseObject({
  id: IdSchema,
  file_name: z.string({ error: 'must be a string naming the image' }).min(1, 'is empty'),
});
const CategorySchema = z.looseObject({
  id: IdSchema,
  name: z.string({ error: 'must be the class name' }).min(1, 'is empty'),
});
const AnnotationSchema = z.looseObject({
  image_id: IdSchema,
  category_id: IdSchema,
  bbox: z.array(z.number()).nullable().optional(),
  /** Autolabel's own keys (other tools leave them out). */
  status: StatusSchema.nullable().optional(),
  score: ConfidenceSchema.optional(),
  origin: z.string().nullable().optional(),
  origin_detail: z.string().nullable().optional(),
});
type Annotation = z.infer<typeof AnnotationSchema>;

const DocumentSchema = z.looseObject({
  images: z.array(z.unknown(), { error: 'must be a list of images' }),
  categories: z.array(z.unknown(), { error: 'must be a list of categories' }),
  annotations: z.array(z.unknown(), { error: 'must be a list of annotations' }).optional(),
});

const EXPECTED =
  'expected COCO: {"images": [{"id", "file_name"}], "categories": [{"id", "name"}], "annotations": [...]}';

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const document = parseDocument(DocumentSchema, await readJson(source), source, EXPECTED);
  // Ids are keys, whatever they start at and however sparse: "5" and 5 are one id.
  const categories = new Map<string, string>();
  for (const [i, value] of document.categories.entries()) {
    const where = `${source}: categories[${i}]`;
    const category = parseEntry(CategorySchema, value, where);
    if (categories.has(String(category.id))) {
      throw new AutolabelError('IMPORT_INVALID', `${where}: id: ${category.id} is the id of an earlier category`);
    }
    categories.set(String(category.id), category.name);
  }
  const images = document.images.map((value, i) => {
    const image = parseEntry(ImageSchema, value, `${source}: images[${i}]`);
    return { id: String(image.id), path: image.file_name };
  });
  const byImage = new Map<string, Annotation[]>(images.map((image) => [image.id, []]));
  if (byImage.size !== images.length) {
    const seen = new Set<string>();
    const i = images.findIndex((image) => seen.size === seen.add(image.id).size);
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${source}: images[${i}]: id: ${images[i]!.id} is the id of an earlier image`,
    );
  }
  let boxes = 0;
  for (const [i, value] of (document.annotations ?? []).entries()) {
    const where = `${source}: annotations[${i}]`;
    const annotation = parseEntry(AnnotationSchema, value, where);
    if (!categories.has(String(annotation.category_id))) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${where}: category_id: ${annotation.category_id} is not the id of a category`,
      );
    }
    const list = byImage.get(String(annotation.image_id));
    if (list === undefined) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${where}: image_id: ${annotation.image_id} is not the id of an image`,
      );
    }
    if (annotation.bbox != null || 'segmentation' in annotation) boxes++;
    list.push(annotation);
  }
  if (boxes > 0) {
    ctx.note(
      `${source}: ${boxes} annotation${boxes === 1 ? ' has' : 's have'} a box or mask: each image takes its annotations' categories`,
    );
  }
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (const [i, image] of images.entries()) {
      const annotations = byImage.get(image.id)!;
      const first = annotations[0];
      yield entryOfRow({
        where: `${source}: images[${i}] (${image.path})`,
        image: { path: image.path },
        labels: [...new Set(annotations.map((a) => categories.get(String(a.category_id))!))],
        status: first?.status,
        confidence: first?.score,
        origin: first?.origin,
        originDetail: first?.origin_detail,
      });
    }
  }
  return { entries: entries(), classes: [...new Set(categories.values())] };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const head = input.head.replace(/^\ufeff/, '').trimStart();
  if (head.startsWith('{') && /"images"\s*:\s*\[/.test(head) && /"(categories|annotations)"\s*:\s*\[/.test(head)) {
    if (/"file_name"\s*:/.test(head) || /"categories"\s*:\s*\[\s*\{[^}]*"supercategory"/.test(head)) return 2;
  }
  return 0;
}

/** Annotations wait in a temporary file while the images are written: one pass, bounded memory. */
async function* chunks(rows: AsyncIterable<ExportRecord>, ctx: WriteContext): AsyncGenerator<string> {
  const categoryId = new Map(ctx.classes.map((name, i) => [name, i + 1]));
  const info = { description: 'Autolabel export', version: '1.0', date_created: new Date().toISOString() };
  yield `{\n"info": ${JSON.stringify(info)},\n"licenses": [],\n"images": [`;
  const spill = join(tmpdir(), `autolabel-coco-${randomBytes(6).toString('hex')}.json`);
  try {
    let images = '';
    let annotations = '';
    let count = 0;
    let annotationCount = 0;
    let imageId = 0;
    for await (const row of rows) {
      imageId++;
      images += `${imageId === 1 ? '' : ','}\n  ${JSON.stringify({ id: imageId, file_name: row.path, width: row.width ?? 0, height: row.height ?? 0 })}`;
      const { status, label, confidence: score, fit } = recordFields(row);
      if (label !== null) {
        if (!categoryId.has(label)) categoryId.set(label, categoryId.size + 1);
        annotations += `${annotationCount === 0 ? '' : ','}\n  ${JSON.stringify({
          id: ++annotationCount,
          image_id: imageId,
          category_id: categoryId.get(label),
          status,
          ...(score !== null && { score }),
          origin: row.origin,
          origin_detail: row.originDetail,
          ...(hasSuggestion(status) ? { fit } : {}),
        })}`;
      }
      if (++count === ROWS_PER_CHUNK) {
        ctx.advance(count);
        yield images;
        if (annotations !== '') await appendFile(spill, annotations);
        images = annotations = '';
        count = 0;
      }
    }
    ctx.advance(count);
    if (annotations !== '') await appendFile(spill, annotations);
    yield `${images}\n],\n"annotations": [`;
    if (annotationCount > 0) {
      for await (const chunk of createReadStream(spill, { encoding: 'utf8' })) yield chunk as string;
    }
    // Categories come last, so a label given while the export ran still gets one.
    const categories = [...categoryId].map(([name, id]) => ({ id, name, supercategory: '' }));
    yield `\n],\n"categories": ${JSON.stringify(categories)}\n}\n`;
  } finally {
    await rm(spill, { force: true });
  }
}

export const coco = defineFormat({
  name: 'coco',
  description:
    'COCO JSON, image-level: images, categories, annotations without bbox; in, detection files too (an image takes its categories)',
  roundTrip:
    "people's labels (origin kept as provenance), accepted ones with their exact confidence, every class; suggestions written with status, score and fit, never imported; other tools' extra keys (info, licenses, boxes) are read past, not kept",
  sniff,
  read,
  writer: { kind: 'file', mediaType: 'application/json', extension: 'json', chunks },
});
