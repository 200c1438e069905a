// Workers on one queue, as an operator runs them: three `autolabel worker` processes embed 3,000 images
// queued by `autolabel embed --queue`; one is SIGKILLed in the middle of a batch, and still every image
// is embedded exactly once. Run on both queue engines (BullMQ on PostgreSQL and on Redis), the store
// PostgreSQL in both.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testPostgres, testRedis, writeImage, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson } from './testing/cli.js';

const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const postgres = await testPostgres();
const server = postgres.server;
const redis = await testRedis();

/** A fresh database on the test server, dropped after the file's tests. */
async function database(prefix: string, drops: string[]): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await sql(server!.url, `CREATE DATABASE ${name}`);
  drops.push(name);
  return Object.assign(new URL(server!.url), { pathname: `/${name}` }).toString();
}

interface WorkerLine {
  readonly type: 'ready' | 'started' | 'done' | 'failed' | 'stopped';
  readonly jobId?: string;
  readonly attempt?: number;
  readonly images?: number;
  readonly result?: { embedded: number; skipped: number; alreadyDone: number; worker: string };
}

/** A worker process whose JSON lines are collected as they come; `onLine` may act on each (kill it). */
class WorkerProcess {
  readonly lines: WorkerLine[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #buffer = '';
  stderr = '';

  constructor(
    readonly name: string,
    cwd: string,
    args: readonly string[],
    onLine: (line: WorkerLine, worker: WorkerProcess) => void = () => undefined,
  ) {
    this.child = spawn(process.execPath, [bin, 'worker', ...args, '--name', name, '--json'], { cwd });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      let end: number;
      while ((end = this.#buffer.indexOf('\n')) >= 0) {
        const text = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 1);
        // The final summary is pretty-printed over several lines; only one-line events are collected.
        if (!text.startsWith('{"type"')) continue;
        const line = JSON.parse(text) as WorkerLine;
        this.lines.push(line);
        onLine(line, this);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async ready(): Promise<void> {
    for (let i = 0; i < 600 && !this.lines.some((l) => l.type === 'ready'); i++) {
      if (this.child.exitCode !== null) throw new Error(`worker ${this.name} exited: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Runs the CLI without blocking the event loop (the workers' output is read meanwhile). */
async function runCliAsync(
  cwd: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

const IMAGES = 3000;
const JOB_SIZE = 100;

describe('autolabel worker and embed --queue, refused', () => {
  it('say what is wrong with the queue or the store, without a trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autolabel-queue-refused-'));
    try {
      await writeImage(join(dir, 'photos', 'a.png'), 'png');
      expect(runCli(dir, ['init', '--images', 'photos']).code).toBe(0);
      const cases: [string[], number, RegExp][] = [
        // Port 1: no server listens there, so the Redis connection is refused at once (not retried forever).
        [
          ['worker', '--store', '.autolabel', '--queue', 'redis://127.0.0.1:1'],
          1,
          /queue redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED.*is the Redis server running/,
        ],
        [
          ['status', '--queue', 'redis://127.0.0.1:1?queue=jobs'],
          1,
          /queue redis:\/\/127\.0\.0\.1:1 \(queue jobs\): connect ECONNREFUSED/,
        ],
        [['embed', '--queue', 'mysql://db/jobs'], 2, /unknown kind of queue "mysql"; give postgres:\/\//],
        [
          ['worker', '--store', 'missing', '--queue', 'postgres://db/jobs'],
          3,
          /store \S*missing: neither a postgres:\/\/ URL nor an Autolabel workspace/,
        ],
        [['status', '--queue', 'postgres://u:secret@db/jobs?queue=a b'], 2, /queue name "a b"/],
      ];
      for (const [args, code, message] of cases) {
        const run = runCli(dir, args);
        expect(run.stderr, args.join(' ')).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at |secret/);
        expect(run.code, args.join(' ')).toBe(code);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

if (!server) {
  describe.skip(`autolabel worker (skipped: ${postgres.skip})`, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const drops: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-workers-'));
  const photos = join(dir, 'photos');
  const allWorkers: WorkerProcess[] = [];
  let modelDir = '';
  afterAll(async () => {
    for (const w of allWorkers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    for (const name of drops) await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
    await redis.server?.stop();
  });

  // The images and the model, shared by both engines' runs (each has its own store, queue and workspace).
  beforeAll(async () => {
    // Distinct contents: each image its own colour and noise, so 3,000 images are 3,000 embeddings.
    for (let start = 0; start < IMAGES; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, IMAGES - start) }, (_, k) => {
          const i = start + k;
          return writeImage(join(photos, `d${Math.floor(i / 500)}`, `img${String(i).padStart(4, '0')}.png`), 'png', {
            width: 12,
            height: 12,
            color: [i % 251, (i * 7) % 253, (i * 13) % 255],
            noise: 40,
            seed: i,
          });
        }),
      );
    }
    modelDir = (await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8, inputSize: 16 })).dir;
  }, 60_000);

  // Each engine's queue: a database of its own on the PostgreSQL server, a queue name of its own on Redis.
  const engines: { engine: string; skip?: string; queue: () => Promise<string> }[] = [
    { engine: 'PostgreSQL', queue: () => database('autolabel_workers_queue', drops) },
    {
      engine: 'Redis',
      skip: redis.skip,
      queue: async () => `${redis.server!.url}?queue=workers_${process.pid}_${randomBytes(4).toString('hex')}`,
    },
  ];

  describe.each(engines)('autolabel worker, queue on $engine', ({ engine, skip, queue: makeQueue }) => {
    it.skipIf(skip !== undefined)(
      'embeds every image exactly once with three workers, one of them SIGKILLed mid-batch',
      async () => {
        const storeUrl = await database('autolabel_workers_store', drops);
        const queueUrl = await makeQueue();
        const ws = join(dir, engine);
        mkdirSync(ws);
        expect(runCli(ws, ['init', '--images', photos, '--model', `onnx:${modelDir}`, '--store', storeUrl]).code).toBe(
          0,
        );
        expect(runCli(ws, ['scan', '-q']).code).toBe(0);
        const workers: WorkerProcess[] = [];

        const args = ['--store', storeUrl, '--queue', queueUrl, '--threads', '1', '--lock-timeout', '2'];
        // Worker A dies by SIGKILL as soon as it has begun its second batch: mid-batch, its lock held.
        let killed: string | undefined;
        const killer = (line: WorkerLine, worker: WorkerProcess): void => {
          if (
            killed === undefined &&
            line.type === 'started' &&
            worker.lines.filter((l) => l.type === 'started').length === 2
          ) {
            killed = line.jobId;
            worker.child.kill('SIGKILL');
          }
        };
        workers.push(
          new WorkerProcess('A', ws, args, killer),
          new WorkerProcess('B', ws, args),
          new WorkerProcess('C', ws, args),
        );
        allWorkers.push(...workers);
        await Promise.all(workers.map((w) => w.ready()));

        const embed = await runCliAsync(ws, ['embed', '--queue', queueUrl, '--job-size', String(JOB_SIZE), '--json']);
        expect(embed.stderr).not.toMatch(/\n\s+at /);
        expect(embed.code).toBe(0);
        const result = JSON.parse(embed.stdout) as {
          total: number;
          embedded: number;
          skipped: number;
          queue: { jobs: number };
        };
        expect(result).toMatchObject({
          total: IMAGES,
          embedded: IMAGES,
          skipped: 0,
          queue: { jobs: IMAGES / JOB_SIZE },
        });

        // The survivors stop on SIGTERM, finishing what they hold, and exit 0.
        const [a, b, c] = workers as [WorkerProcess, WorkerProcess, WorkerProcess];
        expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
        for (const w of [b, c]) w.child.kill('SIGTERM');
        for (const w of [b, c]) expect((await w.exited).code, w.stderr).toBe(0);

        // Every job is done exactly once, the killed one by another worker on a later try.
        expect(killed).toBeDefined();
        const done = workers.flatMap((w) =>
          w.lines.filter((l) => l.type === 'done').map((l) => ({ ...l, by: w.name })),
        );
        expect(done).toHaveLength(IMAGES / JOB_SIZE);
        expect(new Set(done.map((l) => l.jobId)).size).toBe(IMAGES / JOB_SIZE);
        const redo = done.find((l) => l.jobId === killed)!;
        expect(redo.by).not.toBe('A');
        expect(redo.attempt).toBeGreaterThanOrEqual(2);
        // Each image's embedding was computed and written once: what A committed before it died (whole
        // model calls, one transaction each) the retry found done, and embedded only the rest.
        const embedded = done.reduce((sum, l) => sum + l.result!.embedded, 0);
        const foundDone = done.reduce((sum, l) => sum + l.result!.alreadyDone, 0);
        expect(done.filter((l) => l.jobId !== killed).every((l) => l.result!.alreadyDone === 0)).toBe(true);
        expect(embedded + foundDone).toBe(IMAGES);
        expect(workers.every((w) => !w.lines.some((l) => l.type === 'failed'))).toBe(true);

        // The store holds one vector per image, and everything reading it agrees.
        const rows = (
          await sql(storeUrl, 'SELECT count(*)::int AS n, count(DISTINCT content_hash)::int AS d FROM embeddings')
        ).rows as { n: number; d: number }[];
        expect(rows[0]).toEqual({ n: IMAGES, d: IMAGES });
        const status = runCliJson<{ imageCount: number; embedded: number; skipped: unknown[] }>(ws, ['status']);
        expect(status).toMatchObject({ imageCount: IMAGES, embedded: IMAGES, skipped: [] });
        const again = runCliJson<{ total: number; embedded: number }>(ws, ['embed']);
        expect(again).toMatchObject({ total: 0, embedded: 0 });
        const next = runCliJson<{ picks: unknown[] }>(ws, ['next', '--count', '5']);
        expect(next.picks).toHaveLength(5);

        // And the queue says so: nothing open, nothing failed, no worker left.
        const queue = runCliJson<{ queue: { workers: number; waiting: number; active: number; failed: number } }>(ws, [
          'status',
          '--queue',
          queueUrl,
        ]).queue;
        expect(queue).toMatchObject({ workers: 0, waiting: 0, active: 0, failed: 0 });
      },
      180_000,
    );
  });
}
