/** @module The SQLite adapter of the Store port. */
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './store.js';
