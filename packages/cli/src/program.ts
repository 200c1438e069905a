/** @module The command tree: parses argv, checks flags with zod, and calls the same core API the server uses. */
import {
  AutolabelError,
  DEFAULT_MODEL_SPEC,
  EXPORT_FORMATS,
  findWorkspace,
  initWorkspace,
  openWorkspace,
  type Workspace,
  type WorkspaceStatus,
} from '@autolabel/core';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { progressPrinter } from './progress.js';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
  /** Aborted on Ctrl-C; long jobs stop after the batch in flight. */
  readonly signal: AbortSignal;
}

interface GlobalFlags {
  workspace?: string;
  json?: boolean;
  quiet?: boolean;
}

function parseFlags<T extends z.ZodType>(schema: T, flags: unknown): z.infer<T> {
  const parsed = schema.safeParse(flags);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path
      .map((part) => `--${String(part).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
      .join(' ');
    throw new AutolabelError('INVALID_ARGUMENT', `${flag || 'arguments'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const positiveInt = z.coerce.number().int().positive();

export function buildProgram(io: CliIo): Command {
  const program = new Command('autolabel')
    .description('Label images with machine help: scan a folder, embed it with a vision model, keep and export labels.')
    .option('-w, --workspace <dir>', 'workspace folder (default: found from the current folder, like git)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'no progress output')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  const print = (human: string, data: unknown): void => {
    io.stdout.write(globals().json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
  };
  const withWorkspace = async <T>(work: (workspace: Workspace) => Promise<T>): Promise<T> => {
    const flag = globals().workspace;
    const dir = flag === undefined ? findWorkspace(io.cwd) : resolveFrom(io.cwd, flag);
    const workspace = await openWorkspace(dir);
    try {
      return await work(workspace);
    } finally {
      await workspace.close();
    }
  };
  const progress = (unit: string) => progressPrinter(io.stderr, unit, !globals().quiet);

  program
    .command('init')
    .description('create a workspace for a folder of images')
    .requiredOption('--images <dir>', 'the folder of images (never copied; paths are kept relative to it)')
    .option('--model <spec>', `embedding model: builtin:NAME or onnx:PATH`, DEFAULT_MODEL_SPEC)
    .addOption(
      new Option('--dtype <dtype>', 'how embeddings are stored').choices(['float32', 'float16']).default('float32'),
    )
    .option('--max-pixels <n>', 'skip images with more pixels than this (decompression bombs)', '100000000')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          images: z.string().min(1),
          model: z.string().min(1),
          dtype: z.enum(['float32', 'float16']),
          maxPixels: positiveInt,
        }),
        raw,
      );
      const workspace = await initWorkspace({
        images: resolveFrom(io.cwd, flags.images),
        workspace: resolveFrom(io.cwd, globals().workspace ?? '.autolabel'),
        model: resolveSpec(io.cwd, flags.model),
        embeddingDtype: flags.dtype,
        maxPixels: flags.maxPixels,
      });
      await workspace.close();
      print(
        `Created workspace ${workspace.dir}\n  images: ${workspace.imagesRoot}\n  model:  ${workspace.config.model}\nNext: autolabel scan, then autolabel embed`,
        { workspace: workspace.dir, images: workspace.imagesRoot, model: workspace.config.model },
      );
    });

  program
    .command('scan')
    .description('pick up added, changed, moved and removed images')
    .option('--full', 're-hash every file, even those whose size and time did not change')
    .action(async (raw: unknown) => {
      const flags = parseFlags(z.object({ full: z.boolean().optional() }), raw);
      await withWorkspace(async (workspace) => {
        const bar = progress('files');
        const result = await workspace.scan({ full: flags.full, signal: io.signal, onProgress: bar.onProgress });
        bar.done();
        print(
          `Scanned ${workspace.imagesRoot}: ${result.added} added, ${result.changed} changed, ${result.moved} moved, ` +
            `${result.removed} removed, ${result.unchanged} unchanged; ${result.skipped} skipped (see autolabel status)` +
            (result.aborted ? '\nInterrupted: what was found is saved; run scan again to finish.' : ''),
          result,
        );
        if (result.aborted) throw new AutolabelError('ABORTED', 'scan interrupted');
      });
    });

  program
    .command('embed')
    .description('embed every image that has no embedding yet for the model')
    .option('--model <spec>', "a model other than the workspace's (embeddings of every model are kept)")
    .option('--batch-size <n>', 'images per model call')
    .option('--threads <n>', 'threads or workers for the model (default: all cores)')
    .option('--retry-skipped', 'try again images that failed to decode before')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          model: z.string().min(1).optional(),
          batchSize: positiveInt.optional(),
          threads: positiveInt.optional(),
          retrySkipped: z.boolean().optional(),
        }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const bar = progress('img');
        const model = flags.model?.startsWith('onnx:')
          ? `onnx:${resolveFrom(io.cwd, flags.model.slice(5))}`
          : flags.model;
        const result = await workspace.embed({ ...flags, model, signal: io.signal, onProgress: bar.onProgress });
        bar.done();
        const rate = result.seconds > 0 ? (result.embedded / result.seconds).toFixed(1) : '0';
        print(
          result.aborted
            ? `Stopped: ${result.embedded} embedded and saved. Run embed again to continue where it stopped.`
            : `Embedded ${result.embedded} images in ${result.seconds.toFixed(1)} s (${rate} img/s); ${result.skipped} skipped (see autolabel status)`,
          result,
        );
        if (result.aborted) throw new AutolabelError('ABORTED', 'embed interrupted');
      });
    });

  program
    .command('import')
    .description('import labels from a CSV (image,label) or an ImageFolder tree (<root>/<class>/<image>)')
    .argument('<source>', 'a CSV file or a folder')
    .addOption(new Option('--format <format>', 'source format').choices(['csv', 'imagefolder']))
    .action(async (source: string, raw: unknown) => {
      const flags = parseFlags(z.object({ format: z.enum(['csv', 'imagefolder']).optional() }), raw);
      const path = resolveFrom(io.cwd, source);
      const format = flags.format ?? (statSync(path, { throwIfNoEntry: false })?.isDirectory() ? 'imagefolder' : 'csv');
      await withWorkspace(async (workspace) => {
        const result = format === 'csv' ? await workspace.importCsv(path) : await workspace.importImageFolder(path);
        print(
          `Imported ${result.imported} labels in ${result.classes.length} classes` +
            (result.ignored > 0 ? ` (${result.ignored} rows without a label ignored)` : ''),
          result,
        );
      });
    });

  program
    .command('label')
    .description('label one image by hand (path relative to the images folder)')
    .argument('<image>', 'image path, relative to the images folder')
    .argument('[label]', 'class name (omit with --clear)')
    .option('--clear', 'remove the label')
    .action(async (image: string, label: string | undefined, raw: unknown) => {
      const flags = parseFlags(z.object({ clear: z.boolean().optional() }), raw);
      if ((label === undefined) === !flags.clear) {
        throw new AutolabelError('INVALID_ARGUMENT', 'give either a label or --clear');
      }
      await withWorkspace(async (workspace) => {
        const result = await workspace.setLabel(image, flags.clear ? null : (label ?? null));
        print(result.label === null ? `${result.path}: label cleared` : `${result.path}: ${result.label}`, result);
      });
    });

  program
    .command('status')
    .description('images, embeddings, labels per class, and skipped files with reasons')
    .option('--all-skipped', 'list every skipped file, not just the first 20')
    .action(async (raw: unknown) => {
      const flags = parseFlags(z.object({ allSkipped: z.boolean().optional() }), raw);
      await withWorkspace(async (workspace) => {
        const status = await workspace.status();
        print(formatStatus(status, flags.allSkipped ? Infinity : 20), status);
      });
    });

  program
    .command('export')
    .description('export one row per image: image, label, status, confidence')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('csv'))
    .option('--out <file>', 'output file (written atomically); stdout when omitted')
    .action(async (raw: unknown) => {
      const flags = parseFlags(z.object({ format: z.enum(EXPORT_FORMATS), out: z.string().min(1).optional() }), raw);
      await withWorkspace(async (workspace) => {
        const out = flags.out === undefined ? undefined : resolveFrom(io.cwd, flags.out);
        const text = await workspace.export(flags.format, out);
        if (text !== undefined) io.stdout.write(text);
        else io.stderr.write(`Wrote ${out}\n`);
      });
    });

  return program;
}

