/** @module What a queue is doing, for `status` and the web app: workers alive, jobs open and failed, jobs per second, ETA. */
import { openQueue } from './bull.js';
import { queueBackend, queueError } from './connection.js';

export interface QueueStatus {
  /** The queue as messages name it (no password). */
  readonly queue: string;
  readonly workers: number;
  readonly waiting: number;
  readonly active: number;
  /** Jobs waiting to be tried again after a failure. */
  readonly delayed: number;
  /** Jobs that failed after every try. */
  readonly failed: number;
  /** Jobs finished per second over the last few whole minutes (workers count them by the minute); null before the first. */
  readonly jobsPerSecond: number | null;
  /** Seconds until the open jobs are done at that rate; null when nothing is moving. */
  readonly etaSeconds: number | null;
}

/** Minutes of finished-job counts that the rate is taken over. */
const RATE_MINUTES = 3;

export async function queueStatus(url: string): Promise<QueueStatus> {
  const backend = await queueBackend(url);
  const queue = await openQueue(backend);
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    const workers = await queue.getWorkersCount();
    // Whole minutes' counts, newest first.
    const metrics = await queue.getMetrics('completed', 0, RATE_MINUTES - 1);
    const minutes = Math.min(RATE_MINUTES, metrics.data.length);
    const finished = metrics.data.slice(0, minutes).reduce((sum, n) => sum + n, 0);
    const jobsPerSecond = minutes === 0 ? null : finished / (minutes * 60);
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    const open = waiting + (counts.active ?? 0) + (counts.delayed ?? 0);
    return {
      queue: backend.location.display,
      workers,
      waiting,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      jobsPerSecond,
      etaSeconds: open === 0 ? 0 : jobsPerSecond ? open / jobsPerSecond : null,
    };
  } catch (error) {
    throw queueError(backend.location, error);
  } finally {
    await queue.close();
  }
}
