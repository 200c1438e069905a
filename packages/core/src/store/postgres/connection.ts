/**
 * @module The PostgreSQL connection of the Store: a pool, queries and transactions that fail as
 * AutolabelErrors naming the server (never the password) with what to check.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { AutolabelError, messageOf } from '../../errors.js';
import { describeStoreUrl } from '../store-url.js';

/** What to check, by the error's code (a SQLSTATE, or a Node socket error). */
function remedy(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'is the server running, and listening on that host and port?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'check the host name in the store URL';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the server did not answer: check the host, the port and any firewall between';
    case '28P01':
    case '28000':
      return 'check the user and password in the store URL, and pg_hba.conf on the server';
    case '3D000':
      return 'create the database first (createdb), or name one that exists';
    case '42501':
      return 'the user needs the right to create tables in the database (the store creates its schema)';
    case '53300':
      return 'the server has no connections left: raise max_connections, or run fewer processes';
    case '57P01':
    case '57P02':
    case 'ECONNRESET':
      return 'the server ended the connection (a restart, or the session was ended): run the command again';
    case '57P03':
      return 'the server is starting up or shutting down: try again in a moment';
    default:
      return '';
  }
}

/** A failed query or connection as an AutolabelError naming the server and saying what to check. */
export function pgError(where: string, what: string, error: unknown): AutolabelError {
  if (error instanceof AutolabelError) return error;
  const hint = remedy(error);
  return new AutolabelError(
    'STORE_FAILED',
    `could not ${what} in ${where}: ${messageOf(error)}${hint ? `; ${hint}` : ''}`,
    {
      cause: error,
    },
  );
}

/** A query runner: the pool, or one client inside a transaction. */
export interface Queries {
  rows<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  one<R extends object>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** Runs a statement; returns the rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

function queriesOf(client: pg.Pool | pg.PoolClient | pg.Client): Queries {
  return {
    rows: async <R extends object>(sql: string, params?: readonly unknown[]) =>
      (await client.query<R>(sql, params as unknown[])).rows,
    one: async <R extends object>(sql: string, params?: readonly unknown[]) =>
      (await client.query<R>(sql, params as unknown[])).rows[0] as R | undefined,
    run: async (sql: string, params?: readonly unknown[]) =>
      (await client.query(sql, params as unknown[])).rowCount ?? 0,
  };
}

/** How the server lists this process's connections (pg_stat_activity), so a waiting process can name a holder. */
export const APPLICATION_NAME = `autolabel pid ${process.pid} on ${hostname()}`.slice(0, 63);

/**
 * bigint (int8) as a number, for this store's connections only (not pg's global parsers): file sizes and
 * counts stay far below 2^53, and a size read back as a string would differ from every stat.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function connectionConfig(url: string): pg.ClientConfig {
  return { connectionString: url, application_name: APPLICATION_NAME, connectionTimeoutMillis: 15_000, types: TYPES };
}

/** The pool a store runs on. */
export class Connection {
  readonly where: string;
  readonly url: string;
  readonly #pool: pg.Pool;
  readonly #queries: Queries;

  constructor(url: string, maxConnections: number) {
    this.url = url;
    this.where = describeStoreUrl(url);
    this.#pool = new pg.Pool({ ...connectionConfig(url), max: maxConnections, idleTimeoutMillis: 10_000 });
    // An idle connection dropped by the server: the pool replaces it; without a listener the process would exit.
    this.#pool.on('error', () => undefined);
    this.#queries = queriesOf(this.#pool);
  }

  /** A client of its own for `work` (migrations, a held lock's connection is not from the pool). */
  async withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw pgError(this.where, what, error);
    }
    try {
      return await work(client);
    } catch (error) {
      throw pgError(this.where, what, error);
    } finally {
      client.release();
    }
  }

  /** One statement outside any transaction. */
  async read<T>(what: string, work: (q: Queries) => Promise<T>): Promise<T> {
    try {
      return await work(this.#queries);
    } catch (error) {
      throw pgError(this.where, what, error);
    }
  }

  /** `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it throws. */
  async transaction<T>(what: string, work: (q: Queries) => Promise<T>): Promise<T> {
    return this.withClient(what, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(queriesOf(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A broken connection cannot roll back, and needs not: the server rolls back when it goes.
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** A connection outside the pool, for a lock held as long as it lives. */
  async dedicated(what: string): Promise<{ client: pg.Client; queries: Queries }> {
    // Keepalives and a query timeout, so a connection cut off (a partition) is noticed, not waited on.
    const client = new pg.Client({ ...connectionConfig(this.url), keepAlive: true, query_timeout: 15_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw pgError(this.where, what, error);
    }
    return { client, queries: queriesOf(client) };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
