/**
 * @module Soak test with crashes: concurrent clients write labels (single PUTs, bulk POSTs, DELETEs)
 * to the server for minutes while the server is SIGKILLed and restarted on the same port at a fixed
 * interval; then, after a clean stop, the database is checked read-only against every acknowledged
 * write (none lost, none doubled, integrity ok). Reports latency, throughput, restart times and the
 * server's RSS per lifetime.
 *
 *   npm run bench:soak -- [--images 50000] [--dim 1024] [--clients 20] [--minutes 10] [--kill-every 60]
 *     [--out bench-results/soak]
 *
 * The synthetic workspace (as bench:serve builds it) is cached under the tmp dir by size and copied
 * afresh for every run, so each run starts from the same known labels.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@autolabel/core';
import { lineChart } from '@autolabel/core/charts';
import Database from 'better-sqlite3';
import { benchArgs, intArg } from './args.js';
import { writeSyntheticWorkspace } from './synthetic.js';

const USAGE =
  'bench:soak [--images 50000] [--dim 1024] [--clients 20] [--minutes 10] [--kill-every 60] [--out bench-results/soak]';
const args = benchArgs(USAGE, {
  images: { type: 'string' },
  dim: { type: 'string' },
  clients: { type: 'string' },
  minutes: { type: 'string' },
  'kill-every': { type: 'string' },
  out: { type: 'string' },
});
const imageCount = intArg(args.images, 'images', 50_000);
const dim = intArg(args.dim, 'dim', 1024);
const clientCount = intArg(args.clients, 'clients', 20);
const minutes = intArg(args.minutes, 'minutes', 10);
const killEverySeconds = intArg(args['kill-every'], 'kill-every', 60);
const outDir = resolve(typeof args.out === 'string' ? args.out : 'bench-results/soak');

const CLASSES = ['cat', 'dog', 'bird', 'fish'];
const SEEDED = 50;
const RSS_EVERY_MS = 5000;
/** The slope that speaks of leaks skips each lifetime's first seconds: loading and the first refit. */
const SETTLE_S = 10;
const REQUEST_TIMEOUT_MS = 15_000;
/** After the last minute, a write still in flight may retry this long before it is given up. */
const DRAIN_MS = 60_000;
const START_TIMEOUT_MS = 180_000;
/** A clean stop waits for the refit in flight, which at 50k images on a busy machine can take minutes. */
const STOP_TIMEOUT_MS = 300_000;
const CHILD_ENTRY = fileURLToPath(new URL('./soak-child.js', import.meta.url));

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, Math.max(0, ms)));
const truthOf = (id: number): number => (id - 1) % CLASSES.length;
/** The state every image starts each run in: the first SEEDED images carry their cluster's class. */
const initialOf = (id: number): string | null => (id <= SEEDED ? CLASSES[truthOf(id)]! : null);

