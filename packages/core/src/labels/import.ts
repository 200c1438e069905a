/**
 * @module The import use case: a source's entries (formats/), matched to images (find.ts), checked,
 * then written in one transaction; all or nothing. Entries that match no image or several, and
 * images given several labels, fail the import together, each named, unless the caller chose what
 * to do with them.
 */
import { dirname } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import type { ImageId } from '../domain/index.js';
import type { Prediction, ReadOptions } from '../formats/format.js';
import { type ImportFormat, readerOf, sniffFormat } from '../formats/registry.js';
import type { ImportedLabel, ImportExtra, NewSuggestion, Store } from '../store/store.js';
import { ImageMatcher } from './find.js';
import { lookalikeClassWarnings, normalizeLabel } from './label.js';

/** What to do with an image a source gives several labels: fail (the default), keep the first given, or skip it. */
export const MULTI_LABEL_RULES = ['fail', 'first', 'skip'] as const;
export type MultiLabelRule = (typeof MULTI_LABEL_RULES)[number];

export interface ImportOptions extends ReadOptions {
  /** The source's format; told from the source when omitted. */
  readonly format?: ImportFormat;
  /** Import what matches and report the entries that name no image, or several, instead of failing. */
  readonly skipUnmatched?: boolean;
  /** Autolabel gives one class per image (see MultiLabelRule). */
  readonly multi?: MultiLabelRule;
  // `predictions` (ReadOptions): a model's predictions become the workspace's suggestions (see below).
}

/** What an import needs of the workspace beyond its store. */
export interface ImportContext {
  /**
   * The workspace's model, whose suggestions `accept` takes: imported predictions are saved for it;
   * null before any image is embedded (they are then for review; `accept` wants a fit of the model).
   */
  modelId(): Promise<string | null>;
}

/** An entry left out, and why. */
export interface SkippedEntry {
  readonly where: string;
  readonly image: string;
  readonly reason: string;
}

export interface ImportResult {
  readonly format: string;
  /** Labels written (new or changed). */
  readonly imported: number;
  /** Of those, accepted suggestions (kept as such: they never train). */
  readonly accepted: number;
  /** Entries whose image had that label already. */
  readonly unchanged: number;
  /** Of those written, answers to random checks (images drawn for verification). */
  readonly checks: number;
  /** Rows of a checklist whose image was not drawn for verification: imported as ordinary labels. */
  readonly notDrawn: number;
  /** Entries that carried no label (an empty cell, a suggestion, an image outside any class folder). */
  readonly ignored: number;
  /** The classes of the labels written. */
  readonly classes: readonly string[];
  /** New classes that look like existing ones (a typo?). */
  readonly warnings: readonly string[];
  /** What the source had that was not used (columns, files that are not images). */
  readonly notes: readonly string[];
  /** Entries left out by `skipUnmatched` or `multi`. */
  readonly skipped: readonly SkippedEntry[];
  /** Predictions imported as suggestions (`predictions`), and the fit that holds them; 0 and null without. */
  readonly suggestions: number;
  readonly fitId: number | null;
}

interface Planned {
  readonly imageId: ImageId;
  readonly path: string;
  /** Distinct labels in the order given, each with where it was given. */
  readonly labels: { readonly label: string; readonly where: string }[];
  /** What the first entry naming the image said beyond its label (an entry itself is not kept: an import holds one of these per image). */
  readonly accepted: boolean;
  readonly confidence: number | null;
  readonly provenance: string | null;
}

interface Problem {
  readonly kind: 'unmatched' | 'ambiguous' | 'multi';
  readonly where: string;
  readonly image: string;
  /** The whole line of an error message. */
  readonly text: string;
  /** Why it is skipped, when the caller chose to skip it. */
  readonly reason: string;
}

/** Most problems listed in one error; the rest are counted. */
const MAX_LISTED = 50;

