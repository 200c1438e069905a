/**
 * @module The grid at 100,000 images, in headless Chromium against a stub of the API that
 * makes rows up on demand: the first screen comes from one page, only the rows in view are in the
 * DOM, scrolling far fetches only the pages scrolled to, and a Shift-click range spans pages never
 * shown. Needs the built app (packages/web/dist).
 */
import { join } from 'node:path';
import type { ImageId, ImageItem, ImagesPage, ModelState, StatsResponse } from '@autolabel/core';
import { chromiumLaunchOptions, type StubApp, type StubReply, startStubApp } from '@autolabel/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltApp, SHOTS, WEB_ROOT } from './e2e-fixture.js';

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

const requests: { label: string | null; offset: number; limit: number }[] = [];
let app: StubApp;
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

function route(at: URL): StubReply | undefined {
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
    return { json: stats };
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
    return { json: { total, offset, items } satisfies ImagesPage };
  }
  if (/^\/api\/images\/\d+\/thumbnail$/.test(path)) {
    return { bytes: PIXEL, type: 'image/png', cacheControl: 'max-age=3600' };
  }
  if (path === '/api/next') return { json: { picks: [] } };
  return undefined;
}

const cells = () => page.locator('.cell[data-id]');
const scrollTo = (fraction: number) =>
  page.evaluate(`(() => {
    const scroller = document.querySelector('.grid-scroller');
    scroller.scrollTop = scroller.scrollHeight * ${fraction};
  })()`);

beforeAll(async () => {
  requireBuiltApp();
  app = await startStubApp({ webRoot: WEB_ROOT, model: MODEL, route });
  browser = await chromium.launch(chromiumLaunchOptions());
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('grid with 100,000 images', () => {
  it('renders the first screen from the first page alone, with only the visible rows in the DOM', async () => {
    await page.goto(`${app.url}#/grid`);
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
