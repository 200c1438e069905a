/**
 * @module How the app words its statistics: an accuracy figure with what it rests on (random checks,
 * or chosen labels, which may be biased), and the verify loop's progress towards certification.
 * Pure functions, unit-tested in src/figures.test.ts.
 */
import type { AccuracyFigure, CheckCounts, ModelState } from '@autolabel/core';
import { percent } from './dom.js';

export const count = (n: number): string => n.toLocaleString('en-US');

/** "1 random check", "2,400 random checks": a count with its word. */
export const counted = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;

const atTarget = (target: number | null): string =>
  target === null ? 'at the precision target' : `at ${percent(target)}`;

export interface AccuracyParts {
  /** The estimate: "81%". */
  readonly value: string;
  /** What it rests on: "77–85%, 120 random checks", or the figure's own note for chosen labels. */
  readonly basis: string | null;
}

export function accuracyParts(figure: AccuracyFigure | null): AccuracyParts {
  if (figure === null) return { value: '–', basis: null };
  const value = percent(figure.estimate);
  if (figure.basis === 'chosen-labels') return { value, basis: figure.note ?? 'estimated from chosen labels' };
  if (figure.basis === 'model-confidence') return { value, basis: figure.note ?? "the model's own expectation" };
  const checks = counted(figure.checks, 'random check');
  const interval =
    figure.low === null || figure.high === null
      ? null
      : `${Math.round(figure.low * 100)}–${Math.round(figure.high * 100)}%`;
  return { value, basis: interval === null ? checks : `${interval}, ${checks}` };
}

/** "81% (77–85%, 120 random checks)", or "81% (estimated from chosen labels, may be biased; …)". */
export function accuracyText(figure: AccuracyFigure | null): string {
  const { value, basis } = accuracyParts(figure);
  return basis === null ? value : `${value} (${basis})`;
}

/** The short form for one line: a chosen-labels figure only says that it may be biased. */
export function accuracyShort(figure: AccuracyFigure | null): string {
  if (figure?.basis === 'chosen-labels') return `${percent(figure.estimate)} (from chosen labels, may be biased)`;
  if (figure?.basis === 'model-confidence') return `${percent(figure.estimate)} (expected by the model, unchecked)`;
  return accuracyText(figure);
}

export interface VerifyProgress {
  /** What more checks would bring: "12 more checks to certify about 1,400 more images at 95%". */
  readonly next: string;
  /** "1,400 certified at 95%", or null before anything is. */
  readonly certified: string | null;
  /** Checks of every verifier: "12 answered · 1 skipped", and those an accept retired. */
  readonly counts: string | null;
}

/** `suggestions`: how many images have a suggestion now (auto or to review), when known. */
export function verifyProgress(
  model: ModelState | null,
  counts: CheckCounts | null,
  suggestions: number | null = null,
): VerifyProgress {
  const tally = counts === null ? null : tallyOf(counts);
  if (model === null) return { next: '…', certified: null, counts: tally };
  if (model.fitId === null) {
    return {
      next: 'No suggestions to check yet: label a few images of two classes or more first.',
      certified: null,
      counts: tally,
    };
  }
  const at = atTarget(model.targetPrecision);
  const certified = model.certified > 0 ? `${count(model.certified)} certified ${at}` : null;
  if (suggestions === 0) {
    return { next: 'No suggestions left to certify: every image is labelled or accepted.', certified, counts: tally };
  }
  const step = model.next;
  if (step !== null) {
    const images = model.certified > 0 ? counted(step.images, 'more image') : counted(step.images, 'image');
    return { next: `${counted(step.checks, 'more check')} to certify about ${images} ${at}`, certified, counts: tally };
  }
  const next =
    model.certified > 0
      ? `More checks are not expected to certify more ${at}.`
      : `Checks alone are not expected to certify suggestions ${at} yet: label more images so the model improves.`;
  return { next, certified, counts: tally };
}

function tallyOf(counts: CheckCounts): string {
  const tally = `${count(counts.answered)} answered · ${count(counts.skipped)} skipped`;
  // Checks an accept retired are answered or skipped too, but certify nothing more.
  return counts.retired > 0 ? `${tally} · ${count(counts.retired)} retired by accepting` : tally;
}

/** The accept button: "Accept 1,400 certified". */
export function acceptCertifiedLabel(n: number): string {
  return `Accept ${count(n)} certified`;
}
