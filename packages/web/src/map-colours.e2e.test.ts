/**
 * @module The map's colours end to end in headless Chromium against a real server: one request of
 * GET /api/map/classes colours every point (no page of image rows), a labelled point's dot is its
 * class's legend colour, and a label given in another tab recolours its dot, with no page of rows. Needs the built app (packages/web/dist); screenshots go to artifacts/e2e/ (map-colours-*).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '@autolabel/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiPost,
  closeAll,
  COLORS,
  colourWorkspace,
  imageRows,
  launchChromium,
  requireBuiltApp,
  settled,
  SHOTS,
  startAppServer,
} from './e2e-fixture.js';

const PER_CLASS = 4;
const IMAGES = PER_CLASS * Object.keys(COLORS).length;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-map-colours-'));
let server: RunningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
/** The app's requests for every point's classes, and for pages of image rows (not rows by id). */
const requests = { classes: 0, pages: 0 };

const rows = (query: string) => imageRows(server.url, query);

/** The colour the canvas shows at image `id`'s point, as 'rgb(r, g, b)'. */
const dotColour = (id: number) =>
  page.evaluate((id) => {
    type Hook = { point(id: number): { x: number; y: number } | null };
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=map-canvas]')!;
    const at = (window as unknown as { __autolabelMap: Hook }).__autolabelMap.point(id)!;
    const rect = canvas.getBoundingClientRect();
    const dpr = canvas.width / rect.width;
    const [r, g, b] = canvas
      .getContext('2d')!
      .getImageData(Math.round((at.x - rect.left) * dpr), Math.round((at.y - rect.top) * dpr), 1, 1).data;
    return `rgb(${r}, ${g}, ${b})`;
  }, id);

/** The legend's colour of a class, as 'rgb(r, g, b)'. */
const legendColour = (name: string) =>
  page
    .locator(`[data-testid=map-legend] [data-class="${name}"] .map-swatch`)
    .evaluate((swatch) => getComputedStyle(swatch).backgroundColor);

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  await workspace.close();
  server = await startAppServer(dir);
  const all = await rows('sort=path');
  const first = (colour: string) => all.find((item) => item.path.startsWith(`${colour}-`))!.id;
  await apiPost(server.url, 'labels', {
    items: ['red', 'blue'].map((colour) => ({ imageId: first(colour), label: colour })),
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/map/classes') requests.classes++;
    if (url.pathname === '/api/images' && !url.searchParams.has('ids')) requests.pages++;
  });
}, 60_000);

afterAll(() => closeAll(dir, browser, server));

describe('map colours', () => {
  it('colours every point with one classes request, a labelled point in its class colour', async () => {
    await settled(server.url); // the suggestions of the labels, before the page opens
    await page.goto(`${server.url}#/map`);
    const canvas = page.locator('[data-testid=map-canvas]');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(IMAGES));
    await expect.poll(() => canvas.getAttribute('data-colored')).toBe(String(IMAGES));
    expect(requests).toEqual({ classes: 1, pages: 0 });
    const labelled = await rows('status=labeled');
    expect(labelled.map((item) => item.label).sort()).toEqual(['blue', 'red']);
    for (const item of labelled) {
      await expect.poll(() => dotColour(item.id)).toBe(await legendColour(item.label!));
    }
    expect(await legendColour('red')).not.toBe(await legendColour('blue'));
    // Every image has a class now (two labels, the rest suggestions): the legend leaves none grey.
    expect(await page.locator('[data-testid=map-legend]').textContent()).toContain('no label or suggestion 0');
    await page.screenshot({ path: join(SHOTS, 'map-colours-labelled.png') });
  });

  it('recolours a dot labelled in another tab, fetching no page of rows', async () => {
    const green = (await rows('sort=path')).find(
      (item) => item.path.startsWith('green-') && item.status !== 'labeled',
    )!;
    await apiPost(server.url, 'labels', { items: [{ imageId: green.id, label: 'red' }] });
    await expect.poll(() => dotColour(green.id)).toBe(await legendColour('red'));
    // The label's event brings its row; the refit after it, every point's classes once more at most.
    expect(requests.pages).toBe(0);
    expect(requests.classes).toBeLessThanOrEqual(2);
    expect(problems).toEqual([]);
  });
});
