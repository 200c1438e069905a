/**
 * @module Throwaway PostgreSQL and Redis servers for tests: the one CI started (its URL in
 * AUTOLABEL_TEST_POSTGRES_URL / AUTOLABEL_TEST_REDIS_URL), else one started here from the local binaries
 * on a free loopback port in a temporary folder, else a reason to skip (never in CI, where that fails).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A server tests can use: its URL, and `stop` (a no-op for a server someone else started). */
export interface TestServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** A server, or why there is none (tests show the reason as they skip). */
export type TestServerOrSkip =
  { readonly server: TestServer; readonly skip?: undefined } | { readonly server?: undefined; readonly skip: string };

export const POSTGRES_URL_VARIABLE = 'AUTOLABEL_TEST_POSTGRES_URL';
export const REDIS_URL_VARIABLE = 'AUTOLABEL_TEST_REDIS_URL';

const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/** No server: a reason to skip, except in CI (CI=true), where every test must run, so it throws. */
export function missingServer(reason: string): TestServerOrSkip {
  if (inCi()) throw new Error(`CI=true, but ${reason}: CI must run the tests that need it (.ci/run starts one)`);
  return { skip: reason };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The first of `names` found in PATH or in `dirs`. */
function findBinary(names: readonly string[], dirs: readonly string[]): string | undefined {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of [...path, ...dirs]) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin: the newest is taken. */
function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (or `nobody`). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error('running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as');
}

/** Starts `command`, resolving once a line of its output matches `ready`; rejects with its output if it exits first. */
async function startProcess(
  command: string,
  args: readonly string[],
  ready: RegExp,
  user: { uid: number; gid: number } | undefined,
  timeoutMs = 30_000,
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} was not ready after ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output}`));
    });
  });
  // Keep reading, so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** A throwaway server goes with the process that started it, when that one exits without stopping it. */
function stopOnExit(child: ChildProcess, dir: string): () => void {
  const stop = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return () => process.off('exit', stop);
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(late);
}

/**
 * A PostgreSQL server for tests: `AUTOLABEL_TEST_POSTGRES_URL`, or a throwaway one (initdb into a temporary
 * folder, trust authentication for user `autolabel`, loopback only, durability off since it is thrown away).
 * Its URL names the `postgres` database; tests create their own databases or schemas in it.
 */
export async function testPostgres(): Promise<TestServerOrSkip> {
  const given = process.env[POSTGRES_URL_VARIABLE];
  if (given) return { server: { url: given, stop: async () => undefined } };
  const dirs = postgresBinDirs();
  const initdb = findBinary(['initdb'], dirs);
  const postgres = initdb && findBinary(['postgres'], [join(initdb, '..'), ...dirs]);
  if (!initdb || !postgres) {
    return missingServer(
      `${POSTGRES_URL_VARIABLE} is not set and no PostgreSQL server binaries (initdb, postgres) were found`,
    );
  }
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  try {
    execFileSync(initdb, ['-D', data, '-U', 'autolabel', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
      stdio: 'pipe',
      ...user,
    });
    const port = await freePort();
    const child = await startProcess(
      postgres,
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      /database system is ready to accept connections/,
      user,
    );
    const forget = stopOnExit(child, dir);
    return {
      server: {
        url: `postgres://autolabel@127.0.0.1:${port}/postgres`,
        // SIGINT: fast shutdown, open connections are closed.
        stop: async () => {
          forget();
          await stopProcess(child, 'SIGINT');
          rmSync(dir, { recursive: true, force: true });
        },
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A Redis server for tests: `AUTOLABEL_TEST_REDIS_URL`, or a throwaway one (no persistence, loopback only). */
export async function testRedis(): Promise<TestServerOrSkip> {
  const given = process.env[REDIS_URL_VARIABLE];
  if (given) return { server: { url: given, stop: async () => undefined } };
  const redis = findBinary(['redis-server'], ['/usr/bin', '/usr/local/bin']);
  if (!redis) return missingServer(`${REDIS_URL_VARIABLE} is not set and no redis-server binary was found`);
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-redis-'));
  try {
    const port = await freePort();
    const child = await startProcess(
      redis,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
      undefined,
    );
    const forget = stopOnExit(child, dir);
    return {
      server: {
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          forget();
          await stopProcess(child, 'SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        },
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Runs one statement on the PostgreSQL server or database at `url`, on a connection of its own. */
export async function postgresQuery(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}
