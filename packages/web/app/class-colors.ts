/**
 * @module One colour per class, the charts' own: core's chart palette, the class at position i of the
 * class order getting colour i (as chart series i does), so a class looks the same on the embedding
 * map as in every chart. Pure; unit-tested in src/class-colors.test.ts.
 */
import { PALETTE } from '@autolabel/core/charts';

/** Points with neither a label nor a suggestion: a grey no chart colour is close to. */
export const UNLABELED = '#b4bcc5';

/** The colour of the class at `index` in the class order: the charts' rule for series `index`. */
export function classColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/**
 * Class positions as the map meets class names: seeded with the server's class order (the order the
 * dashboard and its charts list classes in), then any name it does not know yet at the end. A class
 * keeps its position, and so its colour, while the page lives, even when classes are added later.
 */
export class ClassColors {
  readonly #known: () => readonly string[];
  readonly #classes: string[] = [];

  /** `known`: the server's class names, in its order, as they are now. */
  constructor(known: () => readonly string[]) {
    this.#known = known;
  }

  indexOf(name: string): number {
    let index = this.#classes.indexOf(name);
    if (index < 0) {
      for (const known of this.#known()) if (!this.#classes.includes(known)) this.#classes.push(known);
      index = this.#classes.indexOf(name);
      if (index < 0) index = this.#classes.push(name) - 1;
    }
    return index;
  }

  /** The class at a position `indexOf` gave. */
  nameAt(index: number): string {
    return this.#classes[index]!;
  }

  colorOf(name: string): string {
    return classColor(this.indexOf(name));
  }
}
