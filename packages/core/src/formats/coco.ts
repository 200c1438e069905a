/**
 * @module The `coco` format, image-level: COCO's `images`, `categories` and `annotations`, where an
 * annotation without a `bbox` gives its image a class (the "labels" variant). In: detection files
 * too, each image taking its annotations' categories (several: the import's multi rule); ids need
 * not start at 1 nor be dense; unknown keys (`info`, `licenses`, boxes and masks, other tools' keys
 * on images, categories and annotations) are kept in the workspace and written back by the export.
 * Out: every image, one annotation per label or suggestion with Autolabel's `status`, `score`,
 * `origin` and `origin_detail`.
 */
import { z } from 'zod';
import { hasSuggestion, type ImageId } from '../domain/index.js';
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
import { Spool } from './spool.js';

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

/**
 * Keys Autolabel reads or writes itself; every other key (COCO's `info`, `licenses`, `supercategory`,
 * `bbox`, `segmentation`, `area`, `iscrowd`, other tools' own) is kept on import and written back.
 * Ids are renumbered from 1 on export, so they are not kept (a `license` id on an image is kept).
 */
const OWN_TOP_KEYS = new Set(['images', 'categories', 'annotations']);
const OWN_IMAGE_KEYS = new Set(['id', 'file_name', 'width', 'height']);
const OWN_CATEGORY_KEYS = new Set(['id', 'name']);
const OWN_ANNOTATION_KEYS = new Set([
  'id',
  'image_id',
  'category_id',
  'status',
  'score',
  'origin',
  'origin_detail',
  'fit',
]);

/** What a file held beyond images, categories and annotations, and its categories' other keys by name. */
interface FileExtras {
  readonly top?: Record<string, unknown>;
  readonly categories?: Record<string, Record<string, unknown>>;
}
/** An image's other keys, and its annotations' (each with its category's name, to go with that label only). */
interface ImageExtras {
  readonly image?: Record<string, unknown>;
  readonly annotations?: readonly { readonly category: string; readonly keys: Record<string, unknown> }[];
}

