// The review app's HTTP client (app/api.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { ApiError, describeApiError } from '../app/api.js';

describe('error messages in the app', () => {
  it("word core's hint as a step in the app, after what is wrong", () => {
    const error = new ApiError(409, 'NO_EMBEDDINGS', 'no embeddings for model onnx:/m yet', { action: 'embed' });
    expect(error.message).toBe(
      'no embeddings for model onnx:/m yet: embed the images first (autolabel embed), then reload',
    );
    expect(error.hint).toEqual({ action: 'embed' });
    expect(describeApiError('labels in one class', { action: 'label' })).toMatch(/in Label next or Grid$/);
  });

  it('leave a message without a hint as it is', () => {
    expect(new ApiError(400, 'LABEL_INVALID', 'label: the label is empty').message).toBe('label: the label is empty');
  });
});