export async function importLabels(
  store: Store,
  source: string,
  imagesRoot: string,
  options: ImportOptions = {},
  context?: ImportContext,
): Promise<ImportResult> {
  const format = options.format === undefined ? await sniffFormat(source) : readerOf(options.format);
  const notes: string[] = [];
  const session = await format.read(source, { ...options, note: (text) => notes.push(text) });
  const matcher = new ImageMatcher(store, imagesRoot, session.baseDir ?? dirname(source));
  const existing = session.checklist ? new Set((await store.listClasses()).map((c) => c.name)) : undefined;
  const plan = new Map<ImageId, Planned>();
  const problems: Problem[] = [];
  let ignored = 0;
  const predictions = new Map<ImageId, Prediction>();
  const extras: ImportExtra[] = [];
  for await (const entry of session.entries) {
    const prediction = options.predictions === true ? entry.prediction : undefined;
    if (entry.labels.length === 0 && prediction === undefined) {
      ignored++;
      // An image without a label still keeps what its file said of it, where it is found.
      if (entry.extras !== undefined) {
        const match = await matcher.match(entry.image);
        if (match.kind === 'found') extras.push({ imageId: match.image.id, data: entry.extras });
      }
      continue;
    }
    const labels = entry.labels.map((raw) => normalizeLabelIn(raw, entry.where));
    if (existing) {
      for (const label of labels.filter((l) => !existing.has(l))) {
        throw new AutolabelError(
          'CSV_INVALID',
          `${entry.where}: class "${label}" does not exist (a checklist answer must be one of: ${[...existing].sort().join(', ')})`,
        );
      }
    }
    const match = await matcher.match(entry.image);
    if (match.kind === 'missing') {
      problems.push({
        kind: 'unmatched',
        where: entry.where,
        image: entry.image.path,
        text: `${entry.where}: image "${entry.image.path}" is not in the workspace`,
        reason: 'not in the workspace',
      });
      continue;
    }
    if (match.kind === 'ambiguous') {
      const shown = match.candidates.slice(0, 5).join(', ') + (match.candidates.length > 5 ? ', ...' : '');
      const reason = `could be any of ${match.candidates.length} images: ${shown}`;
      problems.push({
        kind: 'ambiguous',
        where: entry.where,
        image: entry.image.path,
        text: `${entry.where}: image "${entry.image.path}" ${reason}`,
        reason,
      });
      continue;
    }
    if (entry.extras !== undefined) extras.push({ imageId: match.image.id, data: entry.extras });
    if (prediction !== undefined) {
      predictions.set(match.image.id, {
        ...prediction,
        label: normalizeLabelIn(prediction.label, entry.where),
        runnerUp: prediction.runnerUp === null ? null : normalizeLabelIn(prediction.runnerUp, entry.where),
      });
    }
    if (labels.length === 0) continue;
    const planned = plan.get(match.image.id) ?? {
      imageId: match.image.id,
      path: match.image.path,
      labels: [],
      accepted: entry.accepted === true,
      confidence: entry.confidence ?? null,
      provenance: entry.provenance ?? null,
    };
    for (const label of labels) {
      if (!planned.labels.some((l) => l.label === label)) planned.labels.push({ label, where: entry.where });
    }
    plan.set(match.image.id, planned);
  }

  const rule = options.multi ?? 'fail';
  for (const planned of plan.values()) {
    if (planned.labels.length < 2) continue;
    const given = planned.labels.map((l) => `"${l.label}" (${l.where})`).join(', ');
    problems.push({
      kind: 'multi',
      where: planned.labels[0]!.where,
      image: planned.path,
      text: `image "${planned.path}" has ${planned.labels.length} labels: ${given}`,
      reason: `${planned.labels.length} labels: ${given}; ${rule === 'first' ? `kept "${planned.labels[0]!.label}"` : 'none imported'}`,
    });
  }
  const skipped: SkippedEntry[] = [];
  const failing = problems.filter((p) => (p.kind === 'multi' ? rule === 'fail' : options.skipUnmatched !== true));
  if (failing.length > 0) throw importError(source, failing);
  for (const { where, image, reason } of problems) skipped.push({ where, image, reason });

  const current = new Map((await store.listLabels()).map((l) => [l.imageId as number, l]));
  const writes: ImportedLabel[] = [];
  let unchanged = 0;
  for (const planned of plan.values()) {
    if (planned.labels.length > 1 && rule === 'skip') continue;
    const label = planned.labels[0]!.label;
    const accepted = planned.accepted;
    const now = current.get(planned.imageId);
    if (now && now.label === label && (now.source === 'accepted') === accepted) {
      unchanged++;
      continue;
    }
    writes.push({
      imageId: planned.imageId,
      label,
      accepted,
      confidence: accepted ? planned.confidence : null,
      provenance: accepted ? null : planned.provenance,
    });
  }
  const declared = (session.classes ?? []).map((name) => normalizeLabelIn(name, `${source}: class "${name}"`));
  const warnings = lookalikeClassWarnings(
    (await store.listClasses()).map((c) => c.name),
    [...declared, ...writes.map((w) => w.label)],
  );
  await store.importLabels(writes, declared);
  if (session.extras !== undefined) extras.push({ imageId: null, data: session.extras });
  if (extras.length > 0) await store.saveImportExtras(format.name, extras);
  const fitId = predictions.size === 0 ? null : await savePredictions(store, predictions, format.name, source, context);
  const drawn = new Set((await store.listChecks()).map((c) => c.imageId as number));
  const checks = writes.filter((w) => drawn.has(w.imageId)).length;
  return {
    format: format.name,
    imported: writes.length,
    accepted: writes.filter((w) => w.accepted).length,
    unchanged,
    checks,
    notDrawn: session.checklist ? writes.length - checks : 0,
    ignored,
    classes: [...new Set(writes.map((w) => w.label))].sort(),
    warnings,
    notes,
    skipped,
    suggestions: predictions.size,
    fitId,
  };
}

