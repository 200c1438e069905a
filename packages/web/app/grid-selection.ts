/**
 * @module The grid's selection: a click toggles an image, a Shift-click adds every image
 * between it and the previous click (across groups, including images never on screen), a group's
 * "Select all" adds the group. Images are known by id; their place in the grid by ordinal, so the
 * images of a range are asked for rather than assumed loaded. Pure; the grid view wires it to clicks.
 */

/** The images at ordinals [from, to] in grid order, fetched as needed. */
export type ItemsBetween = (from: number, to: number) => Promise<readonly { readonly id: number }[]>;

export class GridSelection {
  readonly #selected = new Set<number>();
  /** Ordinal of the last click: where a Shift-click range starts. */
  #anchor: number | null = null;

  get size(): number {
    return this.#selected.size;
  }

  has(id: number): boolean {
    return this.#selected.has(id);
  }

  /** The selected ids, in the order they were selected. */
  ids(): number[] {
    return [...this.#selected];
  }

  /** The ordinals a click at `ordinal` selects as a range: with Shift after an earlier click, else null. */
  rangeTo(ordinal: number, shift: boolean): { readonly from: number; readonly to: number } | null {
    if (!shift || this.#anchor === null) return null;
    return { from: Math.min(this.#anchor, ordinal), to: Math.max(this.#anchor, ordinal) };
  }

  /** A click on image `id` at `ordinal`: a range is added (never removed), a plain click toggles. */
  async click(id: number, ordinal: number, shift: boolean, itemsBetween: ItemsBetween): Promise<void> {
    const range = this.rangeTo(ordinal, shift);
    if (range) this.add(await itemsBetween(range.from, range.to));
    else if (this.#selected.has(id)) this.#selected.delete(id);
    else this.#selected.add(id);
    this.#anchor = ordinal;
  }

  /** Adds images (a whole group) without moving where the next Shift-click range starts. */
  add(items: readonly { readonly id: number }[]): void {
    for (const item of items) this.#selected.add(item.id);
  }

  clear(): void {
    this.#selected.clear();
    this.#anchor = null;
  }

  /** The ordinals changed meaning (another filter): the selection stays, the next Shift-click starts afresh. */
  forgetAnchor(): void {
    this.#anchor = null;
  }
}