// ---------------------------------------------------------------------------------------------
// No server outlives this process: every child is SIGKILLed on exit, whatever the exit's cause
// (soak-child.ts also exits on its own when its stdin, held by us, closes).
const children = new Set<ChildProcess>();
let runDir: string | undefined;
let keepRunDir = false;
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  if (runDir && !keepRunDir) rmSync(runDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping`);
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// The workspace: tens of thousands of synthetic images with clustered embeddings and a built graph.

async function cachedTemplate(): Promise<string> {
  const root = join(tmpdir(), 'autolabel-bench-soak-cache', `${imageCount}x${dim}`);
  if (existsSync(join(root, 'ready'))) return root;
  await mkdir(join(root, '..'), { recursive: true });
  // Built beside its final place and renamed in, so a half-built cache is never reused.
  const building = mkdtempSync(`${root}.building-`);
  try {
    const graphSeconds = await writeSyntheticWorkspace(building, {
      images: imageCount,
      dim,
      classes: CLASSES,
      labelled: SEEDED,
    });
    log(`workspace: ${imageCount} images x ${dim}-d; graph built in ${graphSeconds.toFixed(1)} s`);
    await writeFile(join(building, 'ready'), `${new Date().toISOString()}\n`);
    await rename(building, root).catch(() => undefined); // another run got there first: use theirs
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// The server, one process per lifetime.

interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  readonly exited: Promise<number | null>;
  output(): string;
}

function spawnServer(workspace: string, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CHILD_ENTRY, '--workspace', workspace, 'serve', '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  return new Promise<ServerProcess>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the server did not start in ${START_TIMEOUT_MS / 1000} s: ${output}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      const match = /at (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      const url = match[1]!;
      done({ child, pid: child.pid!, url, port: Number(new URL(url).port), exited, output: () => output });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`the server exited with ${code} while starting: ${output.trim()}`));
    });
  });
}

/** Starts a server on `port`, retrying while the port is still held (the old socket may linger briefly). */
async function startOn(workspace: string, port: number): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnServer(workspace, port);
    } catch (error) {
      if (attempt >= 20 || !/PORT_IN_USE|in use/.test((error as Error).message)) throw error;
      await sleep(250);
    }
  }
}

/** Polls a cheap route until the server answers 2xx; the time a user would wait after a crash. */
async function untilAnswering(url: string): Promise<void> {
  const giveUp = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < giveUp) {
    const ok = await fetch(`${url}api/classes`, { signal: AbortSignal.timeout(5000) })
      .then(async (r) => (await r.arrayBuffer(), r.ok))
      .catch(() => false);
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`the server at ${url} did not answer in ${START_TIMEOUT_MS / 1000} s`);
}

/** What one server lifetime's model did, from its event stream: refits started and finished. */
interface ModelWatch {
  refitsStarted: number;
  refitsFinished: number;
  readonly refitSeconds: number[];
  lastFitId: number | null | undefined;
  fittingSince: number | undefined;
}

/** Follows /api/events until the stream ends (the server died or stopped) or `signal` aborts. */
function followModel(url: string, signal: AbortSignal): ModelWatch {
  const watch: ModelWatch = {
    refitsStarted: 0,
    refitsFinished: 0,
    refitSeconds: [],
    lastFitId: undefined,
    fittingSince: undefined,
  };
  const onModel = (model: { fitId: number | null; state: string }): void => {
    if (model.state === 'fitting' && watch.fittingSince === undefined) {
      watch.refitsStarted++;
      watch.fittingSince = performance.now();
    }
    if (watch.lastFitId !== undefined && model.fitId !== null && model.fitId !== watch.lastFitId) {
      watch.refitsFinished++;
      if (watch.fittingSince !== undefined) watch.refitSeconds.push((performance.now() - watch.fittingSince) / 1000);
    }
    if (model.state !== 'fitting') watch.fittingSince = undefined;
    watch.lastFitId = model.fitId;
  };
  void (async () => {
    const response = await fetch(`${url}api/events`, { signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const lines = (pending + decoder.decode(value, { stream: true })).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const event = JSON.parse(line.slice(5)) as { type?: string; model?: { fitId: number | null; state: string } };
        if (event.type === 'model' && event.model) onModel(event.model);
      }
    }
  })().catch(() => undefined);
  return watch;
}

// ---------------------------------------------------------------------------------------------
// Clients. Client c owns the images with (id - 1) % clients === c and writes them one request at a
// time, so its acknowledgements arrive in the order the server applied them: the last ack per image
// is exactly the state the database must hold. (Shared images would make "last" ambiguous between
// two clients' concurrent writes.) A global sequence stamps every ack; the highest wins.

type Op = 'put' | 'bulk' | 'delete';

interface Write {
  readonly op: Op;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly items: readonly { readonly imageId: number; readonly label: string | null }[];
}

interface Ack {
  readonly state: string | null;
  readonly seq: number;
  readonly client: number;
}

const acked = new Map<number, Ack>();
/** Writes given up unacknowledged at the end: applied or not, either outcome is correct. */
const inDoubt = new Map<number, (string | null)[]>();
const latencies: number[] = [];
const latencyByOp: Record<Op, number[]> = { put: [], bulk: [], delete: [] };
const errors = new Map<string, number>();
let seq = 0;
let labelOps = 0;
let retries = 0;
let rejected = 0;
let givenUp = 0;
const rejections: string[] = [];

function nextWrite(client: number, random: () => number): Write {
  const owned = Math.ceil((imageCount - client) / clientCount);
  const pickId = (): number => 1 + client + clientCount * Math.floor(random() * owned);
  // Mostly the cluster's own class, so refits have signal to find; sometimes another.
  const pickLabel = (id: number): string =>
    CLASSES[random() < 0.8 ? truthOf(id) : Math.floor(random() * CLASSES.length)]!;
  const roll = random();
  if (roll < 0.8) {
    const id = pickId();
    const label = pickLabel(id);
    return {
      op: 'put',
      method: 'PUT',
      path: `api/images/${id}/label`,
      body: JSON.stringify({ label }),
      items: [{ imageId: id, label }],
    };
  }
  if (roll < 0.9) {
    const id = pickId();
    return { op: 'delete', method: 'DELETE', path: `api/images/${id}/label`, items: [{ imageId: id, label: null }] };
  }
  const ids = new Set(Array.from({ length: 5 + Math.floor(random() * 16) }, pickId));
  const items = [...ids].map((imageId) => ({ imageId, label: random() < 0.15 ? null : pickLabel(imageId) }));
  return { op: 'bulk', method: 'POST', path: 'api/labels', body: JSON.stringify({ items }), items };
}

function errorKind(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  return e.cause?.code ?? e.cause?.name ?? e.name ?? 'error';
}

/**
 * Sends one write until it is acknowledged (2xx), refused (4xx: a bug here or there, never retried)
 * or `giveUpAt` passes. Connection failures and 5xx retry with capped exponential backoff.
 */
async function deliver(
  url: () => string,
  write: Write,
  giveUpAt: number,
  random: () => number,
): Promise<{ ok: true; ms: number } | { ok: false; refused: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    try {
      const response = await fetch(url() + write.path, {
        method: write.method,
        headers: write.body === undefined ? {} : { 'content-type': 'application/json' },
        body: write.body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      if (response.ok) return { ok: true, ms };
      if (response.status < 500) {
        if (rejections.length < 10) rejections.push(`${write.method} /${write.path} -> ${response.status} ${text}`);
        return { ok: false, refused: true };
      }
      errors.set(`HTTP ${response.status}`, (errors.get(`HTTP ${response.status}`) ?? 0) + 1);
    } catch (error) {
      const kind = errorKind(error);
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
    }
    if (performance.now() >= giveUpAt) return { ok: false, refused: false };
    retries++;
    await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)) * (0.5 + random()));
  }
}

async function runClient(client: number, url: () => string, end: number): Promise<void> {
  const random = seededRandom(1000 + client);
  while (performance.now() < end) {
    const write = nextWrite(client, random);
    const outcome = await deliver(url, write, end + DRAIN_MS, random);
    if (outcome.ok) {
      const stamp = ++seq;
      for (const item of write.items) {
        const previous = acked.get(item.imageId);
        if (!previous || previous.seq < stamp) acked.set(item.imageId, { state: item.label, seq: stamp, client });
      }
      latencies.push(outcome.ms);
      latencyByOp[write.op].push(outcome.ms);
      labelOps += write.items.length;
    } else if (outcome.refused) {
      rejected++;
    } else {
      givenUp++;
      for (const item of write.items) inDoubt.set(item.imageId, [...(inDoubt.get(item.imageId) ?? []), item.label]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Figures.

interface RssSample {
  readonly t: number; // seconds since the clock started
  readonly lifetime: number;
  readonly mib: number;
}

function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined; // gone between the check and the read
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Least-squares slope of y over x (per unit of x); NaN under two points. */
function slope(points: readonly { x: number; y: number }[]): number {
  if (points.length < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

// ---------------------------------------------------------------------------------------------

let server: ServerProcess | undefined;
let exitCode = 0;
try {
  const template = await cachedTemplate();
  runDir = mkdtempSync(join(tmpdir(), 'autolabel-bench-soak-run-'));
  await cp(template, runDir, { recursive: true });
  const workspace = join(runDir, 'ws');

  const bootStarted = performance.now();
  server = await startOn(workspace, 0);
  await untilAnswering(server.url);
  const port = server.port;
  log(`server: ${server.url} (pid ${server.pid}) answering after ${fixed((performance.now() - bootStarted) / 1000)} s`);

  const t0 = performance.now();
  const end = t0 + minutes * 60_000;
  let lifetime = 0;
  const lifetimeStarts = [0]; // seconds since the clock started, when each server first answered
  const samples: RssSample[] = [];
  const sample = (): void => {
    const mib = server ? rssMiB(server.pid) : undefined;
    if (mib !== undefined) samples.push({ t: (performance.now() - t0) / 1000, lifetime, mib });
  };
  sample();
  const sampler = setInterval(sample, RSS_EVERY_MS);
  const following = new AbortController();
  const watches = [followModel(server.url, following.signal)];
  const outputs: string[] = [];

  interface Restart {
    readonly at: number; // seconds since the clock started
    readonly exitMs: number;
    readonly listeningMs: number;
    readonly answeringMs: number;
  }
  const restarts: Restart[] = [];
  const killer = (async () => {
    for (let k = 1; t0 + k * killEverySeconds * 1000 < end; k++) {
      await sleep(t0 + k * killEverySeconds * 1000 - performance.now());
      const current = server!;
      sample(); // RSS at the end of this lifetime
      const killedAt = performance.now();
      current.child.kill('SIGKILL');
      await current.exited;
      outputs.push(current.output());
      const exitMs = performance.now() - killedAt;
      server = undefined;
      const next = await startOn(workspace, port);
      const listeningMs = performance.now() - killedAt;
      server = next;
      lifetime++;
      await untilAnswering(next.url);
      const answeringMs = performance.now() - killedAt;
      lifetimeStarts.push((performance.now() - t0) / 1000);
      watches.push(followModel(next.url, following.signal));
      sample(); // RSS at the start of the new lifetime
      restarts.push({ at: (killedAt - t0) / 1000, exitMs, listeningMs, answeringMs });
      log(
        `restart ${restarts.length} at ${fixed((killedAt - t0) / 1000, 0)} s: exited in ${fixed(exitMs, 0)} ms, ` +
          `listening after ${fixed(listeningMs / 1000)} s, answering after ${fixed(answeringMs / 1000)} s; ` +
          `${latencies.length} writes acknowledged so far`,
      );
    }
  })();
  const url = (): string => `http://127.0.0.1:${port}/`;
  // A failed restart rejects this at once; the finally below then kills the server and the process exits.
  await Promise.all([killer, ...Array.from({ length: clientCount }, (_, c) => runClient(c, url, end))]);
  const elapsed = (performance.now() - t0) / 1000;
  sample();
  clearInterval(sampler);

  // Clean stop: SIGINT, as Ctrl-C; the server saves what is in flight and closes the database.
  const last = server!;
  const stopping = performance.now();
  following.abort();
  last.child.kill('SIGINT');
  const stopCode = await Promise.race([last.exited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)]);
  const stopSeconds = (performance.now() - stopping) / 1000;
  const cleanStop = stopCode === 0;
  if (stopCode === 'timeout') last.child.kill('SIGKILL');
  outputs.push(last.output());
  server = undefined;

  // The check, read-only on the database the last server left.
  const db = new Database(join(workspace, 'autolabel.db'), { readonly: true, fileMustExist: true });
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  const rows = db.prepare('SELECT image_id AS id, label FROM labels').all() as { id: number; label: string }[];
  const duplicated = (
    db
      .prepare('SELECT COUNT(*) AS n FROM (SELECT image_id FROM labels GROUP BY image_id HAVING COUNT(*) > 1)')
      .get() as { n: number }
  ).n;
  db.close();
  const stored = new Map(rows.map((r) => [r.id, r.label]));
  let lostLabels = 0;
  let lostClears = 0;
  let phantom = 0;
  let doubtful = 0;
  let matched = 0;
  const lostExamples: string[] = [];
  for (let id = 1; id <= imageCount; id++) {
    const ack = acked.get(id);
    const expected = ack ? ack.state : initialOf(id);
    const actual = stored.get(id) ?? null;
    if (actual === expected) {
      if (ack) matched++;
      continue;
    }
    if (inDoubt.get(id)?.includes(actual)) doubtful++;
    else if (!ack) phantom++;
    else {
      if (ack.state === null) lostClears++;
      else lostLabels++;
      if (lostExamples.length < 10) {
        lostExamples.push(`image ${id}: acked ${ack.state ?? 'cleared'} (seq ${ack.seq}), stored ${actual ?? 'none'}`);
      }
    }
  }
  phantom += rows.filter((r) => r.id < 1 || r.id > imageCount).length;
  const lost = lostLabels + lostClears;
  const integrityOk = integrity.length === 1 && integrity[0] === 'ok';

  // RSS per lifetime: the samples, the last one, and the slopes within the lifetime (all samples, and
  // those after SETTLE_S, which is the figure for growth in steady use).
  const lifetimes = Array.from({ length: lifetime + 1 }, (_, i) => {
    const own = samples.filter((s) => s.lifetime === i);
    const settled = own.filter((s) => s.t >= lifetimeStarts[i]! + SETTLE_S);
    return {
      lifetime: i,
      startedAt: lifetimeStarts[i]!,
      samples: own.map((s) => ({ t: Number(s.t.toFixed(1)), mib: Number(s.mib.toFixed(1)) })),
      endMiB: own.at(-1)?.mib ?? NaN,
      maxMiB: largest(own.map((s) => s.mib)),
      slopeMiBPerMin: slope(own.map((s) => ({ x: s.t / 60, y: s.mib }))),
      settledSlopeMiBPerMin: slope(settled.map((s) => ({ x: s.t / 60, y: s.mib }))),
      refitsStarted: watches[i]?.refitsStarted ?? 0,
      refitsFinished: watches[i]?.refitsFinished ?? 0,
      refitSeconds: watches[i]?.refitSeconds ?? [],
      serverOutputTail: outputs[i]?.slice(-2000) ?? '',
    };
  });
  const refitSeconds = lifetimes.flatMap((l) => l.refitSeconds);
  const slopes = lifetimes.map((l) => l.settledSlopeMiBPerMin).filter(Number.isFinite);
  const ends = lifetimes.map((l) => l.endMiB);
  const answering = restarts.map((r) => r.answeringMs / 1000);

  const table: [string, string][] = [
    [
      'run',
      `${imageCount} images x ${dim}-d, ${clientCount} clients, ${fixed(elapsed, 0)} s, kill every ${killEverySeconds} s`,
    ],
    [
      'writes acknowledged',
      `${latencies.length} requests (${fixed(latencies.length / elapsed)} req/s), ${labelOps} label ops (${fixed(labelOps / elapsed)}/s); ` +
        `put ${latencyByOp.put.length}, bulk ${latencyByOp.bulk.length}, delete ${latencyByOp.delete.length}`,
    ],
    [
      'retries',
      `${retries} (${[...errors].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'}); refused ${rejected}, given up ${givenUp}`,
    ],
    [
      'latency (round trip)',
      `p50 ${fixed(percentile(latencies, 50))} ms, p99 ${fixed(percentile(latencies, 99))} ms, max ${fixed(largest(latencies), 0)} ms`,
    ],
    [
      'restarts',
      `${restarts.length}; answering again after min ${fixed(-largest(answering.map((x) => -x)))} s, median ${fixed(percentile(answering, 50))} s, max ${fixed(largest(answering))} s`,
    ],
    ...lifetimes.map((l): [string, string] => [
      `RSS lifetime ${l.lifetime} (MiB)`,
      `${l.samples.map((s) => s.mib.toFixed(0)).join(' ')} | end ${fixed(l.endMiB, 0)}, slope ${fixed(l.slopeMiBPerMin)} MiB/min (after ${SETTLE_S} s: ${fixed(l.settledSlopeMiBPerMin)})`,
    ]),
    [
      'RSS trend',
      `end of lifetimes ${ends.map((e) => fixed(e, 0)).join(', ')} MiB; median slope within lifetimes after ${SETTLE_S} s ${fixed(percentile(slopes, 50))} MiB/min`,
    ],
    [
      'check',
      `${acked.size} images acknowledged, ${matched} match; lost ${lost} (labels ${lostLabels}, clears ${lostClears}); ` +
        `duplicated ${duplicated}; in doubt ${doubtful}; unexpected ${phantom}; integrity ${integrityOk ? 'ok' : integrity.slice(0, 3).join('; ')}`,
    ],
    [
      'refits',
      `${lifetimes.reduce((n, l) => n + l.refitsStarted, 0)} started, ${refitSeconds.length} finished` +
        (refitSeconds.length ? ` (median ${fixed(percentile(refitSeconds, 50))} s)` : '') +
        `; per lifetime ${lifetimes.map((l) => `${l.refitsFinished}/${l.refitsStarted}`).join(' ')}`,
    ],
    [
      'server stop',
      `${cleanStop ? 'clean (exit 0)' : `not clean (${String(stopCode)})`} after ${fixed(stopSeconds)} s (SIGINT waits for the refit in flight)`,
    ],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  process.stdout.write(`\n${table.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  for (const line of lostExamples) process.stdout.write(`  lost: ${line}\n`);
  for (const line of rejections) process.stdout.write(`  refused: ${line}\n`);

  await mkdir(outDir, { recursive: true });
  const results = {
    config: { images: imageCount, dim, clients: clientCount, minutes, killEverySeconds },
    elapsedSeconds: elapsed,
    writes: {
      acknowledged: latencies.length,
      labelOps,
      perSecond: latencies.length / elapsed,
      labelOpsPerSecond: labelOps / elapsed,
      byOp: Object.fromEntries(Object.entries(latencyByOp).map(([op, values]) => [op, values.length])),
      retries,
      errors: Object.fromEntries(errors),
      refused: rejected,
      refusals: rejections,
      givenUp,
    },
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: largest(latencies),
      byOp: Object.fromEntries(
        Object.entries(latencyByOp).map(([op, values]) => [
          op,
          { p50: percentile(values, 50), p99: percentile(values, 99), max: largest(values) },
        ]),
      ),
    },
    restarts,
    rss: {
      everyMs: RSS_EVERY_MS,
      lifetimes,
      endOfLifetimeMiB: ends,
      settleSeconds: SETTLE_S,
      medianSettledSlopeMiBPerMin: percentile(slopes, 50),
    },
    check: {
      imagesAcknowledged: acked.size,
      matched,
      lost,
      lostLabels,
      lostClears,
      lostExamples,
      duplicated,
      inDoubt: doubtful,
      unexpected: phantom,
      integrity,
    },
    cleanStop,
    stopSeconds,
  };
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(
    join(outDir, 'rss.svg'),
    lineChart({
      title: `Server RSS over a ${minutes}-minute soak, SIGKILL every ${killEverySeconds} s`,
      xLabel: 'seconds',
      yLabel: 'RSS (MiB)',
      series: lifetimes.map((l) => ({
        name: `lifetime ${l.lifetime}`,
        points: l.samples.map((s) => ({ x: s.t, y: s.mib })),
      })),
    }),
  );
  process.stdout.write(`\nwrote ${join(outDir, 'results.json')} and rss.svg\n`);

  if (lost > 0 || duplicated > 0 || phantom > 0 || !integrityOk || rejected > 0 || !cleanStop) {
    keepRunDir = true;
    process.stdout.write(`check FAILED; workspace kept at ${runDir}\n`);
    exitCode = 1;
  }
} finally {
  if (server) server.child.kill('SIGKILL');
  for (const child of children) child.kill('SIGKILL');
}
process.exit(exitCode);

/** The largest value; spreading 800,000 latencies into Math.max overflows the call stack. */
function largest(values: readonly number[]): number {
  let best = -Infinity;
  for (const v of values) if (v > best) best = v;
  return best;
}
