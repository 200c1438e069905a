/**
 * @module The map at 100,000 images, in headless Chromium against a stub of the API: every point is
 * drawn on the canvas, every point gets its class colour from one answer of GET /api/map/classes (no
 * pages of rows), and the legend counts them. Needs the built app (packages/web/dist); frame times are measured outside the tests (README).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import type {
  ImageId,
  ImageItem,
  ImagesPage,
  MapClassesState,
  MapState,
  ModelState,
  StatsResponse,
} from '@autolabel/core';
import { IMAGE_STATUSES } from '@autolabel/core/domain';
import { chromiumLaunchOptions, seededRandom } from '@autolabel/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltApp, SHOTS, WEB_ROOT } from './e2e-fixture.js';

const IMAGES = 100_000;
const CLASSES = Array.from({ length: 10 }, (_, c) => `class-${c}`);
const MODEL: ModelState = {
  fitId: 1,
  state: 'idle',
  message: null,
  accuracy: null,
  targetPrecision: 0.95,
  threshold: null,
  certified: 0,
  next: null,
  progress: null,
};
const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Ten clusters on a ring, image i in cluster i mod 10 (its class). */
function mapState(): MapState {
  const random = seededRandom(3);
  const ids: number[] = [];
  const xy: number[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const angle = ((i % 10) / 10) * 2 * Math.PI;
    ids.push(i + 1);
    xy.push(0.6 * Math.cos(angle) + 0.15 * (random() - 0.5), 0.6 * Math.sin(angle) + 0.15 * (random() - 0.5));
  }
  return { state: 'ready', version: 'map-1', ids, xy };
}

/** Image i + 1 suggested as class i mod 10, in the map's order. */
function classesState(): MapClassesState {
  const classOf = Uint16Array.from({ length: IMAGES }, (_, i) => 1 + (i % 10));
  const status = new Uint8Array(IMAGES).fill(IMAGE_STATUSES.indexOf('suggested'));
  const base64 = (array: ArrayBufferView) =>
    Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
  return {
    state: 'ready',
    map: 'map-1',
    version: 'classes-1',
    classes: CLASSES,
    classOf: base64(classOf),
    status: base64(status),
  };
}

function item(id: number): ImageItem {
  return {
    id: id as ImageId,
    path: `img/${String(id).padStart(6, '0')}.jpg`,
    width: 64,
    height: 64,
    status: 'suggested',
    label: CLASSES[(id - 1) % 10]!,
    confidence: 0.8,
    runnerUp: null,
    runnerUpConfidence: null,
    origin: null,
  };
}

let server: Server;
let browser: Browser;
let page: Page;
let url: string;
let pageRequests = 0;
let classRequests = 0;
const map = JSON.stringify(mapState());
const classes = JSON.stringify(classesState());

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function stub(request: { url?: string }, response: ServerResponse): Promise<void> {
  const at = new URL(request.url ?? '/', 'http://stub');
  const path = at.pathname;
  if (path === '/api/map') return json(response, map);
  if (path === '/api/map/classes') {
    classRequests++;
    return json(response, classes);
  }
  if (path === '/api/stats') {
    const stats: StatsResponse = {
      images: IMAGES,
      byStatus: { labeled: 0, accepted: 0, auto: 0, suggested: IMAGES, unlabeled: 0 },
      classes: CLASSES.map((name) => ({ name, labeled: 0, accepted: 0, auto: 0, suggested: IMAGES / 10 })),
      model: MODEL,
      curve: [],
      confidence: new Array<number>(20).fill(0),
    };
    return json(response, stats);
  }
  if (path === '/api/images') {
    if (!at.searchParams.has('ids')) pageRequests++;
    const offset = Number(at.searchParams.get('offset') ?? 0);
    const limit = Number(at.searchParams.get('limit') ?? 100);
    const items = Array.from({ length: Math.max(0, Math.min(limit, IMAGES - offset)) }, (_, k) => item(offset + k + 1));
    return json(response, { total: IMAGES, offset, items } satisfies ImagesPage);
  }
  if (path === '/api/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    return void response.write(`event: model\ndata: ${JSON.stringify({ type: 'model', model: MODEL })}\n\n`);
  }
  if (path.startsWith('/api/')) return json(response, {});
  const file = join(WEB_ROOT, path === '/' ? 'index.html' : path);
  const bytes = file.startsWith(WEB_ROOT) ? await readFile(file).catch(() => null) : null;
  response.writeHead(bytes ? 200 : 404, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  response.end(bytes);
}

beforeAll(async () => {
  requireBuiltApp();
  server = createServer((request, response) => void stub(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch(chromiumLaunchOptions());
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the map with 100,000 images', () => {
  it('draws every point on one canvas and colours each by its class from one answer, no page of rows', async () => {
    await page.goto(`${url}#/map`);
    const canvas = page.locator('[data-testid=map-canvas]');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(IMAGES));
    await expect.poll(() => canvas.getAttribute('data-colored'), { timeout: 60_000 }).toBe(String(IMAGES));
    expect(classRequests).toBe(1);
    expect(pageRequests).toBe(0);
    // The legend counts every class's 10,000 dots and none left grey.
    const legend = page.locator('[data-testid=map-legend]');
    await expect.poll(() => legend.locator('[data-class="class-3"]').textContent()).toBe('class-3 10,000');
    expect(await legend.textContent()).toContain('no label or suggestion 0');
    // The points are no DOM nodes: one canvas, a handful of elements in the view.
    expect(await page.locator('section.map *').count()).toBeLessThan(200);
    await page.screenshot({ path: join(SHOTS, 'map-scale-100k.png') });
  });
});