function otherKeys(value: Record<string, unknown>, own: ReadonlySet<string>): Record<string, unknown> | undefined {
  const entries = Object.entries(value).filter(([key]) => !own.has(key));
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** Extras as kept by an import (JSON written by this module), or nothing. */
function parsed<T>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

const EXPECTED =
  'expected COCO: {"images": [{"id", "file_name"}], "categories": [{"id", "name"}], "annotations": [...]}';

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const document = parseDocument(DocumentSchema, await readJson(source), source, EXPECTED);
  // Ids are keys, whatever they start at and however sparse: "5" and 5 are one id.
  const categories = new Map<string, string>();
  const categoryKeys: Record<string, Record<string, unknown>> = {};
  for (const [i, value] of document.categories.entries()) {
    const where = `${source}: categories[${i}]`;
    const category = parseEntry(CategorySchema, value, where);
    if (categories.has(String(category.id))) {
      throw new AutolabelError('IMPORT_INVALID', `${where}: id: ${category.id} is the id of an earlier category`);
    }
    categories.set(String(category.id), category.name);
    const keys = otherKeys(category, OWN_CATEGORY_KEYS);
    if (keys !== undefined) categoryKeys[category.name] = keys;
  }
  const images = document.images.map((value, i) => {
    const image = parseEntry(ImageSchema, value, `${source}: images[${i}]`);
    return { id: String(image.id), path: image.file_name, keys: otherKeys(image, OWN_IMAGE_KEYS) };
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
      const entry = entryOfRow({
        where: `${source}: images[${i}] (${image.path})`,
        image: { path: image.path },
        labels: [...new Set(annotations.map((a) => categories.get(String(a.category_id))!))],
        status: first?.status,
        confidence: first?.score,
        origin: first?.origin,
        originDetail: first?.origin_detail,
      });
      const kept: ImageExtras = {
        ...(image.keys && { image: image.keys }),
        ...(annotations.some((a) => otherKeys(a, OWN_ANNOTATION_KEYS) !== undefined) && {
          annotations: annotations.map((a) => ({
            category: categories.get(String(a.category_id))!,
            keys: otherKeys(a, OWN_ANNOTATION_KEYS) ?? {},
          })),
        }),
      };
      yield Object.keys(kept).length === 0 ? entry : { ...entry, extras: JSON.stringify(kept) };
    }
  }
  const top = otherKeys(document, OWN_TOP_KEYS);
  const kept: FileExtras = {
    ...(top && { top }),
    ...(Object.keys(categoryKeys).length > 0 && { categories: categoryKeys }),
  };
  return {
    entries: entries(),
    classes: [...new Set(categories.values())],
    ...(Object.keys(kept).length > 0 && { extras: JSON.stringify(kept) }),
  };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const head = input.head.replace(/^\ufeff/, '').trimStart();
  if (head.startsWith('{') && /"images"\s*:\s*\[/.test(head) && /"(categories|annotations)"\s*:\s*\[/.test(head)) {
    if (/"file_name"\s*:/.test(head) || /"categories"\s*:\s*\[\s*\{[^}]*"supercategory"/.test(head)) return 2;
  }
  return 0;
}

/**
 * Annotations wait in a temporary file while the images are written: one pass, bounded memory. What
 * a COCO import kept (see `OWN_*_KEYS`) is written back where it was: the file's keys (its `info` in
 * place of Autolabel's), each image's keys, each annotation's keys on the annotations of the label it
 * had (one per annotation, boxes included), each category's keys.
 */
async function* chunks(rows: AsyncIterable<ExportRecord>, ctx: WriteContext): AsyncGenerator<string> {
  const kept = async (ids: readonly (ImageId | null)[]) => ctx.importExtras?.(ids) ?? new Map<ImageId | null, string>();
  const file = parsed<FileExtras>((await kept([null])).get(null)) ?? {};
  const categoryId = new Map(ctx.classes.map((name, i) => [name, i + 1]));
  const info = { description: 'Autolabel export', version: '1.0', date_created: new Date().toISOString() };
  const top = { info, licenses: [], ...file.top };
  yield `{\n${Object.entries(top)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)},\n`)
    .join('')}"images": [`;
  const spill = new Spool();
  try {
    let imageId = 0;
    let annotationId = 0;
    const batch: ExportRecord[] = [];
    const flush = async (): Promise<string> => {
      const extras = await kept(batch.map((row) => row.id));
      let images = '';
      let annotations = '';
      for (const row of batch) {
        imageId++;
        const own = parsed<ImageExtras>(extras.get(row.id));
        images += `${imageId === 1 ? '' : ','}\n  ${JSON.stringify({ id: imageId, file_name: row.path, width: row.width ?? 0, height: row.height ?? 0, ...own?.image })}`;
        const { status, label, confidence: score, fit } = recordFields(row);
        if (label === null) continue;
        if (!categoryId.has(label)) categoryId.set(label, categoryId.size + 1);
        const theirs = own?.annotations?.filter((a) => a.category === label) ?? [];
        for (const keys of theirs.length > 0 ? theirs.map((a) => a.keys) : [{}]) {
          annotations += `${annotationId === 0 ? '' : ','}\n  ${JSON.stringify({
            id: ++annotationId,
            image_id: imageId,
            category_id: categoryId.get(label),
            ...keys,
            status,
            ...(score !== null && { score }),
            origin: row.origin,
            origin_detail: row.originDetail,
            ...(hasSuggestion(status) ? { fit } : {}),
          })}`;
        }
      }
      ctx.advance(batch.length);
      batch.length = 0;
      if (annotations !== '') await spill.append(annotations);
      return images;
    };
    for await (const row of rows) {
      batch.push(row);
      if (batch.length === ROWS_PER_CHUNK) yield await flush();
    }
    yield `${await flush()}\n],\n"annotations": [`;
    yield* spill.read();
    // Categories come last, so a label given while the export ran still gets one.
    const categories = [...categoryId].map(([name, id]) => ({
      id,
      name,
      supercategory: '',
      ...file.categories?.[name],
    }));
    yield `\n],\n"categories": ${JSON.stringify(categories)}\n}\n`;
  } finally {
    await spill.dispose();
  }
}

export const coco = defineFormat({
  name: 'coco',
  description:
    'COCO JSON, image-level: images, categories, annotations without bbox; in, detection files too (an image takes its categories)',
  roundTrip:
    "people's labels (origin kept as provenance), accepted ones with their exact confidence, every class; suggestions written with status, score and fit, never imported; other tools' keys (info, licenses, boxes, extra keys on images, categories and annotations) kept and written back; ids renumbered from 1",
  sniff,
  read,
  writer: { kind: 'file', mediaType: 'application/json', extension: 'json', chunks },
});
