/** @module The workspace as a whole (mounted at /api): its figures, the embedding map, and the export. */
import { ExportQuerySchema, type MapState, type StatsResponse } from '@autolabel/core';
import { Hono } from 'hono';
import { parse } from '../request.js';
import type { RouteContext } from './context.js';

export function workspaceRoutes({ workspace: ws, live, map }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/stats', async (c) => c.json({ ...(await ws.stats()), model: live.state } satisfies StatsResponse));

  routes.get('/map', async (c) => {
    const state: MapState = await map.get();
    return c.json(state, state.state === 'computing' ? 202 : 200);
  });

  routes.get('/export', async (c) => {
    const { format } = parse(ExportQuerySchema, c.req.query(), 'query');
    const text = (await ws.export(format))!;
    return c.body(text, 200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
      'content-disposition': `attachment; filename="labels.${format}"`,
    });
  });

  return routes;
}
