/**
 * @module The `cvat` format: "CVAT for images 1.1" XML, task and project exports, image-level
 * `<tag>`s. In: each `<image name=...>` with its tags' labels (names in subfolders as written; ids
 * are per task in project exports, so images are known by name); boxes, polygons, masks and other
 * shapes are counted in a note, not read; the labels of the task or project meta are the classes.
 * Read with a small tolerant parser for this schema (no XML dependency). Out: one task, every class
 * a label, one `<image>` per image, a `<tag>` per label or suggestion with Autolabel's status.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import type { ExportRecord } from '../store/store.js';
import { ConfidenceSchema, entryOfRow, parseEntry, readText, StatusSchema } from './entries.js';
import {
  defineFormat,
  type LabelEntry,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
} from './format.js';
import { recordFields, renderedChunks } from './rows.js';

interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
  /** 1-based line of its start tag, for messages. */
  readonly line: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) =>
    name[0] === '#'
      ? String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1)))
      : (ENTITIES[name] ?? whole),
  );
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);
}

/** Parses the XML CVAT writes: elements, attributes, text, comments, CDATA, a declaration; no DTDs or namespaces. */
export function parseXml(text: string, source: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '', line: 1 };
  const stack = [root];
  const tag =
    /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>/g;
  let at = 0;
  let line = 1;
  const lineAt = (index: number): number => {
    for (let i = at; i < index; i++) if (text.charCodeAt(i) === 10) line++;
    at = index;
    return line;
  };
  let last = 0;
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    const between = text.slice(last, m.index);
    if (between.includes('<')) {
      throw new AutolabelError(
        'IMPORT_INVALID',
        `${source}: line ${lineAt(last + between.indexOf('<'))}: not well-formed XML`,
      );
    }
    stack.at(-1)!.text += unescapeXml(between);
    last = tag.lastIndex;
    if (m[5] !== undefined) stack.at(-1)!.text += m[5];
    if (m[2] === undefined) continue;
    const where = lineAt(m.index);
    if (m[1] === '/') {
      const open = stack.pop()!;
      if (open.name !== m[2] || stack.length === 0) {
        throw new AutolabelError('IMPORT_INVALID', `${source}: line ${where}: </${m[2]}> closes <${open.name}>`);
      }
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[a[1]!] = unescapeXml(a[2] ?? a[3] ?? '');
    }
    const element: XmlElement = { name: m[2], attributes, children: [], text: '', line: where };
    stack.at(-1)!.children.push(element);
    if (m[4] !== '/') stack.push(element);
  }
  if (text.slice(last).includes('<'))
    throw new AutolabelError('IMPORT_INVALID', `${source}: line ${lineAt(last)}: not well-formed XML`);
  if (stack.length > 1)
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${source}: <${stack.at(-1)!.name}> (line ${stack.at(-1)!.line}) is never closed`,
    );
  return root;
}

const child = (e: XmlElement | undefined, name: string): XmlElement | undefined =>
  e?.children.find((c) => c.name === name);
const children = (e: XmlElement | undefined, name: string): XmlElement[] =>
  e?.children.filter((c) => c.name === name) ?? [];

const ImageSchema = z.looseObject({
  name: z.string({ error: 'the attribute is missing' }).min(1, 'is empty'),
});
const TagSchema = z.looseObject({
  label: z.string({ error: 'the attribute is missing' }).min(1, 'is empty'),
  /** Autolabel's own attributes (CVAT ignores attributes it does not know). */
  autolabel_status: StatusSchema.optional(),
  autolabel_confidence: z
    .string()
    .transform((v) => Number(v))
    .pipe(ConfidenceSchema.unwrap())
    .optional(),
  autolabel_origin: z.string().optional(),
  autolabel_origin_detail: z.string().optional(),
});

const SHAPES = new Set(['box', 'polygon', 'polyline', 'points', 'mask', 'cuboid', 'ellipse', 'skeleton']);

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const document = parseXml((await readText(source)).replace(/^\ufeff/, ''), source);
  const root = child(document, 'annotations');
  if (root === undefined) {
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${source}: no <annotations> element (expected CVAT for images 1.1 XML)`,
    );
  }
  const meta = child(root, 'meta');
  // A task export: meta/task/labels; a project export: meta/project/labels (and tasks listed under it).
  const owner = child(meta, 'project') ?? child(meta, 'task') ?? child(meta, 'job');
  const classes = children(child(owner, 'labels'), 'label').flatMap((l) => {
    const name = child(l, 'name')?.text.trim();
    return name ? [name] : [];
  });
  const images = children(root, 'image');
  const tracks = children(root, 'track').length;
  async function* entries(): AsyncGenerator<LabelEntry> {
    let shapes = 0;
    for (const [i, element] of images.entries()) {
      const at = `${source}: line ${element.line}: image[${i}]`;
      const image = parseEntry(ImageSchema, element.attributes, at);
      const where = `${source}: line ${element.line}: image ${JSON.stringify(image.name)}`;
      const tags = children(element, 'tag').map((t) =>
        parseEntry(TagSchema, t.attributes, `${where}: tag (line ${t.line})`),
      );
      shapes += element.children.filter((c) => SHAPES.has(c.name)).length;
      const first = tags[0];
      yield entryOfRow({
        where,
        image: { path: image.name },
        labels: [...new Set(tags.map((t) => t.label))],
        status: first?.autolabel_status,
        confidence: first?.autolabel_confidence,
        origin: first?.autolabel_origin,
        originDetail: first?.autolabel_origin_detail,
      });
    }
    if (shapes > 0)
      ctx.note(
        `${source}: ${shapes} shape${shapes === 1 ? '' : 's'} (boxes, polygons, masks, ...) not read: only image tags are labels`,
      );
    if (tracks > 0) ctx.note(`${source}: ${tracks} track${tracks === 1 ? '' : 's'} (video annotation) not read`);
  }
  return { entries: entries(), classes };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  if (/<annotations>\s*<version>\s*1\.\d\s*<\/version>/.test(input.head)) return 2;
  return extname(input.path).toLowerCase() === '.xml' && input.head.includes('<annotations') ? 1 : 0;
}

