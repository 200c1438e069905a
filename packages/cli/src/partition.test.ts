// A network partition between a worker and the queue, made with a network namespace on this machine
// (never another address): worker A runs in its own namespace, reaching PostgreSQL (store and queue)
// over a veth pair through a relay; its link goes down for 30 s in the middle of a batch. Its batch
// goes to worker B; nothing is lost, no job is completed twice, and A works again once the link is up.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testPostgres, writeImage, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson } from './testing/cli.js';

const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const PARTITION_MS = 30_000;

/** Why network namespaces cannot be made here, or null when they can (root, iproute2, CAP_NET_ADMIN). */
function netnsProblem(): string | null {
  if (userInfo().uid !== 0) return 'network namespaces need root';
  const probe = `alprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `ip netns add fails here: ${(error as Error).message.split('\n')[0]}`;
  }
}

const problem = netnsProblem();
const postgres = problem === null ? await testPostgres() : { skip: problem, server: undefined };
const server = postgres.server;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });

interface Line {
  readonly type: string;
  readonly jobId?: string;
  readonly result?: { embedded: number; alreadyDone: number };
}

/** A worker whose JSON lines are kept with the time they came. */
function startWorker(
  command: string[],
  onLine: (line: Line) => void,
): { child: ChildProcess; lines: Line[]; log: () => string } {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let buffer = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    output += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (!text.startsWith('{"type"')) continue;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, lines, log: () => output };
}

async function writeImages(dir: string, from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from }, (_, k) =>
      writeImage(join(dir, `img${String(from + k).padStart(4, '0')}.png`), 'png', {
        width: 12,
        height: 12,
        color: [(from + k) % 251, ((from + k) * 7) % 253, ((from + k) * 13) % 255],
        noise: 40,
        seed: from + k,
      }),
    ),
  );
}

async function waitFor(what: string, done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

if (!server) {
  describe.skip(`a worker cut off by a network partition (skipped: ${postgres.skip})`, () => {
    it('needs root, ip netns and a PostgreSQL server', () => undefined);
  });
} else {
  const tag = `${process.pid % 100_000}`;
  const ns = `alns${tag}`;
  const hostIf = `alh${tag}`;
  const nsIf = `aln${tag}`;
  const octet = (process.pid % 200) + 20;
  const hostAddress = `10.251.${octet}.1`;
  const drops: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-partition-'));
  const children: ChildProcess[] = [];
  let relay: Server | undefined;
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const socket of sockets) socket.destroy();
    relay?.close();
    for (const args of [
      ['link', 'del', hostIf],
      ['netns', 'del', ns],
    ]) {
      try {
        ip(...args);
      } catch {
        // Not made, or gone with the namespace.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    for (const name of drops) await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
  });

  describe('a worker cut off by a network partition', () => {
    it('loses no batch and completes none twice, and works again when the link is back', async () => {
      // The namespace and its link: 10.251.N.1 on this side, 10.251.N.2 inside.
      ip('netns', 'add', ns);
      ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
      ip('link', 'set', nsIf, 'netns', ns);
      ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
      ip('link', 'set', hostIf, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `10.251.${octet}.2/30`, 'dev', nsIf);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      // PostgreSQL listens on loopback only: a relay on the link's address carries the namespace's connections.
      const pgPort = Number(new URL(server.url).port);
      relay = createServer((inbound) => {
        const outbound = createConnection(pgPort, '127.0.0.1');
        for (const socket of [inbound, outbound]) {
          sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => sockets.delete(socket));
        }
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('close', () => outbound.destroy());
        outbound.on('close', () => inbound.destroy());
      });
      await new Promise<void>((resolve) => relay!.listen(0, hostAddress, resolve));
      const relayPort = (relay.address() as { port: number }).port;

      const database = async (prefix: string): Promise<{ local: string; remote: string }> => {
        const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
        await sql(server.url, `CREATE DATABASE ${name}`);
        drops.push(name);
        const local = Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
        const remote = Object.assign(new URL(local), { hostname: hostAddress, port: String(relayPort) }).toString();
        return { local, remote };
      };
      const store = await database('autolabel_partition_store');
      const queue = await database('autolabel_partition_queue');
      const photos = join(dir, 'photos');
      await writeImages(photos, 0, 600);
      const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8, inputSize: 16 });
      expect(
        runCli(dir, ['init', '--images', 'photos', '--model', `onnx:${model.dir}`, '--store', store.local]).code,
      ).toBe(0);
      expect(runCli(dir, ['scan', '-q']).code).toBe(0);

      const common = ['--threads', '1', '--lock-timeout', '3', '--json'];
      let cut: { jobId: string; at: number } | undefined;
      let healed = false;
      const a = startWorker(
        [
          'ip',
          'netns',
          'exec',
          ns,
          process.execPath,
          bin,
          'worker',
          '--store',
          store.remote,
          '--queue',
          queue.remote,
          '--name',
          'A',
          ...common,
        ],
        (line) => {
          // The link goes down as A begins its third batch: A holds it, mid-batch.
          if (!cut && line.type === 'started' && a.lines.filter((l) => l.type === 'started').length === 3) {
            cut = { jobId: line.jobId!, at: Date.now() };
            ip('link', 'set', hostIf, 'down');
            setTimeout(() => {
              ip('link', 'set', hostIf, 'up');
              healed = true;
            }, PARTITION_MS);
          }
        },
      );
      const b = startWorker(
        [process.execPath, bin, 'worker', '--store', store.local, '--queue', queue.local, '--name', 'B', ...common],
        () => undefined,
      );
      children.push(a.child, b.child);
      await waitFor('both workers', () => [a, b].every((w) => w.lines.some((l) => l.type === 'ready')), 60_000);

      const embed = spawn(process.execPath, [bin, 'embed', '--queue', queue.local, '--job-size', '20', '-q'], {
        cwd: dir,
      });
      children.push(embed);
      const embedExit = new Promise<number | null>((resolve) => embed.once('exit', resolve));
      expect(await embedExit).toBe(0);
      expect(cut).toBeDefined();
      // B finished the queue while A was cut off; then the link comes back.
      await waitFor('the link to come back', () => healed, PARTITION_MS + 10_000);
      // B goes; new images are queued; only A is left to do them: A works again.
      b.child.kill('SIGTERM');
      expect(await new Promise((resolve) => b.child.once('exit', resolve))).toBe(0);
      await writeImages(photos, 600, 700);
      expect(runCli(dir, ['scan', '-q']).code).toBe(0);
      const again = spawn(process.execPath, [bin, 'embed', '--queue', queue.local, '--job-size', '20', '-q'], {
        cwd: dir,
      });
      children.push(again);
      expect(await new Promise((resolve) => again.once('exit', resolve)), a.log()).toBe(0);
      a.child.kill('SIGTERM');
      await new Promise((resolve) => a.child.once('exit', resolve));

      // The cut-off batch was completed once, by B; every job was completed exactly once.
      const done = [...a.lines.map((l) => ({ ...l, by: 'A' })), ...b.lines.map((l) => ({ ...l, by: 'B' }))].filter(
        (l) => l.type === 'done',
      );
      expect(done).toHaveLength(700 / 20);
      expect(new Set(done.map((l) => l.jobId)).size).toBe(700 / 20);
      expect(done.find((l) => l.jobId === cut!.jobId)?.by).toBe('B');
      // After the link was back, A did the new batches.
      expect(done.filter((l) => l.by === 'A').length).toBeGreaterThanOrEqual(100 / 20);
      // And the store holds each image's vector once.
      const rows = (
        await sql(store.local, 'SELECT count(*)::int AS n, count(DISTINCT content_hash)::int AS d FROM embeddings')
      ).rows as { n: number; d: number }[];
      expect(rows[0]).toEqual({ n: 700, d: 700 });
      const status = runCliJson<{ imageCount: number; embedded: number }>(dir, ['status']);
      expect(status).toMatchObject({ imageCount: 700, embedded: 700 });
    }, 150_000);
  });
}
