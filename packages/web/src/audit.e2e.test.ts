/**
 * @module The audit view end to end in headless Chromium against a real server: a person runs the audit
 * from its button, sees the label planted wrong first (with the likely class and the neighbours that
 * disagree), relabels it with Enter, marks one group of copies fine and keeps one image of another by
 * its number key, and the dashboard's open counts follow. The photos' embeddings are planted as three
 * clusters: the tiny test model maps every photo of one colour to nearly one vector, which would make
 * them all copies of each other. Needs the built app (packages/web/dist); screenshots go to artifacts/e2e/.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditResponse, type ImageId, initWorkspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import type { RunningServer } from '@autolabel/server';
import { seededRandom, writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, COLORS, launchChromium, requireBuiltApp, SHOTS, startAppServer } from './e2e-fixture.js';

const PER_CLASS = 12;
const DIM = 16;
/** A red photo labelled green. */
const FLIPPED = 'red-04.png';
/** Exact copies of two photos: two groups of duplicates. */
const COPIES = { 'blue-07.png': 'blue-07-copy.png', 'green-03.png': 'green-03-copy.png' } as const;
/** Unlabelled photos from elsewhere, each far from every class and from each other: outliers. */
const STRAYS = ['stray-1.png', 'stray-2.png'] as const;

const dir = mkdtempSync(join(tmpdir(), 'autolabel-audit-'));
let server: RunningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const truthOf = (path: string): string => path.split('-')[0]!;
const api = async <T>(path: string): Promise<T> => (await fetch(`${server.url}api/${path}`)).json() as Promise<T>;
const exportRows = async () => {
  const csv = await (await fetch(`${server.url}api/export?format=csv`)).text();
  return new Map(
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [image, label] = line.split(',');
        return [image!, label!];
      }),
  );
};
const text = (testId: string) => page.locator(`[data-testid=${testId}]`).textContent();
/** The finding shown: its id, and its image path or a group's paths. */
const shown = () =>
  page.evaluate(() => {
    const view = document.querySelector<HTMLElement>('[data-view=audit]')!;
    const group = [...document.querySelectorAll('[data-testid=audit-group] figure .path')].map((p) => p.textContent);
    return {
      id: view.dataset.findingId ?? null,
      kind: view.dataset.kind,
      path: document.querySelector('[data-testid=audit-path]')?.textContent ?? null,
      group,
    };
  });
const message = () => text('message');
/** The dashboard's open count of one kind, as its link says it. */
const dashboardCount = async (kind: string) =>
  Number(await page.locator(`[data-testid=audit-counts] a[data-kind=${kind}]`).getAttribute('data-count'));

async function open(route: string): Promise<void> {
  await page.click(`nav a[data-route=${route}]`);
  await expect.poll(() => page.locator(`nav a[data-route=${route}][aria-current=page]`).count()).toBe(1);
}

beforeAll(async () => {
  requireBuiltApp();
  const photos = join(dir, 'photos');
  let seed = 0;
  for (const [name, color] of Object.entries(COLORS)) {
    for (let i = 0; i < PER_CLASS; i++) {
      await writeImage(join(photos, `${name}-${String(i).padStart(2, '0')}.png`), 'png', {
        color,
        pattern: (['solid', 'stripes', 'checker'] as const)[i % 3],
        noise: 50,
        seed: seed++,
        width: 160,
        height: 120,
      });
    }
  }
  for (const [original, copy] of Object.entries(COPIES)) copyFileSync(join(photos, original), join(photos, copy));
  await writeImage(join(photos, STRAYS[0]), 'png', { color: [230, 220, 30], pattern: 'checker', noise: 40, seed: 900 });
  await writeImage(join(photos, STRAYS[1]), 'png', { color: [150, 60, 200], pattern: 'stripes', noise: 40, seed: 901 });
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: DIM });
  const workspace = await initWorkspace({ images: photos, workspace: join(dir, 'ws'), model: `onnx:${model.dir}` });
  await workspace.scan();
  // Three clusters, one per class; a copy has its original's vector (embeddings go by content); a
  // stray lies along an axis of its own.
  const store = storeOf(workspace);
  await store.registerModel({ id: 'planted', spec: workspace.modelSpec, dim: DIM });
  const random = seededRandom(11);
  const centres = new Map(Object.keys(COLORS).map((name) => [name, Array.from({ length: DIM }, () => random() * 4)]));
  const images = await store.listImages();
  const vectorOf = (path: string): Float32Array => {
    const stray = STRAYS.indexOf(path as (typeof STRAYS)[number]);
    if (stray >= 0) return Float32Array.from({ length: DIM }, (_, j) => (j === stray ? 30 : 0));
    return Float32Array.from(centres.get(truthOf(path))!, (x) => Math.max(0, x + 3 * (random() - 0.5)));
  };
  const vectors = images.map((image) => ({ contentHash: image.contentHash, vector: vectorOf(image.path) }));
  await store.putEmbeddings({ modelId: 'planted', dtype: 'float32', dim: DIM, vectors, failures: [] });
  await workspace.labels.set(
    images
      .filter((image) => !image.path.startsWith('stray'))
      .map((image) => ({
        image: image.id as ImageId,
        label: image.path === FLIPPED ? 'green' : truthOf(image.path),
      })),
  );
  await workspace.close();
  server = await startAppServer(dir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (entry) => {
    if (entry.type() === 'error') problems.push(`console: ${entry.text()}`);
  });
  page.on('response', async (response) => {
    if (response.status() >= 500) {
      problems.push(`${response.request().method()} ${response.url()}: ${response.status()} ${await response.text()}`);
    }
  });
  await page.goto(`${server.url}#/dashboard`);
}, 60_000);

