/**
 * @module One queue of the audit view (label errors, duplicate groups or outliers): the findings as the
 * server ranks them, the one shown, and the ones handled here, which stay out of the queue even when
 * a list fetched before the decision still names them. Pure; unit-tested in src/audit-queue.test.ts.
 */

/** What the queue needs of a finding: its id (a fingerprint of the images and labels it is about). */
export interface Identified {
  readonly id: string;
}

export class AuditQueue<T extends Identified> {
  #items: T[] = [];
  #cursor = 0;
  /** Handled here: dismissed, excluded, relabelled. A new finding about the same images has a new id. */
  readonly #handled = new Set<string>();
  #loaded = false;

  /** Whether the server has answered once. */
  get loaded(): boolean {
    return this.#loaded;
  }

  get current(): T | null {
    return this.#items[this.#cursor] ?? null;
  }

  /** The findings left, in the server's order. */
  get items(): readonly T[] {
    return this.#items;
  }

  /** Where the one shown is: 1-based, and how many are left. */
  get position(): { readonly index: number; readonly total: number } {
    return { index: this.#items.length === 0 ? 0 : this.#cursor + 1, total: this.#items.length };
  }

  /**
   * The server's list, newest: the one shown stays shown if it is still listed, else the one now at
   * its place is (so the queue moves on rather than jumping back to the start).
   */
  replace(items: readonly T[]): void {
    const shown = this.current?.id;
    this.#items = items.filter((item) => !this.#handled.has(item.id));
    this.#loaded = true;
    const kept = shown === undefined ? -1 : this.#items.findIndex((item) => item.id === shown);
    this.#cursor = kept >= 0 ? kept : this.#clamp(this.#cursor);
  }

  /** Shows the next (+1) or previous (-1) finding; false at an end. */
  step(delta: 1 | -1): boolean {
    const next = this.#cursor + delta;
    if (next < 0 || next >= this.#items.length) return false;
    this.#cursor = next;
    return true;
  }

  /** A decision was made about a finding: it leaves the queue, and the next one takes its place. */
  handled(id: string): void {
    this.#handled.add(id);
    const index = this.#items.findIndex((item) => item.id === id);
    if (index < 0) return;
    this.#items.splice(index, 1);
    if (index < this.#cursor) this.#cursor--;
    this.#cursor = this.#clamp(this.#cursor);
  }

  /** A new audit ran: its lists are newer than any decision made here, so they are shown as they are. */
  forgetHandled(): void {
    this.#handled.clear();
  }

  /** A decision failed on the server: the finding comes back with the next list. */
  unhandled(id: string): void {
    this.#handled.delete(id);
  }

  #clamp(index: number): number {
    return Math.max(0, Math.min(index, this.#items.length - 1));
  }
}
