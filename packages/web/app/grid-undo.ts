/**
 * @module The grid's last bulk change and its undo: what the toast says about it ("Accepted 37"), and
 * the server's change ids that take it back (POST /api/labels/undo). One level: a new bulk change
 * replaces the one before. Pure; the grid view shows it and sends the undo.
 */

export type BulkChange =
  | { readonly kind: 'accept'; readonly count: number }
  | { readonly kind: 'relabel'; readonly count: number; readonly label: string }
  | { readonly kind: 'clear'; readonly count: number };

/** The toast's words for a bulk change. */
export function bulkChangeWords(change: BulkChange): string {
  const n = change.count.toLocaleString('en-US');
  const images = `${n} image${change.count === 1 ? '' : 's'}`;
  switch (change.kind) {
    case 'accept':
      return `Accepted ${n}`;
    case 'relabel':
      return `Labeled ${images} as ${change.label}`;
    case 'clear':
      return `Cleared the labels of ${images}`;
  }
}

/** The undo shortcut as this platform writes it. */
export function undoShortcut(platform: string): string {
  return /mac|iphone|ipad/i.test(platform) ? '⌘Z' : 'Ctrl+Z';
}

export interface Undoable {
  readonly change: BulkChange;
  readonly changeIds: readonly number[];
}

export class LastBulkChange {
  #last: Undoable | null = null;
  #undoing = false;

  /** The change the toast offers to undo, or null. */
  get current(): Undoable | null {
    return this.#last;
  }

  /** A bulk change was made: it replaces the one before; one that changed nothing has nothing to undo. */
  record(change: BulkChange, changeIds: readonly (number | null)[]): void {
    const ids = changeIds.filter((id): id is number => id !== null);
    this.#last = ids.length > 0 ? { change, changeIds: ids } : null;
  }

  /** The change to undo now, taken off (so a second Ctrl+Z does not send it twice), or null. */
  take(): Undoable | null {
    if (this.#undoing || !this.#last) return null;
    const last = this.#last;
    this.#last = null;
    this.#undoing = true;
    return last;
  }

  /** The undo sent by `take` finished (done or refused). */
  settled(): void {
    this.#undoing = false;
  }

  dismiss(): void {
    this.#last = null;
  }
}
