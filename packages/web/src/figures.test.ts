// The web app's pure wording (app/figures.ts), here because tests are collected from packages/*/src.
import type { AccuracyFigure, ModelState } from '@autolabel/core';
import { describe, expect, it } from 'vitest';
import { acceptCertifiedLabel, accuracyParts, accuracyShort, accuracyText, verifyProgress } from '../app/figures.js';

const NOTE = 'estimated from chosen labels, may be biased; verify 30 random suggestions for an unbiased figure';
const fromChecks: AccuracyFigure = {
  estimate: 0.8123,
  low: 0.7701,
  high: 0.8549,
  basis: 'random-checks',
  checks: 120,
  note: null,
};
const fromChosen: AccuracyFigure = {
  estimate: 0.93,
  low: null,
  high: null,
  basis: 'chosen-labels',
  checks: 0,
  note: NOTE,
};
const model = (change: Partial<ModelState>): ModelState => ({
  fitId: 3,
  state: 'idle',
  message: null,
  accuracy: fromChecks,
  targetPrecision: 0.95,
  threshold: 0.9,
  certified: 0,
  next: null,
  ...change,
});
const counts = { drawn: 40, answered: 12, skipped: 1, open: 27, retired: 0 };

describe('accuracy figures', () => {
  it('gives the interval and the number of random checks a figure rests on', () => {
    expect(accuracyText(fromChecks)).toBe('81% (77–85%, 120 random checks)');
    expect(accuracyParts(fromChecks)).toEqual({ value: '81%', basis: '77–85%, 120 random checks' });
    expect(accuracyText({ ...fromChecks, checks: 1, low: null, high: null })).toBe('81% (1 random check)');
  });

  it('says that a figure from chosen labels may be biased, in its own words', () => {
    expect(accuracyText(fromChosen)).toBe(`93% (${NOTE})`);
    expect(accuracyParts(fromChosen)).toEqual({ value: '93%', basis: NOTE });
    expect(accuracyShort(fromChosen)).toBe('93% (from chosen labels, may be biased)');
    expect(accuracyShort(fromChecks)).toBe('81% (77–85%, 120 random checks)');
  });

  it("says that a zero-shot figure is the model's own expectation, never from labels it does not have", () => {
    const expected: AccuracyFigure = { ...fromChosen, estimate: 0.71, basis: 'model-confidence', note: null };
    expect(accuracyShort(expected)).toBe('71% (expected by the model, unchecked)');
    expect(accuracyShort(expected)).not.toMatch(/chosen labels/);
    expect(accuracyText(expected)).toBe("71% (the model's own expectation)");
  });

  it('shows a dash without a figure', () => {
    expect(accuracyText(null)).toBe('–');
    expect(accuracyParts(null)).toEqual({ value: '–', basis: null });
  });
});

describe('verify progress', () => {
  it('says how many more checks would certify how many more images', () => {
    const progress = verifyProgress(
      model({ certified: 250, next: { checks: 12, images: 1400, threshold: 0.7 } }),
      counts,
    );
    expect(progress).toEqual({
      next: '12 more checks to certify about 1,400 more images at 95%',
      certified: '250 certified at 95%',
      counts: '12 answered · 1 skipped',
    });
  });

  it('leaves out "more" images before any are certified, and counts one check as one', () => {
    const progress = verifyProgress(model({ next: { checks: 1, images: 1, threshold: 0.99 } }), null);
    expect(progress).toEqual({ next: '1 more check to certify about 1 image at 95%', certified: null, counts: null });
  });

  it('says when checks are not expected to certify more', () => {
    expect(verifyProgress(model({ certified: 5 }), counts).next).toBe(
      'More checks are not expected to certify more at 95%.',
    );
    expect(verifyProgress(model({}), counts).next).toMatch(/^Checks alone are not expected .* label more images/);
    expect(verifyProgress(model({ targetPrecision: null, certified: 5 }), counts).certified).toBe(
      '5 certified at the precision target',
    );
  });

  it('counts the checks an accept retired apart', () => {
    expect(verifyProgress(model({}), { ...counts, answered: 4, retired: 30 }).counts).toBe(
      '4 answered · 1 skipped · 30 retired by accepting',
    );
  });

  it('says when there is nothing left to certify', () => {
    const progress = verifyProgress(model({ certified: 20, next: { checks: 3, images: 9, threshold: 0.5 } }), null, 0);
    expect(progress.next).toBe('No suggestions left to certify: every image is labelled or accepted.');
    expect(progress.certified).toBe('20 certified at 95%');
    expect(verifyProgress(model({ next: { checks: 3, images: 9, threshold: 0.5 } }), null, 9).next).toMatch(/^3 more/);
  });

  it('asks for labels before the first fit', () => {
    expect(verifyProgress(model({ fitId: null }), counts).next).toMatch(/^No suggestions to check yet/);
    expect(verifyProgress(null, null)).toEqual({ next: '…', certified: null, counts: null });
  });

  it('words the accept button', () => {
    expect(acceptCertifiedLabel(1400)).toBe('Accept 1,400 certified');
  });
});
