/**
 * @module How the app words the embedding queue (`serve --queue`): workers alive, jobs open and
 * failed, jobs per second, time left. Pure; unit-tested in src/embed-queue-words.test.ts.
 */
import type { QueueStatus } from '@autolabel/core';
import { roughDuration } from './audit-words.js';
import { count, counted } from './figures.js';

/** "3 workers alive · 12 jobs waiting, 3 running · 0.50 jobs/s · about 30 s left". */
export function queueText(queue: QueueStatus): string {
  const open = queue.waiting + queue.active + queue.delayed;
  const parts = [counted(queue.workers, 'worker') + ' alive'];
  if (open === 0) parts.push('no jobs open');
  else {
    const retry = queue.delayed > 0 ? `, ${count(queue.delayed)} to retry` : '';
    parts.push(`${counted(queue.waiting, 'job')} waiting, ${count(queue.active)} running${retry}`);
  }
  if (queue.failed > 0) parts.push(`${counted(queue.failed, 'job')} failed`);
  if (queue.jobsPerSecond !== null && open > 0) parts.push(`${queue.jobsPerSecond.toFixed(2)} jobs/s`);
  if (open > 0) {
    if (queue.workers === 0) parts.push('no worker to take them: start autolabel worker');
    else if (queue.etaSeconds !== null) parts.push(`about ${roughDuration(queue.etaSeconds)} left`);
  }
  return parts.join(' · ');
}
