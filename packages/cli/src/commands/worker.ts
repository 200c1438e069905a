/** @module `autolabel worker`: takes jobs off a queue and does them against a store, until stopped. */
import { resolve } from 'node:path';
import { runWorker, type WorkerJobEvent } from '@autolabel/core';
import { type Command } from 'commander';
import { z } from 'zod';
import { type CommandContext, examples, parseFlags, resolveSpec } from './context.js';

const positiveInt = z.coerce.number().int().positive();

export function workerCommand(program: Command, { io, print }: CommandContext): void {
  program
    .command('worker')
    .description('take jobs (embed batches) off a queue and do them against a store, until stopped')
    .requiredOption('--store <url>', 'the store: postgres://user@host:port/database, or a workspace folder')
    .requiredOption('--queue <url>', 'the queue: postgres://user@host:port/database or redis://host:port (?queue=NAME)')
    .option('--concurrency <n>', 'jobs at once (default 1: one model call uses every core already)')
    .option('--threads <n>', 'threads for the model (default: all cores)')
    .option('--images-root <dir>', "this machine's path to the images, in place of the workspace's")
    .option('--model <spec>', "this machine's copy of the model, in place of the job's (must be the same model)")
    .option('--lock-timeout <seconds>', 'how long a job stays with a worker that stopped answering (default 30)')
    .option('--name <name>', 'how the worker is named in logs and results (default host:pid)')
    .addHelpText(
      'after',
      examples([
        [
          'autolabel worker --store postgres://autolabel@db/photos --queue postgres://autolabel@db/photos',
          'one worker on this machine',
        ],
        [
          'autolabel worker --store ./photos/.autolabel --queue postgres://autolabel@db/jobs --images-root /mnt/photos',
          'the images at another path here',
        ],
      ]),
    )
    .action(async (raw: unknown) => {
      // The flag names where the store is; the store itself stays inside core (runWorker opens it).
      const { store: storeFlag, ...flags } = parseFlags(
        z.object({
          store: z.string().min(1),
          queue: z.string().min(1),
          concurrency: positiveInt.optional(),
          threads: positiveInt.optional(),
          imagesRoot: z.string().min(1).optional(),
          model: z.string().min(1).optional(),
          lockTimeout: z.coerce.number().positive().optional(),
          name: z.string().min(1).optional(),
        }),
        raw,
      );
      const json = program.opts<{ json?: boolean }>().json === true;
      const store = /^[a-z]+:\/\//.test(storeFlag) ? storeFlag : resolve(io.cwd, storeFlag);
      // One line per job, as it finishes: what a person tails, and what the tests count.
      const log = (line: string, data: unknown): void => {
        io.stdout.write(json ? `${JSON.stringify(data)}\n` : `${line}\n`);
      };
      const onJob = (event: WorkerJobEvent): void => {
        if (event.type === 'started') {
          log(`started ${event.jobId} (try ${event.attempt}): ${event.images} images`, event);
        } else if (event.type === 'done') {
          const r = event.result;
          log(
            `done ${event.jobId} (try ${event.attempt}): ${r.embedded} embedded, ${r.skipped} skipped, ` +
              `${r.alreadyDone} already done, ${r.seconds.toFixed(2)} s`,
            event,
          );
        } else {
          log(
            `failed ${event.jobId} (try ${event.attempt}${event.retried ? ', will be retried' : ', gave up'}): ${event.error}`,
            event,
          );
        }
      };
      const summary = await runWorker({
        store,
        queue: flags.queue,
        concurrency: flags.concurrency,
        threads: flags.threads,
        imagesRoot: flags.imagesRoot === undefined ? undefined : resolve(io.cwd, flags.imagesRoot),
        model: flags.model === undefined ? undefined : resolveSpec(io.cwd, flags.model),
        lockMs: flags.lockTimeout === undefined ? undefined : flags.lockTimeout * 1000,
        name: flags.name,
        signal: io.signal,
        onJob,
        onError: (message) => io.stderr.write(`warning: ${message}\n`),
        onReady: (queue) => log(`worker ready on ${queue}`, { type: 'ready', queue }),
      });
      // Stopping (SIGINT, SIGTERM) is how a worker ends: its jobs in hand are finished, so it exits 0.
      print(
        `Stopped: ${summary.jobs} jobs done (${summary.embedded} images embedded), ${summary.failed} failed, in ${summary.seconds.toFixed(1)} s`,
        { type: 'stopped', ...summary },
      );
    });
}
