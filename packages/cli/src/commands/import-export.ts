/** @module `autolabel import` and `autolabel export`: labels in and out in every format, over the workspace API the server uses too. */
import { once } from 'node:events';
import { resolve } from 'node:path';
import {
  AutolabelError,
  EXPORT_FORMATS,
  type ExportResult,
  IMPORT_FORMATS,
  type ImportResult,
  MULTI_LABEL_RULES,
} from '@autolabel/core';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { type CommandContext, examples, parseFlags } from './context.js';

/** Folder formats write a folder: they need --out. */
const FOLDER_FORMATS = new Set<string>(['imagefolder', 'yolo-cls']);

export function importExportCommands(program: Command, { io, print, withWorkspace, progress }: CommandContext): void {
  program
    .command('import')
    .description(
      `import labels from a file or folder (${IMPORT_FORMATS.join(', ')}): another tool's CSV, an Autolabel export, a filled-in verify checklist, class folders`,
    )
    .argument('<source>', 'a file or a folder')
    .addOption(
      new Option('--format <format>', 'its format (default: told from the file or folder)').choices(IMPORT_FORMATS),
    )
    .option('--image-column <name>', 'csv: the column naming the image (default: image, path, file, filename, ...)')
    .option('--label-column <name>', 'csv: the column holding the label (default: label, class, category, ...)')
    .option(
      '--skip-unmatched',
      'import what matches and list the entries naming no image (or several), instead of failing',
    )
    .option(
      '--predictions',
      "label-studio: import the tasks' predictions too, as suggestions (confidence = score) to review, verify or accept; never as labels",
    )
    .addOption(
      new Option(
        '--multi <rule>',
        'an image given several labels: fail (the default), keep the first, or skip it',
      ).choices(MULTI_LABEL_RULES),
    )
    .addHelpText(
      'after',
      examples([
        ['autolabel import labels.csv', 'image,label rows (any delimiter; a filled-in verify checklist too)'],
        ['autolabel import theirs.csv --image-column file --label-column species', 'name the columns'],
        ['autolabel import ./by-class', '<root>/<class>/<image> (or --format yolo-cls: <root>/train/<class>/...)'],
        ['autolabel import labels.jsonl --skip-unmatched', 'import what matches, list the rest'],
        [
          'autolabel import project.json --predictions',
          "Label Studio: annotations as labels, the model's predictions as suggestions",
        ],
      ]),
    )
    .action(async (source: string, raw: unknown) => {
      const flags = parseFlags(
        z.object({
          format: z.enum(IMPORT_FORMATS).optional(),
          imageColumn: z.string().min(1).optional(),
          labelColumn: z.string().min(1).optional(),
          skipUnmatched: z.boolean().optional(),
          multi: z.enum(MULTI_LABEL_RULES).optional(),
          predictions: z.boolean().optional(),
        }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const result = await workspace.import(resolve(io.cwd, source), flags);
        print(formatImport(result), result);
        for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
        for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
      });
    });

  program
    .command('export')
    .description(`export labels and suggestions (${EXPORT_FORMATS.join(', ')}), all images or those --where selects`)
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('csv'))
    .option('--out <path>', 'the file (written atomically; stdout when omitted), or for folder formats a new folder')
    .option(
      '--where <filter>',
      'which images, e.g. "status=labeled,accepted label=cat min-confidence=0.8" (keys: status, label, min-confidence, max-confidence)',
    )
    .option('--split <fractions>', 'folder formats: train,val[,test] fractions, stratified by class (e.g. 0.8,0.1,0.1)')
    .option('--seed <n>', "the split's random seed", '0')
    .option('--copy', 'folder formats: copy the images instead of linking to them')
    .option('--symlink', 'folder formats: symbolic links to the images instead of hard links')
    .addHelpText(
      'after',
      examples([
        ['autolabel export --out labels.csv', 'image,label,status,confidence,origin,... for every image'],
        ['autolabel export --format jsonl > all.jsonl', 'everything Autolabel knows, to stdout'],
        ['autolabel export --where "status=auto,suggested min-confidence=0.9"', 'confident suggestions only'],
        [
          'autolabel export --format imagefolder --out ../dataset --split 0.8,0.1,0.1',
          'links in train/val/test/<class>/',
        ],
        ['autolabel export --format yolo-cls --out ../yolo --copy', 'Ultralytics classification, copied'],
      ]),
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          format: z.enum(EXPORT_FORMATS),
          out: z.string().min(1).optional(),
          where: z.string().optional(),
          split: z.string().min(1).optional(),
          seed: z.coerce.number().int().min(0),
          copy: z.boolean().optional(),
          symlink: z.boolean().optional(),
        }),
        raw,
      );
      if (flags.out === undefined && FOLDER_FORMATS.has(flags.format)) {
        throw new AutolabelError(
          'INVALID_ARGUMENT',
          `--out: the ${flags.format} format is a folder: name one to create`,
        );
      }
      const toStdout = flags.out === undefined;
      await withWorkspace(async (workspace) => {
        const bar = progress('img');
        const result = await workspace.export({
          ...flags,
          out: flags.out === undefined ? { write: (chunk) => writeOut(io.stdout, chunk) } : resolve(io.cwd, flags.out),
          signal: io.signal,
          onProgress: bar.onProgress,
        });
        bar.done();
        // On stdout the export is the output; its summary would corrupt it.
        if (toStdout) io.stderr.write(`${formatExport(result)}\n`);
        else print(formatExport(result), result);
        for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
      });
    });
}

/** Writes to stdout, waiting when its buffer is full (a slow pipe must not make the export hold the whole file). */
async function writeOut(stream: NodeJS.WriteStream, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** `1 image`, `2 images`: a count with its word. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatImport(result: ImportResult): string {
  const details = [
    result.accepted > 0 && `${result.accepted} of them accepted suggestions`,
    result.unchanged > 0 && `${result.unchanged} already so`,
    result.ignored > 0 && `${plural(result.ignored, 'row')} without a label ignored`,
  ].filter(Boolean);
  const lines = [
    `Imported ${plural(result.imported, 'label')} in ${plural(result.classes.length, 'class', 'classes')}` +
      (details.length > 0 ? ` (${details.join('; ')})` : ''),
  ];
  if (result.suggestions > 0) {
    lines.push(
      `Imported ${plural(result.suggestions, 'prediction')} as suggestions (fit ${result.fitId}), their scores as confidences, not calibrated: check them (verify, the web app) before accepting.`,
    );
  }
  if (result.checks > 0) lines.push(`${result.checks} of them answer random checks: they can certify suggestions.`);
  if (result.notDrawn > 0) {
    lines.push(
      `${result.notDrawn} rows named images not drawn for verification: imported as ordinary labels (they train, but certify nothing).`,
    );
  }
  if (result.skipped.length > 0) {
    lines.push(`Skipped ${plural(result.skipped.length, 'entry', 'entries')}:`);
    for (const s of result.skipped) lines.push(`  ${s.where}: ${s.image}: ${s.reason}`);
  }
  return lines.join('\n');
}

export function formatExport(result: ExportResult): string {
  const where = result.out ?? 'stdout';
  const splits =
    result.splits === undefined
      ? ''
      : ` (${Object.entries(result.splits)
          .map(([name, n]) => `${name} ${n}`)
          .join(', ')})`;
  const left = result.withoutClass > 0 ? `; ${plural(result.withoutClass, 'image')} without a class left out` : '';
  return `Wrote ${plural(result.images, 'image')} to ${where}${splits} in ${result.seconds.toFixed(1)} s${left}`;
}
