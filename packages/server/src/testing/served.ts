/**
 * @module What the server's test suites share: a workspace over photos a suite writes, embedded with
 * the tiny ONNX model, the app over it (in-process, `app.request`), and JSON requests to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWorkspace, type Workspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { type ImagePattern, type Rgb, writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { createApp } from '../app.js';
import { AuditRuns } from '../audit-runs.js';
import { LiveModel, type LiveModelOptions } from '../live-model.js';

export interface Served {
  /** The suite's temporary folder: `photos/`, `model/`, `ws/`. */
  readonly dir: string;
  readonly workspace: Workspace;
  readonly live: LiveModel;
  /** The app's audit runs (`settled()` waits for one to finish). */
  readonly audits: AuditRuns;
  readonly app: ReturnType<typeof createApp>;
  /** Image id by path, every scanned image (skipped ones too). */
  readonly ids: ReadonlyMap<string, number>;
  /** JSON body of a response. */
  json<T>(response: Response): Promise<T>;
  /** A request with a JSON body. */
  send(path: string, method: string, body: unknown): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
  /** Stops the live model, closes the workspace, removes the folder. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Writes the suite's images into `photos` (the images root). */
  readonly photos: (photos: string) => Promise<void>;
  readonly featureDim?: number;
  /** Embed after the scan (default true). */
  readonly embed?: boolean;
  readonly live?: LiveModelOptions;
}

/** A temporary folder with the suite's photos, a workspace over them, and the app. */
export async function served(name: string, options: ServeOptions): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), `autolabel-${name}-`));
  await options.photos(join(dir, 'photos'));
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: options.featureDim ?? 24 });
  const workspace = await initWorkspace({
    images: join(dir, 'photos'),
    workspace: join(dir, 'ws'),
    model: `onnx:${model.dir}`,
  });
  await workspace.scan();
  if (options.embed !== false) await workspace.embed();
  const ids = new Map((await storeOf(workspace).listImages()).map((image) => [image.path, image.id as number]));
  const live = new LiveModel(workspace, options.live ?? { debounceMs: 20 });
  const audits = new AuditRuns(workspace, live);
  const app = createApp({ workspace, live, audits });
  const send = (path: string, method: string, body: unknown): Promise<Response> =>
    Promise.resolve(
      app.request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    );
  return {
    dir,
    workspace,
    live,
    audits,
    app,
    ids,
    json: async <T>(response: Response) => (await response.json()) as T,
    send,
    post: (path, body) => send(path, 'POST', body),
    close: async () => {
      await audits.close();
      await live.close();
      await workspace.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PATTERNS: readonly ImagePattern[] = ['solid', 'stripes', 'checker'];

/**
 * `perClass` noisy photos of each colour class, `<class>-<i>.png` (`<class>-07.png` with `pad`),
 * in patterns that cycle solid, stripes, checker.
 */
export async function writeColourPhotos(
  photos: string,
  classes: Readonly<Record<string, Rgb>>,
  perClass: number,
  options: { readonly width?: number; readonly height?: number; readonly noise?: number; readonly pad?: boolean } = {},
): Promise<void> {
  let seed = 0;
  for (const [name, color] of Object.entries(classes)) {
    for (let i = 0; i < perClass; i++) {
      await writeImage(join(photos, `${name}-${options.pad ? String(i).padStart(2, '0') : i}.png`), 'png', {
        color,
        pattern: PATTERNS[i % PATTERNS.length]!,
        noise: options.noise ?? 60,
        seed: seed++,
        width: options.width,
        height: options.height,
      });
    }
  }
}