function resolveFrom(cwd: string, path: string): string {
  return resolve(cwd, path);
}

/** onnx specs carry a path: make it absolute from where the command was run. */
function resolveSpec(cwd: string, spec: string): string {
  return spec.startsWith('onnx:') ? `onnx:${resolve(cwd, spec.slice(5))}` : spec;
}

function formatStatus(status: WorkspaceStatus, maxSkipped: number): string {
  const lines = [
    `Workspace ${status.workspace}`,
    `Images    ${status.images}`,
    `Model     ${status.model}`,
    '',
    `${status.imageCount} images, ${status.embedded} embedded, ${status.skipped.length} skipped, ${status.labeled} labelled`,
  ];
  if (status.classes.length > 0) {
    lines.push('', 'Labels per class:');
    const width = Math.max(...status.classes.map((c) => c.label.length));
    for (const c of status.classes) lines.push(`  ${c.label.padEnd(width)}  ${c.count}`);
  }
  const others = status.models.filter((m) => m.spec !== status.model);
  if (others.length > 0) {
    lines.push('', 'Other models:');
    for (const m of others) lines.push(`  ${m.spec}: ${m.embedded} embedded`);
  }
  if (status.skipped.length > 0) {
    lines.push('', 'Skipped:');
    for (const r of status.skippedByReason) lines.push(`  ${r.reason} (${r.meaning}): ${r.count}`);
    for (const s of status.skipped.slice(0, maxSkipped)) lines.push(`  ${s.path}: ${s.reason}: ${s.detail}`);
    if (status.skipped.length > maxSkipped)
      lines.push(`  ... ${status.skipped.length - maxSkipped} more (--all-skipped)`);
  }
  return lines.join('\n');
}
