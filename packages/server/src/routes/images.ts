/** @module Images (mounted at /api/images): pages of them, thumbnails and files, and one image's label. */
import { type ImageId, ImagesQuerySchema, type ImagesPage, LabelBodySchema, type LabelResult } from '@autolabel/core';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { body, IdSchema, parse } from '../request.js';
import { labelsChanged, type RouteContext } from './context.js';

const ThumbnailQuerySchema = z.object({ size: z.coerce.number().int().min(32).max(1024).default(256) });

export function imageRoutes({ workspace: ws, live, media }: RouteContext): Hono {
  const routes = new Hono();
  const idOf = (c: Context): ImageId => parse(IdSchema, c.req.param(), 'path').id as ImageId;

  routes.get('/', async (c) => {
    const query = parse(ImagesQuerySchema, c.req.query(), 'query');
    const learner = query.sort === 'rank' ? await live.learner() : undefined;
    return c.json((await ws.images.query({ ...query, learner })) satisfies ImagesPage);
  });

  routes.get('/:id/thumbnail', async (c) => {
    const { size } = parse(ThumbnailQuerySchema, c.req.query(), 'query');
    const thumb = await media.thumbnail(await ws.images.get(idOf(c)), size);
    return c.body(new Uint8Array(thumb.bytes), 200, {
      'content-type': thumb.contentType,
      'cache-control': 'private, max-age=86400',
    });
  });

  routes.get('/:id/file', async (c) => {
    const file = await media.full(await ws.images.get(idOf(c)));
    return c.body(new Uint8Array(file.bytes), 200, {
      'content-type': file.contentType,
      'cache-control': 'private, max-age=3600',
    });
  });

  routes.put('/:id/label', async (c) => {
    const imageId = idOf(c);
    const { label } = await body(c, LabelBodySchema);
    const result = await ws.labels.set([{ image: imageId, label }]);
    labelsChanged(live, [imageId]);
    return c.json({ imageId, label: result.items[0]!.label, warnings: result.warnings } satisfies LabelResult);
  });

  routes.delete('/:id/label', async (c) => {
    const imageId = idOf(c);
    await ws.labels.set([{ image: imageId, label: null }]);
    labelsChanged(live, [imageId]);
    return c.json({ imageId, label: null, warnings: [] } satisfies LabelResult);
  });

  return routes;
}
