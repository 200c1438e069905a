import { describe, expect, it } from 'vitest';
import { bothFilters, parseWhere } from './where.js';

describe('parseWhere', () => {
  it('reads the filters of GET /api/images, lists and quotes included', () => {
    expect(parseWhere('status=auto,suggested label=cat min-confidence=0.8')).toEqual({
      status: ['auto', 'suggested'],
      label: ['cat'],
      minConfidence: 0.8,
    });
    expect(parseWhere('  label="dog, big","say ""hi""" maxConfidence=0.5 ')).toEqual({
      label: ['dog, big', 'say "hi"'],
      maxConfidence: 0.5,
    });
    expect(parseWhere('label="big dog" min_confidence=0')).toEqual({ label: ['big dog'], minConfidence: 0 });
    expect(parseWhere('')).toEqual({});
  });

  it.each([
    ['status=maybe', /where: status: expected any of labeled, accepted, auto, suggested, unlabeled/],
    ['colour=red', /where: unknown key "colour"/],
    ['min-confidence=high', /where: min-confidence: "high" is not a number/],
    ['min-confidence=2', /where: minConfidence: must be from 0 to 1/],
    ['status', /where: "status" is not key=value/],
    ['label="open', /where: a quote is never closed/],
    ['label=a label=b', /where: "label" is given twice/],
  ])('refuses %s, naming the term', (text, message) => {
    expect(() => parseWhere(text)).toThrow(message);
  });

  it('combines two filters so that both hold', () => {
    expect(
      bothFilters(
        { status: ['auto', 'suggested'], minConfidence: 0.5 },
        { status: ['auto'], minConfidence: 0.8, label: ['x'] },
      ),
    ).toEqual({ status: ['auto'], minConfidence: 0.8, label: ['x'] });
  });
});
