import { describe, expect, it } from 'vitest';
import { formatModelSpec, parseModelSpec } from './spec.js';

describe('hf: model specs', () => {
  it('reads repository, revision and dtype, with main and fp32 as defaults', () => {
    expect(parseModelSpec('hf:Xenova/clip-vit-base-patch32')).toEqual({
      kind: 'hf',
      repo: 'Xenova/clip-vit-base-patch32',
      revision: 'main',
      dtype: 'fp32',
    });
    expect(parseModelSpec('hf:onnx-community/dinov2-small@v1.0:q8')).toEqual({
      kind: 'hf',
      repo: 'onnx-community/dinov2-small',
      revision: 'v1.0',
      dtype: 'q8',
    });
    expect(parseModelSpec('hf:a/b:fp16')).toMatchObject({ revision: 'main', dtype: 'fp16' });
    expect(parseModelSpec('hf:a/b@refs/pr/3')).toMatchObject({ revision: 'refs/pr/3', dtype: 'fp32' });
  });

  it('writes one canonical string per model: the defaults left out', () => {
    for (const [spec, canonical] of [
      ['hf:a/b', 'hf:a/b'],
      ['hf:a/b@main', 'hf:a/b'],
      ['hf:a/b:fp32', 'hf:a/b'],
      ['hf:a/b@main:fp32', 'hf:a/b'],
      ['hf:a/b@0123abc:q8', 'hf:a/b@0123abc:q8'],
    ] as const) {
      expect(formatModelSpec(parseModelSpec(spec))).toBe(canonical);
    }
  });

  it('refuses what the hub would not accept, naming the part and the accepted forms', () => {
    expect(() => parseModelSpec('hf:noowner')).toThrow(/not a hub repository id/);
    expect(() => parseModelSpec('hf:a/../b')).toThrow(/not a hub repository id/);
    expect(() => parseModelSpec('hf:a--x/b')).toThrow(/not a hub repository id/);
    expect(() => parseModelSpec('hf:a/b@')).toThrow(/not a revision/);
    expect(() => parseModelSpec('hf:a/b@x..y')).toThrow(/not a revision/);
    expect(() => parseModelSpec('hf:a/b:int3')).toThrow(/dtype "int3" is not one of fp32, fp16, q8/);
    expect(() => parseModelSpec('hub:a/b')).toThrow(/hf:OWNER\/NAME\[@REVISION\]\[:DTYPE\]/);
    try {
      parseModelSpec('hf:a/b:int3');
    } catch (error) {
      expect(error).toMatchObject({ code: 'MODEL_SPEC_INVALID' });
    }
  });
});
