/** @module Importing labels from a CSV file or an ImageFolder tree: everything is checked first, then written in one transaction. */
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { AutolabelError, isAutolabelError, messageOf } from '../errors.js';
import { type CsvRecord, csvRecords, unescapeFormula } from '../formats/csv.js';
import { isImageName } from '../image/scan.js';
import { IMAGE_STATUSES, type ImageId } from '../domain/index.js';
import type { Store } from '../store/store.js';
import { readError } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import { findImageByWrittenPath } from './find.js';
import { lookalikeClassWarnings, normalizeLabel } from './label.js';

export interface ImportResult {
  /** Labels written (new or changed). */
  readonly imported: number;
  /** Of those, answers to random checks (images drawn for verification). */
  readonly checks: number;
  /** Rows of a checklist whose image was not drawn for verification: imported as ordinary labels. */
  readonly notDrawn: number;
  /** Rows or files that carried no label (an empty label cell, an image outside any class folder). */
  readonly ignored: number;
  readonly classes: readonly string[];
  /** New classes that look like existing ones (a typo?). */
  readonly warnings: readonly string[];
}

interface PlannedLabel {
  readonly imageId: ImageId;
  readonly label: string;
  readonly source: 'import';
  /** Where it came from, for conflict messages. */
  readonly where: string;
}

/** The labels an import will write, one per image, checked for conflicts as rows arrive (no list of every row is kept). */
class Plan {
  readonly byImage = new Map<ImageId, PlannedLabel>();

  add(imageId: ImageId, label: string, where: string): void {
    const earlier = this.byImage.get(imageId);
    if (earlier && earlier.label !== label) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${where}: label "${label}" conflicts with "${earlier.label}" given to the same image at ${earlier.where}`,
      );
    }
    this.byImage.set(imageId, { imageId, label, source: 'import', where });
  }
}

/**
 * Columns a labels CSV may have: `status`, `confidence` and `origin` make Autolabel's own export
 * importable, `suggested` and `check` its verify checklist (formats/checklist.ts).
 */
const CSV_COLUMNS = ['image', 'label', 'status', 'confidence', 'origin', 'suggested', 'check'] as const;
const MACHINE_STATUSES = new Set<string>(['auto', 'suggested', 'unlabeled']);

/** One label as a file gives it, before it is checked. */
interface WrittenLabel {
  readonly image: string;
  readonly label: string;
  readonly status: string;
  readonly confidence: string;
  /** Where it came from, for messages ("labels.csv: line 4"). */
  readonly where: string;
}

export async function importLabelsCsv(store: Store, file: string, imagesRoot?: string): Promise<ImportResult> {
  const records = csvRecords(await readText(file), file);
  const header: CsvRecord | undefined = records.next().value;
  if (!header) throw new AutolabelError('CSV_INVALID', `${file}: line 1: empty file, expected the header image,label`);
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  for (const name of columns) {
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${file}: line ${header.line}: unknown column "${name}" (expected ${CSV_COLUMNS.join(', ')})`,
      );
    }
  }
  const column = (name: string): number => columns.indexOf(name);
  if (column('image') < 0 || column('label') < 0) {
    throw new AutolabelError(
      'CSV_INVALID',
      `${file}: line ${header.line}: the header must name the columns image and label`,
    );
  }
  function* rows(): Generator<WrittenLabel> {
    for (const record of records) {
      const where = `${file}: line ${record.line}`;
      if (record.fields.length !== columns.length) {
        throw new AutolabelError(
          'CSV_INVALID',
          `${where}: ${record.fields.length} fields, but the header has ${columns.length}`,
        );
      }
      const field = (name: string): string =>
        column(name) < 0 ? '' : unescapeFormula(record.fields[column(name)] ?? '');
      yield {
        image: field('image'),
        label: field('label'),
        status: field('status'),
        confidence: field('confidence'),
        where,
      };
    }
  }
  // A checklist answers checks of existing classes: a class name it does not know is a typo, not a new class.
  return importWritten(store, rows(), columns.includes('suggested'), imagesRoot);
}

/** Schema of Autolabel's own JSON export (formats/export.ts), as far as importing reads it. */
const JsonExportSchema = z.object({
  images: z.array(
    z.object({
      image: z.string(),
      label: z.string().nullable(),
      status: z.string().optional(),
      confidence: z.number().nullable().optional(),
    }),
  ),
});

/** Imports Autolabel's JSON export: its people's and accepted labels (never suggestions). */
export async function importLabelsJson(store: Store, file: string, imagesRoot?: string): Promise<ImportResult> {
  let data: unknown;
  try {
    data = JSON.parse(await readText(file));
  } catch (error) {
    if (isAutolabelError(error)) throw error;
    throw new AutolabelError('IMPORT_INVALID', `${file}: not valid JSON: ${messageOf(error)}`, { cause: error });
  }
  const parsed = JsonExportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${file}: ${issue.path.join('.') || 'the file'}: ${issue.message} (expected Autolabel's JSON export: {"images": [{"image", "label", "status"}]})`,
    );
  }
  const rows = parsed.data.images.map((image, i) => ({
    image: image.image,
    label: image.label ?? '',
    status: image.status ?? '',
    confidence: image.confidence == null ? '' : String(image.confidence),
    where: `${file}: images[${i}]`,
  }));
  return importWritten(store, rows, false, imagesRoot);
}

