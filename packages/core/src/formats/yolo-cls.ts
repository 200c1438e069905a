/**
 * @module The `yolo-cls` format: Ultralytics' classification layout, `<root>/{train,val,test}/<class>/<image>`.
 * In: every split folder present (val may be spelled valid); an image in two splits must have one
 * class. Out: a stratified, seeded split (0.8,0.1,0.1 unless told), every class folder in every split.
 */
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
} from './format.js';
import { LABELLED_FILTER } from './imagefolder.js';
import { classTreeEntries, classTreeWriter, listFolder } from './tree.js';

const SPLIT_FOLDERS = new Set(['train', 'val', 'valid', 'test']);

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const top = await listFolder(source);
  const splits = top.filter((e) => e.isDirectory && SPLIT_FOLDERS.has(e.name.toLowerCase()));
  const others = top.filter((e) => !splits.includes(e));
  if (others.length > 0) {
    ctx.note(`${source}: ${others.map((e) => `"${e.name}"`).join(', ')} not read (not a split: train, val, test)`);
  }
  const trees = await Promise.all(splits.map((split) => classTreeEntries(split.path, ctx.note)));
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (const tree of trees) yield* tree.entries;
  }
  return { entries: entries(), classes: [...new Set(trees.flatMap((t) => t.classes))].sort() };
}

function sniff(input: SniffInput): SniffScore {
  if (!input.isDirectory) return 0;
  // Every folder a split (files beside them, such as a data.yaml, are fine), train or val among them.
  const folders = input.entries.filter((e) => e.isDirectory).map((e) => e.name.toLowerCase());
  const splits = folders.filter((name) => SPLIT_FOLDERS.has(name));
  return splits.length > 0 && splits.length === folders.length && (splits.includes('train') || splits.includes('val'))
    ? 2
    : 0;
}

export const yoloCls = defineFormat({
  name: 'yolo-cls',
  description:
    'Ultralytics classification: <root>/{train,val,test}/<class>/<image>; out, a stratified seeded split (0.8,0.1,0.1 by default)',
  roundTrip:
    "labels and classes; every label comes back a person's label (origin import): folders cannot say accepted, confidence or origin",
  defaultFilter: LABELLED_FILTER,
  sniff,
  read,
  writer: classTreeWriter({ alwaysSplit: true }),
});
