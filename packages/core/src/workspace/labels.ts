/**
 * @module A workspace's labels given by people: set and clear them (by image id or written path), undo
 * a change, count them.
 */
import { AutolabelError } from '../errors.js';
import { lookalikeClassWarnings, normalizeLabel } from '../labels/label.js';
import { HUMAN_LABEL_SOURCES, type ImageId } from '../domain/index.js';
import type { LabelRecord, LabelUndoRecord } from '../store/store.js';
import type { WorkspaceContext } from './context.js';
import { type WorkspaceImages } from './images.js';

export interface LabelChange {
  /** The image: its id, or a path as written (relative to the images folder, or absolute inside it). */
  readonly image: ImageId | string;
  /** The class name; null clears the image's label. */
  readonly label: string | null;
}

export interface LabelChangeResult {
  /** Each change as stored: the image, its path, and its label (normalised) or null. */
  readonly items: readonly { readonly imageId: ImageId; readonly path: string; readonly label: string | null }[];
  readonly labeled: number;
  readonly cleared: number;
  /** New class names that look like existing ones (a typo creates a class silently otherwise). */
  readonly warnings: readonly string[];
  /** What `undo` takes to put the labels back as they were; null when no label changed. */
  readonly changeId: number | null;
}

/** What an undo put back: the changes undone (newest first) and the images whose labels they restored. */
export type LabelUndoResult = LabelUndoRecord;

export class WorkspaceLabels {
  readonly #ctx: WorkspaceContext;
  readonly #images: WorkspaceImages;

  constructor(ctx: WorkspaceContext, images: WorkspaceImages) {
    this.#ctx = ctx;
    this.#images = images;
  }

  /**
   * Sets and clears labels by hand (source `manual`), in one transaction that `undo(changeId)` can take
   * back. Every change is checked first (the image exists, the name is a usable class name), so a bad
   * one writes nothing.
   */
  async set(changes: readonly LabelChange[]): Promise<LabelChangeResult> {
    if (changes.length === 0) throw new AutolabelError('INVALID_ARGUMENT', 'no labels to set');
    const items = [];
    for (const [i, change] of changes.entries()) {
      const image =
        typeof change.image === 'string' ? await this.#images.find(change.image) : await this.#images.get(change.image);
      const where = changes.length === 1 ? `label for ${image.path}` : `items.${i}.label (${image.path})`;
      items.push({
        imageId: image.id,
        path: image.path,
        label: change.label === null ? null : normalizeLabel(change.label, where),
      });
    }
    const set = items.flatMap((item) =>
      item.label === null ? [] : [{ imageId: item.imageId, label: item.label, source: 'manual' as const }],
    );
    const cleared = items.filter((item) => item.label === null).map((item) => item.imageId);
    const warnings = lookalikeClassWarnings(
      (await this.#ctx.store.listClasses()).map((c) => c.name),
      set.map((s) => s.label),
    );
    const change = await this.#ctx.store.changeLabels({ set, clear: cleared });
    return { items, labeled: set.length, cleared: cleared.length, warnings, changeId: change.id };
  }

  /**
   * Undoes changes (of `set`, or of `suggestions.accept`), newest first, in one transaction: each image
   * gets back its label as it was, with its source and origin, and an accepted suggestion is a
   * suggestion again. All or nothing: refused (UNDO_CONFLICT) when any of the images was changed again
   * since, or a change was undone already; CHANGE_NOT_FOUND for one too old to keep (the latest 100 are).
   */
  async undo(changeIds: readonly number[]): Promise<LabelUndoResult> {
    if (changeIds.length === 0) throw new AutolabelError('INVALID_ARGUMENT', 'no changes to undo');
    return this.#ctx.store.undoLabelChanges(changeIds);
  }

  /** Every label, people's and accepted suggestions'. */
  async list(): Promise<LabelRecord[]> {
    return this.#ctx.store.listLabels();
  }

  /** Labels people gave (not accepted suggestions): what fits learn from. */
  async countHuman(): Promise<number> {
    return (await this.#ctx.store.listLabels()).filter((l) => HUMAN_LABEL_SOURCES.includes(l.source)).length;
  }
}
