/**
 * @module The review app end to end in headless Chromium against a real server: label from the
 * keyboard in the queue, watch suggestions arrive in the grid without a reload, bulk-accept a group
 * selected with Shift-click, read the dashboard, and find every label in the CSV export. Needs the
 * built app (packages/web/dist, made by `npm run build`); screenshots go to artifacts/e2e/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatsResponse } from '@autolabel/core';
import type { RunningServer } from '@autolabel/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  COLORS,
  colourWorkspace,
  launchChromium,
  requireBuiltApp,
  settled,
  SHOTS,
  startAppServer,
} from './e2e-fixture.js';

const PER_CLASS = 12;
const IMAGES = PER_CLASS * Object.keys(COLORS).length;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-web-'));
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const fileRequests = new Set<string>();
/** What the person gave in the queue, and what the grid accepted: path -> label. */
const labeled = new Map<string, string>();
const accepted = new Map<string, string>();

const truthOf = (path: string): string => path.split('-')[0]!;
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const stats = async (): Promise<StatsResponse> =>
  (await fetch(`${server.url}api/stats`)).json() as Promise<StatsResponse>;

/**
 * Switches views from the nav. The router runs on hashchange, a task after the click: keys pressed
 * before it would reach the view being left, and reads would see the hidden view's old DOM.
 */
async function open(route: string): Promise<void> {
  await page.click(`nav a[data-route=${route}]`);
  await expect.poll(() => page.locator(`nav a[data-route=${route}][aria-current=page]`).count()).toBe(1);
}

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  await workspace.close();
  server = await startAppServer(dir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    if (/\/api\/images\/\d+\/file/.test(request.url())) fileRequests.add(request.url());
  });
  await page.goto(server.url);
  // Gone after a reload: proves later updates arrived without one.
  await page.evaluate('window.__sameDocument = true');
}, 60_000);

afterAll(() => closeAll(dir, browser, server));

