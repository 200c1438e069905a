/** @module What a fit's stored summary says, read back: its accuracy figure and certificate. */
import { z } from 'zod';
import type { FitRecord } from '../store/store.js';
import { CHECKS_FOR_UNBIASED_FIGURE, type Interval } from '../verify/index.js';

/** An accuracy figure and what it rests on. */
export interface AccuracyFigure {
  readonly estimate: number;
  /** A 95% interval; null when the figure comes from chosen labels (no honest interval exists). */
  readonly low: number | null;
  readonly high: number | null;
  /** `random-checks`: unbiased, from random checks; `chosen-labels`: cross-validated on labels people chose, may be biased. */
  readonly basis: 'random-checks' | 'chosen-labels' | 'model-confidence';
  readonly checks: number;
  /** What a reader should know (for chosen labels: that it may be biased, and what to do). */
  readonly note: string | null;
}

export function accuracyFigure(fromChecks: Interval | null, crossValidated: number, checks: number): AccuracyFigure {
  if (fromChecks) return { ...fromChecks, basis: 'random-checks', checks, note: null };
  const more = CHECKS_FOR_UNBIASED_FIGURE - checks;
  return {
    estimate: crossValidated,
    low: null,
    high: null,
    basis: 'chosen-labels',
    checks,
    note: `estimated from chosen labels, may be biased; verify ${more} ${checks > 0 ? 'more ' : ''}random suggestions for an unbiased figure`,
  };
}

/**
 * Zero-shot with no labels: nothing to estimate accuracy from but the model's own confidences, which
 * no label has calibrated: its own basis, `model-confidence`, said so (no interval).
 */
export function expectedAccuracyFigure(meanConfidence: number, checks: number): AccuracyFigure {
  const more = CHECKS_FOR_UNBIASED_FIGURE - checks;
  return {
    estimate: meanConfidence,
    low: null,
    high: null,
    basis: 'model-confidence',
    checks,
    note: `expected by zero-shot from class names, with no labels yet to check or calibrate it; verify ${more} ${checks > 0 ? 'more ' : ''}random suggestions for an unbiased figure`,
  };
}

/** The parts of a fit's stored summary that are read back (the report, status). */
const IntervalSchema = z.object({ estimate: z.number(), low: z.number(), high: z.number() });
const FitSummarySchema = z.object({
  method: z.string().optional(),
  /** What zero-shot from class names did in the fit (zero-shot/blend.ts ZeroShotRecord); null or absent: nothing. */
  zeroShot: z
    .object({ weight: z.number(), coldStart: z.boolean(), parts: z.array(z.string()) })
    .loose()
    .nullable()
    .default(null),
  targetPrecision: z.number().nullable(),
  suggestions: z.number(),
  auto: z.number(),
  certificate: z
    .object({
      targetPrecision: z.number(),
      delta: z.number(),
      threshold: z.number().nullable(),
      certified: z.number(),
      precisionLowerBound: z.number().nullable(),
      support: z.number(),
      errors: z.number(),
      checks: z.number(),
      next: z.object({ checks: z.number(), images: z.number(), threshold: z.number() }).nullable(),
      method: z.string(),
    })
    .nullable()
    .default(null),
  accuracy: z
    .object({
      estimate: z.number(),
      low: z.number().nullable(),
      high: z.number().nullable(),
      basis: z.enum(['random-checks', 'chosen-labels', 'model-confidence']),
      checks: z.number(),
      note: z.string().nullable(),
    })
    .optional(),
  classPrecision: z.array(IntervalSchema.extend({ label: z.string(), checks: z.number() })).default([]),
  checks: z.array(z.tuple([z.number(), z.number(), z.number(), z.string().nullable()])).default([]),
  crossValidation: z.object({
    accuracy: z.number(),
    calibrationError: z.number(),
    predictions: z.array(z.tuple([z.number(), z.number()])),
  }),
});
type FitSummary = z.infer<typeof FitSummarySchema>;

/** A summary from an older or damaged fit reads as missing rather than failing the report. */
export function summaryOf(fit: FitRecord | undefined): FitSummary | undefined {
  const parsed = FitSummarySchema.safeParse(fit?.summary);
  return parsed.success ? parsed.data : undefined;
}

/** A fit's accuracy figure; fits made before random checks existed read as cross-validated on chosen labels. */
export function accuracyOf(fit: FitRecord | undefined): AccuracyFigure | undefined {
  const summary = summaryOf(fit);
  if (!summary) return undefined;
  return summary.accuracy ?? accuracyFigure(null, summary.crossValidation.accuracy, 0);
}
