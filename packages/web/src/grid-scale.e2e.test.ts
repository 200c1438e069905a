/**
 * @module The grid at 100,000 images, in headless Chromium against a stub of the API that
 * makes rows up on demand: the first screen comes from one page, only the rows in view are in the
 * DOM, scrolling far fetches only the pages scrolled to, and a Shift-click range spans pages never
 * shown. Needs the built app (packages/web/dist).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageId, ImageItem, ImagesPage, ModelState, StatsResponse } from '@autolabel/core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '@autolabel/test-utils';

const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../../artifacts/e2e', import.meta.url));

/** Two groups: 60,000 suggested cats, then 40,000 auto dogs. */
const GROUPS = [
  { name: 'cat', status: 'suggested', count: 60_000, firstId: 1 },
  { name: 'dog', status: 'auto', count: 40_000, firstId: 60_001 },
] as const;
const MODEL: ModelState = {
  fitId: 1,
  state: 'idle',
  message: null,
  accuracy: { estimate: 0.9, low: 0.86, high: 0.93, basis: 'random-checks', checks: 240, note: null },
  targetPrecision: 0.95,
  threshold: 0.8,
  certified: 40_000,
  next: { checks: 30, images: 12_000, threshold: 0.7 },
};
// A 1 x 1 grey PNG.
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==',
  'base64',
);
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

const requests: { label: string | null; offset: number; limit: number }[] = [];
let server: Server;
let url: string;
let browser: Browser;
let page: Page;

function item(group: (typeof GROUPS)[number], index: number): ImageItem {
  return {
    id: (group.firstId + index) as ImageId,
    path: `${group.name}/${String(index).padStart(5, '0')}.jpg`,
    width: 640,
    height: 480,
    status: group.status,
    label: group.name,
    // Most confident first, as the grid asks.
    confidence: 0.99 - (0.5 * index) / group.count,
    runnerUp: null,
    runnerUpConfidence: null,
    origin: null,
  };
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function stub(request: { url?: string }, response: ServerResponse): Promise<void> {
  const at = new URL(request.url ?? '/', 'http://stub');
  const path = at.pathname;
  if (path === '/api/stats') {
    const stats: StatsResponse = {
      images: 100_000,
      byStatus: { labeled: 0, accepted: 0, auto: 40_000, suggested: 60_000, unlabeled: 0 },
      classes: GROUPS.map((g) => ({
        name: g.name,
        labeled: 0,
        accepted: 0,
        auto: g.status === 'auto' ? g.count : 0,
        suggested: g.status === 'suggested' ? g.count : 0,
      })),
      model: MODEL,
      curve: [],
      confidence: new Array<number>(20).fill(0),
    };
    return json(response, stats);
  }
  if (path === '/api/images') {
    const label = at.searchParams.get('label');
    const offset = Number(at.searchParams.get('offset') ?? 0);
    const limit = Number(at.searchParams.get('limit') ?? 100);
    requests.push({ label, offset, limit });
    const group = GROUPS.find((g) => g.name === label);
    const total = group?.count ?? 0;
    const items = group
      ? Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => item(group, offset + k))
      : [];
    return json(response, { total, offset, items } satisfies ImagesPage);
  }
  if (/^\/api\/images\/\d+\/thumbnail$/.test(path)) {
    response.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' });
    return void response.end(PIXEL);
  }
  if (path === '/api/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    return void response.write(`event: model\ndata: ${JSON.stringify({ type: 'model', model: MODEL })}\n\n`);
  }
  if (path === '/api/next') return json(response, { picks: [] });
  const file = join(WEB_ROOT, path === '/' ? 'index.html' : path);
  const bytes = file.startsWith(WEB_ROOT) ? await readFile(file).catch(() => null) : null;
  response.writeHead(bytes ? 200 : 404, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  response.end(bytes);
}

const cells = () => page.locator('.cell[data-id]');
const scrollTo = (fraction: number) =>
  page.evaluate(`(() => {
    const scroller = document.querySelector('.grid-scroller');
    scroller.scrollTop = scroller.scrollHeight * ${fraction};
  })()`);

beforeAll(async () => {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(
      `${WEB_ROOT} has no built app: run \`npm run build\` (or \`npm run build -w @autolabel/web\`) first`,
    );
  }
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

describe('grid with 100,000 images', () => {
  it('renders the first screen from the first page alone, with only the visible rows in the DOM', async () => {
    await page.goto(`${url}#/grid`);
    await expect.poll(() => cells().count()).toBeGreaterThan(20);
    expect(requests).toEqual([{ label: 'cat', offset: 0, limit: 200 }]);
    expect(await cells().count()).toBeLessThan(150);
    expect(await cells().first().getAttribute('data-path')).toBe('cat/00000.jpg');
    expect(await cells().first().locator('[data-testid=cell-confidence]').textContent()).toBe('99%');
    const height = Number(await page.evaluate(`document.querySelector('.grid-scroller').scrollHeight`));
    expect(height).toBeGreaterThan((100_000 / 7) * 150); // room for every row, though few exist
    await page.screenshot({ path: join(SHOTS, 'scale-01-first-screen.png') });
  });

  it('fetches only the pages scrolled to, far down', async () => {
    requests.length = 0;
    await scrollTo(0.8); // into the dogs: 60,000 cats take 60% of the height
    await expect.poll(() => page.locator('.cell[data-path^="dog/"]').count()).toBeGreaterThan(20);
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(requests.every((r) => r.label === 'dog' && r.offset > 10_000)).toBe(true);
    expect(await cells().count()).toBeLessThan(150);
    await page.screenshot({ path: join(SHOTS, 'scale-02-scrolled.png') });
  });

  it('selects a Shift-click range across pages that were never on screen', async () => {
    await scrollTo(0);
    await expect.poll(() => page.locator('.cell[data-path="cat/00000.jpg"]').count()).toBe(1);
    await page.click('.cell[data-path="cat/00000.jpg"]');
    // About 60 rows down: the range covers pages 0-2 of the cats, page 1 never shown.
    await page.evaluate(`document.querySelector('.grid-scroller').scrollTop = 60 * 196`);
    const target = cells().last();
    await expect.poll(() => target.getAttribute('data-path')).toMatch(/^cat\/00[45]\d\d\.jpg$/);
    const last = Number((await target.getAttribute('data-path'))!.slice(4, 9));
    await target.click({ modifiers: ['Shift'] });
    await expect
      .poll(() => page.locator('[data-testid=selection-count]').textContent())
      .toBe(`${(last + 1).toLocaleString('en-US')} selected`);
  });
});
