/**
 * @module What the review app's end-to-end tests share: the built app's folder, where screenshots
 * go, a workspace of coloured photos (one class per colour) embedded with the tiny ONNX model, the
 * server and Chromium as the tests start and close them, and the server's API as the tests read it.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageItem, type ImagesPage, initWorkspace, type StatsResponse, type Workspace } from '@autolabel/core';
import { type RunningServer, type ServeOptions, startServer } from '@autolabel/server';
import {
  chromiumLaunchOptions,
  type ImagePattern,
  type Rgb,
  writeImage,
  writeTinyOnnxModel,
} from '@autolabel/test-utils';
import { type Browser, chromium } from 'playwright-core';
import { expect } from 'vitest';

export const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
export const SHOTS = fileURLToPath(new URL('../../../artifacts/e2e', import.meta.url));

export const COLORS: Readonly<Record<string, Rgb>> = {
  red: [200, 40, 40],
  green: [40, 160, 60],
  blue: [40, 80, 210],
};
const PATTERNS: readonly ImagePattern[] = ['solid', 'stripes', 'checker'];

/** Fails clearly when the app was not built, and makes the screenshot folder. */
export function requireBuiltApp(): void {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(
      `${WEB_ROOT} has no built app: run \`npm run build\` (or \`npm run build -w @autolabel/web\`) first`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
}

/**
 * `perClass` photos of each colour in `dir/photos` (`red-00.png`, ...), a workspace in `dir/ws`
 * over them, scanned and embedded. The caller closes it.
 */
export async function colourWorkspace(dir: string, perClass: number): Promise<Workspace> {
  let seed = 0;
  for (const [name, color] of Object.entries(COLORS)) {
    for (let i = 0; i < perClass; i++) {
      await writeImage(join(dir, 'photos', `${name}-${String(i).padStart(2, '0')}.png`), 'png', {
        color,
        pattern: PATTERNS[i % PATTERNS.length]!,
        noise: 50,
        seed: seed++,
        width: 160,
        height: 120,
      });
    }
  }
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 24 });
  const workspace = await initWorkspace({
    images: join(dir, 'photos'),
    workspace: join(dir, 'ws'),
    model: `onnx:${model.dir}`,
  });
  await workspace.scan();
  await workspace.embed();
  return workspace;
}

/** The server over the workspace `dir/ws` with the built app, refitting 50 ms after a change (and `options`). */
export function startAppServer(dir: string, options: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return startServer({ workspace: join(dir, 'ws'), port: 0, webRoot: WEB_ROOT, debounceMs: 50, ...options });
}

/** Headless Chromium as every e2e test runs it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch(chromiumLaunchOptions());
}

/** Closes what a test started (either may be missing when its start failed) and removes its folder. */
export async function closeAll(dir: string, browser: Browser | undefined, server: RunningServer | undefined) {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}

/** GET (or `init`) `api/<path>` of the server at `url` as JSON; an error status throws with its body. */
export async function apiJson<T>(url: string, path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${url}api/${path}`, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<T>;
}

/** POSTs `body` as JSON to `api/<path>` of the server at `url`. */
export function apiPost<T>(url: string, path: string, body: unknown): Promise<T> {
  return apiJson<T>(url, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Up to 1,000 image rows of the server at `url` that `query` (GET /api/images's) selects. */
export async function imageRows(url: string, query: string): Promise<readonly ImageItem[]> {
  return (await apiJson<ImagesPage>(url, `images?limit=1000&${query}`)).items;
}

/**
 * Waits until the model of the server at `url` has refit on every change so far: idle, and still
 * idle on the same fit a moment later (a fit there must be, unless `fitted` is false). The stats then.
 */
export async function settled(
  url: string,
  { fitted = true, timeout = 20_000 }: { fitted?: boolean; timeout?: number } = {},
): Promise<StatsResponse> {
  let last: StatsResponse | null = null;
  try {
    await expect
      .poll(
        async () => {
          const now = await apiJson<StatsResponse>(url, 'stats');
          const stable =
            now.model.state === 'idle' && last?.model.state === 'idle' && now.model.fitId === last.model.fitId;
          last = now;
          return stable && (!fitted || now.model.fitId !== null);
        },
        { timeout, interval: 250 },
      )
      .toBe(true);
  } catch (error) {
    // Set inside the poll's callback, which narrowing does not follow.
    const seen = last as StatsResponse | null;
    throw new Error(`the model did not settle: ${JSON.stringify(seen?.model)}`, { cause: error });
  }
  return last!;
}
