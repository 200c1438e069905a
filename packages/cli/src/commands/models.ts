/**
 * @module `autolabel models` (the download cache: pull, list, remove) and `autolabel model` (the
 * workspace's model: show it, or set another and embed what it lacks), over core's API.
 */
import {
  AutolabelError,
  type CachedModel,
  hubSettings,
  listCachedModels,
  parseModelSpec,
  pullModel,
  removeCachedModel,
} from '@autolabel/core';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatBytes } from '../progress.js';
import { type CommandContext, examples, parseFlags, resolveSpec } from './context.js';

const CACHE_DIR_HELP =
  'the model cache (default: $AUTOLABEL_CACHE_DIR, else $XDG_CACHE_HOME/autolabel or ~/.cache/autolabel)';

const cacheFlags = z.object({ cacheDir: z.string().min(1).optional() });

export function modelsCommand(program: Command, context: CommandContext): void {
  const { io, print, progress, withWorkspace } = context;
  const hubOf = (cacheDir: string | undefined) => ({
    cacheDir: cacheDir === undefined ? undefined : resolve(io.cwd, cacheDir),
  });

  const models = program
    .command('models')
    .description('the download cache of hub models (hf:): pull one ahead of use, list them, remove one')
    .addHelpText(
      'after',
      examples([
        ['autolabel models pull hf:Xenova/clip-vit-base-patch32', 'download it once (resumable), for use offline'],
        ['autolabel models pull hf:onnx-community/dinov2-small:q8', 'another weight type (fp32, fp16, q8, ...)'],
        ['autolabel models list', 'what the cache holds, with sizes'],
        ['HF_ENDPOINT=https://hf-mirror.com autolabel models pull hf:X/Y', 'from a mirror of the hub'],
      ]),
    );

  models
    .command('pull')
    .description('download a hub model into the cache (nothing to do when it is there)')
    .argument('<spec>', 'hf:OWNER/NAME[@REVISION][:DTYPE]')
    .option('--text', 'also the text tower and tokenizer (zero-shot from class names; CLIP, SigLIP)')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (spec: string, raw: unknown) => {
      const flags = parseFlags(cacheFlags.extend({ text: z.boolean().optional() }), raw);
      const bar = progress('B');
      const started = performance.now();
      const snapshot = await pullModel(spec, {
        hub: hubOf(flags.cacheDir),
        text: flags.text,
        onProgress: bar.onProgress,
        signal: io.signal,
      });
      bar.done();
      const bytes = snapshot.files.reduce((sum, f) => sum + f.size, 0);
      const seconds = (performance.now() - started) / 1000;
      const how =
        snapshot.downloaded > 0
          ? `downloaded ${formatBytes(snapshot.downloaded)} in ${seconds.toFixed(1)} s`
          : 'already in the cache';
      print(`${spec}: ${snapshot.files.length} files, ${formatBytes(bytes)} in ${snapshot.dir} (${how})`, {
        spec,
        dir: snapshot.dir,
        commit: snapshot.commit,
        files: snapshot.files,
        bytes,
        downloaded: snapshot.downloaded,
      });
    });

  models
    .command('list', { isDefault: true })
    .description('the hub models in the cache: spec, files, size (the default)')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (raw: unknown) => {
      const flags = parseFlags(cacheFlags, raw);
      const settings = hubSettings(hubOf(flags.cacheDir));
      const list = await listCachedModels(settings);
      print(formatModels(list, settings.cacheDir), { cacheDir: settings.cacheDir, models: list });
    });

  models
    .command('remove')
    .description('delete a revision of a hub model from the cache (every weight type of it)')
    .argument('<spec>', 'hf:OWNER/NAME[@REVISION]')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (spec: string, raw: unknown) => {
      const flags = parseFlags(cacheFlags, raw);
      const parsed = parseModelSpec(spec);
      if (parsed.kind !== 'hf') throw new AutolabelError('INVALID_ARGUMENT', `${spec}: only hf: models are cached`);
      const bytes = await removeCachedModel(parsed, hubSettings(hubOf(flags.cacheDir)));
      print(bytes > 0 ? `Removed ${spec} (${formatBytes(bytes)})` : `${spec} was not in the cache`, { spec, bytes });
    });

  const model = program
    .command('model')
    .description("the workspace's model: show it, or set another (its embeddings are added; the old ones are kept)")
    .addHelpText(
      'after',
      examples([
        ['autolabel model', "the workspace's model and the embeddings of every model"],
        ['autolabel model set hf:onnx-community/dinov2-small', 'switch, embedding what the new model lacks'],
        ['autolabel model set builtin:centernet --no-embed', 'switch back; its embeddings are still there'],
      ]),
    );

  model
    .command('show', { isDefault: true })
    .description("the workspace's model and the images embedded with each model (the default)")
    .action(async () => {
      await withWorkspace(async (ws) => {
        const status = await ws.status();
        const lines = [`Model  ${status.model}`];
        if (status.models.length > 0) {
          lines.push('', 'Embeddings:');
          for (const m of status.models)
            lines.push(`  ${m.spec}: ${m.embedded}${m.spec === status.model ? ' (in use)' : ''}`);
        }
        print(lines.join('\n'), { model: status.model, models: status.models });
      });
    });

  model
    .command('set')
    .description('make SPEC the workspace model, after embedding every image it lacks (unless --no-embed)')
    .argument('<spec>', 'builtin:NAME, onnx:PATH or hf:OWNER/NAME[@REVISION][:DTYPE]')
    .option('--no-embed', 'set it without embedding now (autolabel embed does it later)')
    .option('--batch-size <n>', 'images per model call')
    .option('--threads <n>', 'threads or workers for the model (default: all cores)')
    .option('--cache-dir <dir>', CACHE_DIR_HELP)
    .action(async (spec: string, raw: unknown) => {
      const flags = parseFlags(
        cacheFlags.extend({
          embed: z.boolean(),
          batchSize: z.coerce.number().int().positive().optional(),
          threads: z.coerce.number().int().positive().optional(),
        }),
        raw,
      );
      const wanted = resolveSpec(io.cwd, spec);
      await withWorkspace(async (ws) => {
        const before = ws.modelSpec;
        if (!flags.embed) {
          const now = await ws.setModel(wanted);
          print(`Model set to ${now} (was ${before}); embed with it: autolabel embed`, {
            model: now,
            previous: before,
          });
          return;
        }
        // Embedded first: a model that cannot be fetched or run never becomes the workspace's.
        const bar = progress('img');
        const result = await ws.embed({
          model: wanted,
          batchSize: flags.batchSize,
          threads: flags.threads,
          hub: hubOf(flags.cacheDir),
          signal: io.signal,
          onProgress: bar.onProgress,
        });
        bar.done();
        if (result.aborted) {
          print(
            `Stopped: ${result.embedded} embedded and saved; the model is still ${before}. Run model set again to finish.`,
            result,
          );
          throw new AutolabelError('ABORTED', 'model set interrupted');
        }
        const now = await ws.setModel(wanted);
        print(
          `Model set to ${now} (was ${before}): ${result.embedded} images embedded in ${result.seconds.toFixed(1)} s, ` +
            `${result.skipped} skipped; the embeddings of ${before} are kept. Run autolabel suggest to learn with it.`,
          { model: now, previous: before, ...result },
        );
      });
    });
}

function formatModels(list: readonly CachedModel[], cacheDir: string): string {
  if (list.length === 0) return `No hub models in ${cacheDir} yet (autolabel models pull hf:OWNER/NAME).`;
  const width = Math.max(4, ...list.map((m) => m.spec.length));
  const rows = list.map(
    (m) =>
      `${m.spec.padEnd(width)}  ${String(m.files.length).padStart(5)}  ${formatBytes(m.bytes).padStart(9)}  ` +
      (m.complete ? (m.text ? 'image + text towers' : 'image tower') : 'incomplete (pull again to finish)'),
  );
  const total = list.reduce((sum, m) => sum + m.bytes, 0);
  return [
    `${'spec'.padEnd(width)}  files       size  contents`,
    ...rows,
    '',
    `${formatBytes(total)} in ${cacheDir} (dtypes of one revision share its config files)`,
  ].join('\n');
}
