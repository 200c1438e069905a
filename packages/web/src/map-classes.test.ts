// Each map point's class and status as GET /api/map/classes sends them (app/map-classes.ts).
import { IMAGE_STATUSES, type ImageStatus } from '@autolabel/core/domain';
import { describe, expect, it } from 'vitest';
import { fromBase64, PointClasses } from '../app/map-classes.js';

const base64 = (array: ArrayBufferView) =>
  Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');

describe('map point classes', () => {
  const classOf = Uint16Array.from([2, 0, 1, 2, 300]);
  const status = Uint8Array.from(['suggested', 'unlabeled', 'labeled', 'accepted', 'auto'] as ImageStatus[], (s) =>
    IMAGE_STATUSES.indexOf(s),
  );
  const names = Array.from({ length: 300 }, (_, c) => `class-${c}`);
  const answer = {
    state: 'ready' as const,
    map: 'm1',
    version: 'v1',
    classes: names,
    classOf: base64(classOf),
    status: base64(status),
  };

  it('decodes base64 to the bytes Node encoded', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    expect([...fromBase64(base64(bytes))]).toEqual([...bytes]);
  });

  it('gives each point its class name and status, classes past 255 included, none where it has none', () => {
    const classes = PointClasses.decode(answer, 5);
    expect(classes.known).toBe(true);
    expect([0, 1, 2, 3, 4].map((i) => [classes.label(i), classes.statusOf(i)])).toEqual([
      ['class-1', 'suggested'],
      [null, 'unlabeled'],
      ['class-0', 'labeled'],
      ['class-1', 'accepted'],
      ['class-299', 'auto'],
    ]);
  });

  it('refuses an answer for another number of points', () => {
    expect(() => PointClasses.decode(answer, 6)).toThrow(/hold 5 points, the map 6/);
  });

  it('takes a changed row: a known class, a new one, or none', () => {
    const classes = PointClasses.decode(answer, 5);
    classes.set(1, 'class-7', 'labeled');
    classes.set(2, 'zebra', 'suggested');
    classes.set(4, null, 'unlabeled');
    expect([1, 2, 4].map((i) => [classes.label(i), classes.statusOf(i)])).toEqual([
      ['class-7', 'labeled'],
      ['zebra', 'suggested'],
      [null, 'unlabeled'],
    ]);
    expect(classes.label(0)).toBe('class-1');
  });

  it('knows nothing of points whose classes have not arrived', () => {
    const classes = PointClasses.unknown(3);
    expect(classes.known).toBe(false);
    expect([classes.label(0), classes.statusOf(2)]).toEqual([null, 'unlabeled']);
  });
});
