/**
 * @module The review app on a phone and in the dark, end to end in headless Chromium against a real
 * server: at 390x844 every view fits the width (nothing scrolls sideways), the photo to label takes
 * the width and the nav is all on screen; with the system's dark scheme the page is light text on a
 * dark background and the dashboard's charts draw their text in a colour that reads on their card.
 * Needs the built app (packages/web/dist); screenshots (layout-390-*, dark-*) go to artifacts/e2e/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumLaunchOptions } from '@autolabel/test-utils';
import { type RunningServer, startServer } from '@autolabel/server';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourWorkspace, requireBuiltApp, SHOTS, WEB_ROOT } from './e2e-fixture.js';

const PER_CLASS = 8;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const VIEWS = ['queue', 'verify', 'grid', 'dashboard', 'map'] as const;
type ViewName = (typeof VIEWS)[number];

const dir = mkdtempSync(join(tmpdir(), 'autolabel-layout-'));
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openPage(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark'): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(server.url);
  return page;
}

/** Opens a view from the nav and waits until it shows what it is for, so screenshots and sizes are of the real thing. */
async function open(page: Page, view: ViewName): Promise<void> {
  await page.click(`nav a[data-route=${view}]`);
  await expect.poll(() => page.locator(`nav a[data-route=${view}][aria-current=page]`).count()).toBe(1);
  const loaded = async (selector: string) =>
    expect.poll(() => page.locator(selector).count(), { timeout: 20_000 }).toBeGreaterThan(0);
  if (view === 'queue') await loaded('[data-testid=queue-image][data-image-id]:not([hidden])');
  if (view === 'verify') await loaded('[data-testid=verify-image][data-check-id]:not([hidden])');
  if (view === 'grid') await loaded('.cell img');
  if (view === 'dashboard') await loaded('[data-testid=chart-classes] svg .bar');
  if (view === 'map') {
    await expect
      .poll(() => page.locator('[data-testid=map-status]').textContent(), { timeout: 30_000 })
      .toMatch(/^\d+ images$/);
  }
  // Images decoded, so a screenshot shows them.
  await page.waitForFunction(() => [...document.images].every((image) => image.complete));
}

/** The dashboard's charts in one picture: the viewport made tall enough for all of them, then put back. */
async function chartsShot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize()!;
  await page.setViewportSize({ width: viewport.width, height: 2400 });
  await page.locator('.charts').screenshot({ path: join(SHOTS, `${name}.png`) });
  await page.setViewportSize(viewport);
}

/** How far the page reaches sideways, the viewport's width and what sticks out past it. */
const horizontalExtent = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // Inside a box that scrolls or clips (a wide table, the status line) is not sticking out of the page.
    const clipped = (element: Element): boolean => {
      for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') return true;
      }
      return false;
    };
    const outside = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((element) => element.getClientRects().length > 0 && element.getBoundingClientRect().right > width + 0.5)
      .filter((element) => !clipped(element))
      .map((element) => `${element.tagName.toLowerCase()}.${String(element.className)}`);
    return { scrollWidth: document.documentElement.scrollWidth, width, outside: outside.slice(0, 5) };
  });

/** The photo's size on screen: the element's box, and the picture inside it (object-fit: contain). */
const photoSize = (page: Page, testId: string) =>
  page.evaluate((id) => {
    const image = document.querySelector<HTMLImageElement>(`[data-testid=${id}]`)!;
    const box = image.getBoundingClientRect();
    const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
    return { box: box.width, picture: image.naturalWidth * scale, right: box.right };
  }, testId);

