/** @module Server-sent events (mounted at /api/events): label changes and the live model's state, as they happen. */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { RouteContext } from './context.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;

export function eventRoutes({ live }: RouteContext): Hono {
  const routes = new Hono();

  routes.get('/', (c) =>
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
            setTimeout(resolve, KEEP_ALIVE_MS);
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

  return routes;
}
