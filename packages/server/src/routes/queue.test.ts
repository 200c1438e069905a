// GET /api/queue, what the dashboard shows of an embedding queue (serve --queue): null without one;
// with one, the jobs waiting for a worker, then a worker taking them until none is open.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWorkspace, type QueueResponse, runWorker } from '@autolabel/core';
import { testPostgres, writeImage, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { LiveModel } from '../live-model.js';

const postgres = await testPostgres();
const server = postgres.server;

if (!server) {
  describe.skip(`GET /api/queue (skipped: ${postgres.skip})`, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const name = `autolabel_api_queue_${process.pid}_${randomBytes(4).toString('hex')}`;
  await sql(server.url, `CREATE DATABASE ${name}`);
  const queue = Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-api-queue-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
  });

  describe('GET /api/queue', () => {
    it('shows the jobs waiting for a worker, then a worker taking them', async () => {
      for (let i = 0; i < 60; i++) {
        await writeImage(join(dir, 'photos', `img${i}.png`), 'png', {
          color: [i * 4, 100, 200 - i * 3],
          noise: 30,
          seed: i,
        });
      }
      const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8 });
      const ws = await initWorkspace({
        images: join(dir, 'photos'),
        workspace: join(dir, 'ws'),
        model: `onnx:${model.dir}`,
      });
      await ws.scan();
      const live = new LiveModel(ws, { debounceMs: 20 });
      const get = async (app: ReturnType<typeof createApp>): Promise<QueueResponse> =>
        (await (await app.request('/api/queue')).json()) as QueueResponse;
      try {
        expect(await get(createApp({ workspace: ws, live }))).toEqual({ queue: null });
        const app = createApp({ workspace: ws, live, queue });

        // Queued, then no longer followed (as when embed --queue is interrupted): 6 jobs wait, no worker.
        const follow = new AbortController();
        const queued = await ws.embed({
          queue,
          jobSize: 10,
          signal: follow.signal,
          onProgress: (p) => p.note?.includes('jobs open') && follow.abort(),
        });
        expect(queued).toMatchObject({ aborted: true, queue: { jobs: 6, left: 6 } });
        expect((await get(app)).queue).toMatchObject({ workers: 0, waiting: 6, active: 0, failed: 0 });

        // A worker takes them; the answer (asked at most every 2 s) comes to nothing open, one worker alive.
        const stop = new AbortController();
        const worker = runWorker({ store: ws.dir, queue, threads: 1, signal: stop.signal });
        let answer: QueueResponse['queue'] = null;
        for (let i = 0; i < 150; i++) {
          answer = (await get(app)).queue;
          if (answer && answer.waiting + answer.active === 0 && answer.workers === 1) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(answer).toMatchObject({ workers: 1, waiting: 0, active: 0, failed: 0, etaSeconds: 0 });
        stop.abort();
        expect(await worker).toMatchObject({ jobs: 6, embedded: 60, failed: 0 });
        expect((await ws.status()).embedded).toBe(60);
      } finally {
        await live.close();
        await ws.close();
      }
    }, 60_000);
  });
}
