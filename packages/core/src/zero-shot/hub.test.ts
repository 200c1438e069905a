// Zero-shot with an hf: model: the text tower and tokenizer come from the tiny hub on 127.0.0.1 the
// first time suggest needs them, and from the model cache (and the class-embedding cache) after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveTinyHub, type TinyHub, writeImage, writeTinyHubModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWorkspace, type Workspace } from '../workspace/index.js';

const root = mkdtempSync(join(tmpdir(), 'autolabel-zero-shot-hub-'));
const images = join(root, 'photos');
const COLOURS = { amber: [210, 130, 30], azure: [40, 100, 210], moss: [70, 160, 60] } as const;
const truth = new Map<string, string>();
let hub: TinyHub;

beforeAll(async () => {
  let seed = 0;
  for (const [name, color] of Object.entries(COLOURS)) {
    for (let i = 0; i < 6; i++) {
      const path = `${name}${i}.png`;
      await writeImage(join(images, path), 'png', { color, noise: 50, seed: seed++ });
      truth.set(path, name);
    }
  }
  await writeTinyHubModel(join(root, 'hub'), { kind: 'clip' });
  hub = await serveTinyHub(join(root, 'hub'));
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

async function workspace(name: string, cacheDir: string): Promise<Workspace> {
  const ws = await initWorkspace({ images, workspace: join(root, name), model: 'hf:tiny/clip' });
  await ws.scan();
  await ws.embed({ hub: { cacheDir, endpoint: hub.endpoint } });
  for (const c of Object.keys(COLOURS)) await ws.classes.add(c);
  return ws;
}

const textDownloads = (): number =>
  hub.requests.filter((r) => r.server === 'cdn' && r.file === 'onnx/text_model.onnx' && r.method === 'GET').length;

describe('zero-shot with an hf: model', () => {
  it('downloads the text tower when suggest first needs it, then names every image from the class names', async () => {
    const cacheDir = join(root, 'cache');
    const ws = await workspace('ws', cacheDir);
    try {
      // embed fetched the image tower only.
      expect(textDownloads()).toBe(0);
      const result = await ws.suggest({ hub: { cacheDir, endpoint: hub.endpoint } });
      expect(result.method).toBe('zero-shot');
      expect(result.zeroShot?.textTower).toMatch(/^hf:tiny\/clip \(onnx\/text_model\.onnx\)$/);
      expect(textDownloads()).toBe(1);
      const suggestions = await ws.suggestions.list();
      expect(suggestions).toHaveLength(truth.size);
      for (const s of suggestions) expect(s.label).toBe(truth.get(s.path));
      // Again, offline: the text tower is cached, and so are the class names' embeddings.
      await ws.suggest({ hub: { cacheDir, endpoint: hub.endpoint, offline: true } });
      expect(textDownloads()).toBe(1);
    } finally {
      await ws.close();
    }
  });

  it('offline with no text tower cached: a cold start says which model to fetch; with labels, a warning', async () => {
    const cacheDir = join(root, 'image-only-cache');
    const ws = await workspace('ws-offline', cacheDir);
    const offline = { cacheDir, endpoint: hub.endpoint, offline: true };
    try {
      await expect(ws.suggest({ hub: offline })).rejects.toMatchObject({
        code: 'MODEL_NOT_FOUND',
        hint: { action: 'pull-model', model: 'hf:tiny/clip' },
      });
      await ws.labels.set(
        [...truth].filter(([path]) => /[01]\.png$/.test(path)).map(([image, label]) => ({ image, label })),
      );
      const result = await ws.suggest({ hub: offline });
      expect(result.zeroShot).toBeNull();
      expect(result.warnings.join('\n')).toMatch(
        /zero-shot from class names left out: hf:tiny\/clip is not in the model cache/,
      );
    } finally {
      await ws.close();
    }
  });
});
