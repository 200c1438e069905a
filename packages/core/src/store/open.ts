/**
 * @module The one place a store is chosen: by the scheme of its URL (`postgres://` or `postgresql://`
 * for PostgreSQL), else the workspace's SQLite file. The PostgreSQL adapter (and `pg`) loads only when a
 * workspace names one.
 */
import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './store.js';
import { checkStoreUrl } from './store-url.js';

/**
 * Opens the store a workspace uses: the PostgreSQL database at `url` (its schema created or migrated),
 * or, without one, the SQLite file `sqliteFile`.
 */
export async function openStore(url: string | undefined, sqliteFile: string): Promise<Store> {
  if (url === undefined) return openSqliteStore(sqliteFile);
  checkStoreUrl(url);
  const { openPostgresStore } = await import('./postgres/index.js');
  return openPostgresStore(url);
}
