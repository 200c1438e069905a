/**
 * @module A queue worker's entry point: the store it works on, named by a PostgreSQL URL (the shared
 * store of a workspace on another machine) or by a workspace folder (its own store, SQLite or shared),
 * and the queue it takes jobs from. Jobs carry the rest (model, images root), so a worker on another
 * machine needs no workspace folder.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutolabelError } from '../errors.js';
import { runQueueWorker, type QueueWorkerOptions, type QueueWorkerSummary } from '../queue/index.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { CONFIG_FILE, DATABASE_FILE, readConfig } from './config.js';

export interface RunWorkerOptions extends QueueWorkerOptions {
  /** postgres://user@host:port/database, or a workspace folder. */
  readonly store: string;
}

/** Processes jobs from the queue against the store until `signal` aborts (see queue/worker.ts). */
export async function runWorker(options: RunWorkerOptions): Promise<QueueWorkerSummary> {
  const store = await openWorkerStore(options.store);
  try {
    return await runQueueWorker(store, options);
  } finally {
    await store.close();
  }
}

async function openWorkerStore(location: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(location)) return openStore(location, '');
  const dir = resolve(location);
  if (!existsSync(join(dir, CONFIG_FILE))) {
    throw new AutolabelError(
      'WORKSPACE_NOT_FOUND',
      `store ${location}: neither a postgres:// URL nor an Autolabel workspace (no ${CONFIG_FILE} in ${dir})`,
    );
  }
  const config = await readConfig(dir);
  return openStore(config.store, join(dir, DATABASE_FILE));
}
