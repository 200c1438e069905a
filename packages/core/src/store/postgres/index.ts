/** @module The PostgreSQL adapter of the Store port. */
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './store.js';
