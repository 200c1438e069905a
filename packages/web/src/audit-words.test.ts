// How the app words the audit (app/audit-words.ts), here because tests are collected from packages/*/src.
import type { AuditRunState } from '@autolabel/core';
import { describe, expect, it } from 'vitest';
import { ago, openText, runText } from '../app/audit-words.js';

const NOW = Date.parse('2026-12-01T15:00:00Z');
const running = (progress: AuditRunState['progress']): AuditRunState => ({
  state: 'running',
  progress,
  message: null,
  startedAt: '2026-12-01T14:59:00Z',
  finishedAt: null,
});

describe('audit words', () => {
  it('counts open findings with the right noun', () => {
    expect(openText('label-error', 1)).toBe('1 likely label error');
    expect(openText('label-error', 1200)).toBe('1,200 likely label errors');
    expect(openText('duplicate', 2)).toBe('2 duplicate groups');
    expect(openText('outlier', 0)).toBe('0 outliers');
  });

  it('says what a running audit is doing: its phase, count, rate and time left', () => {
    expect(runText(running(null), null, NOW)).toBe('Auditing: starting…');
    const progress = { phase: 'neighbours', done: 1500, total: 6000, rate: 750.4, etaSeconds: 6 };
    expect(runText(running(progress), null, NOW)).toBe('Auditing: neighbours 1,500 of 6,000 · 750/s · about 6 s left');
    const counting = { phase: 'hashes', done: 20, total: null, rate: 0, etaSeconds: null };
    expect(runText(running(counting), null, NOW)).toBe('Auditing: hashes 20');
  });

  it('says when the last audit ran, or that there was none, or why it failed', () => {
    expect(runText(null, null, NOW)).toMatch(/^No audit yet/);
    expect(runText(null, '2026-12-01T14:55:00Z', NOW)).toBe('Last audit 5 minutes ago.');
    const failed: AuditRunState = { ...running(null), state: 'failed', message: 'no embeddings' };
    expect(runText(failed, '2026-12-01T14:55:00Z', NOW)).toBe('The audit failed: no embeddings');
  });

  it('words a time past roughly', () => {
    expect(ago(NOW - 10_000, NOW)).toBe('just now');
    expect(ago(NOW - 60_000, NOW)).toBe('1 minute ago');
    expect(ago(NOW - 3 * 3600_000, NOW)).toBe('3 hours ago');
    expect(ago(Date.parse('2026-11-20T10:00:00Z'), NOW)).toBe('on 2026-11-20');
    expect(ago(Number.NaN, NOW)).toBe('at an unknown time');
  });
});
