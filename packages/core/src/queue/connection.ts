/**
 * @module Where a job queue lives: a queue URL read into a BullMQ backend and its connection.
 * BullMQ 6 runs on PostgreSQL (`postgres://`, the `pg` driver) or on Redis (`redis://`, the `ioredis`
 * driver); both are dependencies of core. BullMQ loads only when a queue is used.
 */
import type * as BullMqModule from 'bullmq';
import { AutolabelError, messageOf } from '../errors.js';

/** The queue's name when the URL names none: one queue per workspace, so a second workspace names its own. */
export const DEFAULT_QUEUE_NAME = 'autolabel';

export interface QueueLocation {
  readonly kind: 'postgres' | 'redis';
  /** The URL without Autolabel's own `queue` parameter, as the driver takes it. */
  readonly url: string;
  /** The BullMQ queue name (`?queue=NAME`, default `autolabel`). */
  readonly name: string;
  /** The URL without its password, for messages. */
  readonly display: string;
}

/** Reads a queue URL: postgres://user@host:port/database[?queue=NAME] or redis://host:port[/db][?queue=NAME]. */
export function parseQueueUrl(url: string): QueueLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `queue ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))} is not a URL: give postgres://user@host:port/database or redis://host:port`,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const kind = scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'redis' ? 'redis' : null;
  if (kind === null) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `queue ${scheme}://${parsed.host}: unknown kind of queue "${scheme}"; give postgres://user@host:port/database (BullMQ on PostgreSQL) or redis://host:port (BullMQ on Redis)`,
    );
  }
  const name = parsed.searchParams.get('queue') ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `queue name ${JSON.stringify(name)} in ${scheme}://${parsed.host}: use letters, digits, - and _ (at most 64)`,
    );
  }
  parsed.searchParams.delete('queue');
  const display = new URL(parsed.href);
  if (display.password) display.password = '***';
  return {
    kind,
    url: parsed.href,
    name,
    display: `${display.href}${name === DEFAULT_QUEUE_NAME ? '' : ` (queue ${name})`}`,
  };
}

type BullMq = typeof BullMqModule;

/** The BullMQ classes bound to the queue's backend, and the connection every one of them is given. */
export interface QueueBackend {
  readonly location: QueueLocation;
  readonly bullmq: BullMq;
  /** The connection every queue class is given (its `connection` option). */
  readonly connection: object;
  readonly factory: unknown;
}

export async function queueBackend(url: string): Promise<QueueBackend> {
  const location = parseQueueUrl(url);
  const bullmq = await import('bullmq');
  if (location.kind === 'postgres') {
    // BullMQ keeps its tables in a schema of its own; `migrate` creates or updates them (under its advisory lock).
    return {
      location,
      bullmq,
      connection: { connectionString: location.url, schema: 'bullmq', migrate: true, max: 4 },
      factory: bullmq.createPostgresBackend,
    };
  }
  // A failed Redis connection must surface as an error, not as commands queued forever.
  return {
    location,
    bullmq,
    connection: { url: location.url, maxRetriesPerRequest: null, enableOfflineQueue: true },
    factory: undefined,
  };
}

/** A driver or connection failure, as one error naming the queue. */
export function queueError(location: QueueLocation, error: unknown): AutolabelError {
  if (error instanceof AutolabelError) return error;
  const message = messageOf(error);
  if (/could not load the optional 'ioredis'/.test(message)) {
    return new AutolabelError(
      'QUEUE_FAILED',
      `queue ${location.display}: this install has no Redis driver (the optional ioredis package); use a PostgreSQL queue, postgres://user@host:port/database, or install ioredis`,
      { cause: error },
    );
  }
  const server = location.kind === 'postgres' ? 'PostgreSQL' : 'Redis';
  const hint = /ECONNREFUSED/.test(message) ? ` (is the ${server} server running and listening there?)` : '';
  return new AutolabelError('QUEUE_FAILED', `queue ${location.display}: ${message}${hint}`, { cause: error });
}
