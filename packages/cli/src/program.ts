/** @module The command tree: parses argv, checks flags with zod, and calls the same core API the server uses. */
import {
  AutolabelError,
  isAutolabelError,
  DEFAULT_MODEL_SPEC,
  findWorkspace,
  initWorkspace,
  NEXT_STRATEGIES,
  openWorkspace,
  queueStatus,
  type QueueStatus,
  type AccuracyFigure,
  type NextResponse,
  type OpenWorkspaceOptions,
  type SuggestResult,
  type Workspace,
  type WorkspaceStatus,
} from '@autolabel/core';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { auditCommand } from './commands/audit.js';
import { classesCommand } from './commands/classes.js';
import { importExportCommands, plural } from './commands/import-export.js';
import { modelsCommand } from './commands/models.js';
import { workerCommand } from './commands/worker.js';
import {
  type CliIo,
  type CommandContext,
  examples,
  type GlobalFlags,
  parseFlags,
  resolveSpec,
} from './commands/context.js';
import { formatDuration, progressPrinter } from './progress.js';

export type { CliIo } from './commands/context.js';

/** This install's version, from the CLI's package.json. */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const positiveInt = z.coerce.number().int().positive();

export function buildProgram(io: CliIo): Command {
  const program = new Command('autolabel')
    .description('Label images with machine help: scan a folder, embed it with a vision model, keep and export labels.')
    .option('-w, --workspace <dir>', 'workspace folder (default: found from the current folder, like git)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'no progress output')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError(!io.jsonErrors)
    .exitOverride()
    // Copied to every command added below: each command's help lists the global options too.
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // With --json, errors are JSON on stderr (main.ts); commander's own usage text would be noise.
      outputError: (text, write) => (io.jsonErrors ? undefined : write(text)),
    });

  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  const print = (human: string, data: unknown): void => {
    io.stdout.write(globals().json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
  };
  const withWorkspace = async <T>(
    work: (workspace: Workspace) => Promise<T>,
    options: OpenWorkspaceOptions = {},
  ): Promise<T> => {
    const flag = globals().workspace;
    const dir = flag === undefined ? findWorkspace(io.cwd) : resolveFrom(io.cwd, flag);
    const model = options.model === undefined ? undefined : resolveSpec(io.cwd, options.model);
    const workspace = await openWorkspace(dir, { ...options, model });
    try {
      return await work(workspace);
    } finally {
      await workspace.close();
    }
  };
  const progress = (unit: string) => progressPrinter(io.stderr, unit, !globals().quiet);
  const context: CommandContext = { io, print, withWorkspace, progress };

  program
    .command('init')
    .description('create a workspace for a folder of images')
    .requiredOption('--images <dir>', 'the folder of images (never copied; paths are kept relative to it)')
    .option(
      '--model <spec>',
      `embedding model: builtin:NAME, onnx:PATH or hf:OWNER/NAME[@REVISION][:DTYPE]`,
      DEFAULT_MODEL_SPEC,
    )
    .addOption(
      new Option('--dtype <dtype>', 'how embeddings are stored').choices(['float32', 'float16']).default('float32'),
    )
    .option('--max-pixels <n>', 'skip images with more pixels than this (decompression bombs)', '100000000')
    .option(
      '--store <url>',
      "a shared store, postgres://user@host:port/database (default: the workspace's own SQLite file)",
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          images: z.string().min(1),
          model: z.string().min(1),
          dtype: z.enum(['float32', 'float16']),
          maxPixels: positiveInt,
          store: z.string().min(1).optional(),
        }),
        raw,
      );
      const workspace = await initWorkspace({
        images: resolveFrom(io.cwd, flags.images),
        workspace: resolveFrom(io.cwd, globals().workspace ?? '.autolabel'),
        model: resolveSpec(io.cwd, flags.model),
        embeddingDtype: flags.dtype,
        maxPixels: flags.maxPixels,
        store: flags.store,
      });
      await workspace.close();
      const store = workspace.storeLocation;
      print(
        `Created workspace ${workspace.dir}\n  images: ${workspace.imagesRoot}\n  model:  ${workspace.config.model}\n` +
          (store ? `  store:  ${store}\n` : '') +
          'Next: autolabel scan, then autolabel embed',
        { workspace: workspace.dir, images: workspace.imagesRoot, model: workspace.config.model, store: store ?? null },
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
    .option(
      '--threads <n>',
      'threads or workers for the model (default: all cores; a light onnx: model leaves a core in four to decoding)',
    )
    .option('--retry-skipped', 'try again images that failed to decode before')
    .option('--queue <url>', 'put the missing images on this queue for workers (autolabel worker) and follow it')
    .option('--job-size <n>', 'with --queue: images per job (default 128)')
    .option(
      '--cache-dir <dir>',
      'hf: models: the download cache (default: $AUTOLABEL_CACHE_DIR, else ~/.cache/autolabel)',
    )
    .action(async (raw: unknown) => {
      const { cacheDir, ...flags } = parseFlags(
        z.object({
          model: z.string().min(1).optional(),
          batchSize: positiveInt.optional(),
          threads: positiveInt.optional(),
          retrySkipped: z.boolean().optional(),
          cacheDir: z.string().min(1).optional(),
          queue: z.string().min(1).optional(),
          jobSize: positiveInt.optional(),
        }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const bar = progress('img');
        const model = flags.model?.startsWith('onnx:')
          ? `onnx:${resolveFrom(io.cwd, flags.model.slice(5))}`
          : flags.model;
        const hub = { cacheDir: cacheDir === undefined ? undefined : resolveFrom(io.cwd, cacheDir) };
        const result = await workspace.embed({ ...flags, model, hub, signal: io.signal, onProgress: bar.onProgress });
        bar.done();
        const rate = result.seconds > 0 ? (result.embedded / result.seconds).toFixed(1) : '0';
        const queued = 'queue' in result ? result.queue : undefined;
        print(
          result.aborted
            ? queued
              ? `Stopped following the queue: ${result.embedded} embedded so far; ${queued.left} jobs stay on ${queued.url} for the workers. Run embed --queue again to follow them.`
              : `Stopped: ${result.embedded} embedded and saved. Run embed again to continue where it stopped.`
            : `Embedded ${result.embedded} images in ${result.seconds.toFixed(1)} s (${rate} img/s); ${result.skipped} skipped (see autolabel status)` +
                (queued ? `; ${plural(queued.jobs, 'job')} on ${queued.url}, ${plural(queued.workers, 'worker')}` : ''),
          result,
        );
        if (result.aborted) throw new AutolabelError('ABORTED', 'embed interrupted');
      });
    });

  importExportCommands(program, context);

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
        const result = await workspace.labels.set([{ image, label: flags.clear ? null : (label ?? null) }]);
        const item = result.items[0]!;
        print(item.label === null ? `${item.path}: label cleared` : `${item.path}: ${item.label}`, {
          path: item.path,
          label: item.label,
          warnings: result.warnings,
        });
        for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
      });
    });

  classesCommand(program, context);
  modelsCommand(program, context);
  workerCommand(program, context);
  auditCommand(program, context);

  program
    .command('status')
    .description('images, embeddings, labels per class, and skipped files with reasons')
    .option('--all-skipped', 'list every skipped file, not just the first 20')
    .option('--queue <url>', 'also the job queue: workers alive, jobs open, jobs per second, ETA')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({ allSkipped: z.boolean().optional(), queue: z.string().min(1).optional() }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const status = await workspace.status();
        const queue = flags.queue === undefined ? undefined : await queueStatus(flags.queue);
        const text = formatStatus(status, flags.allSkipped ? Infinity : 20);
        print(queue ? `${text}\n${formatQueueStatus(queue)}` : text, queue ? { ...status, queue } : status);
      });
    });

  program
    .command('suggest')
    .description('learn from the labels and suggest a label with a calibrated confidence for every other image')
    .option(
      '--target-precision <p>',
      'mark as auto the suggestions that random checks certify at this precision (e.g. 0.95), at 95% confidence',
    )
    .option('--model <spec>', "learn from another model's embeddings than the workspace's (embed --model first)")
    .option(
      '--template <text>',
      'zero-shot prompt, {} for the class name; repeat for several (default: zeroShot.templates in autolabel.json, else a small CLIP ensemble)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--no-zero-shot', 'leave out zero-shot from class names (models with a text tower: CLIP, SigLIP)')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          targetPrecision: z.coerce.number().gt(0.5).lt(1).optional(),
          model: z.string().min(1).optional(),
          template: z.array(z.string().min(1)),
          zeroShot: z.boolean(),
        }),
        raw,
      );
      await withWorkspace(
        async (workspace) => {
          const bar = progress('runs');
          let result;
          try {
            result = await workspace.suggest({
              targetPrecision: flags.targetPrecision,
              onProgress: bar.onProgress,
              zeroShot: !flags.zeroShot ? false : flags.template.length > 0 ? { templates: flags.template } : undefined,
            });
          } finally {
            bar.done();
          }
          print(formatSuggest(result), result);
        },
        { model: flags.model },
      );
    });

  program
    .command('next')
    .description('recommend which images to label next, each with a reason')
    .option('--count <n>', 'how many images', '20')
    .addOption(
      new Option('--strategy <name>', 'auto: typical images first, then uncertain ones')
        .choices([...NEXT_STRATEGIES])
        .default('auto'),
    )
    .option('--seed <n>', 'random seed (clustering, random picks)', '1')
    .option('--model <spec>', "pick with another model's embeddings than the workspace's (embed --model first)")
    .action(async (raw: unknown) => {
      const { model, ...flags } = parseFlags(
        z.object({
          count: positiveInt,
          strategy: z.enum(NEXT_STRATEGIES),
          seed: z.coerce.number().int(),
          model: z.string().min(1).optional(),
        }),
        raw,
      );
      await withWorkspace(
        async (workspace) => {
          const bar = progress('images');
          let picks;
          try {
            picks = await workspace.next({ ...flags, onProgress: bar.onProgress });
          } finally {
            bar.done();
          }
          const width = Math.max(0, ...picks.map((p) => p.path.length));
          print(
            picks.length === 0
              ? 'Nothing left to label.'
              : picks.map((p) => `${p.path.padEnd(width)}  ${p.reason}`).join('\n'),
            { picks } satisfies NextResponse,
          );
        },
        { model },
      );
    });

  program
    .command('verify')
    .description(
      'draw random suggestions for a person to check: the answers certify auto-accept and give unbiased accuracy',
    )
    .option('--count <n>', 'how many checks to draw', '50')
    .option('--seed <n>', 'random seed of the draw (default: a new one per draw)')
    .option(
      '--target-precision <p>',
      'the precision you will ask suggest for; checks go where it can be certified',
      '0.95',
    )
    .requiredOption('--out <file>', 'the checklist CSV to write: fill its label column, then autolabel import it')
    .addHelpText(
      'after',
      '\nFill "label" with the suggested class to confirm it, or with the right class; leave it empty to skip.',
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          count: positiveInt,
          seed: z.coerce.number().int().optional(),
          targetPrecision: z.coerce.number().gt(0.5).lt(1),
          out: z.string().min(1),
        }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const out = resolveFrom(io.cwd, flags.out);
        const draw = await workspace.checks.writeChecklist({ ...flags, out });
        const frame = draw.strata.find((s) => s.name === 'frame');
        print(
          `Wrote ${out}: ${draw.checks.length} random checks of fit ${draw.fitId}'s suggestions (draw ${draw.drawId}` +
            (frame && draw.strata.length > 1
              ? `; ${frame.drawn} from the ${frame.population} most confident, ${draw.checks.length - frame.drawn} from the rest`
              : '') +
            ').\nFill in the label column, then: autolabel import ' +
            flags.out,
          { out, ...draw },
        );
      });
    });

  program
    .command('accept')
    .description('turn suggestions into labels (source "accepted"; fits keep learning from people only)')
    .option('--min-confidence <x>', 'accept suggestions with at least this confidence')
    .option('--auto', 'accept the suggestions certified (marked auto) by the last suggest --target-precision')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({ minConfidence: z.coerce.number().min(0).max(1).optional(), auto: z.boolean().optional() }),
        raw,
      );
      await withWorkspace(async (workspace) => {
        const result = await workspace.suggestions.accept(flags);
        print(
          `Accepted ${result.accepted} suggestions (fit ${result.fitId}).` +
            (result.newerLabels > 0
              ? ` The fit predates ${result.newerLabels} newer labels; its certificate still holds, and those images were left as labelled.`
              : ''),
          result,
        );
      });
    });

  program
    .command('export-model')
    .description('write the latest fit as one ONNX file: pixels in, class probabilities out (onnx: models only)')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .action(async (raw: unknown) => {
      const flags = parseFlags(z.object({ out: z.string().min(1) }), raw);
      await withWorkspace(async (workspace) => {
        const out = resolveFrom(io.cwd, flags.out);
        const result = await workspace.exportModel(out);
        print(
          `Wrote ${out}: fit ${result.fitId}, ${result.classes.length} classes (${result.classes.join(', ')}).\n` +
            'Input "pixels": float32 [N, H, W, 3], RGB 0-255, resized as its metadata autolabel.input says.',
          { out, ...result },
        );
      });
    });

  program
    .command('report')
    .description(
      'write a self-contained HTML page with figures and plots (classes, labels over time, accuracy, confidence, calibration)',
    )
    .option('--out <dir>', 'folder for index.html', 'report')
    .action(async (raw: unknown) => {
      const flags = parseFlags(z.object({ out: z.string().min(1) }), raw);
      await withWorkspace(async (workspace) => {
        const file = await workspace.report(resolveFrom(io.cwd, flags.out));
        print(`Wrote ${file}`, { file });
      });
    });

  program
    .command('serve')
    .description('serve the review web app and the HTTP API for this workspace')
    .option('--port <n>', 'port', '4800')
    .option('--host <host>', 'address to bind; anything but loopback requires an access token', '127.0.0.1')
    .option(
      '--allowed-host <name>',
      'a host name browsers may use to reach the server besides localhost and the bound address (repeatable)',
      (name: string, names: string[] = []) => [...names, name],
    )
    .option('--open', 'open the app in the default browser')
    .option('--target-precision <p>', 'mark as auto the suggestions that reach this precision')
    .option('--model <spec>', "suggest and pick with another model's embeddings than the workspace's")
    .option('--queue <url>', 'show this embedding queue on the dashboard: workers alive, jobs open, jobs/s, ETA')
    .action(async (raw: unknown) => {
      const flags = parseFlags(
        z.object({
          queue: z.string().min(1).optional(),
          port: z.coerce.number().int().min(0).max(65535),
          host: z.string().min(1),
          allowedHost: z
            .array(z.string().regex(/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i, 'a host name without port or scheme'))
            .optional(),
          open: z.boolean().optional(),
          targetPrecision: z.coerce.number().gt(0.5).lt(1).optional(),
          model: z.string().min(1).optional(),
        }),
        raw,
      );
      const flag = globals().workspace;
      const dir = flag === undefined ? findWorkspace(io.cwd) : resolveFrom(io.cwd, flag);
      const { allowedHost, model, ...rest } = flags;
      // The server (Hono, and sharp for thumbnails) loads for serve only, not for every command.
      const { startServer } = await import('@autolabel/server');
      const server = await startServer({
        ...rest,
        allowedHosts: allowedHost,
        model: model === undefined ? undefined : resolveSpec(io.cwd, model),
        workspace: dir,
        webRoot: webRoot(),
      }).catch((error: unknown) => {
        if (isAutolabelError(error, 'PORT_IN_USE')) {
          throw new AutolabelError('PORT_IN_USE', `${error.message}: pass --port with a free one (or 0 for any)`, {
            cause: error,
          });
        }
        throw error;
      });
      io.stdout.write(`Autolabel is serving ${dir} at ${server.url}\n`);
      if (server.token !== null) {
        // The one URL that carries the token: the page trades it for a cookie and drops it from the address bar.
        io.stdout.write(
          server.tokenCreated
            ? `Access token (shown once; kept in ${dir}/server-token): ${server.token}\nOpen ${server.url}?token=${server.token}\n`
            : `Access token: see ${dir}/server-token\n`,
        );
      }
      if (flags.open) openBrowser(server.url + (server.token ? `?token=${server.token}` : ''));
      await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
      await server.close();
    });

  for (const command of program.commands) {
    const lines = EXAMPLES[command.name()];
    if (lines) command.addHelpText('after', examples(lines));
  }
  return program;
}