const attrs = (values: Record<string, string | number | null | undefined>): string =>
  Object.entries(values)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');

function imageXml(row: ExportRecord, id: number): string {
  const { status, suggestion, label, confidence, fit } = recordFields(row);
  const head = `  <image${attrs({ id, name: row.path, width: row.width ?? 0, height: row.height ?? 0 })}`;
  if (label === null) return `${head}/>\n`;
  const tag = attrs({
    label,
    // CVAT's own word for a machine's annotation.
    source: suggestion !== null ? 'auto' : 'manual',
    autolabel_status: status,
    autolabel_confidence: confidence,
    autolabel_origin: row.origin,
    autolabel_origin_detail: row.originDetail,
    autolabel_fit: fit,
  });
  return `${head}>\n    <tag${tag}/>\n  </image>\n`;
}

export const cvat = defineFormat({
  name: 'cvat',
  description:
    'CVAT for images 1.1 XML (task or project export): image-level <tag>s; boxes and masks counted, not read',
  roundTrip:
    'people\'s labels (origin kept as provenance), accepted ones with their exact confidence (autolabel_* attributes on each tag); suggestions written as tags with source="auto", never imported',
  sniff,
  read,
  writer: {
    kind: 'file',
    mediaType: 'application/xml',
    extension: 'xml',
    async *chunks(rows, ctx) {
      const labels = ctx.classes
        .map(
          (name) =>
            `        <label>\n          <name>${escapeXml(name)}</name>\n          <type>tag</type>\n          <attributes></attributes>\n        </label>\n`,
        )
        .join('');
      yield `<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n      <name>autolabel</name>\n      <mode>annotation</mode>\n      <labels>\n${labels}      </labels>\n    </task>\n  </meta>\n`;
      yield* renderedChunks(rows, ctx, imageXml, '</annotations>\n');
    },
  },
});
