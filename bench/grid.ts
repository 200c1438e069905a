/**
 * @module First screen of the review grid on a large workspace, in real headless Chromium: time from
 * opening the page to the first screen of thumbnails drawn, against `autolabel serve` on a synthetic
 * workspace (small JPEGs hard-linked under every path, suggestions for every image).
 *
 *   npm run bench:grid -- [--images 100000] [--runs 5] [--chromium /usr/bin/chromium]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageId, initWorkspace, seededRandom } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { chromiumLaunchOptions } from '@autolabel/test-utils';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { benchArgs, intArg } from './args.js';
import { serveInChild } from './serve-child.js';

const args = benchArgs('bench:grid [--images 100000] [--runs 5] [--chromium PATH]', {
  images: { type: 'string' },
  runs: { type: 'string' },
  chromium: { type: 'string' },
});
const imageCount = intArg(args.images, 'images', 100_000);
const runs = intArg(args.runs, 'runs', 5);
const CLASSES = Array.from({ length: 10 }, (_, i) => `class-${i}`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'autolabel-bench-grid-'));
try {
  const images = join(dir, 'images');
  await mkdir(join(images, 'img'), { recursive: true });
  // A hundred small JPEGs in different colours; a file system allows only so many links to one file.
  const sources: string[] = [];
  for (let k = 0; k < 100; k++) {
    const file = join(dir, `source-${k}.jpg`);
    const background = { r: (k * 53) % 256, g: (k * 97) % 256, b: (k * 31) % 256 };
    await writeFile(
      file,
      await sharp({ create: { width: 96, height: 64, channels: 3, background } })
        .jpeg()
        .toBuffer(),
    );
    sources.push(file);
  }
  let t = performance.now();
  const paths = Array.from({ length: imageCount }, (_, i) => `img/${String(i).padStart(6, '0')}.jpg`);
  for (const [i, path] of paths.entries()) await link(sources[i % sources.length]!, join(images, path));
  const ws = await initWorkspace({ images, workspace: join(dir, 'ws'), model: 'builtin:centernet' });
  await storeOf(ws).applyScan({
    upserts: paths.map((path, i) => ({
      path,
      contentHash: `hash-${i}`,
      size: 1000,
      mtimeMs: 1,
      width: 96,
      height: 64,
      format: 'jpeg',
      skipReason: null,
      skipDetail: null,
    })),
    moves: [],
    removals: [],
  });
  const random = seededRandom(3);
  await storeOf(ws).saveFit(
    { modelId: 'synthetic', classes: CLASSES, labels: 0, summary: {}, head: Uint8Array.of(0) },
    paths.map((_, i) => {
      const confidence = 0.3 + 0.7 * random();
      return {
        imageId: (i + 1) as ImageId,
        label: CLASSES[i % CLASSES.length]!,
        confidence,
        runnerUp: CLASSES[(i + 1) % CLASSES.length]!,
        runnerUpConfidence: (1 - confidence) / 2,
        status: confidence > 0.9 ? 'auto' : 'suggested',
      };
    }),
  );
  await ws.close();
  log(`workspace: ${imageCount} images with suggestions, ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const server = await serveInChild(join(dir, 'ws'));
  if (process.env.BENCH_DEBUG) {
    for (const path of ['api/stats', 'api/classes', 'api/images?limit=200', 'api/images?sort=-confidence&limit=200']) {
      const started = performance.now();
      await (await fetch(server.url + path)).arrayBuffer();
      log(`GET /${path}: ${(performance.now() - started).toFixed(0)} ms`);
    }
  }
  const browser = await chromium.launch(
    chromiumLaunchOptions(args.chromium === undefined ? undefined : String(args.chromium)),
  );
  try {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      // A fresh context each run: nothing cached in the browser.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      t = performance.now();
      await page.goto(`${server.url}#/review`);
      // The first screen: cells with their thumbnails decoded, filling the viewport.
      await page.waitForFunction(() => {
        const cells = [...document.querySelectorAll<HTMLElement>('.cell[data-id]')].filter((cell) => {
          const box = cell.getBoundingClientRect();
          return box.bottom > 0 && box.top < innerHeight;
        });
        return cells.length >= 12 && cells.every((cell) => cell.querySelector('img')?.complete === true);
      });
      const ms = performance.now() - t;
      times.push(ms);
      log(
        `run ${run + 1}: first screen in ${ms.toFixed(0)} ms (${await page.locator('.cell[data-id]').count()} cells in the page)`,
      );
      await context.close();
    }
    times.sort((a, b) => a - b);
    process.stdout.write(
      `\n${imageCount} images: first grid screen (thumbnails drawn) median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, ` +
        `best ${times[0]!.toFixed(0)} ms, worst ${times.at(-1)!.toFixed(0)} ms over ${runs} cold runs\n`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
