/** @module Suggestions (mounted at /api): accept them as labels, and what to label next. */
import {
  AcceptBodySchema,
  type AcceptResponse,
  type ImageId,
  NextQuerySchema,
  type NextResponse,
} from '@autolabel/core';
import { Hono } from 'hono';
import { body, parse } from '../request.js';
import type { RouteContext } from './context.js';

export function suggestionRoutes({ workspace: ws, live }: RouteContext): Hono {
  const routes = new Hono();

  routes.post('/accept', async (c) => {
    const { imageIds } = await body(c, AcceptBodySchema);
    const result = await ws.suggestions.accept(imageIds ? { imageIds: imageIds as ImageId[] } : { auto: true });
    live.emit({ type: 'labels', imageIds: imageIds ?? [] });
    // Accepting the certified region retires the checks that stood for it: certify what is left afresh.
    if (!imageIds && result.accepted > 0) live.labelsChanged();
    return c.json(result satisfies AcceptResponse);
  });

  routes.get('/next', async (c) => {
    const query = parse(NextQuerySchema, c.req.query(), 'query');
    const picks = await ws.next({ ...query, learner: await live.learner() });
    return c.json({ picks } satisfies NextResponse);
  });

  return routes;
}
