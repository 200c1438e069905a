/** @module A workspace's classes: list them with their counts, add, rename, merge and remove. */
import { normalizeLabel } from '../labels/label.js';
import type { ClassInfo } from '../store/store.js';
import type { WorkspaceContext } from './context.js';

export class WorkspaceClasses {
  readonly #ctx: WorkspaceContext;

  constructor(ctx: WorkspaceContext) {
    this.#ctx = ctx;
  }

  /** Every class (added, or named by a label), with its images by status. */
  async list(): Promise<ClassInfo[]> {
    return this.#ctx.store.listClasses();
  }

  /** Adds a class with no images yet (so it can be chosen before its first label). */
  async add(name: string): Promise<ClassInfo[]> {
    await this.#ctx.store.addClass(normalizeLabel(name, 'name'));
    return this.list();
  }

  /** Renames a class in its labels and suggestions; CLASS_EXISTS when the new name is taken (merge instead). */
  async rename(from: string, to: string): Promise<ClassInfo[]> {
    await this.#ctx.store.renameClass(from, normalizeLabel(to, 'rename'));
    return this.list();
  }

  /** Moves every label and suggestion of `from` into the existing class `into`, and removes `from`. */
  async merge(from: string, into: string): Promise<{ moved: number; classes: ClassInfo[] }> {
    const moved = await this.#ctx.store.mergeClass(from, normalizeLabel(into, 'mergeInto'));
    return { moved, classes: await this.list() };
  }

  /** Removes a class; one with labels only with `clearLabels`, which removes its labels too. */
  async remove(
    name: string,
    options: { readonly clearLabels?: boolean } = {},
  ): Promise<{
    removedLabels: number;
    classes: ClassInfo[];
  }> {
    const removedLabels = await this.#ctx.store.deleteClass(name, options.clearLabels === true);
    return { removedLabels, classes: await this.list() };
  }
}
