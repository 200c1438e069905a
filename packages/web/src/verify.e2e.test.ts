/**
 * @module The verify view end to end in headless Chromium against a real server: two tabs get
 * different random checks, one confirms with `y`, the other corrects with a class key, `s` skips;
 * answers are labels of origin verify, the progress follows the model, and once enough checks are
 * right the certified suggestions are accepted with one button; at the end the view says nothing is
 * left. Needs the built app (packages/web/dist); screenshots go to artifacts/e2e/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatsResponse, VerifyStatus } from '@autolabel/core';
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
import { verifyProgress } from '../app/figures.js';

const PER_CLASS = 20;
const LABELED_PER_CLASS = 2;
/** Low enough that a few dozen right answers certify a region in a test this small. */
const TARGET = 0.8;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-verify-'));
let server: RunningServer;
let browser: Browser;
let tabA: Page;
let tabB: Page;
const problems: string[] = [];
/** The image whose check was skipped: it keeps its suggestion. */
let skippedPath = '';

const truthOf = (path: string): string => path.split('-')[0]!;
const api = async <T>(path: string): Promise<T> => (await fetch(`${server.url}api/${path}`)).json() as Promise<T>;
const verifyStatus = async () => (await api<{ status: VerifyStatus }>('verify')).status;
const exportRows = async () => {
  const csv = await (await fetch(`${server.url}api/export?format=csv`)).text();
  return new Map(
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [image, label, status, , origin] = line.split(',');
        return [image!, { label, status, origin }];
      }),
  );
};

/** What a tab shows: its check, read in one go. */
const shown = (page: Page) =>
  page.evaluate(() => {
    const image = document.querySelector<HTMLElement>('[data-testid=verify-image]');
    const text = (id: string) => document.querySelector(`[data-testid=${id}]`)?.textContent ?? null;
    const checkId = image && !image.hidden ? (image.dataset.checkId ?? null) : null;
    return {
      checkId,
      imageId: image?.dataset.imageId ?? null,
      path: text('verify-path'),
      suggested: text('verify-suggested'),
      confidence: text('verify-confidence'),
    };
  });
const shownCheck = async (page: Page) => (await shown(page)).checkId;
const waitForCheck = async (page: Page) => {
  await expect.poll(() => shownCheck(page), { timeout: 10_000 }).toMatch(/^\d+$/);
  return shown(page);
};
/** The number key of a class in the class buttons. */
const keyOf = async (page: Page, name: string) =>
  (await page.locator(`[data-testid=verify-classes] [data-class="${name}"] kbd`).textContent())!;

/** Waits for a tab to move on from a check; if it does not, says what the tab and the server said. */
async function movedOn(page: Page, from: string | null): Promise<void> {
  try {
    await expect.poll(() => shownCheck(page)).not.toBe(from);
  } catch (error) {
    const said = await page.locator('[data-testid=message]').textContent();
    throw new Error(`the tab stayed on check ${from}: ${[said, ...problems].join('; ')}`, { cause: error });
  }
}

/** Answers the check shown rightly (the colour is the class): `y` when the suggestion is right, else its class key. */
async function answerRightly(page: Page): Promise<void> {
  const check = await waitForCheck(page);
  const truth = truthOf(check.path!);
  await page.keyboard.press(check.suggested === truth ? 'y' : await keyOf(page, truth));
  await movedOn(page, check.checkId);
}

async function openTab(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('response', async (response) => {
    if (response.status() >= 500) {
      problems.push(`${response.request().method()} ${response.url()}: ${response.status()} ${await response.text()}`);
    }
  });
  await page.goto(`${server.url}#/verify`);
  return page;
}

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  // A few labels of every class, then one suggest run: the suggestions the checks are drawn from.
  const { items } = await workspace.images.query({ offset: 0, limit: 1000 });
  await workspace.labels.set(
    items
      .filter((image) => Number(image.path.slice(-6, -4)) < LABELED_PER_CLASS)
      .map((image) => ({ image: image.id, label: truthOf(image.path) })),
  );
  await workspace.suggest({ targetPrecision: TARGET });
  await workspace.close();
  server = await startAppServer(dir, { targetPrecision: TARGET });
  browser = await launchChromium();
  tabA = await openTab();
  tabB = await openTab();
}, 60_000);

afterAll(() => closeAll(dir, browser, server));

