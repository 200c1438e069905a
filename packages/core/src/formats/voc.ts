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
import { labelCounts, SPLIT_NAMES } from './split.js';
import { eachLabelledRow } from './tree.js';

/** A VOC image id for each path, unique, without whitespace. */
export class VocIds {
  readonly #used = new Set<string>();

  idOf(path: string): string {
    const base = path.slice(0, path.length - extname(path).length).replace(/\s/g, '_') || '_';
    let id = base;
    for (let n = 2; this.#used.has(id); n++) id = `${base}~${n}`;
    this.#used.add(id);
    return id;
  }
}

const writer: TreeWriter = {
  kind: 'tree',
  async write(rows, tree, ctx) {
    const counts = await labelCounts(rows());
    const classes = [...counts.keys()].sort();
    const classIndex = new Map(classes.map((name, i) => [name, i]));
    const fractions = ctx.split;
    const splits = fractions === undefined ? ['trainval'] : SPLIT_NAMES.slice(0, fractions.length);
    // Per split, its ids and each one's class: the class lists need every id of the split.
    const members = splits.map(() => ({ ids: [] as string[], classes: [] as number[] }));
    const ids = new VocIds();
    let mapping = '';
    await tree.addFolder('JPEGImages');
    const pass = await eachLabelledRow(rows, ctx, fractions, counts, async (row, label, s) => {
      const id = ids.idOf(row.path);
      const part = members[s]!;
      part.ids.push(id);
      part.classes.push(classIndex.get(label)!);
      mapping += `${id}\t${row.path}\n`;
      await tree.addImage(`JPEGImages/${id}${extname(row.path)}`, join(ctx.imagesRoot, ...row.path.split('/')));
    });
    await tree.addFolder('ImageSets/Main');
    await tree.addText('ImageSets/Main/ids.txt', mapping);
    for (const [s, split] of splits.entries()) {
      if (fractions !== undefined && fractions[s] === 0) continue;
      const part = members[s]!;
      await tree.addText(`ImageSets/Main/${split}.txt`, part.ids.map((id) => `${id}\n`).join(''));
      for (const [c, name] of classes.entries()) {
        const lines = part.ids.map((id, i) => `${id} ${part.classes[i] === c ? ' 1' : '-1'}\n`);
        await tree.addText(`ImageSets/Main/${name.replace(/\//g, '_')}_${split}.txt`, lines.join(''));
      }
    }
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