/** Each command's examples, shown after its options in `--help`. */
const EXAMPLES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  init: [
    ['autolabel init --images ~/photos', 'a workspace in ./.autolabel for the photos'],
    ['autolabel init --images ~/photos --model onnx:./mobilenet', 'with an ONNX model folder'],
    [
      'autolabel init --images /shared/photos --store postgres://autolabel@db:5432/photos',
      'one PostgreSQL store for workers and servers on several machines',
    ],
    [
      'autolabel init --images ~/photos --model hf:Xenova/clip-vit-base-patch32',
      'with a hub model (downloaded by embed)',
    ],
  ],
  scan: [
    ['autolabel scan', 'pick up what changed since the last scan'],
    ['autolabel scan --full', 're-hash every file'],
  ],
  embed: [
    ['autolabel embed', 'embed what is missing (Ctrl-C stops; run again to resume)'],
    ['autolabel embed --retry-skipped', 'try again the images that failed to decode'],
    [
      'autolabel embed --queue postgres://autolabel@db/photos',
      'batches for workers on other machines (autolabel worker), followed to the end',
    ],
  ],
  label: [
    ['autolabel label cats/001.jpg cat', 'one label by hand'],
    ['autolabel label cats/001.jpg --clear', 'remove it'],
  ],
  status: [
    ['autolabel status', 'images, labels per class, the latest fit, skipped files'],
    ['autolabel status --json', 'the same, for scripts'],
  ],
  suggest: [
    ['autolabel suggest', 'a suggestion with a confidence for every unlabelled image'],
    ['autolabel suggest --target-precision 0.95', 'and mark as auto what random checks certify'],
    ['autolabel suggest --template "a photo of a {}."', 'zero-shot from the class names, with this prompt'],
  ],
  next: [
    ['autolabel next', 'the 20 images that would teach the model most'],
    ['autolabel next --count 50 --strategy uncertain', 'the ones it is least sure about'],
  ],
  verify: [
    ['autolabel verify --count 100 --out checklist.csv', 'random suggestions to check'],
    ['autolabel import checklist.csv', 'the answers, once filled in'],
    ['autolabel suggest --target-precision 0.95', 'certify what the answers support'],
  ],
  accept: [
    ['autolabel accept --auto', 'the certified suggestions become labels'],
    ['autolabel accept --min-confidence 0.99', 'those at or above a confidence'],
  ],
  'export-model': [['autolabel export-model --out classifier.onnx', 'pixels in, class probabilities out']],
  report: [['autolabel report --out report', 'report/index.html: figures and plots']],
  serve: [
    ['autolabel serve --open', 'the review app at http://127.0.0.1:4800'],
    ['autolabel serve --host 0.0.0.0 --allowed-host labels.lan', 'on the network, with an access token'],
  ],
};

