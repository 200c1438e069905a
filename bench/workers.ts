/**
 * @module Queue workers against one process: the same images embedded in-process (`embed`) and by
 * 1, 2, 4... `autolabel worker` processes fed by `embed --queue`, on each queue engine side by side
 * (BullMQ on PostgreSQL and on Redis; the store PostgreSQL for every run), with wall time, throughput
 * per worker and per core, and CPU-seconds of every part (workers, the producer, the PostgreSQL and
 * Redis servers): the queue's overhead is the CPU it adds per image over the in-process runs (one
 * first, one last, averaged: the machine drifts), and its own CPU per job is the producer's plus the
 * queue server's (for a PostgreSQL queue, the server's CPU beyond what the store's writes cost in process).
 *
 * npm run bench:workers -- --workers 1,2,4 [--queue-engine postgres,redis] [--images ../shared/datasets/cifar10/train
 *   --model onnx:../shared/models/mobilenet-v1-imagenet] [--limit 2000] [--job-size 128] [--threads 1]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWorkspace, isImageName, type Workspace } from '@autolabel/core';
import { testPostgres, testRedis, writeImage, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { benchArgs, intArg } from './args.js';

const args = benchArgs(
  'bench:workers [--workers 1,2,4] [--queue-engine postgres,redis] [--images DIR --model SPEC] [--limit 2000] [--job-size 128] [--threads 1]',
  {
    workers: { type: 'string', default: '1,2,4' },
    'queue-engine': { type: 'string', default: 'postgres,redis' },
    images: { type: 'string' },
    model: { type: 'string' },
    limit: { type: 'string' },
    'job-size': { type: 'string' },
    threads: { type: 'string' },
  },
);
const workerCounts = String(args.workers)
  .split(',')
  .map((w) => intArg(w, 'workers', 1));
const ENGINES = ['postgres', 'redis'] as const;
type Engine = (typeof ENGINES)[number];
const engines = String(args['queue-engine'])
  .split(',')
  .map((e) => {
    if (!(ENGINES as readonly string[]).includes(e)) {
      process.stderr.write(`--queue-engine: ${JSON.stringify(e)} is not one of ${ENGINES.join(', ')}\n`);
      process.exit(2);
    }
    return e as Engine;
  });
const limit = intArg(args.limit, 'limit', 2000);
const jobSize = intArg(args['job-size'], 'job-size', 128);
const threads = intArg(args.threads, 'threads', 1);
const cores = availableParallelism();
const bin = fileURLToPath(new URL('../../packages/cli/bin/autolabel.js', import.meta.url));

const postgres = await testPostgres();
if (!postgres.server) {
  process.stderr.write(`bench:workers needs a PostgreSQL server: ${postgres.skip}\n`);
  process.exit(2);
}
const server = postgres.server;
const redis = engines.includes('redis') ? await testRedis() : undefined;
if (redis && !redis.server) {
  process.stderr.write(`bench:workers --queue-engine redis needs a Redis server: ${redis.skip}\n`);
  await server.stop();
  process.exit(2);
}
const work = await mkdtemp(join(tmpdir(), 'autolabel-bench-workers-'));

const databases: string[] = [];
async function database(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await sql(server.url, `CREATE DATABASE ${name}`);
  databases.push(name);
  return Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
}

/** The images: links to the first `limit` of a folder (round-robin over its subfolders), or generated 32x32 PNGs. */
async function prepareImages(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  if (typeof args.images === 'string') {
    const dir = resolve(args.images);
    const subdirs = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    const lists = (subdirs.length > 0 ? subdirs : ['.']).map((sub) =>
      readdirSync(join(dir, sub))
        .filter(isImageName)
        .sort()
        .map((name) => join(dir, sub, name)),
    );
    const files: string[] = [];
    for (let i = 0; files.length < limit && lists.some((l) => i < l.length); i++) {
      for (const list of lists) if (list[i] !== undefined && files.length < limit) files.push(list[i]!);
    }
    // Copies: the scan never follows a link out of the images folder.
    await Promise.all(
      files.map((file, i) => copyFile(file, join(root, `${String(i).padStart(7, '0')}${extname(file)}`))),
    );
    return `${files.length} images from ${dir}`;
  }
  for (let start = 0; start < limit; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, limit - start) }, (_, k) => {
        const i = start + k;
        return writeImage(join(root, `${String(i).padStart(7, '0')}.png`), 'png', {
          width: 32,
          height: 32,
          color: [i % 251, (i * 7) % 253, (i * 13) % 255],
          noise: 60,
          seed: i,
        });
      }),
    );
  }
  return `${limit} generated 32x32 PNGs`;
}

