/**
 * @module The HTTP API (Hono) over one workspace: images, thumbnails, labels, classes, suggestions,
 * next picks, the verify loop (routes/verify.ts), stats, export, and server-sent events.
 */
import { join } from 'node:path';
import {
  accuracyOf,
  AcceptBodySchema,
  AutolabelError,
  BulkLabelsBodySchema,
  ClassBodySchema,
  ClassChangeBodySchema,
  ClassDeleteQuerySchema,
  ExportQuerySchema,
  type ImageId,
  ImagesQuerySchema,
  type ImagesPage,
  LabelBodySchema,
  NextQuerySchema,
  normalizeLabel,
  type StatsResponse,
  type Workspace,
} from '@autolabel/core';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { errorResponse } from './errors.js';
import { type GuardOptions, mountGuards } from './guard.js';
import type { LiveModel } from './live.js';
import { EmbeddingMap } from './map.js';
import { MediaCache } from './media.js';
import { body, IdSchema, parse } from './request.js';
import { verifyRoutes } from './routes/verify.js';

export interface AppOptions extends GuardOptions {
  readonly workspace: Workspace;
  readonly live: LiveModel;
}

export function createApp(options: AppOptions): Hono {
  const { workspace: ws, live } = options;
  const store = ws.store;
  const media = new MediaCache(ws.imagesRoot, join(ws.dir, 'cache', 'media'));
  const map = new EmbeddingMap(live, join(ws.dir, 'cache'));
  const app = new Hono();

  app.onError((error, c) => {
    const { status, body: payload } = errorResponse(error);
    return c.json(payload, status);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  mountGuards(app, options);

  const imageOf = async (c: Context) => {
    const { id } = parse(IdSchema, c.req.param(), 'path');
    const image = await store.getImage(id as ImageId);
    if (!image) throw new AutolabelError('IMAGE_NOT_FOUND', `no image with id ${id}`);
    return image;
  };
  const changed = (imageIds: readonly number[]): void => {
    live.emit({ type: 'labels', imageIds });
    live.labelsChanged();
  };

  app.route('/api/verify', verifyRoutes({ workspace: ws, live }));

  app.get('/api/stats', async (c) => {
    const byStatus = await store.statusCounts();
    const stats: StatsResponse = {
      images: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      classes: await store.listClasses(),
      model: live.state,
      curve: (await store.listFits()).flatMap((f) => {
        const accuracy = accuracyOf(f)?.estimate;
        return accuracy === undefined ? [] : [{ labels: f.labels, accuracy }];
      }),
      confidence: await store.confidenceHistogram(20),
    };
    return c.json(stats);
  });

  app.get('/api/images', async (c) => {
    const query = parse(ImagesQuerySchema, c.req.query(), 'query');
    if (query.sort === 'rank') {
      // Recommendation order: the first offset + limit picks of `next`, looked up in that order.
      const picks = await ws.next({ count: query.offset + query.limit, learner: await live.learner() });
      const wanted = picks.slice(query.offset).map((p) => p.imageId);
      const found = await store.queryImages({ ids: wanted, offset: 0, limit: wanted.length || 1 });
      const byId = new Map(found.items.map((item) => [item.id as number, item]));
      const items = wanted.flatMap((id) => byId.get(id) ?? []);
      const counts = await store.statusCounts();
      const total = counts.unlabeled + counts.suggested + counts.auto;
      return c.json({ total, offset: query.offset, items } satisfies ImagesPage);
    }
    const page = await store.queryImages({ ...query, sort: query.sort });
    return c.json({ total: page.total, offset: query.offset, items: page.items } satisfies ImagesPage);
  });

  app.get('/api/images/:id/thumbnail', async (c) => {
    const size = parse(
      z.object({ size: z.coerce.number().int().min(32).max(1024).default(256) }),
      c.req.query(),
      'query',
    );
    const thumb = await media.thumbnail(await imageOf(c), size.size);
    return c.body(new Uint8Array(thumb.bytes), 200, {
      'content-type': thumb.contentType,
      'cache-control': 'private, max-age=86400',
    });
  });

  app.get('/api/images/:id/file', async (c) => {
    const file = await media.full(await imageOf(c));
    return c.body(new Uint8Array(file.bytes), 200, {
      'content-type': file.contentType,
      'cache-control': 'private, max-age=3600',
    });
  });

  app.put('/api/images/:id/label', async (c) => {
    const image = await imageOf(c);
    const { label } = await body(c, LabelBodySchema);
    const name = normalizeLabel(label, 'label');
    await store.setLabels([{ imageId: image.id, label: name, source: 'manual' }]);
    changed([image.id]);
    return c.json({ imageId: image.id, label: name });
  });

  app.delete('/api/images/:id/label', async (c) => {
    const image = await imageOf(c);
    await store.clearLabels([image.id]);
    changed([image.id]);
    return c.json({ imageId: image.id, label: null });
  });

  app.post('/api/labels', async (c) => {
    const { items } = await body(c, BulkLabelsBodySchema);
    for (const item of items) {
      if (!(await store.getImage(item.imageId as ImageId))) {
        throw new AutolabelError('IMAGE_NOT_FOUND', `no image with id ${item.imageId}`);
      }
    }
    const set = items.flatMap((item, i) =>
      item.label === null
        ? []
        : [
            {
              imageId: item.imageId as ImageId,
              label: normalizeLabel(item.label, `items.${i}.label`),
              source: 'manual' as const,
            },
          ],
    );
    const cleared = items.filter((item) => item.label === null).map((item) => item.imageId as ImageId);
    await store.setLabels(set);
    if (cleared.length > 0) await store.clearLabels(cleared);
    changed(items.map((item) => item.imageId));
    return c.json({ labeled: set.length, cleared: cleared.length });
  });

  app.post('/api/accept', async (c) => {
    const { imageIds } = await body(c, AcceptBodySchema);
    const result = await ws.accept(imageIds ? { imageIds: imageIds as ImageId[] } : { auto: true });
    live.emit({ type: 'labels', imageIds: imageIds ?? [] });
    // Accepting the certified region retires the checks that stood for it: certify what is left afresh.
    if (!imageIds && result.accepted > 0) live.labelsChanged();
    return c.json(result);
  });

  app.get('/api/classes', async (c) => c.json({ classes: await store.listClasses() }));

  app.post('/api/classes', async (c) => {
    const { name } = await body(c, ClassBodySchema);
    await store.addClass(normalizeLabel(name, 'name'));
    return c.json({ classes: await store.listClasses() }, 201);
  });

  app.patch('/api/classes/:name', async (c) => {
    const name = c.req.param('name');
    const change = await body(c, ClassChangeBodySchema);
    if ('rename' in change) await store.renameClass(name, normalizeLabel(change.rename, 'rename'));
    else await store.mergeClass(name, normalizeLabel(change.mergeInto, 'mergeInto'));
    changed([]);
    return c.json({ classes: await store.listClasses() });
  });

  app.delete('/api/classes/:name', async (c) => {
    const { labels } = parse(ClassDeleteQuerySchema, c.req.query(), 'query');
    const removed = await store.deleteClass(c.req.param('name'), labels === 'clear');
    if (removed > 0) changed([]);
    return c.json({ removedLabels: removed, classes: await store.listClasses() });
  });

  app.get('/api/next', async (c) => {
    const query = parse(NextQuerySchema, c.req.query(), 'query');
    return c.json({ picks: await ws.next({ ...query, learner: await live.learner() }) });
  });

  app.get('/api/map', async (c) => {
    const state = await map.get();
    return c.json(state, state.state === 'computing' ? 202 : 200);
  });

  app.get('/api/export', async (c) => {
    const { format } = parse(ExportQuerySchema, c.req.query(), 'query');
    const text = (await ws.export(format))!;
    return c.body(text, 200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
      'content-disposition': `attachment; filename="labels.${format}"`,
    });
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = live.subscribe((event) => {
        queue.push(JSON.stringify(event));
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'model', data: JSON.stringify({ type: 'model', model: live.state }) });
      while (!stream.aborted && !stream.closed) {
        const next = queue.shift();
        if (next === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 15_000); // a comment line keeps proxies from closing an idle stream
          });
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
          continue;
        }
        await stream.writeSSE({ event: (JSON.parse(next) as { type: string }).type, data: next });
      }
      unsubscribe();
    }),
  );

  // Before the web app's catch-all (serve.ts): an API path that names no route is a JSON 404, not the page.
  app.all('/api/*', (c) => {
    throw new AutolabelError('ROUTE_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  });

  return app;
}
