import { join } from 'node:path';
import type { ModelState, ServerEvent } from '@autolabel/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingMap } from './map.js';
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
  it('tells the pages how the refit worker builds the neighbour graph, the map too, then clears it', async () => {
    const states: ModelState[] = [];
    const stop = server.live.subscribe((event: ServerEvent) => {
      if (event.type === 'model') states.push(event.model);
    });
    // The map, asked for before the learner is ready, says the graph comes first instead of waiting.
    const map = new EmbeddingMap(server.live, join(server.dir, 'ws', 'cache'), server.workspace, 0);
    try {
      expect(await map.get()).toMatchObject({ state: 'computing', phase: 'graph' });
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
