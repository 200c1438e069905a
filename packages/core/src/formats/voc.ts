/**
 * @module The `voc` format (written only): PASCAL VOC classification lists. `JPEGImages/<id><ext>`
 * links to (or copies of) the images, `ImageSets/Main/<split>.txt` their ids, and
 * `ImageSets/Main/<class>_<split>.txt` with a line `<id> 1` or `<id> -1` for every image of the
 * split. An id is the image's path without its extension, whitespace made `_` (VOC lines split on
 * it), `~2`, `~3` added where two paths would share one; `ImageSets/Main/ids.txt` maps ids to paths.
 */
import { extname, join } from 'node:path';
import { defineFormat, type SniffScore, type TreeWriter } from './format.js';
import { LABELLED_FILTER } from './imagefolder.js';
import { mapLines, withSpools } from './spool.js';
import { labelCounts, SPLIT_NAMES } from './split.js';
import { eachLabelledRow } from './tree.js';

/**
 * A VOC image id for each path, unique, without whitespace. The ids given are remembered as 64-bit
 * fingerprints in an open-addressing table outside the JavaScript heap (8 bytes an image, not a
 * string each): an id given twice is always seen; two ids that merely share a fingerprint (about
 * one chance in 10^7 at 1,000,000 images) would cost one needless `~2`, never a duplicate.
 */
export class VocIds {
  #table = new Uint32Array(2 * 1024);
  #size = 0;

  idOf(path: string): string {
    const base = path.slice(0, path.length - extname(path).length).replace(/\s/g, '_') || '_';
    let id = base;
    for (let n = 2; !this.#add(id); n++) id = `${base}~${n}`;
    return id;
  }

  /** Adds the fingerprint of `id`; false when it was there already. */
  #add(id: string): boolean {
    if (2 * (this.#size + 1) > this.#table.length / 2) this.#grow();
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    // 0/0 marks an empty slot.
    if (a === 0 && b === 0) a = 1;
    return this.#insert(a >>> 0, b >>> 0);
  }

  #insert(a: number, b: number): boolean {
    const table = this.#table;
    const slots = table.length / 2;
    for (let slot = (a ^ Math.imul(b, 0x27d4eb2d)) >>> 0; ; slot++) {
      const at = 2 * (slot % slots);
      if (table[at] === 0 && table[at + 1] === 0) {
        table[at] = a;
        table[at + 1] = b;
        this.#size++;
        return true;
      }
      if (table[at] === a && table[at + 1] === b) return false;
    }
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    this.#size = 0;
    for (let at = 0; at < old.length; at += 2) {
      if (old[at] !== 0 || old[at + 1] !== 0) this.#insert(old[at]!, old[at + 1]!);
    }
  }
}

/** The id of a `<id>\t<class index>` line (an id holds no whitespace). */
const idOfLine = (line: string): string => line.slice(0, line.lastIndexOf('\t'));

const writer: TreeWriter = {
  kind: 'tree',
  async write(rows, tree, ctx) {
    const counts = await labelCounts(rows());
    const classes = [...counts.keys()].sort();
    const classIndex = new Map(classes.map((name, i) => [name, i]));
    const fractions = ctx.split;
    const splits = fractions === undefined ? ['trainval'] : SPLIT_NAMES.slice(0, fractions.length);
    const ids = new VocIds();
    await tree.addFolder('JPEGImages');
    // Per split, `<id>\t<class index>` lines wait in a temporary file (every class list needs every
    // id of its split), and the id-to-path map in another: memory holds ids' fingerprints (VocIds).
    const pass = await withSpools(splits.length + 1, async (spools) => {
      const mapping = spools[splits.length]!;
      const pass = await eachLabelledRow(rows, ctx, fractions, counts, async (row, label, s) => {
        const id = ids.idOf(row.path);
        await spools[s]!.append(`${id}\t${classIndex.get(label)!}\n`);
        await mapping.append(`${id}\t${row.path}\n`);
        await tree.addImage(`JPEGImages/${id}${extname(row.path)}`, join(ctx.imagesRoot, ...row.path.split('/')));
      });
      await tree.addFolder('ImageSets/Main');
      await tree.addText('ImageSets/Main/ids.txt', mapping.read());
      for (const [s, split] of splits.entries()) {
        if (fractions !== undefined && fractions[s] === 0) continue;
        const members = spools[s]!;
        await tree.addText(
          `ImageSets/Main/${split}.txt`,
          mapLines(members.read(), (line) => `${idOfLine(line)}\n`),
        );
        for (const [c, name] of classes.entries()) {
          const mark = String(c);
          await tree.addText(
            `ImageSets/Main/${name.replace(/\//g, '_')}_${split}.txt`,
            mapLines(members.read(), (line) => {
              const tab = line.lastIndexOf('\t');
              return `${line.slice(0, tab)} ${line.slice(tab + 1) === mark ? ' 1' : '-1'}\n`;
            }),
          );
        }
      }
      return pass;
    });
    const awkward = classes.filter((name) => /[/\s]/.test(name) || name.startsWith('.'));
    return {
      ...pass,
      warnings: awkward.map(
        (name) => `class "${name}": a space, a slash (written as _) or a leading dot makes an awkward VOC list name`,
      ),
    };
  },
};

export const voc = defineFormat({
  name: 'voc',
  description:
    'PASCAL VOC classification: JPEGImages/ links, ImageSets/Main/<class>_<split>.txt lines "<id> 1|-1"; written only',
  roundTrip: 'written only',
  defaultFilter: LABELLED_FILTER,
  sniff: (): SniffScore => 0,
  writer,
});
