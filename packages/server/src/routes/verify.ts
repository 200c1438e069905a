/**
 * @module The verify loop over HTTP (mounted at /api/verify): hands random checks of the suggestions
 * to verifiers one at a time (each browser tab by its own client id), takes answers and skips, and
 * reports the checks and the certificate they support. Answers are labels: they train the model too.
 */
import {
  VerifyAnswerBodySchema,
  type VerifyCheckResponse,
  VerifyNextBodySchema,
  type VerifyResponse,
} from '@autolabel/core';
import { Hono } from 'hono';
import { body, IdSchema, parse } from '../request.js';
import { labelsChanged, type RouteContext } from './context.js';

export function verifyRoutes({ workspace: ws, live }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/', async (c) => c.json({ status: await ws.checks.status() } satisfies VerifyResponse));

  routes.post('/next', async (c) => {
    const { client } = await body(c, VerifyNextBodySchema);
    const check = await ws.checks.next(client, live.state.targetPrecision ?? undefined);
    return c.json({ check: check ?? null, status: await ws.checks.status() } satisfies VerifyCheckResponse);
  });

  routes.post('/:id/answer', async (c) => {
    const { id } = parse(IdSchema, c.req.param(), 'path');
    const { label } = await body(c, VerifyAnswerBodySchema);
    const check = await ws.checks.answer(id, label);
    labelsChanged(live, [check.imageId]);
    return c.json({ check, status: await ws.checks.status() } satisfies VerifyCheckResponse);
  });

  routes.post('/:id/skip', async (c) => {
    const { id } = parse(IdSchema, c.req.param(), 'path');
    await ws.checks.skip(id);
    // A skip is evidence too (it counts as an error): refit, so the certificate shown includes it.
    live.labelsChanged();
    return c.json({ status: await ws.checks.status() } satisfies VerifyResponse);
  });

  return routes;
}
