// How the status line words the model's state (app/status-line.ts), here because tests are collected from packages/*/src.
import type { ModelState } from '@autolabel/core';
import { IDLE_MODEL } from '@autolabel/test-utils';
import { describe, expect, it } from 'vitest';
import { describeModel } from '../app/status-line.js';

describe('the model on the status line', () => {
  it('says how far the neighbour graph is while the learner builds it', () => {
    const building: ModelState = {
      ...IDLE_MODEL,
      state: 'fitting',
      progress: { phase: 'graph', done: 120_000, total: 1_000_000, rate: 410.4, etaSeconds: 2146, unit: 'images' },
    };
    expect(describeModel(building)).toBe(
      'Model: building the neighbour graph, 120,000 of 1,000,000 images · 410/s · about 36 min left',
    );
    expect(describeModel(IDLE_MODEL)).toBe('Model: no fit yet (label images of two classes or more)');
  });
});
