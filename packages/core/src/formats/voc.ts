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
    // id of its split), and the id-to-path map in another: memory holds the ids only (VocIds).
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