/** The built web app, if this install has one (packages/web/dist next to packages/cli). */
function webRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  spawn(command, [url], { stdio: 'ignore', detached: true })
    .on('error', () => undefined)
    .unref();
}

function formatSuggest(result: SuggestResult): string {
  const width = Math.max(...result.classes.map((c) => c.label.length));
  const lines = [
    `Fit ${result.fitId} (${result.method}): ${result.suggestions} suggestions in ${result.seconds.total.toFixed(1)} s`,
    result.calibratedOn === 'none'
      ? `${formatAccuracy(result.accuracy)}; not calibrated (no labels yet)`
      : `${formatAccuracy(result.accuracy)}; calibration error ${result.calibrationError.toFixed(3)} (calibrated on ${result.calibratedOn === 'checks' ? 'random checks' : 'the labels'})`,
    ...zeroShotLines(result.zeroShot),
    '',
    ...result.classes.map(
      (c) =>
        `  ${c.label.padEnd(width)}  ${String(c.labels).padStart(5)} labelled  ${String(c.suggested).padStart(7)} suggested` +
        (c.precision
          ? `  precision ${pct(c.precision.estimate)} (${pct(c.precision.low)}-${pct(c.precision.high)}, ${c.precision.checks} checks)`
          : ''),
    ),
  ];
  const cert = result.certificate;
  if (cert) {
    lines.push('');
    if (cert.threshold !== null) {
      lines.push(
        `Auto: ${result.auto} suggestions with confidence >= ${cert.threshold.toFixed(3)}, certified ` +
          `precision >= ${pct(cert.precisionLowerBound ?? 0)} at ${pct(1 - cert.delta)} confidence ` +
          `(target ${pct(cert.targetPrecision)}; ${cert.support} random checks in the region, ${cert.errors} wrong).`,
      );
    } else {
      lines.push(
        cert.checks === 0
          ? `Auto: none yet. Only random checks can certify precision ${pct(cert.targetPrecision)}, and there are none yet.`
          : `Auto: none yet. ${cert.checks} random checks do not yet certify precision ${pct(cert.targetPrecision)}.`,
      );
    }
    if (cert.next) {
      lines.push(
        `About ${cert.next.checks} more random checks would certify about ${cert.next.images} more suggestions at ${pct(cert.targetPrecision)} (autolabel verify --count ${cert.next.checks}).`,
      );
    }
  }
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  return lines.join('\n');
}

