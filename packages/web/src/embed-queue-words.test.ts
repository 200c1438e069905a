// How the app words the embedding queue (app/embed-queue-words.ts), here because tests are collected from packages/*/src.
import type { QueueStatus } from '@autolabel/core';
import { describe, expect, it } from 'vitest';
import { queueText } from '../app/embed-queue-words.js';

const status = (over: Partial<QueueStatus>): QueueStatus => ({
  queue: 'postgres://autolabel@db/jobs',
  workers: 3,
  waiting: 0,
  active: 0,
  delayed: 0,
  failed: 0,
  jobsPerSecond: null,
  etaSeconds: 0,
  ...over,
});

describe('embedding queue words', () => {
  it('says what is open, how fast it goes and how long is left', () => {
    expect(queueText(status({ waiting: 12, active: 3, jobsPerSecond: 0.5, etaSeconds: 30 }))).toBe(
      '3 workers alive · 12 jobs waiting, 3 running · 0.50 jobs/s · about 30 s left',
    );
    expect(queueText(status({ workers: 1, waiting: 1, delayed: 2, failed: 1, etaSeconds: null }))).toBe(
      '1 worker alive · 1 job waiting, 0 running, 2 to retry · 1 job failed',
    );
  });

  it('says when nothing is open, and when no worker would take what is', () => {
    expect(queueText(status({}))).toBe('3 workers alive · no jobs open');
    expect(queueText(status({ workers: 0, waiting: 1200, etaSeconds: null }))).toBe(
      '0 workers alive · 1,200 jobs waiting, 0 running · no worker to take them: start autolabel worker',
    );
  });
});
