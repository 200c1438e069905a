/**
 * @module Keys and map selection end to end in headless Chromium against a real server: `?` lists the
 * keys of the view shown; with twelve classes the tenth has key 0 and the eleventh a letter, both of
 * which label, and a class added later leaves every other key where it was; on the map a Shift-drag
 * lasso around one colour's cluster selects it and "Label as" labels exactly those images, an Alt-drag
 * box selects another and "Accept" accepts their suggestions, and a plain drag still pans. Needs the
 * built app (packages/web/dist); screenshots go to artifacts/e2e/ (keys-*, map-*).
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
import { insidePolygon } from '../app/map-selection.js';

const PER_CLASS = 10;
const IMAGES = PER_CLASS * Object.keys(COLORS).length;
/** Twelve classes: the photos' colours, and nine that no image has yet. */
const CLASSES = [
  ...Object.keys(COLORS),
  'amber',
  'beige',
  'coral',
  'indigo',
  'jade',
  'khaki',
  'lilac',
  'mauve',
  'ochre',
];
/** The letters the views use as commands (verify's confirm and skip): never a class key. */
const COMMAND_LETTERS = ['y', 's'];

const dir = mkdtempSync(join(tmpdir(), 'autolabel-keys-map-'));
let server: RunningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const truthOf = (path: string): string => path.split('-')[0]!;
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const post = (path: string, body: unknown) => apiPost(server.url, path, body);
const rows = (query: string) => imageRows(server.url, query);

/** Every class button's key as the queue shows it: class -> key ('' for none). */
const buttonKeys = (testId: string) =>
  page
    .locator(`[data-testid=${testId}] .class-button`)
    .evaluateAll((buttons) =>
      buttons.map((button): [string, string] => [
        button.getAttribute('data-class')!,
        button.querySelector('kbd')?.textContent ?? '',
      ]),
    );

async function open(route: string): Promise<void> {
  await page.click(`nav a[data-route=${route}]`);
  await expect.poll(() => page.locator(`nav a[data-route=${route}][aria-current=page]`).count()).toBe(1);
}

type Hook = { ids(): number[]; point(id: number): { x: number; y: number } | null };
interface Dot {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly truth: string;
}

/** Every dot on the map where it is on screen now, with the colour of its photo. */
async function dots(): Promise<Dot[]> {
  const paths = new Map((await rows('sort=path')).map((item): [number, string] => [item.id, item.path]));
  const where = await page.evaluate(() => {
    const hook = (window as unknown as { __autolabelMap: Hook }).__autolabelMap;
    return hook.ids().map((id) => ({ id, ...hook.point(id)! }));
  });
  return where.map((p) => ({ ...p, truth: truthOf(paths.get(p.id)!) }));
}

/** The convex hull (Andrew's monotone chain) of some dots, each vertex pushed `margin` px out from the centre. */
function hull(points: readonly Dot[], margin: number): [number, number][] {
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const cross = (o: Dot, a: Dot, b: Dot) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const half = (list: Dot[]) => {
    const out: Dot[] = [];
    for (const p of list) {
      while (out.length >= 2 && cross(out.at(-2)!, out.at(-1)!, p) <= 0) out.pop();
      out.push(p);
    }
    return out.slice(0, -1);
  };
  const ring = [...half(sorted), ...half([...sorted].reverse())];
  const cx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const cy = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  return ring.map((p) => {
    const d = Math.hypot(p.x - cx, p.y - cy) || 1;
    return [p.x + ((p.x - cx) / d) * margin, p.y + ((p.y - cy) / d) * margin];
  });
}

/** A colour whose cluster a lasso can hold alone: its hull (with a margin) holds no dot of another colour. */
function separableCluster(
  all: readonly Dot[],
  skip: readonly string[] = [],
): { truth: string; lasso: [number, number][] } {
  for (const truth of Object.keys(COLORS).filter((name) => !skip.includes(name))) {
    const lasso = hull(
      all.filter((p) => p.truth === truth),
      14,
    );
    const flat = lasso.flat();
    if (all.every((p) => p.truth === truth || !insidePolygon(p.x, p.y, flat))) return { truth, lasso };
  }
  throw new Error('no colour cluster on the map can be lassoed alone: the layout mixes them');
}

