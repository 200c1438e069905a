/**
 * @module The `imagefolder` format: `<root>/<class>/<image>` (torchvision's ImageFolder, Keras'
 * image_dataset_from_directory). In: each image under a class folder has that class. Out: links to
 * the images (or copies), optionally split into `<root>/{train,val,test}/<class>/`.
 */
import { defineFormat, type ReadContext, type ReadSession, type SniffInput, type SniffScore } from './format.js';
import { classTreeEntries, classTreeWriter } from './tree.js';

/** Folder formats export what carries a class a person gave or certified, unless a filter says otherwise. */
export const LABELLED_FILTER = { status: ['labeled', 'accepted', 'auto'] } as const;

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const { entries, classes } = await classTreeEntries(source, ctx.note);
  return { entries, classes };
}

function sniff(input: SniffInput): SniffScore {
  return input.isDirectory ? 1 : 0;
}

export const imagefolder = defineFormat({
  name: 'imagefolder',
  description:
    '<root>/<class>/<image>: in, a class per folder; out, links (or copies), split into train/val/test on request',
  roundTrip:
    "labels and classes (empty class folders too); every label comes back a person's label (origin import): a folder cannot say accepted, confidence or origin",
  defaultFilter: LABELLED_FILTER,
  sniff,
  read,
  writer: classTreeWriter({ alwaysSplit: false }),
});
