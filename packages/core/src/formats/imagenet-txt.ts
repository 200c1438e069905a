/**
 * @module The `imagenet-txt` format: Caffe/ImageNet list files, `train.txt` (and `val.txt`,
 * `test.txt`) with lines `<image> <index>`, beside `synsets.txt`, one class per line whose line
 * number (from 0) is its index. Images are named by their path relative to the images folder; the
 * export writes the lists only (no image files), a stratified seeded split on request.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import { readError } from '../util/fs.js';
import { parseEntry } from './entries.js';
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
  type TreeWriter,
} from './format.js';
import { LABELLED_FILTER } from './imagefolder.js';
import { withSpools } from './spool.js';
import { labelCounts, SPLIT_NAMES } from './split.js';
import { eachLabelledRow, listFolder } from './tree.js';

export const SYNSETS_FILE = 'synsets.txt';
const LIST_FILES = ['train.txt', 'val.txt', 'test.txt'];

/** A file's lines without their ends (CRLF too); the empty piece after a last newline is no line. */
export function textLines(text: string): string[] {
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => l.replace(/\r$/, ''));
}

async function readLines(file: string): Promise<string[]> {
  try {
    return textLines(await readFile(file, 'utf8'));
  } catch (error) {
    throw readError(file, error);
  }
}

/** `<image> <index>`: the index is the last field, so an image name may hold spaces. */
const LineSchema = z.string().transform((line, ctx) => {
  const text = line.replace(/\s+$/, '');
  const match = /^(.*?)\s+(\d+)$/.exec(text);
  if (match === null) {
    ctx.addIssue({ code: 'custom', message: `expected "<image> <class index>", got ${JSON.stringify(line)}` });
    return z.NEVER;
  }
  return { image: match[1]!, index: Number(match[2]) };
});

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const isFolder = (
    await stat(source).catch((error: unknown) => {
      throw readError(source, error, 'file or folder');
    })
  ).isDirectory();
  const folder = isFolder ? source : dirname(source);
  let lists: string[];
  if (isFolder) {
    const names = (await listFolder(source)).filter((e) => !e.isDirectory).map((e) => e.name);
    lists = LIST_FILES.filter((n) => names.includes(n)).map((n) => join(source, n));
    const others = names.filter((n) => n.endsWith('.txt') && n !== SYNSETS_FILE && !LIST_FILES.includes(n));
    if (others.length > 0)
      ctx.note(`${source}: ${others.map((n) => `"${n}"`).join(', ')} not read (lists are ${LIST_FILES.join(', ')})`);
    if (lists.length === 0) {
      throw new AutolabelError('IMPORT_INVALID', `${source}: no list file (${LIST_FILES.join(', ')}) in the folder`);
    }
  } else {
    lists = [source];
  }
  const synsetsFile = join(folder, SYNSETS_FILE);
  const classes = await readLines(synsetsFile).catch((error: unknown) => {
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${synsetsFile}: cannot read the class list that numbers the classes (${(error as Error).message})`,
      { cause: error },
    );
  });
  for (const [i, name] of classes.entries()) {
    if (name.trim() === '')
      throw new AutolabelError('IMPORT_INVALID', `${synsetsFile}: line ${i + 1}: empty class name`);
  }
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (const list of lists) {
      for (const [i, line] of (await readLines(list)).entries()) {
        if (line.trim() === '') continue;
        const where = `${list}: line ${i + 1}`;
        const { image, index } = parseEntry(LineSchema, line, where);
        const label = classes[index];
        if (label === undefined) {
          throw new AutolabelError(
            'IMPORT_INVALID',
            `${where}: class index ${index} is not in ${SYNSETS_FILE} (indices 0 to ${classes.length - 1})`,
          );
        }
        yield { where, image: { path: image }, labels: [label] };
      }
    }
  }
  return { entries: entries(), classes, baseDir: folder };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) {
    const names = new Set(input.entries.filter((e) => !e.isDirectory).map((e) => e.name));
    return names.has(SYNSETS_FILE) && LIST_FILES.some((n) => names.has(n)) ? 2 : 0;
  }
  if (extname(input.path).toLowerCase() !== '.txt' || basename(input.path) === SYNSETS_FILE) return 0;
  const first = textLines(input.head)[0] ?? '';
  return LIST_FILES.includes(basename(input.path)) && /\S\s+\d+\s*$/.test(first) ? 1 : 0;
}

const writer: TreeWriter = {
  kind: 'tree',
  async write(rows, tree, ctx) {
    // synsets.txt numbers every class of the workspace, so indices stay stable across exports.
    const index = new Map(ctx.classes.map((name, i) => [name, i]));
    const counts = await labelCounts(rows());
    for (const name of counts.keys()) if (!index.has(name)) index.set(name, index.size);
    const fractions = ctx.split;
    // One list per split, each waiting in a temporary file while the rows stream past.
    return withSpools(fractions?.length ?? 1, async (lists) => {
      const pass = await eachLabelledRow(rows, ctx, fractions, counts, async (row, label, part) => {
        if (/[\r\n]/.test(row.path))
          throw new AutolabelError(
            'INVALID_ARGUMENT',
            `${row.path}: a line break in an image name cannot be written to a list`,
          );
        await lists[part]!.append(`${row.path} ${index.get(label)!}\n`);
      });
      await tree.addText(SYNSETS_FILE, [...index.keys()].map((n) => `${n}\n`).join(''));
      for (const [i, list] of lists.entries()) {
        if (fractions !== undefined && fractions[i] === 0) continue;
        await tree.addText(`${SPLIT_NAMES[i]!}.txt`, list.read());
      }
      return { ...pass, warnings: [] };
    });
  },
};

export const imagenetTxt = defineFormat({
  name: 'imagenet-txt',
  description:
    'ImageNet/Caffe lists: train.txt (val.txt, test.txt) lines "<image> <index>" beside synsets.txt (index = line number); images by path',
  roundTrip:
    "labels and every class (synsets.txt); every label comes back a person's label (origin import): a list cannot say accepted, confidence or origin",
  defaultFilter: LABELLED_FILTER,
  sniff,
  read,
  writer,
});
