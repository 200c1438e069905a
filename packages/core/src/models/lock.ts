/**
 * @module A lock file between processes: one downloads, the others wait and then use what it
 * fetched. The holder refreshes the file's time while it works; a lock whose holder is gone (its
 * pid no longer runs on this host) or silent for `staleMs` is taken over.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AutolabelError } from '../errors.js';

export interface LockOptions {
  /** A lock not refreshed for this long is taken over. Default 30 s. */
  readonly staleMs?: number;
  /** How often a waiter looks again. Default 100 ms. */
  readonly pollMs?: number;
  /** Called once when the lock is held by another process, with what it says about itself. */
  readonly onWait?: (holder: LockHolder) => void;
  readonly signal?: AbortSignal;
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly token: string;
}

export async function withLock<T>(file: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  let waited = false;
  for (;;) {
    if (options.signal?.aborted) throw new AutolabelError('ABORTED', `stopped waiting for ${file}`);
    try {
      await writeFile(file, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder === undefined || (await isStale(file, holder, staleMs))) {
      // Gone or silent: take it over (a holder that wrote nothing yet is given a moment first).
      if (holder !== undefined || (await ageMs(file)) > pollMs * 10) await rm(file, { force: true });
    } else if (!waited) {
      waited = true;
      options.onWait?.(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const beat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, staleMs / 3);
  beat.unref();
  try {
    return await work();
  } finally {
    clearInterval(beat);
    // Remove it only if it is still ours (a silent holder may have been taken over).
    if ((await readHolder(file))?.token === me.token) await rm(file, { force: true });
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.token === 'string' ? (holder as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

async function ageMs(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  return info ? Date.now() - info.mtimeMs : Infinity;
}

async function isStale(file: string, holder: LockHolder, staleMs: number): Promise<boolean> {
  if (holder.host === hostname() && !isRunning(holder.pid)) return true;
  return (await ageMs(file)) > staleMs;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
