/**
 * @module The HTTP API (Hono) over one workspace. Each route module (routes/*.ts) parses a request,
 * calls the workspace's use cases, and answers a type of the contract (core http/api.ts).
 */
import { join } from 'node:path';
import { AutolabelError, type Workspace } from '@autolabel/core';
import { Hono } from 'hono';
import { AuditRuns } from './audit-runs.js';
import { errorResponse } from './errors.js';
import { type GuardOptions, mountGuards } from './guard.js';
import type { LiveModel } from './live-model.js';
import { EmbeddingMap } from './map.js';
import { MediaCache } from './media.js';
import { auditRoutes } from './routes/audit.js';
import { classRoutes } from './routes/classes.js';
import type { RouteContext } from './routes/context.js';
import { eventRoutes } from './routes/events.js';
import { imageRoutes } from './routes/images.js';
import { labelRoutes } from './routes/labels.js';
import { suggestionRoutes } from './routes/suggestions.js';
import { verifyRoutes } from './routes/verify.js';
import { workspaceRoutes } from './routes/workspace.js';

export interface AppOptions extends GuardOptions {
  readonly workspace: Workspace;
  readonly live: LiveModel;
  /** The audit runs; made here when the caller does not close them itself (serve.ts does). */
  readonly audits?: AuditRuns;
  /** An embedding queue (postgres://... or redis://...) whose workers and jobs GET /api/queue shows. */
  readonly queue?: string;
}

export function createApp(options: AppOptions): Hono {
  const { workspace, live } = options;
  const context: RouteContext = {
    workspace,
    live,
    media: new MediaCache(workspace.imagesRoot, join(workspace.dir, 'cache', 'media')),
    map: new EmbeddingMap(live, join(workspace.dir, 'cache'), workspace),
    audits: options.audits ?? new AuditRuns(workspace, live),
    queue: options.queue,
  };
  const app = new Hono();

  app.onError((error, c) => {
    const { status, body: payload } = errorResponse(error);
    return c.json(payload, status);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  mountGuards(app, options);

  app.route('/api', workspaceRoutes(context));
  app.route('/api/images', imageRoutes(context));
  app.route('/api/labels', labelRoutes(context));
  app.route('/api/classes', classRoutes(context));
  app.route('/api', suggestionRoutes(context));
  app.route('/api/verify', verifyRoutes(context));
  app.route('/api/events', eventRoutes(context));
  app.route('/api/audit', auditRoutes(context));

  // Before the web app's catch-all (serve.ts): an API path that names no route is a JSON 404, not the page.
  app.all('/api/*', (c) => {
    throw new AutolabelError('ROUTE_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  });

  return app;
}