/** What zero-shot from class names did in a fit, when it did anything. */
function zeroShotLines(zeroShot: SuggestResult['zeroShot']): string[] {
  if (!zeroShot || zeroShot.weight === 0) return [];
  const templates = zeroShot.templates.map((t) => `"${t}"`).join(', ');
  return [
    zeroShot.coldStart
      ? `Zero-shot suggestions from the class names (no labels in two classes yet), prompts ${templates}`
      : `Zero-shot from the class names pooled with the learner at weight ${zeroShot.weight} (${zeroShot.chosenBy})`,
  ];
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** "Estimated accuracy 81.2% (95% CI 77.0-85.1%, from 120 random checks)", or the chosen-labels figure and its caveat. */
function formatAccuracy(accuracy: AccuracyFigure): string {
  if (accuracy.basis === 'random-checks' && accuracy.low !== null && accuracy.high !== null) {
    return `Estimated accuracy ${pct(accuracy.estimate)} (95% CI ${pct(accuracy.low)}-${pct(accuracy.high)}, from ${accuracy.checks} random checks)`;
  }
  return `Estimated accuracy ${pct(accuracy.estimate)} (${accuracy.note})`;
}

function resolveFrom(cwd: string, path: string): string {
  return resolve(cwd, path);
}

function formatQueueStatus(queue: QueueStatus): string {
  const rate =
    queue.jobsPerSecond === null
      ? 'no rate yet (workers count by the minute)'
      : `${queue.jobsPerSecond.toFixed(2)} jobs/s`;
  const eta = queue.etaSeconds === null ? '' : `, ETA ${formatDuration(queue.etaSeconds)}`;
  return [
    `Queue     ${queue.queue}`,
    `  ${plural(queue.workers, 'worker')} alive; ${plural(queue.waiting, 'job')} waiting, ${queue.active} running, ${queue.delayed} to retry, ${queue.failed} failed`,
    `  ${rate}${eta}`,
  ].join('\n');
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
  if (status.labeled > 0) {
    const o = status.labelOrigins;
    lines.push(
      `  chosen by next ${o.next}, random checks ${o.verify}, picked by hand ${o.chosen}, imported ${o.import}`,
    );
  }
  if (status.checks.drawn > 0) {
    const k = status.checks;
    lines.push(
      `Random checks: ${k.drawn} drawn, ${k.answered} answered, ${k.skipped} skipped, ${k.open} open` +
        (k.retired > 0 ? `, ${k.retired} retired by accepts` : ''),
    );
  }
  if (status.fit) {
    const f = status.fit;
    lines.push(
      '',
      `Suggestions: ${f.suggestions} (${f.auto} auto) from fit ${f.id} at ${f.createdAt} on ${f.labels} labels`,
    );
    if (f.zeroShot && f.zeroShot.weight > 0) {
      lines.push(
        f.zeroShot.coldStart
          ? '  zero-shot from the class names (no labels in two classes yet)'
          : `  pooled with zero-shot from the class names at weight ${f.zeroShot.weight}`,
      );
    }
    if (f.accuracy) lines.push(`  ${formatAccuracy(f.accuracy)}`);
    if (f.certificate?.next) {
      lines.push(
        `  about ${f.certificate.next.checks} more random checks would certify about ${f.certificate.next.images} more at ${pct(f.certificate.targetPrecision)} (autolabel verify)`,
      );
    }
    if (f.stale) lines.push(`  out of date: ${f.stale} (run autolabel suggest)`);
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