/** Draws a lasso through `vertices` with Shift held, back to where it started. */
async function lasso(vertices: readonly [number, number][], screenshot?: string): Promise<void> {
  await page.keyboard.down('Shift');
  await page.mouse.move(vertices[0]![0], vertices[0]![1]);
  await page.mouse.down();
  for (const [x, y] of [...vertices.slice(1), vertices[0]!]) await page.mouse.move(x, y, { steps: 6 });
  if (screenshot) await shot(screenshot);
  await page.mouse.up();
  await page.keyboard.up('Shift');
}

const barCount = () => page.locator('[data-testid=map-selection-count]').textContent();

beforeAll(async () => {
  requireBuiltApp();
  const workspace = await colourWorkspace(dir, PER_CLASS);
  await workspace.close();
  server = await startAppServer(dir);
  for (const name of CLASSES) await post('classes', { name });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${server.url}#/queue`);
}, 60_000);

afterAll(() => closeAll(dir, browser, server));

describe('keys', () => {
  it('lists the keys of the view shown on ?, and closes on ? or Escape without labelling', async () => {
    const image = page.locator('[data-testid=queue-image]');
    await expect.poll(() => image.getAttribute('data-image-id')).toMatch(/^\d+$/);
    await expect.poll(() => page.locator('[data-testid=queue-classes] .class-button').count()).toBe(12);
    const help = page.locator('[data-testid=key-help]');
    expect(await help.isVisible()).toBe(false);
    await page.keyboard.press('?');
    await expect.poll(() => help.isVisible()).toBe(true);
    const viewKeys = await help.locator('[data-testid=key-help-view] dt').allTextContents();
    expect(viewKeys).toEqual(['1–9, 0, …', 'Enter', 'Backspace', '← →']);
    // The panel's hints come from the same list.
    expect(await page.locator('[data-view=queue] .keys dt').allTextContents()).toEqual(viewKeys);
    // Every class with its key, and the keys that work everywhere.
    const classes = help.locator('[data-testid=key-help-classes] li');
    expect(await classes.count()).toBe(12);
    expect(await classes.first().textContent()).toBe('1 amber');
    expect(await help.locator('[data-testid=key-help-global] dt').allTextContents()).toEqual(['?', 'Esc']);
    expect(await help.textContent()).toContain('Keys · Label next');
    await shot('keys-help-queue');

    // Keys do not reach the view while the help is open: 1 labels nothing.
    const shown = await image.getAttribute('data-image-id');
    await page.keyboard.press('1');
    await page.keyboard.press('?');
    await expect.poll(() => help.isVisible()).toBe(false);
    expect(await image.getAttribute('data-image-id')).toBe(shown);
    expect((await rows(`ids=${shown}`))[0]!.status).toBe('unlabeled');
    await page.keyboard.press('?');
    await expect.poll(() => help.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => help.isVisible()).toBe(false);

    // Another view, its own keys.
    await open('verify');
    await page.keyboard.press('?');
    await expect.poll(() => help.textContent()).toContain('Keys · Verify');
    expect(await help.locator('[data-testid=key-help-view] dt').allTextContents()).toEqual([
      'y or Enter',
      '1–9, 0, …',
      's',
    ]);
    await page.keyboard.press('Escape');
    await open('queue');
  });

  it('gives the tenth class key 0 and the eleventh a letter, and both label the image shown', async () => {
    const keys = await buttonKeys('queue-classes');
    expect(keys.map(([, key]) => key).slice(0, 10)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '0']);
    const [tenth, eleventh, twelfth] = [keys[9]!, keys[10]!, keys[11]!];
    for (const [, key] of [eleventh, twelfth]) {
      expect(key).toMatch(/^[a-z]$/);
      expect(COMMAND_LETTERS).not.toContain(key);
    }
    expect(new Set(keys.map(([, key]) => key)).size).toBe(12);
    await shot('keys-twelve-classes');

    const image = page.locator('[data-testid=queue-image]');
    for (const [name, key] of [tenth, eleventh]) {
      const id = (await image.getAttribute('data-image-id'))!;
      await page.keyboard.press(key);
      await expect.poll(() => image.getAttribute('data-image-id')).not.toBe(id);
      await expect.poll(async () => (await rows(`ids=${id}`))[0]).toMatchObject({ label: name, status: 'labeled' });
    }
  });

  it('keeps every key when a class is added, and gives the new one the next free key', async () => {
    const before = new Map(await buttonKeys('queue-classes'));
    const box = page.locator('[data-testid=new-class]');
    await box.fill('aardvark'); // sorts before every other class
    await box.press('Enter');
    await expect.poll(() => page.locator('[data-testid=queue-classes] .class-button').count()).toBe(13);
    await box.press('Escape');
    const after = new Map(await buttonKeys('queue-classes'));
    for (const [name, key] of before) expect(after.get(name), name).toBe(key);
    const added = after.get('aardvark')!;
    expect(added).toMatch(/^[a-z]$/);
    expect([...before.values(), ...COMMAND_LETTERS]).not.toContain(added);
    // The buttons stay in key order: the new class comes last.
    expect([...after.keys()].at(-1)).toBe('aardvark');
    // And the keys are the same after a reload (kept in this browser).
    await page.reload();
    await expect.poll(() => page.locator('[data-testid=queue-classes] .class-button').count()).toBe(13);
    expect(new Map(await buttonKeys('queue-classes'))).toEqual(after);
    await shot('keys-class-added');
  });
});

