/**
 * @module Locks of the PostgreSQL Store, across every process on one database: advisory locks, held by
 * a transaction (the store's own: migrations, serialized writes, a fit save) or by a connection of their
 * own (named locks, `Store.tryLock` / `withLock`). The server lets go of them when the holder's
 * transaction or connection ends, a crashed or killed process included, so nothing is ever left behind.
 */
import { AutolabelError } from '../../errors.js';
import type { StoreLock } from '../store.js';
import { type Connection, pgError, type Queries } from './connection.js';

/** The first key of the store's own advisory locks ("Alb1"), apart from other users of the database. */
export const ADVISORY_NAMESPACE = 0x416c6231;
/** The first key of named locks: their second key is a hash of the name. */
const NAMED_NAMESPACE = 0x416c6232;
export const MIGRATE_LOCK_KEY = 1;
/** Writes that read before they write (labels, the journal, classes, checks) run one at a time, as SQLite's do. */
export const WRITE_LOCK_KEY = 2;
export const FIT_LOCK_KEY = 3;

/** How often a held named lock checks that its connection (and so the lock) is still there. */
const LOCK_BEAT_MS = 5000;

/** SQLSTATE lock_not_available: `lock_timeout` ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/** A 31-bit FNV-1a hash of the name: the second key of its advisory lock (non-negative, as pg_locks shows it). */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash & 0x7fffffff;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Who holds an advisory lock, in words: the holder's application name (pid and host), its address and since when. */
async function holderOf(q: Queries, classid: number, objid: number): Promise<string> {
  const row = await q
    .one<{ application_name: string; client_addr: string | null; since: string | null }>(
      `SELECT a.application_name, host(a.client_addr) AS client_addr,
         to_char(coalesce(a.xact_start, a.backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
       LIMIT 1`,
      [classid, objid],
    )
    .catch(() => undefined);
  if (!row) return 'another process';
  const name = row.application_name.startsWith('autolabel ')
    ? row.application_name.slice('autolabel '.length)
    : row.application_name;
  const from = row.client_addr ? `, connected from ${row.client_addr}` : '';
  return `another process (${name || 'unnamed'}${from}${row.since ? `, since ${row.since}` : ''})`;
}

/**
 * Inside a transaction: waits up to `waitMs` for the advisory lock (ADVISORY_NAMESPACE, key), held until
 * the transaction ends; `refusal` words the error when the wait runs out, naming the holder.
 */
export async function lockForTransaction(
  q: Queries,
  pool: Connection,
  key: number,
  waitMs: number,
  refusal: (holder: string, waited: string) => string,
): Promise<void> {
  await q.run(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
  try {
    await q.run('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_NAMESPACE, key]);
  } catch (error) {
    if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
    const holder = await pool.read('name the holder of a lock', (pq) => holderOf(pq, ADVISORY_NAMESPACE, key));
    throw new AutolabelError('STORE_FAILED', refusal(holder, seconds(waitMs)), { cause: error });
  }
  // Other statements of the transaction wait as long as the server says (no timeout), as before.
  await q.run('SET LOCAL lock_timeout = 0');
}

/** A named lock held by a connection of its own: released by `release`, or by the server when the process goes. */
async function held(pool: Connection, name: string, take: 'try' | number): Promise<StoreLock | undefined> {
  const key = lockKey(name);
  const { client, queries } = await pool.dedicated(`take the lock "${name}"`);
  let taken = false;
  try {
    if (take === 'try') {
      const row = await queries.one<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS taken', [
        NAMED_NAMESPACE,
        key,
      ]);
      taken = row?.taken === true;
    } else {
      await queries.run(`SET lock_timeout = ${Math.max(1, Math.round(take))}`);
      try {
        await queries.run('SELECT pg_advisory_lock($1, $2)', [NAMED_NAMESPACE, key]);
        taken = true;
      } catch (error) {
        if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
        const holder = await holderOf(queries, NAMED_NAMESPACE, key);
        throw new AutolabelError(
          'STORE_FAILED',
          `cannot take the lock "${name}" in ${pool.where}: ${holder} holds it, and still did after waiting ${seconds(take)}`,
          { cause: error },
        );
      }
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw pgError(pool.where, `take the lock "${name}"`, error);
  } finally {
    if (!taken) await client.end().catch(() => undefined);
  }
  if (!taken) return undefined;
  let released = false;
  const lost = new AbortController();
  const lose = (why: string): void => {
    clearInterval(beat);
    if (!released && !lost.signal.aborted) {
      lost.abort(new AutolabelError('STORE_FAILED', `lost the lock "${name}" in ${pool.where}: ${why}`));
    }
  };
  // The server holds the lock as long as the session lives: a beat checks that it still does.
  const beat = setInterval(() => {
    queries.run('SELECT 1').catch((error: unknown) => {
      lose(`its connection to the server failed (${error instanceof Error ? error.message : String(error)})`);
      client.end().catch(() => undefined);
    });
  }, LOCK_BEAT_MS);
  beat.unref();
  client.once('end', () => lose('its connection to the server ended'));
  client.once('error', (error) => lose(`its connection to the server failed (${error.message})`));
  return {
    name,
    signal: lost.signal,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(beat);
      // Ending the connection lets go of the lock whether or not the unlock gets through.
      await queries.run('SELECT pg_advisory_unlock($1, $2)', [NAMED_NAMESPACE, key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

export function tryNamedLock(pool: Connection, name: string): Promise<StoreLock | undefined> {
  return held(pool, name, 'try');
}

export async function withNamedLock<T>(
  pool: Connection,
  name: string,
  waitMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const lock = (await held(pool, name, waitMs))!;
  try {
    return await work(lock.signal);
  } finally {
    await lock.release();
  }
}