/** Relative luminance (WCAG 2) of a computed CSS colour, `rgb(r, g, b)` or `rgba(...)`. */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Page and card colours, and the fill of every text of the dashboard's charts with its card's background. */
const themeColours = (page: Page) =>
  page.evaluate(() => {
    const style = (element: Element) => getComputedStyle(element);
    const charts = [...document.querySelectorAll('[data-testid^=chart-]')].map((figure) => ({
      id: (figure as HTMLElement).dataset.testid!,
      background: style(figure).backgroundColor,
      fills: [...new Set([...figure.querySelectorAll('svg text')].map((text) => style(text).fill))],
    }));
    return {
      background:
        style(document.body).backgroundColor === 'rgba(0, 0, 0, 0)'
          ? style(document.documentElement).backgroundColor
          : style(document.body).backgroundColor,
      text: style(document.body).color,
      header: style(document.querySelector('header.top')!).backgroundColor,
      charts,
    };
  });

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  // Labels of every class and a fit, so each view has something to show: suggestions, checks, charts.
  const paths = Array.from({ length: 2 }, (_, i) => String(i).padStart(2, '0'));
  await workspace.labels.set(
    ['red', 'green', 'blue'].flatMap((name) => paths.map((i) => ({ image: `${name}-${i}.png`, label: name }))),
  );
  await workspace.suggest();
  await workspace.close();
  server = await startServer({ workspace: join(dir, 'ws'), port: 0, webRoot: WEB_ROOT, debounceMs: 50 });
  browser = await chromium.launch(chromiumLaunchOptions());
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('on a phone (390x844)', () => {
  it('fits every view to the width, with the photo across it and the whole nav on screen', async () => {
    const page = await openPage(PHONE, 'light');
    for (const view of VIEWS) {
      await open(page, view);
      await page.screenshot({ path: join(SHOTS, `layout-390-${view}.png`) });
      const extent = await horizontalExtent(page);
      expect(extent.scrollWidth, `${view} scrolls sideways: ${extent.outside.join(', ')}`).toBeLessThanOrEqual(
        PHONE.width,
      );
      expect(extent.outside, view).toEqual([]);
      const links = await page.locator('nav a').evaluateAll((all) => all.map((a) => a.getBoundingClientRect().right));
      for (const right of links) expect(right, `${view}: a nav link off screen`).toBeLessThanOrEqual(PHONE.width);
    }
    await open(page, 'queue');
    const queue = await photoSize(page, 'queue-image');
    expect(queue.box).toBeGreaterThanOrEqual(300);
    expect(queue.picture).toBeGreaterThanOrEqual(300);
    expect(queue.right).toBeLessThanOrEqual(PHONE.width);
    // The class buttons are there to tap, under the photo.
    await expect.poll(() => page.locator('[data-testid=queue-classes] [data-class]').count()).toBe(3);
    await open(page, 'verify');
    expect((await photoSize(page, 'verify-image')).picture).toBeGreaterThanOrEqual(300);
    // The dashboard draws its charts at the phone's width rather than shrinking 380-px ones.
    await open(page, 'dashboard');
    const chart = await page.locator('[data-testid=chart-classes] > svg').evaluate((svg) => ({
      drawn: Number(svg.getAttribute('width')),
      shown: svg.getBoundingClientRect().width,
    }));
    expect(chart.shown).toBeCloseTo(chart.drawn, 0);
    await chartsShot(page, 'layout-390-dashboard-charts');
    expect(pageErrors).toEqual([]);
  });
});

describe('in the dark scheme', () => {
  it('is light text on a dark page, and the charts’ text reads on their cards', async () => {
    for (const [viewport, prefix] of [
      [DESKTOP, 'dark-'],
      [PHONE, 'dark-390-'],
    ] as const) {
      const page = await openPage(viewport, 'dark');
      for (const view of VIEWS) {
        await open(page, view);
        await page.screenshot({ path: join(SHOTS, `${prefix}${view}.png`) });
      }
      await open(page, 'dashboard');
      await chartsShot(page, `${prefix}dashboard-charts`);
      const colours = await themeColours(page);
      expect(luminance(colours.background), colours.background).toBeLessThan(0.05);
      expect(luminance(colours.header), colours.header).toBeLessThan(0.05);
      expect(luminance(colours.text), colours.text).toBeGreaterThan(0.6);
      expect(contrast(colours.text, colours.background)).toBeGreaterThanOrEqual(7);
      expect(colours.charts.map((c) => c.id)).toEqual(['chart-classes', 'chart-curve', 'chart-confidence']);
      for (const chart of colours.charts) {
        expect(luminance(chart.background), chart.id).toBeLessThan(0.05);
        expect(chart.fills.length, chart.id).toBeGreaterThan(0);
        for (const fill of chart.fills)
          expect(contrast(fill, chart.background), `${chart.id}: ${fill}`).toBeGreaterThanOrEqual(4.5);
      }
      if (viewport === PHONE) expect((await horizontalExtent(page)).scrollWidth).toBeLessThanOrEqual(PHONE.width);
    }
    // The same charts in the light scheme: dark text on a light card.
    const page = await openPage(DESKTOP, 'light');
    await open(page, 'dashboard');
    const light = await themeColours(page);
    expect(luminance(light.background)).toBeGreaterThan(0.8);
    for (const chart of light.charts) {
      for (const fill of chart.fills)
        expect(contrast(fill, chart.background), `${chart.id}: ${fill}`).toBeGreaterThanOrEqual(4.5);
    }
    expect(pageErrors).toEqual([]);
  });
});
