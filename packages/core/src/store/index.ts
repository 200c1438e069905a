/** @module Persistence: the Store port and its adapters. */
export type * from './store.js';
export { openSqliteStore, SqliteStore } from './sqlite/index.js';
export { openPostgresStore, PostgresStore } from './postgres/index.js';
