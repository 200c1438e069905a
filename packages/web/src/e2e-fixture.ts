/**
 * @module What the review app's end-to-end tests share: the built app's folder, where screenshots
 * go, and a workspace of coloured photos (one class per colour) embedded with the tiny ONNX model.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWorkspace, type Workspace } from '@autolabel/core';
import { type ImagePattern, type Rgb, writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';

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
