/** @module Many labels at once (mounted at /api/labels): a selection labelled or cleared in the grid. */
import { BulkLabelsBodySchema, type BulkLabelsResponse, type ImageId } from '@autolabel/core';
import { Hono } from 'hono';
import { body } from '../request.js';
import { labelsChanged, type RouteContext } from './context.js';

export function labelRoutes({ workspace: ws, live }: RouteContext): Hono {
  const routes = new Hono();

  routes.post('/', async (c) => {
    const { items } = await body(c, BulkLabelsBodySchema);
    const { labeled, cleared, warnings } = await ws.labels.set(
      items.map((item) => ({ image: item.imageId as ImageId, label: item.label })),
    );
    labelsChanged(
      live,
      items.map((item) => item.imageId),
    );
    return c.json({ labeled, cleared, warnings } satisfies BulkLabelsResponse);
  });

  return routes;
}
