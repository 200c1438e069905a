/**
 * @module The embedding map's colours at scale. In real headless Chromium against a stub of the API
 * (a ring of ten clusters, image i suggested as class i mod 10): the time from opening the map to
 * every point coloured, and from the map's points drawn to every point coloured, with the requests it
 * took. `--web DIR` measures another build of the app (an older checkout's packages/web/dist, which
 * coloured from pages of image rows: the stub answers those too). And the server's CPU to build the
 * GET /api/map/classes answer (ws.mapClasses and its encoding) on a synthetic workspace.
 *
 *   npm run bench:map -- [--points 100000,1000000] [--web packages/web/dist] [--server-images 1000000]
 *                        [--runs 3] [--timeout-s 300] [--chromium PATH] [--skip-browser] [--skip-server]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import {
  type ImageId,
  type ImageItem,
  type ImagesPage,
  IMAGE_STATUSES,
  type ModelState,
  openWorkspace,
  seededRandom,
  type StatsResponse,
} from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { mapClassesAnswer } from '@autolabel/server';
import { chromiumLaunchOptions } from '@autolabel/test-utils';
import { chromium } from 'playwright-core';
import { benchArgs, intArg } from './args.js';
import { writeSyntheticWorkspace } from './synthetic.js';

const args = benchArgs(
  'bench:map [--points 100000,1000000] [--web DIR] [--server-images 1000000] [--runs 3] [--timeout-s 300] [--chromium PATH] [--skip-browser] [--skip-server]',
  {
    points: { type: 'string' },
    web: { type: 'string' },
    'server-images': { type: 'string' },
    runs: { type: 'string' },
    'timeout-s': { type: 'string' },
    chromium: { type: 'string' },
    'skip-browser': { type: 'boolean' },
    'skip-server': { type: 'boolean' },
  },
);
const pointCounts = String(args.points ?? '100000,1000000')
  .split(',')
  .map((value) => intArg(value, 'points', 0));
const webRoot = resolve(String(args.web ?? 'packages/web/dist'));
const serverImages = intArg(args['server-images'], 'server-images', 1_000_000);
const runs = intArg(args.runs, 'runs', 3);
const timeoutMs = intArg(args['timeout-s'], 'timeout-s', 300) * 1000;
const CLASSES = Array.from({ length: 10 }, (_, c) => `class-${c}`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const MODEL: ModelState = {
  fitId: 1,
  state: 'idle',
  message: null,
  accuracy: null,
  targetPrecision: 0.95,
  threshold: null,
  certified: 0,
  next: null,
  progress: null,
};
const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** The stub's answers for `count` points: the map, its classes, and pages of rows as the older app read them. */
function stubAnswers(count: number) {
  const random = seededRandom(3);
  const ids: number[] = [];
  const xy: number[] = [];
  for (let i = 0; i < count; i++) {
    const angle = ((i % 10) / 10) * 2 * Math.PI;
    ids.push(i + 1);
    xy.push(0.6 * Math.cos(angle) + 0.15 * (random() - 0.5), 0.6 * Math.sin(angle) + 0.15 * (random() - 0.5));
  }
  const map = JSON.stringify({ state: 'ready', version: 'bench-map', ids, xy });
  const classes = JSON.stringify(
    mapClassesAnswer('bench-map', {
      classes: CLASSES,
      classOf: Uint16Array.from({ length: count }, (_, i) => 1 + (i % 10)),
      status: new Uint8Array(count).fill(IMAGE_STATUSES.indexOf('suggested')),
    }),
  );
  const item = (id: number): ImageItem => ({
    id: id as ImageId,
    path: `img/${String(id).padStart(7, '0')}.jpg`,
    width: 64,
    height: 64,
    status: 'suggested',
    label: CLASSES[(id - 1) % 10]!,
    confidence: 0.8,
    runnerUp: null,
    runnerUpConfidence: null,
    origin: null,
  });
  const stats: StatsResponse = {
    images: count,
    byStatus: { labeled: 0, accepted: 0, auto: 0, suggested: count, unlabeled: 0 },
    classes: CLASSES.map((name) => ({ name, labeled: 0, accepted: 0, auto: 0, suggested: count / 10 })),
    model: MODEL,
    curve: [],
    confidence: new Array<number>(20).fill(0),
  };
  return { map, classes, item, stats: JSON.stringify(stats) };
}

