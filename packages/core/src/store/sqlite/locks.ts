/**
 * @module Named locks of the SQLite Store (`Store.tryLock` / `withLock`): a row of `locks` per held lock,
 * as the fit-save lock's (fits.ts), with the holder's pid, host and a heartbeat refreshed on a timer
 * while it is held. A lock whose holder is gone (same host and pid namespace, pid not running) or whose
 * heartbeat is older than the stale limit is taken over.
 */
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutolabelError } from '../../errors.js';
import type { StoreLock } from '../store.js';
import { bestEffort, write, type WriteTarget } from './transaction.js';

/** Rows of named locks are `lock:<name>`, apart from the store's own (`fit-save`). */
const ROW_PREFIX = 'lock:';

/** A row of `locks`: who holds a lock and when it last showed a sign of life (the fit-save lock's too). */
export interface LockRow {
  owner: string;
  pid: number;
  host: string;
  pid_namespace: string;
  taken_at: number;
  heartbeat_at: number;
}

export interface NamedLockSettings extends WriteTarget {
  readonly lockWaitMs: number;
  readonly lockStaleMs: number;
}

/** Which process table a pid belongs to: the host and, on Linux, the pid namespace (containers). */
export function processSpace(): { host: string; pidNamespace: string } {
  let pidNamespace = '';
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host alone says which processes a pid can name.
  }
  return { host: hostname(), pidNamespace };
}

/** Whether a process of this machine is running: signal 0 checks without sending anything. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A lock is abandoned when its holder showed no sign of life for `staleMs`, or is a process of this machine that is gone. */
export function abandoned(row: LockRow, now: number, staleMs: number): boolean {
  if (now - row.heartbeat_at > staleMs) return true;
  const here = processSpace();
  return row.host === here.host && row.pid_namespace === here.pidNamespace && !processAlive(row.pid);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export class NamedLocks {
  readonly #target: NamedLockSettings;
  readonly #stmt;

  constructor(target: NamedLockSettings) {
    this.#target = target;
    const { db } = target;
    this.#stmt = {
      lock: db.prepare<[string], LockRow>('SELECT * FROM locks WHERE name = ?'),
      take: db.prepare<[string, string, number, string, string, number, number]>(
        `INSERT OR REPLACE INTO locks (name, owner, pid, host, pid_namespace, taken_at, heartbeat_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      refresh: db.prepare<[number, string, string]>('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner = ?'),
      release: db.prepare<[string, string]>('DELETE FROM locks WHERE name = ? AND owner = ?'),
    };
  }

  /** Locks taken by `tryLock` and not released yet: `releaseAll` lets go of them when the store closes. */
  readonly #held = new Set<StoreLock>();

  async releaseAll(): Promise<void> {
    await Promise.all([...this.#held].map((lock) => lock.release()));
  }

  async tryLock(name: string): Promise<StoreLock | undefined> {
    const owner = randomBytes(8).toString('hex');
    const holder = this.#tryTake(name, owner);
    return holder ? undefined : this.#holding(name, owner);
  }

  async withLock<T>(
    name: string,
    work: (signal: AbortSignal) => Promise<T>,
    waitMs = this.#target.lockWaitMs,
  ): Promise<T> {
    const owner = randomBytes(8).toString('hex');
    const deadline = Date.now() + waitMs;
    for (let pause = 20; ; pause = Math.min(2 * pause, 500)) {
      const holder = this.#tryTake(name, owner);
      if (!holder) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new AutolabelError(
          'STORE_FAILED',
          `cannot take the lock "${name}" in ${this.#target.file}: another process (pid ${holder.pid} on ${holder.host}) ` +
            `has held it since ${new Date(holder.taken_at).toISOString()}, and still did after waiting ${seconds(waitMs)}`,
        );
      }
      await sleep(Math.min(pause, left));
    }
    const lock = this.#holding(name, owner);
    try {
      return await work(lock.signal);
    } finally {
      await lock.release();
    }
  }

  /** In an immediate transaction: takes the lock, or returns its live holder. */
  #tryTake(name: string, owner: string): LockRow | undefined {
    return write(this.#target, `take the lock "${name}"`, () => {
      const now = Date.now();
      const row = this.#stmt.lock.get(ROW_PREFIX + name);
      if (row && !this.#abandoned(row, now)) return row;
      const here = processSpace();
      this.#stmt.take.run(ROW_PREFIX + name, owner, process.pid, here.host, here.pidNamespace, now, now);
      return undefined;
    });
  }

  #abandoned(row: LockRow, now: number): boolean {
    return abandoned(row, now, this.#target.lockStaleMs);
  }

  /**
   * A lock taken: its heartbeat beats a few times per stale limit until it is released, and finding
   * its row taken over (its process stalled past the limit) aborts its signal.
   */
  #holding(name: string, owner: string): StoreLock {
    const { db } = this.#target;
    const lost = new AbortController();
    const beat = setInterval(
      () => {
        let changed = 1;
        try {
          changed = this.#stmt.refresh.run(Date.now(), ROW_PREFIX + name, owner).changes;
        } catch {
          // Busy or full disk: the next beat tries again (the row ages only past the stale limit).
        }
        if (changed === 0) {
          clearInterval(beat);
          lost.abort(
            new AutolabelError(
              'STORE_FAILED',
              `lost the lock "${name}" in ${this.#target.file}: another process took it over after this one showed no sign of life for ${seconds(this.#target.lockStaleMs)}`,
            ),
          );
        }
      },
      Math.max(50, this.#target.lockStaleMs / 4),
    );
    // A held lock does not keep the process alive by itself.
    beat.unref();
    let released = false;
    const lock: StoreLock = {
      name,
      signal: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        this.#held.delete(lock);
        clearInterval(beat);
        if (db.open) bestEffort(db, () => this.#stmt.release.run(ROW_PREFIX + name, owner));
      },
    };
    this.#held.add(lock);
    return lock;
  }
}