describe('review app', () => {
  it('labels images from the keyboard in the queue, adding classes on the way', async () => {
    const image = page.locator('[data-testid=queue-image]');
    const path = page.locator('[data-testid=queue-path]');
    await expect.poll(() => image.getAttribute('data-image-id')).toMatch(/^\d+$/);
    // The image after the one shown is already on its way.
    await expect.poll(() => fileRequests.size).toBeGreaterThanOrEqual(2);
    await shot('01-queue');
    const shownId = () => image.getAttribute('data-image-id');
    const perClass = new Map<string, number>();
    let undone = false;
    for (let step = 0; labeled.size < 5; step++) {
      expect(step, 'the queue ran out before five labels covered every class').toBeLessThan(40);
      const id = await shownId();
      const current = (await path.textContent())!;
      const truth = truthOf(current);
      // At most two of a class, so five labels cover all three classes and the model can fit.
      if ((perClass.get(truth) ?? 0) >= 2) {
        await page.keyboard.press('ArrowRight');
        await expect.poll(shownId).not.toBe(id);
        continue;
      }
      if ((await page.locator(`[data-class="${truth}"]`).count()) === 0) {
        const box = page.locator('[data-testid=new-class]');
        await box.fill(truth);
        await box.press('Enter');
        await expect.poll(() => page.locator(`[data-class="${truth}"]`).count()).toBe(1);
        await box.press('Escape');
      }
      // Alternate the two ways of picking a class: its number key and its first letter.
      const key =
        labeled.size % 2 === 0 ? (await page.locator(`[data-class="${truth}"] kbd`).textContent())! : truth[0]!;
      await page.keyboard.press(key);
      await expect.poll(shownId).not.toBe(id);
      if (!undone) {
        // Backspace undoes the label just given and shows its image again, unlabelled.
        undone = true;
        await page.keyboard.press('Backspace');
        await expect.poll(shownId).toBe(id);
        await expect.poll(() => page.locator('[data-testid=queue-label]').count()).toBe(0);
        await page.keyboard.press(key);
        await expect.poll(shownId).not.toBe(id);
      }
      labeled.set(current, truth);
      perClass.set(truth, (perClass.get(truth) ?? 0) + 1);
    }
    await expect.poll(() => page.locator('[data-testid=queue-position]').textContent()).toMatch(/5 labeled/);
    await shot('02-queue-labeled');
    await expect.poll(async () => (await stats()).byStatus.labeled).toBe(5);
  });

  it('shows the suggestions for the rest in the grid as soon as the model has refit, without a reload', async () => {
    await open('grid');
    await settled(server.url);
    const counts = (await stats()).byStatus;
    expect(counts.auto + counts.suggested).toBe(IMAGES - 5);
    const suggestedCells = page.locator('.cell[data-status=auto], .cell[data-status=suggested]');
    await expect.poll(() => suggestedCells.count()).toBeGreaterThanOrEqual(12);
    await expect.poll(() => page.locator('[data-testid=model-state]').getAttribute('data-state')).toBe('idle');
    const cells = await suggestedCells.evaluateAll((all) =>
      all.map((cell) => ({
        path: cell.getAttribute('data-path')!,
        label: cell.getAttribute('data-label')!,
        confidence: cell.querySelector('[data-testid=cell-confidence]')!.textContent!,
      })),
    );
    for (const cell of cells) expect(cell.confidence).toMatch(/^\d{1,3}%$/);
    const right = cells.filter((cell) => truthOf(cell.path) === cell.label).length;
    expect(right / cells.length).toBeGreaterThanOrEqual(0.8);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await shot('03-grid-suggestions');
  });

  it('bulk-accepts a group selected with a click and a Shift-click', async () => {
    const group = 'blue';
    const cells = page.locator(`.cell[data-label="${group}"]`);
    const info = (await stats()).classes.find((c) => c.name === group)!;
    const size = info.labeled + info.accepted + info.auto + info.suggested;
    // The whole group is on screen (with its pages loaded), so the range covers all of it.
    await expect.poll(() => cells.count()).toBe(size);
    const members = await cells.evaluateAll((all) =>
      all.map((cell) => ({ path: cell.getAttribute('data-path')!, status: cell.getAttribute('data-status')! })),
    );
    const suggestions = members.filter((m) => m.status === 'auto' || m.status === 'suggested');
    expect(suggestions.length).toBeGreaterThan(0);
    await cells.first().click();
    await cells.last().click({ modifiers: ['Shift'] });
    await expect
      .poll(() => page.locator('[data-testid=selection-count]').textContent())
      .toBe(`${members.length} selected`);
    await shot('04-grid-selected');
    await page.click('[data-testid=accept-selection]');
    await expect
      .poll(() => page.locator(`.cell[data-label="${group}"][data-status=accepted]`).count())
      .toBe(suggestions.length);
    await expect.poll(() => page.locator('[data-testid=selection-count]').textContent()).toBe('Nothing selected');
    for (const s of suggestions) accepted.set(s.path, group);
    await shot('05-grid-accepted');
  });

  it('accepts the suggestion of the image shown in the queue with Enter', async () => {
    await open('queue');
    const image = page.locator('[data-testid=queue-image]');
    const shownId = () => image.getAttribute('data-image-id');
    // Read what is shown in one go (a refit landing meanwhile may re-render the suggestion), and only
    // an image whose current row is a suggestion: one accepted in the grid shows its label instead.
    const shown = () =>
      page.evaluate(() => {
        const text = (selector: string) => document.querySelector(selector)?.textContent ?? null;
        const status = document.querySelector<HTMLElement>('[data-view=queue]')?.dataset.status;
        const label = text('[data-testid=queue-suggestion] .suggested-label');
        const path = text('[data-testid=queue-path]');
        const id = document.querySelector('[data-testid=queue-image]')?.getAttribute('data-image-id') ?? null;
        const ok = (status === 'suggested' || status === 'auto') && label !== null && path !== null && id !== null;
        return ok ? { label, path, id } : null;
      });
    // Images accepted in the grid meanwhile show their label instead of a suggestion: skip them.
    let current = await shown();
    for (let step = 0; current === null; step++) {
      expect(step, 'no image in the queue shows a suggestion').toBeLessThan(30);
      const id = await shownId();
      await page.keyboard.press('ArrowRight');
      await expect.poll(shownId).not.toBe(id);
      await page.waitForTimeout(100); // its suggestion is looked up after it is shown
      current = await shown();
    }
    await page.keyboard.press('Enter');
    await expect.poll(shownId).not.toBe(current.id);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(shownId).toBe(current.id);
    await expect.poll(() => page.locator('[data-testid=queue-current]').textContent()).toMatch(/^Accepted: /);
    // The label accepted is the suggestion on screen when Enter was pressed (a refit may have changed it since reading).
    const label = (await page.locator('[data-testid=queue-label]').textContent())!;
    expect(['red', 'green', 'blue']).toContain(label);
    accepted.set(current.path, label);
    await shot('06-queue-accepted');
  });

  it('shows counts per class and status, the learning curve and the confidence histogram', async () => {
    await open('dashboard');
    const row = page.locator(`[data-testid=class-table] tr[data-class=blue]`);
    const blue = [...accepted.values()].filter((label) => label === 'blue').length;
    await expect.poll(() => row.locator('td[data-status=accepted]').textContent()).toBe(String(blue));
    for (const chart of ['chart-classes', 'chart-curve', 'chart-confidence']) {
      expect(await page.locator(`[data-testid=${chart}] > svg`).count()).toBe(1);
    }
    expect(await page.locator('[data-testid=chart-classes] .bar').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=chart-confidence] .bar').count()).toBeGreaterThan(0);
    const accuracy = page.locator('[data-testid=estimated-accuracy]');
    expect(await accuracy.locator('.card-value').textContent()).toMatch(/^\d+%$/);
    // No random checks in this workspace: the figure says it rests on chosen labels.
    expect(await accuracy.locator('.muted').textContent()).toMatch(/^estimated from chosen labels, may be biased/);
    expect(await page.locator('[data-testid=chart-curve]').textContent()).toContain('Estimated accuracy');
    await shot('07-dashboard');
  });

  it('exports every label given in the queue and every suggestion accepted in the grid', async () => {
    const csv = await (await fetch(`${server.url}api/export?format=csv`)).text();
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toBe('image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit');
    const rows = new Map(
      lines.map((line) => {
        const [image, label, status, , origin] = line.split(',');
        return [image!, { label, status, origin }];
      }),
    );
    expect(rows.size).toBe(IMAGES);
    expect(labeled.size).toBe(5);
    // Labels given in the queue were recommended by `next`; accepted suggestions have no origin.
    for (const [path, label] of labeled) {
      expect(rows.get(path), path).toEqual({ label, status: 'labeled', origin: 'next' });
    }
    for (const [path, label] of accepted) {
      expect(rows.get(path), path).toEqual({ label, status: 'accepted', origin: '' });
    }
    expect([...rows.values()].filter((r) => r.status === 'accepted')).toHaveLength(accepted.size);
    expect(pageErrors).toEqual([]);
  });

  it('draws every embedded image on the embedding map, with a thumbnail tooltip on hover and the image on click', async () => {
    await open('map');
    const canvas = page.locator('[data-testid=map-canvas]');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(IMAGES));
    // Every point's colour has arrived: the legend counts the classes and nothing is left grey.
    await expect.poll(() => canvas.getAttribute('data-colored')).toBe(String(IMAGES));
    const counts = await stats();
    expect(await page.locator('[data-testid=map-legend] .map-key[data-class]').count()).toBe(counts.classes.length);
    const size = await canvas.evaluate((element: HTMLCanvasElement) => ({
      width: element.width,
      height: element.height,
      css: element.getBoundingClientRect().width,
    }));
    expect(size.width).toBeGreaterThan(0);
    expect(size.width).toBe(Math.round(size.css * (await page.evaluate(() => window.devicePixelRatio))));

    type Hook = { ids(): number[]; point(id: number): { x: number; y: number } | null };
    const points = await page.evaluate(() => {
      const hook = (window as unknown as { __autolabelMap: Hook }).__autolabelMap;
      return hook.ids().map((id) => ({ id, ...hook.point(id)! }));
    });
    expect(points).toHaveLength(IMAGES);
    // The point farthest from its nearest neighbour, so the hover cannot land on another one.
    const isolation = (p: (typeof points)[number]) =>
      Math.min(...points.filter((q) => q.id !== p.id).map((q) => Math.hypot(q.x - p.x, q.y - p.y)));
    const target = points.reduce((best, p) => (isolation(p) > isolation(best) ? p : best));
    await page.mouse.move(target.x, target.y);
    const tooltip = page.locator('[data-testid=map-tooltip]');
    await expect.poll(() => tooltip.getAttribute('data-image-id')).toBe(String(target.id));
    const thumb = tooltip.locator('img[data-testid=map-thumb]');
    expect(await thumb.getAttribute('src')).toMatch(new RegExp(`/api/images/${target.id}/thumbnail`));
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBeGreaterThan(0);
    const row = (await (await fetch(`${server.url}api/images?ids=${target.id}`)).json()) as {
      items: { label: string | null; status: string }[];
    };
    expect(await tooltip.getAttribute('data-label')).toBe(row.items[0]!.label);
    expect(await tooltip.locator('[data-testid=map-tooltip-status]').textContent()).toBe(row.items[0]!.status);
    await shot('08-map');

    // Wheel zoom keeps the point under the cursor in place.
    await page.mouse.wheel(0, -400);
    await expect
      .poll(async () => {
        const p = await page.evaluate(
          (id) => (window as unknown as { __autolabelMap: Hook }).__autolabelMap.point(id),
          target.id,
        );
        return Math.hypot(p!.x - target.x, p!.y - target.y);
      })
      .toBeLessThan(1.5);

    await page.mouse.click(target.x, target.y);
    const full = page.locator('[data-testid=map-overlay] img[data-testid=map-full-image]');
    await expect
      .poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBeGreaterThan(0);
    expect(await full.getAttribute('src')).toMatch(new RegExp(`/api/images/${target.id}/file`));
    await shot('08-map-image');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=map-overlay]').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