/** Opens the map in a fresh browser context until every one of `count` points is coloured; times and requests. */
async function timeColouring(count: number) {
  const answers = stubAnswers(count);
  const requests = { classes: 0, pages: 0 };
  const server = createServer((request, response) => void stub(request.url ?? '/', response));
  async function stub(url: string, response: ServerResponse): Promise<void> {
    const json = (body: string) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    };
    const at = new URL(url, 'http://stub');
    const path = at.pathname;
    if (path === '/api/map') return json(answers.map);
    if (path === '/api/map/classes') {
      requests.classes++;
      return json(answers.classes);
    }
    if (path === '/api/stats') return json(answers.stats);
    if (path === '/api/images') {
      if (!at.searchParams.has('ids')) requests.pages++;
      const ids = at.searchParams.get('ids')?.split(',').map(Number);
      const offset = Number(at.searchParams.get('offset') ?? 0);
      const limit = Number(at.searchParams.get('limit') ?? 100);
      const items =
        ids?.map(answers.item) ??
        Array.from({ length: Math.max(0, Math.min(limit, count - offset)) }, (_, k) => answers.item(offset + k + 1));
      return json(JSON.stringify({ total: count, offset, items } satisfies ImagesPage));
    }
    if (path === '/api/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      return void response.write(`event: model\ndata: ${JSON.stringify({ type: 'model', model: MODEL })}\n\n`);
    }
    if (path.startsWith('/api/')) return json('{}');
    const file = join(webRoot, path === '/' ? 'index.html' : path);
    const bytes = file.startsWith(webRoot) ? await readFile(file).catch(() => null) : null;
    response.writeHead(bytes ? 200 : 404, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(bytes);
  }
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch(
    chromiumLaunchOptions(args.chromium === undefined ? undefined : String(args.chromium)),
  );
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(`${url}#/map`);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=map-canvas]')?.getAttribute('data-points') === n,
      String(count),
      { timeout: timeoutMs, polling: 20 },
    );
    const drawn = performance.now();
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=map-canvas]')?.getAttribute('data-colored') === n,
      String(count),
      { timeout: timeoutMs, polling: 20 },
    );
    const coloured = performance.now();
    const legend = (await page.locator('[data-testid=map-legend]').textContent()) ?? '';
    if (!legend.includes('no label or suggestion 0')) throw new Error(`points left grey: ${legend}`);
    await context.close();
    return {
      open: (coloured - started) / 1000,
      afterDrawn: (coloured - drawn) / 1000,
      requests: { ...requests },
      classesBytes: Buffer.byteLength(answers.classes),
    };
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

if (args['skip-browser'] !== true) {
  out(`web app: ${webRoot}`);
  for (const count of pointCounts) {
    const result = await timeColouring(count);
    out(
      `${count.toLocaleString('en-US')} points: coloured ${result.open.toFixed(2)} s after opening the map, ` +
        `${result.afterDrawn.toFixed(2)} s after its points were drawn; ` +
        `${result.requests.classes} classes request(s)` +
        (result.requests.classes > 0 ? ` (${(result.classesBytes / 2 ** 20).toFixed(1)} MiB answer)` : '') +
        ', ' +
        `${result.requests.pages} page(s) of rows`,
    );
  }
}

if (args['skip-server'] !== true) {
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-bench-map-'));
  try {
    let t = performance.now();
    const labelled = Math.round(serverImages / 100);
    await writeSyntheticWorkspace(dir, {
      images: serverImages,
      dim: 4,
      classes: CLASSES,
      labelled,
      buildGraph: false,
    });
    const ws = await openWorkspace(join(dir, 'ws'));
    try {
      const store = storeOf(ws);
      const random = seededRandom(5);
      // Suggestions for every image; the first 1% keep their labels over them.
      await store.saveFit(
        { modelId: 'synthetic', classes: CLASSES, labels: labelled, summary: {}, head: Uint8Array.of(0) },
        Array.from({ length: serverImages }, (_, i) => {
          const confidence = 0.3 + 0.7 * random();
          return {
            imageId: (i + 1) as ImageId,
            label: CLASSES[(i + 3) % CLASSES.length]!,
            confidence,
            runnerUp: null,
            runnerUpConfidence: null,
            status: confidence > 0.9 ? ('auto' as const) : ('suggested' as const),
          };
        }),
      );
      log(
        `workspace: ${serverImages} images, ${labelled} labelled, suggestions for all, in ${((performance.now() - t) / 1000).toFixed(0)} s`,
      );
      // The map's points in the learner's order: by id.
      const ids = Int32Array.from((await store.listImages()).map((image) => image.id));
      const wall: number[] = [];
      const cpu: number[] = [];
      let bytes = 0;
      for (let run = 0; run < runs; run++) {
        const since = process.cpuUsage();
        t = performance.now();
        const answer = mapClassesAnswer('bench', await ws.mapClasses(ids));
        wall.push((performance.now() - t) / 1000);
        cpu.push(cpuSeconds(since));
        bytes = Buffer.byteLength(JSON.stringify(answer));
        if (answer.state !== 'ready' || answer.classes.length !== CLASSES.length) throw new Error('unexpected answer');
      }
      out(
        `server, ${serverImages.toLocaleString('en-US')} images: GET /api/map/classes answer built in ` +
          `${median(wall).toFixed(2)} s wall, ${median(cpu).toFixed(2)} CPU-s (median of ${runs}; ` +
          `${(bytes / 2 ** 20).toFixed(1)} MiB JSON)`,
      );
    } finally {
      await ws.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
