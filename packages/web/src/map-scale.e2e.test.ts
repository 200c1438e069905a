/**
 * @module The map at 100,000 images, in headless Chromium against a stub of the API: every point is
 * drawn on the canvas, every point gets its class colour from one answer of GET /api/map/classes (no
 * pages of rows), and the legend counts them. Needs the built app (packages/web/dist); frame times are measured outside the tests (README).
 */
import { join } from 'node:path';
import { mapClassesAnswer } from '@autolabel/server';
import { chromiumLaunchOptions, ringMapApi, type StubApp, startStubApp } from '@autolabel/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltApp, SHOTS, WEB_ROOT } from './e2e-fixture.js';

const IMAGES = 100_000;
const api = ringMapApi(IMAGES, mapClassesAnswer);
let app: StubApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireBuiltApp();
  app = await startStubApp({ webRoot: WEB_ROOT, model: api.model, route: api.route });
  browser = await chromium.launch(chromiumLaunchOptions());
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the map with 100,000 images', () => {
  it('draws every point on one canvas and colours each by its class from one answer, no page of rows', async () => {
    await page.goto(`${app.url}#/map`);
    const canvas = page.locator('[data-testid=map-canvas]');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(IMAGES));
    await expect.poll(() => canvas.getAttribute('data-colored'), { timeout: 60_000 }).toBe(String(IMAGES));
    expect(api.requests).toEqual({ classes: 1, pages: 0 });
    // The legend counts every class's 10,000 dots and none left grey.
    const legend = page.locator('[data-testid=map-legend]');
    await expect.poll(() => legend.locator('[data-class="class-3"]').textContent()).toBe('class-3 10,000');
    expect(await legend.textContent()).toContain('no label or suggestion 0');
    // The points are no DOM nodes: one canvas, a handful of elements in the view.
    expect(await page.locator('section.map *').count()).toBeLessThan(200);
    await page.screenshot({ path: join(SHOTS, 'map-scale-100k.png') });
  });
});