/**
 * A model's predictions saved as the workspace's suggestions, as a fit of their own (what a `suggest`
 * saves, replacing the suggestions before it): status `suggested`, never `auto` (nothing certified
 * them), the confidence the model's score as it is (not calibrated here). They never train, and are
 * labels only once accepted or verified.
 */
async function savePredictions(
  store: Store,
  predictions: ReadonlyMap<ImageId, Prediction>,
  format: string,
  source: string,
  context: ImportContext | undefined,
): Promise<number> {
  if (context === undefined) throw new Error('importing predictions needs the workspace (an ImportContext)');
  const suggestions: NewSuggestion[] = [];
  const classes = new Set<string>();
  const models = new Set<string>();
  for (const [imageId, p] of predictions) {
    suggestions.push({
      imageId,
      label: p.label,
      confidence: p.confidence,
      runnerUp: p.runnerUp,
      runnerUpConfidence: p.runnerUpConfidence,
      status: 'suggested',
    });
    classes.add(p.label);
    if (p.runnerUp !== null) classes.add(p.runnerUp);
    if (p.model !== null) models.add(p.model);
  }
  return store.saveFit(
    {
      modelId: (await context.modelId()) ?? `import:${format}`,
      classes: [...classes].sort(),
      labels: 0,
      summary: { imported: { format, source, models: [...models].sort() }, suggestions: suggestions.length, auto: 0 },
      head: new Uint8Array(0),
    },
    suggestions,
  );
}

/** One error for every entry that fails an import, each named, grouped by what is wrong. */
function importError(source: string, problems: readonly Problem[]): AutolabelError {
  const count = (kind: Problem['kind']): number => problems.filter((p) => p.kind === kind).length;
  const parts = [
    count('unmatched') > 0 &&
      `${count('unmatched')} ${count('unmatched') === 1 ? 'entry names an image' : 'entries name images'} not in the workspace (run scan if they are new)`,
    count('ambiguous') > 0 &&
      `${count('ambiguous')} could be several images (write their paths relative to the images folder)`,
    count('multi') > 0 &&
      `${count('multi')} ${count('multi') === 1 ? 'image is' : 'images are'} given several labels (Autolabel gives one class per image: keep the first, or skip them)`,
  ].filter(Boolean);
  const listed = problems.slice(0, MAX_LISTED).map((p) => `  ${p.text}`);
  if (problems.length > MAX_LISTED) listed.push(`  ... and ${problems.length - MAX_LISTED} more`);
  const unmatchedOnly = problems.every((p) => p.kind !== 'multi');
  const remedy = unmatchedOnly ? '; skipping unmatched entries imports the rest' : '';
  // One problem: its own line is the message, as it was before lists.
  const message =
    problems.length === 1
      ? `${problems[0]!.text}; nothing was imported${remedy}`
      : `${source}: ${parts.join('; ')}; nothing was imported${remedy}:\n${listed.join('\n')}`;
  return new AutolabelError(count('unmatched') > 0 ? 'IMAGE_NOT_FOUND' : 'IMPORT_INVALID', message);
}

function normalizeLabelIn(raw: string, where: string): string {
  try {
    return normalizeLabel(raw, where);
  } catch (error) {
    throw new AutolabelError('CSV_INVALID', messageOf(error), { cause: error });
  }
}
