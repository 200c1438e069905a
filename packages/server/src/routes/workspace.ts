/** @module The workspace as a whole (mounted at /api): its figures, the embedding map, and the export. */
import { downloadOf, ExportQuerySchema, type MapState, type StatsResponse } from '@autolabel/core';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { parse } from '../request.js';
import type { RouteContext } from './context.js';

export function workspaceRoutes({ workspace: ws, live, map }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/stats', async (c) => c.json({ ...(await ws.stats()), model: live.state } satisfies StatsResponse));

  routes.get('/map', async (c) => {
    const state: MapState = await map.get();
    return c.json(state, state.state === 'computing' ? 202 : 200);
  });

  // Streamed as the store is read: memory stays flat however many images there are. A failure once
  // bytes are sent can only cut the download short (the archive or file is then visibly incomplete).
  routes.get('/export', (c) => {
    const query = parse(ExportQuerySchema, c.req.query(), 'query');
    const { mediaType, fileName } = downloadOf(query.format);
    c.header('content-type', mediaType);
    c.header('content-disposition', `attachment; filename="${fileName}"`);
    return stream(c, async (out) => {
      await ws.export({
        format: query.format,
        out: { write: async (chunk) => void (await out.write(chunk)) },
        where: query.filter,
        split: query.split,
        seed: query.seed,
        signal: c.req.raw.signal,
      });
    });
  });

  return routes;
}
