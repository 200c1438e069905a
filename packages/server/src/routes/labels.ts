/** @module Many labels at once (mounted at /api/labels): a selection labelled or cleared in the grid, and undo. */
import {
  BulkLabelsBodySchema,
  type BulkLabelsResponse,
  type ImageId,
  UndoLabelsBodySchema,
  type UndoLabelsResponse,
} from '@autolabel/core';
import { Hono } from 'hono';
import { body } from '../request.js';
import { labelsChanged, type RouteContext } from './context.js';

export function labelRoutes({ workspace: ws, live }: RouteContext): Hono {
  const routes = new Hono();

  routes.post('/', async (c) => {
    const { items } = await body(c, BulkLabelsBodySchema);
    const { labeled, cleared, warnings, changeId } = await ws.labels.set(
      items.map((item) => ({ image: item.imageId as ImageId, label: item.label })),
    );
    labelsChanged(
      live,
      items.map((item) => item.imageId),
    );
    return c.json({ labeled, cleared, warnings, changeId } satisfies BulkLabelsResponse);
  });

  routes.post('/undo', async (c) => {
    const { changeIds } = await body(c, UndoLabelsBodySchema);
    const result = await ws.labels.undo(changeIds);
    labelsChanged(live, result.imageIds);
    return c.json(result satisfies UndoLabelsResponse);
  });

  return routes;
}
