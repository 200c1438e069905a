/**
 * @module BullMQ's Queue and Worker made on a queue's backend. BullMQ's constructors are overloaded
 * by backend type; this is the one place that picks the overload, so the rest stays typed plainly.
 */
import type { Job, Queue, Worker, WorkerOptions } from 'bullmq';
import { type QueueBackend, queueError } from './connection.js';

export type Processor<T, R> = (job: Job<T, R>, token?: string) => Promise<R>;

export async function openQueue<T, R>(backend: QueueBackend): Promise<Queue<T, R>> {
  const { Queue: QueueClass } = backend.bullmq;
  const Make = QueueClass as unknown as new (name: string, opts: object, factory?: unknown) => Queue<T, R>;
  const queue = new Make(backend.location.name, { connection: backend.connection }, backend.factory);
  // Connection errors are also thrown to the caller of the failing command; without a listener they would crash.
  queue.on('error', () => undefined);
  try {
    await untilReady(queue);
  } catch (error) {
    await queue.close().catch(() => undefined);
    throw queueError(backend.location, error);
  }
  return queue;
}

/**
 * Waits for a queue class to connect, failing on its first error: BullMQ's Redis connection retries
 * forever (right for a worker that loses Redis later, wrong for one that never reached it), so an
 * unreachable server would otherwise hang the command; a PostgreSQL backend fails by itself.
 */
export async function untilReady(bull: {
  waitUntilReady(): Promise<unknown>;
  once(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}): Promise<void> {
  let onError: (error: Error) => void = () => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onError = reject;
      bull.once('error', onError);
      bull.waitUntilReady().then(() => resolve(), reject);
    });
  } finally {
    bull.off('error', onError);
  }
}

export function makeWorker<T, R>(
  backend: QueueBackend,
  processor: Processor<T, R>,
  options: Omit<WorkerOptions, 'connection'>,
): Worker<T, R> {
  const { Worker: WorkerClass } = backend.bullmq;
  const Make = WorkerClass as unknown as new (
    name: string,
    processor: Processor<T, R>,
    opts: object,
    factory?: unknown,
  ) => Worker<T, R>;
  return new Make(backend.location.name, processor, { ...options, connection: backend.connection }, backend.factory);
}
