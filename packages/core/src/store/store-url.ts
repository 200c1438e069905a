/** @module Store URLs: which ones Autolabel opens, and how messages name them (never with a password). */
import { AutolabelError } from '../errors.js';

export const POSTGRES_SCHEMES = ['postgres:', 'postgresql:'];

/** Where a store URL points, as messages name it: user, host, port and database, never the password. */
export function describeStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
    const host = parsed.hostname || new URLSearchParams(parsed.search).get('host') || 'localhost';
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
    return `PostgreSQL ${user}${host}:${parsed.port || '5432'}/${database}`;
  } catch {
    return 'PostgreSQL (an unreadable store URL)';
  }
}

/** A store URL checked for what Autolabel can open: refused with a message naming it (without its password). */
export function checkStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `store ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))} is not a URL: give postgres://user@host:port/database`,
    );
  }
  if (!POSTGRES_SCHEMES.includes(parsed.protocol)) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `store ${parsed.protocol}//${parsed.host}${parsed.pathname}: unknown kind of store "${parsed.protocol.replace(/:$/, '')}"; ` +
        "give postgres://user@host:port/database (PostgreSQL), or no store for the workspace's own SQLite file",
    );
  }
  if (parsed.pathname.replace(/^\//, '') === '') {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `store postgres://${parsed.host}: name the database, as in postgres://user@host:port/database`,
    );
  }
  return url;
}
