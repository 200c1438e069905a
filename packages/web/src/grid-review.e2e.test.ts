/**
 * @module The review grid end to end in headless Chromium against a real server: Space previews the
 * image full size with its suggestion and runner-up, a bulk accept and a bulk relabel are taken back
 * with Undo (the toast's button, or Ctrl+Z), a long group's header stays at the top while it scrolls,
 * and labels look settled where suggestions look tentative. Needs the built app (packages/web/dist);
 * screenshots go to artifacts/e2e/grid-*.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageItem, ImagesPage, StatsResponse } from '@autolabel/core';
import type { RunningServer } from '@autolabel/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  colourWorkspace,
  launchChromium,
  requireBuiltApp,
  settled,
  SHOTS,
  startAppServer,
} from './e2e-fixture.js';

/** 30 of each colour: a group is five rows, taller than the window. */
const PER_CLASS = 30;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-grid-review-'));
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const api = async <T>(path: string): Promise<T> => (await fetch(`${server.url}${path}`)).json() as Promise<T>;
const percent = (value: number | null) => `${Math.round(value! * 100)}%`;
/** What a person sees of some images, from the server: path -> status, label, origin. */
async function rowsOf(ids: readonly number[]): Promise<Record<string, string>> {
  const page = await api<ImagesPage>(`api/images?ids=${ids.join(',')}&limit=${ids.length}`);
  return Object.fromEntries(
    page.items.map((i: ImageItem) => {
      const status = i.status === 'auto' ? 'suggested' : i.status; // certification may come and go with refits
      return [i.path, `${status}:${i.label ?? ''}:${i.origin ?? ''}`];
    }),
  );
}
/** The images of a class (labelled or suggested), from the server. */
const idsOfClass = async (name: string): Promise<number[]> =>
  (await api<ImagesPage>(`api/images?label=${name}&limit=500`)).items.map((i) => i.id);
const scroller = () => page.locator('.grid-scroller');
/** The first cell matching `selector`, scrolling down the grid from the top until one is rendered. */
async function findCell(selector: string) {
  const cells = page.locator(selector);
  const height = await scroller().evaluate((el) => el.scrollHeight);
  for (let y = 0; y < height; y += 300) {
    await scroller().evaluate((el, top) => (el.scrollTop = top), y);
    await page.waitForTimeout(150); // a frame to render, and the page fetched after the scroll pauses
    if ((await cells.count()) > 0) return cells.first();
  }
  throw new Error(`no cell ${selector} in the grid`);
}
const selectGroup = async (name: string) => {
  await page.locator(`[data-testid=group-header][data-group="${name}"] [data-select-section]`).click();
  await expect.poll(() => page.locator('[data-testid=selection-count]').textContent()).not.toBe('Nothing selected');
};

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  // Two labels of each colour, given by hand: the fit suggests the rest.
  await workspace.labels.set(
    ['red', 'green', 'blue'].flatMap((c) => [0, 1].map((i) => ({ image: `${c}-0${i}.png`, label: c }))),
  );
  await workspace.suggest();
  await workspace.close();
  server = await startAppServer(dir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${server.url}#/grid`);
  await page.locator('.cell[data-state=suggestion]').nth(10).waitFor({ timeout: 20_000 });
}, 120_000);

afterAll(() => closeAll(dir, browser, server));

