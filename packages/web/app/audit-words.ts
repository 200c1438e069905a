/**
 * @module How the app words the data quality audit: the kinds of finding, their open counts, and a run
 * in progress (count, rate, time left). Pure; unit-tested in src/audit-words.test.ts.
 */
import type { AuditKind, AuditRunState } from '@autolabel/core';
import { count } from './figures.js';

/** The queues' titles, in the order the app lists them. */
export const KIND_TITLES: Readonly<Record<AuditKind, string>> = {
  'label-error': 'Label errors',
  duplicate: 'Duplicates',
  outlier: 'Outliers',
};

const NOUNS: Readonly<Record<AuditKind, readonly [string, string]>> = {
  'label-error': ['likely label error', 'likely label errors'],
  duplicate: ['duplicate group', 'duplicate groups'],
  outlier: ['outlier', 'outliers'],
};

/** "3 likely label errors", "1 duplicate group", "0 outliers". */
export function openText(kind: AuditKind, n: number): string {
  const [one, many] = NOUNS[kind];
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "12 s", "3 min": a rough time left. */
export function roughDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

/**
 * What the run line says: nothing before any run, the phase with its count, rate and time left while
 * one runs, when the last one finished, or why it failed.
 */
export function runText(run: AuditRunState | null, ranAt: string | null, now = Date.now()): string {
  if (run?.state === 'running') {
    const progress = run.progress;
    if (progress === null) return 'Auditing: starting…';
    const done = progress.total === null ? count(progress.done) : `${count(progress.done)} of ${count(progress.total)}`;
    const rate = progress.rate > 0 ? ` · ${count(Math.round(progress.rate))}/s` : '';
    const eta = progress.etaSeconds === null ? '' : ` · about ${roughDuration(progress.etaSeconds)} left`;
    return `Auditing: ${progress.phase} ${done}${rate}${eta}`;
  }
  if (run?.state === 'failed') return `The audit failed: ${run.message ?? 'no reason given'}`;
  if (ranAt === null) return 'No audit yet: run one to look for label errors, duplicates and outliers.';
  return `Last audit ${ago(Date.parse(ranAt), now)}.`;
}

/** "just now", "5 minutes ago", "3 hours ago", "on 2026-12-01". */
export function ago(then: number, now: number): string {
  const seconds = (now - then) / 1000;
  if (!Number.isFinite(seconds)) return 'at an unknown time';
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  return `on ${new Date(then).toISOString().slice(0, 10)}`;
}
