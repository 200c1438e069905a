import type { ModelState, ServerEvent } from '@autolabel/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, served, writeColourPhotos } from './testing/served.js';

let server: Served;

beforeAll(async () => {
  server = await served('graph-progress', {
    photos: (photos) =>
      writeColourPhotos(photos, { amber: [210, 130, 30], azure: [40, 100, 210] }, 8, { width: 64, height: 48 }),
  });
}, 60_000);

afterAll(() => server.close());

describe('the learner graph build as model events', () => {
  it('tells the pages how the refit worker builds the neighbour graph, then clears it', async () => {
    const states: ModelState[] = [];
    const stop = server.live.subscribe((event: ServerEvent) => {
      if (event.type === 'model') states.push(event.model);
    });
    try {
      await server.live.learner();
    } finally {
      stop();
    }
    const building = states.filter((s) => s.progress);
    expect(building.length).toBeGreaterThanOrEqual(1);
    expect(building[0]!.progress).toMatchObject({ phase: 'graph', done: 0, total: 16, unit: 'images' });
    // Done: the state no longer says a graph is being built.
    expect(states.at(-1)!.progress).toBeNull();
    expect(server.live.state.progress).toBeNull();
  });
});