describe('review grid', () => {
  it('previews the image under the pointer full size on Space, with its suggestion and the runner-up', async () => {
    const cell = page.locator('.cell[data-state=suggestion]').nth(2);
    const id = Number(await cell.getAttribute('data-id'));
    const ordinal = Number(await cell.getAttribute('data-ordinal'));
    const [row] = (await api<ImagesPage>(`api/images?ids=${id}`)).items;
    expect(row!.runnerUp).not.toBeNull();
    await cell.hover();
    await page.keyboard.press(' ');
    const preview = page.locator('[data-testid=preview]');
    await expect.poll(() => preview.isVisible()).toBe(true);
    const image = preview.locator('[data-testid=preview-image]');
    expect(await image.getAttribute('src')).toBe(`/api/images/${id}/file`);
    // The file itself, full size (160 x 120), not the thumbnail.
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);
    expect(await preview.locator('[data-testid=preview-status]').textContent()).toMatch(/suggestion|Suggested/);
    expect(await preview.locator('[data-testid=preview-label]').textContent()).toBe(row!.label);
    expect(await preview.locator('[data-testid=preview-confidence]').textContent()).toBe(percent(row!.confidence));
    expect(await preview.locator('[data-testid=preview-runner-up] strong').textContent()).toBe(row!.runnerUp);
    expect(await preview.locator('[data-testid=preview-runner-up-confidence]').textContent()).toBe(
      percent(row!.runnerUpConfidence),
    );
    expect(await preview.locator('[data-testid=preview-path]').textContent()).toBe(row!.path);
    await shot('grid-preview');

    // The arrows move through the grid's order while it is open.
    const idAt = (n: number) => page.locator(`.cell[data-ordinal="${n}"]`).getAttribute('data-id');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => preview.getAttribute('data-image-id')).toBe(await idAt(ordinal + 1));
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => preview.getAttribute('data-image-id')).toBe(await idAt(ordinal - 1));
    // Labelled meanwhile in another tab: the preview says so without being reopened.
    const shown = await preview.getAttribute('data-image-id');
    const label = (method: string, body?: unknown) =>
      fetch(`${server.url}api/images/${shown}/label`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await label('PUT', { label: 'green' });
    await expect.poll(() => preview.locator('[data-testid=preview-status]').textContent()).toBe('Labeled');
    expect(await preview.locator('[data-testid=preview-label]').textContent()).toBe('green');
    await label('DELETE');
    await page.keyboard.press(' ');
    await expect.poll(() => preview.isHidden()).toBe(true);
    // The grid has caught up with the clear before a labelled cell is picked (it was one a moment ago).
    await expect.poll(() => page.locator(`.cell[data-id="${shown}"]`).getAttribute('data-status')).not.toBe('labeled');

    // A cell clicked, the pointer gone: Space previews it, its label and how it came about; Escape closes.
    const labelledId = await page.locator('.cell[data-status=labeled]').first().getAttribute('data-id');
    const labelled = page.locator(`.cell[data-id="${labelledId}"]`);
    await labelled.click();
    await page.mouse.move(5, 5);
    await page.keyboard.press(' ');
    await expect.poll(() => preview.getAttribute('data-image-id')).toBe(await labelled.getAttribute('data-id'));
    expect(await preview.locator('[data-testid=preview-status]').textContent()).toBe('Labeled');
    expect(await preview.locator('[data-testid=preview-label]').textContent()).toBe(
      await labelled.getAttribute('data-label'),
    );
    expect(await preview.textContent()).toContain('labelled by hand');
    expect(await preview.locator('[data-testid=preview-runner-up]').count()).toBe(0);
    await page.keyboard.press('Escape');
    await expect.poll(() => preview.isHidden()).toBe(true);
    // Escape with the preview closed clears the selection, as before.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=selection-count]').textContent()).toBe('Nothing selected');
  });

  it('takes a bulk accept back with Undo: the images are suggestions again', async () => {
    await settled(server.url, { timeout: 30_000 });
    await selectGroup('blue');
    const ids = await idsOfClass('blue');
    const before = await rowsOf(ids);
    const suggestions = Object.values(before).filter((r) => r.startsWith('suggested:')).length;
    expect(suggestions).toBeGreaterThan(10);
    await page.click('[data-testid=accept-selection]');
    const toast = page.locator('[data-testid=undo-toast]');
    await expect.poll(() => toast.isVisible()).toBe(true);
    expect(await toast.locator('[data-testid=undo-text]').textContent()).toBe(`Accepted ${suggestions}`);
    await expect
      .poll(async () => Object.values(await rowsOf(ids)).filter((r) => r.startsWith('accepted:')).length)
      .toBe(suggestions);
    await expect.poll(() => page.locator('.cell[data-label="blue"][data-status=accepted]').count()).toBeGreaterThan(0);
    await shot('grid-undo-toast');

    await toast.locator('[data-testid=grid-undo]').click();
    await expect.poll(() => rowsOf(ids)).toEqual(before);
    await expect.poll(() => page.locator('.cell[data-label="blue"][data-status=accepted]').count()).toBe(0);
    expect(await page.locator('.cell[data-label="blue"][data-state=suggestion]').count()).toBeGreaterThan(0);
    await expect.poll(() => toast.isHidden()).toBe(true);
    expect((await api<StatsResponse>('api/stats')).byStatus.accepted).toBe(0);
    await shot('grid-undone');
  });

  it('takes a relabel back with Ctrl+Z: people’s labels, accepted suggestions and suggestions as they were', async () => {
    await settled(server.url, { timeout: 30_000 });
    // Red is the last group: at the bottom of the grid.
    await scroller().evaluate((el) => (el.scrollTop = el.scrollHeight));
    // Some of the reds accepted first, so the relabel replaces labels of every kind.
    const reds = page.locator('.cell[data-label="red"][data-state=suggestion]');
    await reds.nth(0).click();
    await reds.nth(1).click();
    await page.click('[data-testid=accept-selection]');
    await expect.poll(() => page.locator('.cell[data-label="red"][data-status=accepted]').count()).toBe(2);
    await settled(server.url, { timeout: 30_000 });
    await selectGroup('red');
    const ids = await idsOfClass('red');
    const before = await rowsOf(ids);
    const kinds = new Set(Object.values(before).map((r) => r.split(':')[0]));
    expect([...kinds].sort()).toEqual(['accepted', 'labeled', 'suggested']);
    await page.selectOption('[data-testid=relabel-class]', 'green');
    await page.click('[data-testid=relabel-selection]');
    await expect.poll(async () => new Set(Object.values(await rowsOf(ids)))).toEqual(new Set(['labeled:green:chosen']));
    await expect
      .poll(() => page.locator('[data-testid=undo-text]').textContent())
      .toBe(`Labeled ${ids.length} images as green`);
    await page.locator('[data-testid=grid]').click({ position: { x: 2, y: 2 } }); // focus off the buttons
    await page.keyboard.press('Control+z');
    // Labels back at once; the suggestions of the images that had none come back with the refit the undo starts.
    await expect.poll(() => rowsOf(ids), { timeout: 30_000 }).toEqual(before);
    // In the grid too, once back at the red group.
    await expect
      .poll(async () => {
        await scroller().evaluate((el) => (el.scrollTop = el.scrollHeight));
        return page.locator('.cell[data-label="red"][data-status=accepted]').count();
      })
      .toBe(2);
    await shot('grid-relabel-undone');
  });

  it('refuses an undo when the images were changed again since, saying so', async () => {
    await settled(server.url, { timeout: 30_000 });
    const cell = await findCell('.cell[data-label="green"][data-state=suggestion]');
    const id = Number(await cell.getAttribute('data-id'));
    await cell.click();
    await page.click('[data-testid=accept-selection]');
    await expect.poll(() => page.locator('[data-testid=undo-toast]').isVisible()).toBe(true);
    // Another tab labels it meanwhile.
    await fetch(`${server.url}api/images/${id}/label`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'blue' }),
    });
    await page.click('[data-testid=grid-undo]');
    await expect
      .poll(() => page.locator('[data-testid=message]').textContent())
      .toMatch(/could not undo: cannot undo: 1 of the 1 images .*changed again since/);
    expect(Object.values(await rowsOf([id]))).toEqual(['labeled:blue:chosen']);
  });

  it('keeps a long group’s header at the top of the grid while the group scrolls', async () => {
    await settled(server.url, { timeout: 30_000 });
    const header = page.locator('[data-testid=group-header][data-group="green"]');
    const band = page.locator('.group-band', { has: header });
    const top = Number((await band.evaluate((el: HTMLElement) => el.style.top)).replace('px', ''));
    // Halfway down the green group: its header's place in the canvas is far above the viewport.
    await scroller().evaluate((el, y) => (el.scrollTop = y), top + 450);
    await expect
      .poll(async () => {
        const [box, view] = [await header.boundingBox(), await scroller().boundingBox()];
        return box && view ? Math.abs(box.y - view.y) : null;
      })
      .toBeLessThan(1);
    // Nothing covers it: the point at its "Select all" button is the button.
    const hit = await header.locator('[data-select-section]').evaluate((button) => {
      const r = button.getBoundingClientRect();
      return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === button;
    });
    expect(hit).toBe(true);
    expect(await header.textContent()).toMatch(/^green.*Select all \d+$/);
    await shot('grid-sticky-header');
    // Past the group, the next header takes its place.
    await scroller().evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect
      .poll(async () => {
        const [box, view] = [await header.boundingBox(), await scroller().boundingBox()];
        return box && view ? box.y < view.y - 10 : true;
      })
      .toBe(true);
    await scroller().evaluate((el) => (el.scrollTop = 0));
  });

  it('shows accepted and labelled cells settled and suggestions tentative, without relying on colour', async () => {
    await settled(server.url, { timeout: 30_000 });
    await scroller().evaluate((el) => (el.scrollTop = 0));
    const suggestion = page.locator('.cell[data-label="blue"][data-state=suggestion]').first();
    await suggestion.click();
    await page.click('[data-testid=accept-selection]');
    await expect.poll(() => page.locator('.cell[data-status=accepted]').count()).toBeGreaterThan(0);
    const look = (selector: string) =>
      page
        .locator(selector)
        .first()
        .evaluate((cell) => ({
          border: getComputedStyle(cell).borderTopStyle,
          opacity: getComputedStyle(cell.querySelector('img')!).opacity,
          badge: cell.querySelector('[data-testid=cell-badge]')?.textContent ?? null,
          chip: getComputedStyle(cell.querySelector('[data-testid=cell-confidence]')!).borderTopStyle,
        }));
    const accepted = await look('.cell[data-status=accepted]');
    const labelled = await look('.cell[data-status=labeled]');
    const suggested = await look('.cell[data-state=suggestion]');
    expect(accepted).toEqual({ border: 'solid', opacity: '1', badge: '✓', chip: 'none' });
    expect(labelled).toMatchObject({ border: 'solid', opacity: '1', badge: '✓' });
    expect(suggested.border).toBe('dashed');
    expect(suggested.badge).toBeNull();
    expect(suggested.chip).toBe('dashed');
    expect(Number(suggested.opacity)).toBeLessThan(1);
    await shot('grid-cell-states');
    expect(pageErrors).toEqual([]);
  });
});
