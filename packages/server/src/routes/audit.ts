/**
 * @module The data quality audit over HTTP (mounted at /api/audit): the persisted findings and the open
 * counts per kind, a run in the background (progress as `audit` events on /api/events), and what a
 * person decides about a finding. Relabelling or clearing a label goes through the image routes.
 */
import {
  AuditQuerySchema,
  type AuditResolveResponse,
  AuditResolveBodySchema,
  type AuditResponse,
  AuditRunBodySchema,
  type AuditRunState,
} from '@autolabel/core';
import { Hono } from 'hono';
import { z } from 'zod';
import { body, parse } from '../request.js';
import type { RouteContext } from './context.js';

/** A finding's id: the fingerprint core gives it. */
const FindingIdSchema = z.object({ id: z.string().trim().min(1).max(200) });

export function auditRoutes({ workspace: ws, live, audits }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/', async (c) => {
    const query = parse(AuditQuerySchema, c.req.query(), 'query');
    return c.json((await ws.audit.findings(query)) satisfies AuditResponse);
  });

  routes.get('/run', (c) => c.json(audits.state satisfies AuditRunState));

  routes.post('/run', async (c) => {
    const options = await body(c, AuditRunBodySchema);
    return c.json(audits.start(options) satisfies AuditRunState, 202);
  });

  routes.post('/findings/:id', async (c) => {
    const { id } = parse(FindingIdSchema, c.req.param(), 'path');
    const { action, imageIds } = await body(c, AuditResolveBodySchema);
    const result = await ws.audit.resolve(id, action, { imageIds });
    // Excluding or including images changes what the model learns from: refit, and tell the other pages.
    if (action !== 'dismiss') live.labelsChanged();
    live.emit({ type: 'audit', run: audits.state });
    return c.json(result satisfies AuditResolveResponse);
  });

  return routes;
}
