/** @module The workspace as a whole (mounted at /api): its figures, the embedding map, and the export. */
import {
  downloadOf,
  ExportQuerySchema,
  type MapClassesState,
  type MapState,
  type QueueResponse,
  queueStatus,
  type StatsResponse,
} from '@autolabel/core';
import { Hono } from 'hono';
import { parse } from '../request.js';
import type { RouteContext } from './context.js';

export function workspaceRoutes({ workspace: ws, live, map, queue }: RouteContext): Hono {
  const routes = new Hono();

  // The queue's figures, asked at most every 2 s however many pages poll them.
  let queueAnswer: { at: number; answer: Promise<QueueResponse> } | undefined;
  routes.get('/queue', async (c) => {
    if (queue === undefined) return c.json({ queue: null } satisfies QueueResponse);
    if (!queueAnswer || Date.now() - queueAnswer.at > 2000) {
      const answer = queueStatus(queue).then((status) => ({ queue: status }));
      queueAnswer = { at: Date.now(), answer };
      answer.catch(() => (queueAnswer = undefined));
    }
    return c.json(await queueAnswer.answer);
  });

  routes.get('/stats', async (c) => c.json({ ...(await ws.stats()), model: live.state } satisfies StatsResponse));

  routes.get('/map', async (c) => {
    const state: MapState = await map.get();
    return c.json(state, state.state === 'computing' ? 202 : 200);
  });

  // One answer colours every point; revalidated by its ETag, so an unchanged one costs no transfer.
  routes.get('/map/classes', async (c) => {
    const state: MapClassesState = await map.classes();
    if (state.state !== 'ready') return c.json(state, state.state === 'computing' ? 202 : 200);
    const etag = `"${state.version}"`;
    c.header('etag', etag);
    c.header('cache-control', 'no-cache');
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    return c.json(state);
  });

  // Streamed as the store is read: memory stays flat however many images there are. A download the
  // client drops stops the export (its next write fails); a failure once bytes are sent errors the
  // response, so the client sees a broken transfer, never a short file that looks whole.
  routes.get('/export', (c) => {
    const query = parse(ExportQuerySchema, c.req.query(), 'query');
    const { mediaType, fileName } = downloadOf(query.format);
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    ws.export({
      format: query.format,
      out: { write: (chunk) => writer.write(typeof chunk === 'string' ? encoder.encode(chunk) : chunk) },
      where: query.filter,
      split: query.split,
      seed: query.seed,
    })
      .then(
        () => writer.close(),
        (error: unknown) => writer.abort(error),
      )
      .catch(() => undefined);
    return c.body(readable, 200, {
      'content-type': mediaType,
      'content-disposition': `attachment; filename="${fileName}"`,
    });
  });

  return routes;
}