async function importWritten(
  store: Store,
  rows: Iterable<WrittenLabel>,
  checklist: boolean,
  imagesRoot: string | undefined,
): Promise<ImportResult> {
  const known = checklist ? new Set((await store.listClasses()).map((c) => c.name)) : undefined;
  const plan = new Plan();
  let ignored = 0;
  for (const row of rows) {
    const { where } = row;
    const status = row.status.trim().toLowerCase();
    if (row.image === '') throw new AutolabelError('CSV_INVALID', `${where}: the image cell is empty`);
    if (status !== '' && !(IMAGE_STATUSES as readonly string[]).includes(status)) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: unknown status "${status}" (expected ${IMAGE_STATUSES.join(', ')})`,
      );
    }
    const confidence = row.confidence.trim();
    if (confidence !== '' && !(Number(confidence) >= 0 && Number(confidence) <= 1)) {
      throw new AutolabelError('CSV_INVALID', `${where}: confidence "${confidence}" is not a number from 0 to 1`);
    }
    // Machine suggestions in an export are not labels: importing them would teach the model its own guesses.
    if (row.label.trim() === '' || MACHINE_STATUSES.has(status)) {
      ignored++;
      continue;
    }
    const label = normalizeLabelIn(row.label, where);
    if (known && !known.has(label)) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: class "${label}" does not exist (a checklist answer must be one of: ${[...known].sort().join(', ')})`,
      );
    }
    const image = await findImageByWrittenPath(store, row.image, imagesRoot);
    if (!image) {
      throw new AutolabelError(
        'IMAGE_NOT_FOUND',
        `${where}: image "${row.image}" is not in the workspace (paths are relative to the images folder; run scan if it is new)`,
      );
    }
    plan.add(image.id, label, where);
  }
  return commit(store, plan, ignored, checklist);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw readError(file, error);
  }
}

/**
 * Imports `<root>/<class>/<file>`: the file has that label. Files inside the images root are
 * matched by path, copies elsewhere by content.
 */
export async function importImageFolder(store: Store, root: string, imagesRoot: string): Promise<ImportResult> {
  let classDirs: Dirent[];
  try {
    classDirs = (await readdir(root, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  } catch (error) {
    throw readError(root, error, 'folder');
  }
  const realImages = await realpath(imagesRoot);
  const plan = new Plan();
  let ignored = 0;
  for (const entry of classDirs.sort((a, b) => a.name.localeCompare(b.name))) {
    const classDir = join(root, entry.name);
    if (!entry.isDirectory()) {
      // An image directly in the root has no class folder: it carries no label.
      if (entry.isFile() && isImageName(entry.name)) ignored++;
      continue;
    }
    const label = normalizeLabelIn(entry.name, `folder ${classDir}`);
    for (const file of await listImageFiles(classDir)) {
      const realFile = await realpath(file);
      const inside = relative(realImages, realFile);
      let imageId: ImageId | undefined;
      if (!inside.startsWith('..') && !inside.startsWith(sep)) {
        imageId = (await store.findImageByPath(inside.split(sep).join('/')))?.id;
      }
      if (imageId === undefined) {
        const hash = sha256(await readFile(file));
        imageId = (await store.findImagesByHash(hash))[0]?.id;
      }
      if (imageId === undefined) {
        throw new AutolabelError(
          'IMAGE_NOT_FOUND',
          `${file}: no image in the workspace has this path or content (run scan if it is new)`,
        );
      }
      plan.add(imageId, label, file);
    }
  }
  return commit(store, plan, ignored);
}

async function listImageFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name.startsWith('.') || !entry.isFile() || !isImageName(entry.name)) continue;
    files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}

function normalizeLabelIn(raw: string, where: string): string {
  try {
    return normalizeLabel(raw, where);
  } catch (error) {
    throw new AutolabelError('CSV_INVALID', messageOf(error), { cause: error });
  }
}

async function commit(store: Store, plan: Plan, ignored: number, checklist = false): Promise<ImportResult> {
  const labels = [...plan.byImage.values()];
  const warnings = lookalikeClassWarnings(
    (await store.listClasses()).map((c) => c.name),
    labels.map((l) => l.label),
  );
  await store.setLabels(labels);
  const drawn = new Set((await store.listChecks()).map((c) => c.imageId as number));
  const checks = labels.filter((l) => drawn.has(l.imageId)).length;
  return {
    imported: labels.length,
    checks,
    notDrawn: checklist ? labels.length - checks : 0,
    ignored,
    classes: [...new Set(labels.map((l) => l.label))].sort(),
    warnings,
  };
}