afterAll(() => closeAll(dir, browser, server));

describe('audit view', () => {
  it('runs the audit from its button and shows the label planted wrong first, with its evidence', async () => {
    await expect.poll(() => text('audit-counts')).toMatch(/^No audit yet/);
    await open('audit');
    expect(await page.locator('nav a').allTextContents()).toEqual([
      'Label next',
      'Verify',
      'Grid',
      'Dashboard',
      'Map',
      'Audit',
    ]);
    await expect.poll(() => text('audit-empty')).toMatch(/^No audit yet/);
    await page.click('[data-testid=audit-run]');
    // The finding most likely a label error is the one planted: labelled green, likely red.
    await expect.poll(async () => (await shown()).path, { timeout: 20_000 }).toBe(FLIPPED);
    expect(await text('audit-given')).toBe('green');
    expect(await text('audit-likely')).toBe('red');
    expect(await text('audit-likely-probability')).toMatch(/^\d{1,3}%$/);
    expect(await text('audit-reason')).toMatch(/labelled "green"/);
    expect(await text('audit-position')).toMatch(/^1 of \d+/);
    expect(await text('audit-progress')).toMatch(/^Last audit just now/);
    const image = page.locator('[data-testid=audit-image]');
    expect(await image.getAttribute('src')).toMatch(/\/api\/images\/\d+\/file/);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);
    // Its nearest labelled neighbours, as thumbnails, mostly red: they disagree with "green".
    const neighbours = page.locator('[data-testid=audit-neighbours] li');
    expect(await neighbours.count()).toBeGreaterThan(2);
    const labels = await neighbours.evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.label));
    expect(labels.filter((label) => label === 'red').length).toBeGreaterThan(labels.length / 2);
    await expect
      .poll(() =>
        page
          .locator('[data-testid=audit-neighbours] img')
          .evaluateAll((all) => all.every((img) => (img as HTMLImageElement).naturalWidth > 0)),
      )
      .toBe(true);
    expect(await page.locator('[data-testid=audit-neighbours] li.disagrees').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'audit-label-error.png') });
    // ? lists this queue's keys.
    await page.keyboard.press('?');
    await expect.poll(() => text('key-help-view')).toMatch(/Enterrelabel to the likely class/);
    expect(await text('key-help-view')).toMatch(/fkeep the label: it is right/);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=key-help]').isVisible()).toBe(false);
  });

  it('relabels it to the likely class with Enter: the label is saved, and the finding is settled', async () => {
    const before = await api<AuditResponse>('audit?limit=1');
    await page.keyboard.press('Enter');
    await expect.poll(message).toBe(`${FLIPPED}: relabelled red`);
    expect((await exportRows()).get(FLIPPED)).toBe('red');
    await expect.poll(async () => (await shown()).path).not.toBe(FLIPPED);
    const after = await api<AuditResponse>('audit?limit=1');
    expect(after.counts['label-error']).toBe(before.counts['label-error'] - 1);
    await expect
      .poll(() => page.locator('[data-testid=audit-tabs] [data-kind=label-error] .count').textContent())
      .toBe(String(after.counts['label-error']));
  });

  it('marks one group of copies fine and keeps one image of the other: the dashboard counts follow', async () => {
    await open('dashboard');
    await expect.poll(() => dashboardCount('duplicate')).toBe(2);
    const labelErrors = await dashboardCount('label-error');
    // The dashboard's count links to its queue.
    await page.click('[data-testid=audit-counts] a[data-kind=duplicate]');
    await expect.poll(async () => (await shown()).kind).toBe('duplicate');
    await expect.poll(async () => (await shown()).group.length).toBe(2);
    const first = await shown();
    const copy = (paths: readonly (string | null)[]) => paths.find((p) => p!.includes('-copy'))!;
    const original = (paths: readonly (string | null)[]) => paths.find((p) => !p!.includes('-copy'))!;
    expect(Object.entries(COPIES)).toContainEqual([original(first.group), copy(first.group)]);
    // Side by side, each with its label.
    const captions = await page.locator('[data-testid=audit-group] figcaption strong').allTextContents();
    expect(captions).toEqual([truthOf(first.group[0]!), truthOf(first.group[0]!)]);
    await page.screenshot({ path: join(SHOTS, 'audit-duplicates.png') });

    await page.keyboard.press('f');
    await expect.poll(message).toBe('group of 2: marked fine');
    await expect.poll(async () => (await shown()).id).not.toBe(first.id);
    const second = await shown();
    expect(second.group).toHaveLength(2);
    expect(second.group).not.toEqual(first.group);

    // Keep the second image shown: the first leaves learning and the export.
    const [dropped, kept] = second.group as [string, string];
    await page.keyboard.press('2');
    await expect.poll(message).toBe(`kept ${kept}, excluded 1 other`);
    const rows = await exportRows();
    expect(rows.has(dropped)).toBe(false);
    expect(rows.has(kept)).toBe(true);
    await expect.poll(() => text('audit-empty')).toMatch(/^Nothing left here/);

    await open('dashboard');
    await expect.poll(() => dashboardCount('duplicate')).toBe(0);
    expect(await dashboardCount('label-error')).toBe(labelErrors);
    await expect.poll(() => text('audit-counts')).toMatch(/1 image excluded/);
    await page.screenshot({ path: join(SHOTS, 'audit-dashboard.png') });
  });

  it('marks a stray fine with f and excludes the other with Backspace', async () => {
    await open('audit');
    await page.click('[data-testid=audit-tabs] [data-kind=outlier]');
    await expect.poll(async () => (await shown()).kind).toBe('outlier');
    // The strays come first, the farthest out.
    await expect.poll(async () => (await shown()).path, { timeout: 10_000 }).toMatch(/^stray-\d\.png$/);
    const before = await api<AuditResponse>('audit?kind=outlier');
    const fine = (await shown()).path!;
    expect(before.findings[0]!.images).toEqual([fine]);
    expect(
      before.findings
        .slice(0, 2)
        .flatMap((f) => f.images)
        .sort(),
    ).toEqual([...STRAYS]);
    expect(await text('audit-evidence')).toMatch(/^Distance ratio \d+\.\d\d \(1 is typical here\)$/);
    await page.keyboard.press('f');
    await expect.poll(message).toBe(`${fine}: marked fine`);
    await expect.poll(async () => (await shown()).path).not.toBe(fine);
    const excluded = (await shown()).path!;
    await page.keyboard.press('Backspace');
    await expect.poll(message).toBe(`${excluded}: excluded from learning and export`);
    const rows = await exportRows();
    expect(rows.has(excluded)).toBe(false);
    expect(rows.has(fine)).toBe(true);
    await expect
      .poll(async () => (await api<AuditResponse>('audit?limit=1')).counts.outlier)
      .toBe(before.counts.outlier - 2);
  });

  it('fits a phone: one column, nothing sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('[data-testid=audit-tabs] [data-kind=label-error]');
    await expect.poll(() => text('audit-empty')).toMatch(/^Nothing left here/);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'layout-390-audit.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.click('[data-testid=audit-tabs] [data-kind=outlier]');
    await expect.poll(() => page.locator('[data-view=audit]').getAttribute('data-state')).toMatch(/^(finding|none)$/);
    await page.screenshot({ path: join(SHOTS, 'dark-audit.png') });
    expect(problems).toEqual([]);
  });
});
