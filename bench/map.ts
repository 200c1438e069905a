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
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ImageId, openWorkspace, seededRandom } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { mapClassesAnswer } from '@autolabel/server';
import { chromiumLaunchOptions, ringMapApi, startStubApp } from '@autolabel/test-utils';
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

/** Opens the map in a fresh browser context until every one of `count` points is coloured; times and requests. */
async function timeColouring(count: number) {
  const api = ringMapApi(count, mapClassesAnswer);
  const app = await startStubApp({ webRoot, model: api.model, route: api.route });
  const browser = await chromium.launch(
    chromiumLaunchOptions(args.chromium === undefined ? undefined : String(args.chromium)),
  );
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(`${app.url}#/map`);
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
      requests: { ...api.requests },
      classesBytes: api.classesBytes,
    };
  } finally {
    await browser.close();
    await app.close();
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
