/** @module Importing labels from a CSV file or an ImageFolder tree: everything is checked first, then written in one transaction. */
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import { parseCsv } from '../formats/csv.js';
import { isImageName } from '../image/scan.js';
import type { ImageId, Store } from '../store/store.js';
import { sha256 } from '../util/hash.js';
import { normalizeImagePath, normalizeLabel } from './label.js';
import { LABEL_STATUSES } from '../formats/export.js';

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
}

interface PlannedLabel {
  readonly imageId: ImageId;
  readonly label: string;
  /** Where it came from, for conflict messages. */
  readonly where: string;
}

/**
 * Columns a labels CSV may have: `status`, `confidence` and `origin` make Autolabel's own export
 * importable, `suggested` and `check` its verify checklist (formats/checklist.ts).
 */
const CSV_COLUMNS = ['image', 'label', 'status', 'confidence', 'origin', 'suggested', 'check'] as const;
const MACHINE_STATUSES = new Set<string>(['auto', 'suggested', 'unlabeled']);

export async function importLabelsCsv(store: Store, file: string): Promise<ImportResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AutolabelError('IO_FAILED', `cannot read ${file}: ${messageOf(error)}`, { cause: error });
  }
  const records = parseCsv(text, file);
  const header = records[0];
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
  const imageColumn = columns.indexOf('image');
  const labelColumn = columns.indexOf('label');
  const statusColumn = columns.indexOf('status');
  if (imageColumn < 0 || labelColumn < 0) {
    throw new AutolabelError(
      'CSV_INVALID',
      `${file}: line ${header.line}: the header must name the columns image and label`,
    );
  }
  // A checklist answers checks of existing classes: a class name it does not know is a typo, not a new class.
  const checklist = columns.includes('suggested');
  const known = checklist ? new Set((await store.listClasses()).map((c) => c.name)) : undefined;
  const plans: PlannedLabel[] = [];
  let ignored = 0;
  for (const record of records.slice(1)) {
    const where = `${file}: line ${record.line}`;
    if (record.fields.length !== columns.length) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: ${record.fields.length} fields, but the header has ${columns.length}`,
      );
    }
    const rawImage = record.fields[imageColumn] ?? '';
    const rawLabel = record.fields[labelColumn] ?? '';
    const status = statusColumn < 0 ? '' : (record.fields[statusColumn] ?? '').trim().toLowerCase();
    const path = normalizeImagePath(rawImage);
    if (path === '') throw new AutolabelError('CSV_INVALID', `${where}: the image cell is empty`);
    if (status !== '' && !(LABEL_STATUSES as readonly string[]).includes(status)) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: unknown status "${status}" (expected ${LABEL_STATUSES.join(', ')})`,
      );
    }
    // Machine suggestions in an export are not labels: importing them would teach the model its own guesses.
    if (rawLabel.trim() === '' || MACHINE_STATUSES.has(status)) {
      ignored++;
      continue;
    }
    const label = normalizeLabelIn(rawLabel, where);
    if (known && !known.has(label)) {
      throw new AutolabelError(
        'CSV_INVALID',
        `${where}: class "${label}" does not exist (a checklist answer must be one of: ${[...known].sort().join(', ')})`,
      );
    }
    const image = await store.findImageByPath(path);
    if (!image) {
      throw new AutolabelError(
        'IMAGE_NOT_FOUND',
        `${where}: image "${rawImage}" is not in the workspace (paths are relative to the images folder; run scan if it is new)`,
      );
    }
    plans.push({ imageId: image.id, label, where });
  }
  return commit(store, plans, ignored, checklist);
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
    throw new AutolabelError('IO_FAILED', `cannot read folder ${root}: ${messageOf(error)}`, { cause: error });
  }
  const realImages = await realpath(imagesRoot);
  const plans: PlannedLabel[] = [];
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
      plans.push({ imageId, label, where: file });
    }
  }
  return commit(store, plans, ignored);
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

async function commit(
  store: Store,
  plans: readonly PlannedLabel[],
  ignored: number,
  checklist = false,
): Promise<ImportResult> {
  const byImage = new Map<ImageId, PlannedLabel>();
  for (const plan of plans) {
    const earlier = byImage.get(plan.imageId);
    if (earlier && earlier.label !== plan.label) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${plan.where}: label "${plan.label}" conflicts with "${earlier.label}" given to the same image at ${earlier.where}`,
      );
    }
    byImage.set(plan.imageId, plan);
  }
  const labels = [...byImage.values()].map(({ imageId, label }) => ({ imageId, label, source: 'import' as const }));
  await store.setLabels(labels);
  const drawn = new Set((await store.listChecks()).map((c) => c.imageId as number));
  const checks = labels.filter((l) => drawn.has(l.imageId)).length;
  return {
    imported: labels.length,
    checks,
    notDrawn: checklist ? labels.length - checks : 0,
    ignored,
    classes: [...new Set(labels.map((l) => l.label))].sort(),
  };
}