const TICK = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux.

/** CPU-seconds of a process so far: its own (user + system), and with `children` those of its reaped children. */
function cpuOf(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so utime (14), stime (15), cutime (16), cstime (17) are at 11-14.
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
    return (utime + stime + (children ? cutime + cstime : 0)) / TICK;
  } catch {
    return 0;
  }
}

/** The PostgreSQL server's CPU-seconds (postmaster, its reaped backends, the live ones), found by its port. */
function postgresCpu(port: string): number | null {
  let postmaster: number | undefined;
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('postgres') && cmd[cmd.indexOf('-p') + 1] === port) postmaster = Number(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  if (postmaster === undefined) return null;
  let total = cpuOf(postmaster, true);
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuOf(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}
const pgPort = new URL(server.url).port;

/** The Redis server's CPU-seconds, found by its port (it names itself `redis-server HOST:PORT`); null if not on this machine. */
function redisCpu(port: string): number | null {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/redis-server/.test(cmd) && cmd.includes(`:${port}`)) return cpuOf(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}
const redisPort = redis?.server ? new URL(redis.server.url).port || '6379' : undefined;
const queueServerCpu = (): number | null => (redisPort === undefined ? null : redisCpu(redisPort));
const selfCpu = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

async function workspaceOn(name: string, images: string, spec: string): Promise<Workspace> {
  const store = await database(`bench_workers_${name}`);
  const ws = await initWorkspace({ images, workspace: join(work, `ws-${name}`), model: spec, store });
  const scan = await ws.scan();
  if (scan.added === 0 || scan.skipped > 0)
    throw new Error(`scan of ${images}: ${scan.added} added, ${scan.skipped} skipped`);
  return ws;
}

function startWorker(store: string, queue: string, name: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [bin, 'worker', '--store', store, '--queue', queue, '--threads', String(threads), '--name', name, '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.once('exit', (code) => {
    if (code !== 0) process.stderr.write(`worker ${name} exited with ${code}:\n${err}\n`);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"type":"ready"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker ${name} exited with ${code} before it was ready`)));
  });
}

interface Row {
  readonly label: string;
  readonly engine: Engine | null;
  readonly workers: number;
  readonly images: number;
  readonly jobs: number;
  readonly wall: number;
  readonly workerCpu: number;
  readonly producerCpu: number;
  readonly pgCpu: number | null;
  readonly redisCpu: number | null;
}

const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);

try {
  const images = join(work, 'photos');
  const what = await prepareImages(images);
  const spec =
    typeof args.model === 'string'
      ? args.model.startsWith('onnx:')
        ? `onnx:${resolve(args.model.slice(5))}`
        : args.model
      : `onnx:${(await writeTinyOnnxModel(join(work, 'tiny-model'), { featureDim: 64, inputSize: 32 })).dir}`;
  console.log(
    `bench:workers: ${what}; model ${spec}; ${threads} model thread(s) per process; jobs of ${jobSize}; ` +
      `${cores} cores, load average ${loadavg()[0]!.toFixed(1)} at start`,
  );
  const rows: Row[] = [];

  // In-process: the producer's own process embeds (the default embed); run first and last.
  const inProcess = async (label: string): Promise<Row> => {
    const ws = await workspaceOn(label.replace(/\W+/g, '_'), images, spec);
    const cpu0 = selfCpu();
    const pg0 = postgresCpu(pgPort);
    const t0 = performance.now();
    const result = await ws.embed({ threads });
    const wall = (performance.now() - t0) / 1000;
    const pg1 = postgresCpu(pgPort);
    await ws.close();
    return {
      label,
      engine: null,
      workers: 1,
      images: result.embedded,
      jobs: 0,
      wall,
      workerCpu: selfCpu() - cpu0,
      producerCpu: 0,
      pgCpu: delta(pg0, pg1),
      redisCpu: null,
    };
  };
  rows.push(await inProcess('in-process'));

  // Engines alternate at each worker count, so both see the same moment of a shared machine.
  for (const count of workerCounts)
    for (const engine of engines) {
      const ws = await workspaceOn(`w${count}_${engine}`, images, spec);
      const store = ws.config.store!;
      const queue =
        engine === 'postgres'
          ? await database(`bench_workers_queue_${count}`)
          : `${redis!.server!.url}?queue=bench_${count}_${randomBytes(4).toString('hex')}`;
      const workers = await Promise.all(
        Array.from({ length: count }, (_, i) => startWorker(store, queue, `bench-${count}-${i}`)),
      );
      const before = workers.map((w) => cpuOf(w.pid!));
      const cpu0 = selfCpu();
      const pg0 = postgresCpu(pgPort);
      const redis0 = queueServerCpu();
      const t0 = performance.now();
      const result = await ws.embed({ queue, jobSize });
      const wall = (performance.now() - t0) / 1000;
      const pg1 = postgresCpu(pgPort);
      const redis1 = queueServerCpu();
      const workerCpu = workers.reduce((sum, w, i) => sum + cpuOf(w.pid!) - before[i]!, 0);
      const producerCpu = selfCpu() - cpu0;
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve) => {
              w.once('exit', resolve);
              w.kill('SIGTERM');
            }),
        ),
      );
      rows.push({
        label: `${count} worker${count === 1 ? '' : 's'}, ${engine === 'postgres' ? 'PostgreSQL' : 'Redis'} queue`,
        engine,
        workers: count,
        images: result.embedded,
        jobs: 'queue' in result ? result.queue.jobs : 0,
        wall,
        workerCpu,
        producerCpu,
        pgCpu: delta(pg0, pg1),
        redisCpu: delta(redis0, redis1),
      });
      await ws.close();
    }
  rows.push(await inProcess('in-process (again)'));

  // The base: both in-process runs, per image.
  const bases = rows.filter((row) => row.jobs === 0);
  const baseImages = bases.reduce((sum, row) => sum + row.images, 0);
  const basePerImage = bases.reduce((sum, row) => sum + row.workerCpu + (row.pgCpu ?? 0), 0) / baseImages;
  const storePgPerImage = bases.reduce((sum, row) => sum + (row.pgCpu ?? 0), 0) / baseImages;
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
  console.log(
    '| run | images | jobs | wall s | img/s total | img/s per worker | img/s per core busy | CPU-s workers | CPU-s producer | CPU-s PostgreSQL | CPU-s Redis | CPU-ms per image | overhead vs in-process | overhead per job | queue CPU per job |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const rate = row.images / row.wall;
    const busy = Math.min(cores, row.workers * threads);
    const cpu = row.workerCpu + row.producerCpu + (row.pgCpu ?? 0) + (row.redisCpu ?? 0);
    const perImage = (1000 * cpu) / row.images;
    const extra = cpu - basePerImage * row.images;
    const overhead = row.jobs === 0 ? '' : `${((100 * extra) / (basePerImage * row.images)).toFixed(1)}%`;
    const perJob = row.jobs === 0 ? '' : `${((1000 * extra) / row.jobs).toFixed(1)} ms`;
    // The queue's own CPU: the producer, plus the queue's server: Redis, or PostgreSQL beyond the store's
    // share, which is what PostgreSQL took with the same workers on a Redis queue (the in-process share without one).
    const twin = rows.find((other) => other.engine === 'redis' && other.workers === row.workers);
    const storePg = twin?.pgCpu != null ? twin.pgCpu * (row.images / twin.images) : storePgPerImage * row.images;
    const server = row.engine === 'redis' ? row.redisCpu : row.pgCpu === null ? null : Math.max(0, row.pgCpu - storePg);
    const queueCpu =
      row.jobs === 0 || server === null ? '' : `${((1000 * (row.producerCpu + server)) / row.jobs).toFixed(1)} ms`;
    console.log(
      `| ${row.label} | ${row.images} | ${row.jobs || ''} | ${row.wall.toFixed(1)} | ${rate.toFixed(1)} | ${(rate / row.workers).toFixed(1)} | ` +
        `${(rate / busy).toFixed(1)} | ${row.workerCpu.toFixed(1)} | ${row.producerCpu.toFixed(2)} | ` +
        `${row.pgCpu === null ? 'n/a' : row.pgCpu.toFixed(2)} | ${row.engine === 'redis' ? (row.redisCpu?.toFixed(2) ?? 'n/a') : ''} | ` +
        `${perImage.toFixed(2)} | ${overhead} | ${perJob} | ${queueCpu} |`,
    );
  }
  console.log(
    '\nCPU-s are user+system seconds from /proc (workers from ready to the end, so model loading is left out).' +
      ' Overhead: CPU of every part (workers, producer, PostgreSQL, Redis) per image beyond the in-process runs' +
      ' (both averaged), whose CPU counts the process and PostgreSQL. Queue CPU per job: the producer plus the' +
      " queue's server (Redis, or PostgreSQL beyond the store's share: its CPU with the same workers on the Redis" +
      ' queue), per job. On a shared machine' +
      ' wall-time ratios move with the load.',
  );
} finally {
  for (const name of databases)
    await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await server.stop();
  await redis?.server?.stop();
  await rm(work, { recursive: true, force: true });
}
