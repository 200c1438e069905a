/** @module Persistence: the Store port and its adapters. */
export type * from './store.js';
export { openSqliteStore, SqliteStore } from './sqlite.js';
export { HUMAN_LABEL_SOURCES, LABEL_ORIGINS } from './store.js';