describe('verify view', () => {
  it('shows each tab its own random check, large, with the suggestion and its confidence', async () => {
    const a = await waitForCheck(tabA);
    const b = await waitForCheck(tabB);
    expect(a.checkId).not.toBe(b.checkId);
    expect(a.imageId).not.toBe(b.imageId);
    for (const [page, check] of [
      [tabA, a],
      [tabB, b],
    ] as const) {
      expect(Object.keys(COLORS)).toContain(check.suggested);
      expect(check.confidence).toMatch(/^\d{1,3}%$/);
      const image = page.locator('[data-testid=verify-image]');
      expect(await image.getAttribute('src')).toMatch(new RegExp(`/api/images/${check.imageId}/file`));
      await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);
      // One large image: it fills most of the window's width.
      expect((await image.boundingBox())!.width).toBeGreaterThan(700);
      expect(await page.locator('nav a[data-route=verify]').getAttribute('aria-current')).toBe('page');
    }
    // "Verify" sits between "Label next" and "Grid".
    expect(await tabA.locator('nav a').allTextContents()).toEqual([
      'Label next',
      'Verify',
      'Grid',
      'Dashboard',
      'Map',
      'Audit',
    ]);
    await tabA.screenshot({ path: join(SHOTS, '09-verify.png') });
  });

  it('confirms with y in one tab and corrects with a class key in the other: labels of origin verify', async () => {
    const a = await shown(tabA);
    const b = await shown(tabB);
    await tabA.keyboard.press('y');
    await movedOn(tabA, a.checkId);
    const correction = Object.keys(COLORS).find((name) => name !== b.suggested)!;
    await tabB.keyboard.press(await keyOf(tabB, correction));
    await movedOn(tabB, b.checkId);

    const rows = await exportRows();
    expect(rows.get(a.path!)).toEqual({ label: a.suggested, status: 'labeled', origin: 'verify' });
    expect(rows.get(b.path!)).toEqual({ label: correction, status: 'labeled', origin: 'verify' });
    expect(await tabA.locator('[data-testid=message]').textContent()).toBe(`${a.path}: confirmed ${a.suggested}`);
    expect(await tabB.locator('[data-testid=message]').textContent()).toBe(`${b.path}: corrected to ${correction}`);
    // The two tabs still hold different checks.
    expect(await shownCheck(tabA)).not.toBe(await shownCheck(tabB));
  });

  it('skips with s: the image stays unlabelled and the check is not handed out again', async () => {
    const a = await shown(tabA);
    await tabA.keyboard.press('s');
    await movedOn(tabA, a.checkId);
    skippedPath = a.path!;
    expect((await exportRows()).get(skippedPath)!.status).toMatch(/^(suggested|auto)$/);
    expect((await verifyStatus()).counts).toMatchObject({ answered: 2, skipped: 1 });
    expect(await tabA.locator('[data-testid=verify-counts]').textContent()).toBe(
      'All verifiers: 2 answered · 1 skipped',
    );
    expect(await tabA.locator('[data-testid=verify-session]').textContent()).toBe(
      'This tab: 1 confirmed · 0 corrected · 1 skipped',
    );
    // A reload keeps the tab's id, so it gets its own check back, not the skipped one.
    const held = await shownCheck(tabA);
    await tabA.reload();
    await expect.poll(() => shownCheck(tabA)).toBe(held);
  });

  it('follows the model: the progress line is what the latest fit says more checks would certify', async () => {
    const stats = await settled(server.url, { fitted: false });
    const suggestions = stats.byStatus.auto + stats.byStatus.suggested;
    const expected = verifyProgress(stats.model, (await verifyStatus()).counts, suggestions);
    await expect.poll(() => tabA.locator('[data-testid=verify-next]').textContent()).toBe(expected.next);
    expect(expected.next).toMatch(/ at 80%/);
    await expect.poll(() => tabB.locator('[data-testid=verify-next]').textContent()).toBe(expected.next);
  });

  it('accepts the certified suggestions with one button once enough checks are right', async () => {
    const accept = tabA.locator('[data-testid=verify-accept]');
    for (let step = 0; !(await accept.isVisible()); step++) {
      expect(step, 'forty right answers certified nothing').toBeLessThan(40);
      await answerRightly(tabA);
      if (step % 5 === 4) await settled(server.url, { fitted: false });
    }
    const stats = await settled(server.url, { fitted: false });
    expect(stats.model.certified).toBeGreaterThan(0);
    const auto = stats.byStatus.auto;
    expect(auto).toBeGreaterThan(0);
    await expect.poll(() => accept.textContent()).toBe(`Accept ${auto} certified`);
    await expect
      .poll(() => tabA.locator('[data-testid=verify-certified]').textContent())
      .toBe(`${stats.model.certified} certified at 80%`);
    await tabA.screenshot({ path: join(SHOTS, '10-verify-certified.png') });
    await accept.click();
    await expect.poll(async () => (await api<StatsResponse>('stats')).byStatus.accepted).toBe(auto);
    await expect
      .poll(() => tabA.locator('[data-testid=message]').textContent())
      .toBe(`accepted ${auto} certified suggestion${auto === 1 ? '' : 's'}`);
    const accepted = [...(await exportRows()).values()].filter((row) => row.status === 'accepted');
    expect(accepted).toHaveLength(auto);
    await expect.poll(() => accept.isVisible()).toBe(false);
  });

  it('says so when nothing is left to verify', async () => {
    // Answer every check left, in both tabs (each holds one at a time).
    for (let step = 0; ; step++) {
      expect(step, 'the checks never ran out').toBeLessThan(3 * PER_CLASS);
      if ((await shownCheck(tabB)) !== null) await answerRightly(tabB);
      else if ((await shownCheck(tabA)) !== null) await answerRightly(tabA);
      else break;
    }
    for (const page of [tabA, tabB]) {
      await expect
        .poll(() => page.locator('[data-testid=verify-empty]').textContent(), { timeout: 10_000 })
        .toBe('Nothing left to verify: every suggestion has been checked, labelled, or handed to another tab.');
    }
    // Every image has a label now, but for the one skipped (unless the certified accept took it).
    const rows = [...(await exportRows())].filter(([, row]) => row.status !== 'labeled' && row.status !== 'accepted');
    expect(rows.map(([path]) => path).filter((path) => path !== skippedPath)).toEqual([]);
    // The progress follows: with no suggestion left, it says there is nothing more to certify.
    const stats = await settled(server.url, { fitted: false });
    const suggestions = stats.byStatus.auto + stats.byStatus.suggested;
    expect(suggestions).toBe(rows.length);
    const expected = verifyProgress(stats.model, (await verifyStatus()).counts, suggestions).next;
    if (suggestions === 0)
      expect(expected).toBe('No suggestions left to certify: every image is labelled or accepted.');
    await expect.poll(() => tabA.locator('[data-testid=verify-next]').textContent()).toBe(expected);
    await tabA.screenshot({ path: join(SHOTS, '11-verify-done.png') });
    expect(problems).toEqual([]);
  });
});
