/** @module Classes (mounted at /api/classes): list, add, rename or merge, and delete. */
import {
  ClassBodySchema,
  ClassChangeBodySchema,
  type ClassDeleteResponse,
  ClassDeleteQuerySchema,
  type ClassesResponse,
} from '@autolabel/core';
import { Hono } from 'hono';
import { body, parse } from '../request.js';
import { labelsChanged, type RouteContext } from './context.js';

export function classRoutes({ workspace: ws, live }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/', async (c) => c.json({ classes: await ws.classes.list() } satisfies ClassesResponse));

  routes.post('/', async (c) => {
    const { name } = await body(c, ClassBodySchema);
    return c.json({ classes: await ws.classes.add(name) } satisfies ClassesResponse, 201);
  });

  routes.patch('/:name', async (c) => {
    const name = c.req.param('name');
    const change = await body(c, ClassChangeBodySchema);
    const classes =
      'rename' in change
        ? await ws.classes.rename(name, change.rename)
        : (await ws.classes.merge(name, change.mergeInto)).classes;
    labelsChanged(live, []);
    return c.json({ classes } satisfies ClassesResponse);
  });

  routes.delete('/:name', async (c) => {
    const { labels } = parse(ClassDeleteQuerySchema, c.req.query(), 'query');
    const result = await ws.classes.remove(c.req.param('name'), { clearLabels: labels === 'clear' });
    if (result.removedLabels > 0) labelsChanged(live, []);
    return c.json(result satisfies ClassDeleteResponse);
  });

  return routes;
}