describe('map selection', () => {
  it('lists the lasso and box conventions on ?', async () => {
    await open('map');
    const canvas = page.locator('[data-testid=map-canvas]');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 30_000 }).toBe(String(IMAGES));
    await expect.poll(() => canvas.getAttribute('data-colored')).toBe(String(IMAGES));
    await page.keyboard.press('?');
    const help = page.locator('[data-testid=key-help]');
    await expect.poll(() => help.textContent()).toContain('Keys · Map');
    const keys = await help.locator('[data-testid=key-help-view] dt').allTextContents();
    expect(keys).toEqual(expect.arrayContaining(['Drag', 'Shift-drag', 'Alt-drag', 'Enter', 'Esc']));
    await shot('map-keys-help');
    await page.keyboard.press('Escape');
    await expect.poll(() => help.isVisible()).toBe(false);
    // The hint line under the toolbar says the same.
    expect(await page.locator('[data-view=map] .hint-line').textContent()).toContain('Shift-drag lasso');
  });

  it('selects one colour cluster with a Shift-drag lasso and labels exactly those images with "Label as"', async () => {
    const all = await dots();
    const { truth, lasso: around } = separableCluster(all);
    const members = all.filter((p) => p.truth === truth).map((p) => p.id);
    expect(members).toHaveLength(PER_CLASS);
    expect(await barCount()).toBe('Nothing selected');

    await lasso(around, 'map-lasso-drawing');
    await expect.poll(barCount).toBe(`${PER_CLASS} selected`);
    expect(await page.locator('[data-testid=map-canvas]').getAttribute('data-selected')).toBe(String(PER_CLASS));
    await shot('map-lasso-selected');
    // Escape clears it; a second lasso selects the same again.
    await page.keyboard.press('Escape');
    await expect.poll(barCount).toBe('Nothing selected');
    await lasso(around);
    await expect.poll(barCount).toBe(`${PER_CLASS} selected`);

    // Label them all as a class that had no image: afterwards its labels are exactly the lassoed images.
    await page.selectOption('[data-testid=map-label-class]', 'jade');
    await page.click('[data-testid=map-label]');
    await expect.poll(barCount).toBe('Nothing selected');
    await expect
      .poll(async () => (await rows('label=jade&status=labeled')).map((item) => item.id).sort((a, b) => a - b))
      .toEqual([...members].sort((a, b) => a - b));
    // The map recolours them: a dot of the cluster now shows as labelled jade.
    const member = all.find((p) => p.id === members[0])!;
    await page.mouse.move(member.x, member.y);
    const tooltip = page.locator('[data-testid=map-tooltip]');
    await expect.poll(() => tooltip.getAttribute('data-image-id')).toMatch(/^\d+$/);
    expect(members).toContain(Number(await tooltip.getAttribute('data-image-id')));
    await expect.poll(() => tooltip.getAttribute('data-label')).toBe('jade');
    await expect.poll(() => tooltip.locator('[data-testid=map-tooltip-status]').textContent()).toBe('labeled');
    await shot('map-labeled');
  });

  it('selects with an Alt-drag box and accepts the suggestions in it', async () => {
    await settled(server.url);
    const all = await dots();
    const labeledIds = new Set((await rows('status=labeled')).map((item) => item.id));
    const inBox = (p: Dot, box: readonly number[]) =>
      p.x >= box[0]! && p.x <= box[2]! && p.y >= box[1]! && p.y <= box[3]!;
    // The bounding box of a cluster not yet labelled, with a margin.
    const { truth } = separableCluster(all, [truthOf((await rows('label=jade&status=labeled'))[0]!.path)]);
    const cluster = all.filter((p) => p.truth === truth);
    const box = [
      Math.min(...cluster.map((p) => p.x)) - 10,
      Math.min(...cluster.map((p) => p.y)) - 10,
      Math.max(...cluster.map((p) => p.x)) + 10,
      Math.max(...cluster.map((p) => p.y)) + 10,
    ];
    const inside = all.filter((p) => inBox(p, box)).map((p) => p.id);
    const suggested = new Set(
      (await rows(`ids=${inside.join(',')}`))
        .filter((r) => r.status === 'auto' || r.status === 'suggested')
        .map((r) => r.id),
    );
    expect(suggested.size).toBeGreaterThan(0);

    await page.keyboard.down('Alt');
    await page.mouse.move(box[0]!, box[1]!);
    await page.mouse.down();
    await page.mouse.move(box[2]!, box[3]!, { steps: 8 });
    await page.mouse.up();
    await page.keyboard.up('Alt');
    await expect.poll(barCount).toBe(`${inside.length} selected`);
    const accept = page.locator('[data-testid=map-accept]');
    expect(await accept.textContent()).toBe(`Accept ${suggested.size} suggestion${suggested.size === 1 ? '' : 's'}`);
    await shot('map-box-selected');
    await accept.click();
    await expect.poll(barCount).toBe('Nothing selected');
    await expect
      .poll(async () => (await rows(`ids=${inside.join(',')}`)).filter((r) => r.status === 'accepted').map((r) => r.id))
      .toEqual(expect.arrayContaining([...suggested]));
    const after = await rows(`ids=${inside.join(',')}`);
    // Labels people gave are left as they were; the rest are accepted suggestions now.
    for (const row of after) expect(row.status, row.path).toBe(labeledIds.has(row.id) ? 'labeled' : 'accepted');
    await shot('map-accepted');
  });

  it('labels a lassoed cluster with a class key', async () => {
    const all = await dots();
    const done = await rows('status=labeled');
    const accepted = await rows('status=accepted');
    const { truth, lasso: around } = separableCluster(
      all,
      [...done, ...accepted].filter((r) => r.label === 'jade' || r.status === 'accepted').map((r) => truthOf(r.path)),
    );
    const members = all.filter((p) => p.truth === truth).map((p) => p.id);
    await lasso(around);
    await expect.poll(barCount).toBe(`${members.length} selected`);
    // The class keys are the queue's: coral's key labels the selection coral.
    await page.keyboard.press('?');
    const coralKey = (await page.locator('[data-testid=key-help-classes] li[data-class=coral] kbd').textContent())!;
    await page.keyboard.press('Escape');
    await page.keyboard.press(coralKey);
    await expect.poll(barCount).toBe('Nothing selected');
    await expect
      .poll(async () => (await rows('label=coral&status=labeled')).map((item) => item.id).sort((a, b) => a - b))
      .toEqual([...members].sort((a, b) => a - b));
  });

  it('still pans with a plain drag, selecting nothing', async () => {
    const [first] = await dots();
    const start = { x: first!.x + 3, y: first!.y + 3 };
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(start.x + 80, start.y + 50, { steps: 8 });
    await page.mouse.up();
    const moved = await page.evaluate(
      (id) => (window as unknown as { __autolabelMap: Hook }).__autolabelMap.point(id)!,
      first!.id,
    );
    expect(moved.x - first!.x).toBeCloseTo(80, 0);
    expect(moved.y - first!.y).toBeCloseTo(50, 0);
    expect(await barCount()).toBe('Nothing selected');
    expect(problems).toEqual([]);
  });
});
