// Downloads from a tiny hub on 127.0.0.1 (test-utils/tiny-hub.ts), laid out and answering like huggingface.co.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serveTinyHub, type TinyHub, writeTinyHubModel } from '@autolabel/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseModelSpec, type HfModelSpec } from '../domain/index.js';
import type { Progress } from '../util/progress.js';
import { ensureHfModel, listCachedModels, removeCachedModel } from './hub.js';
import { hubSettings, type HubSettings } from './settings.js';

const root = mkdtempSync(join(tmpdir(), 'autolabel-hub-'));
const hubDir = join(root, 'hub');
let hub: TinyHub;
let cacheDir: string;
let settings: HubSettings;
let caches = 0;

const spec = (text: string): HfModelSpec => parseModelSpec(text) as HfModelSpec;
const VISION = 'onnx/vision_model.onnx';
const modelBytes = (): number => readFileSync(join(hubDir, 'tiny/clip', VISION)).length;

beforeAll(async () => {
  // Big enough that a transfer can break off in the middle: 16 x 4096 floats of weights.
  await writeTinyHubModel(hubDir, { kind: 'clip', featureDim: 4096 });
  await writeTinyHubModel(hubDir, { kind: 'dinov2', dtypes: ['fp32', 'q8'] });
  hub = await serveTinyHub(hubDir);
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  cacheDir = join(root, `cache-${caches++}`);
  settings = hubSettings({ cacheDir, endpoint: hub.endpoint, timeoutMs: 2000, retries: 2 }, {});
  hub.requests.length = 0;
});
afterEach(() => {
  hub.faults.dropOnce.clear();
  hub.faults.stall.clear();
  hub.faults.corrupt.clear();
  hub.faults.sizeLie.clear();
  hub.faults.bytesPerSecond = 0;
});

describe('hub model cache', () => {
  it('downloads the image tower once, with progress in bytes up to the total, and verifies it', async () => {
    const seen: Progress[] = [];
    const snapshot = await ensureHfModel(spec('hf:tiny/clip'), settings, { onProgress: (p) => seen.push(p) });
    expect(snapshot.files.map((f) => f.path)).toEqual(['config.json', 'preprocessor_config.json', VISION]);
    expect(snapshot.commit).toBe(hub.commit);
    expect(snapshot.downloaded).toBeGreaterThan(modelBytes());
    expect(readFileSync(join(snapshot.dir, VISION))).toEqual(readFileSync(join(hubDir, 'tiny/clip', VISION)));
    // The text tower was not asked for, so not fetched.
    expect(existsSync(join(snapshot.dir, 'onnx/text_model.onnx'))).toBe(false);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ phase: 'download hf:tiny/clip', unit: 'bytes' });
    expect(last.done).toBe(last.total);
    expect(last.total).toBeGreaterThan(modelBytes());
    // Files after the first are asked for at the commit the hub named, so one snapshot is one commit.
    const cdnOnly = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdnOnly.map((r) => r.file)).toEqual([VISION]);
    expect(readdirSync(dirname(join(snapshot.dir, VISION))).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('uses the cache on the second run without a single request', async () => {
    await ensureHfModel(spec('hf:tiny/clip'), settings);
    hub.requests.length = 0;
    const again = await ensureHfModel(spec('hf:tiny/clip'), settings);
    expect(hub.requests).toEqual([]);
    expect(again.downloaded).toBe(0);
    // Fetching the text tower later adds its files only.
    const text = await ensureHfModel(spec('hf:tiny/clip'), settings, { parts: ['image', 'text'] });
    expect(text.files.map((f) => f.path)).toContain('onnx/text_model.onnx');
    expect(new Set(hub.requests.filter((r) => r.method === 'GET').map((r) => r.file))).toEqual(
      new Set(['tokenizer.json', 'tokenizer_config.json', 'onnx/text_model.onnx']),
    );
  });

  it('resumes a transfer the server drops midway with a Range request, fetching each byte once', async () => {
    const size = modelBytes();
    hub.faults.dropOnce.set(VISION, Math.floor(size / 2));
    const snapshot = await ensureHfModel(spec('hf:tiny/clip'), settings);
    expect(readFileSync(join(snapshot.dir, VISION)).length).toBe(size);
    const gets = hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
    expect(gets.map((r) => r.status)).toEqual([200, 206]);
    expect(gets[1]!.range).toBe(`bytes=${Math.floor(size / 2)}-`);
    const small = snapshot.files.filter((f) => f.path !== VISION).reduce((sum, f) => sum + f.size, 0);
    expect(snapshot.downloaded).toBe(size + small);
  });

  it('resumes the partial file an interrupted earlier run left behind', async () => {
    const size = modelBytes();
    hub.faults.stall.set(VISION, 40_000);
    const stalled = hubSettings({ ...settings, timeoutMs: 300, retries: 0 }, {});
    const started = Date.now();
    const error = await ensureHfModel(spec('hf:tiny/clip'), stalled).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'MODEL_DOWNLOAD_FAILED',
      message: expect.stringMatching(/onnx\/vision_model\.onnx.*timed out.*40000 bytes so far are kept.*resume/),
    });
    // A stalled transfer fails after the idle timeout: never a hang.
    expect(Date.now() - started).toBeLessThan(5000);
    hub.faults.stall.clear();
    hub.requests.length = 0;
    const snapshot = await ensureHfModel(spec('hf:tiny/clip'), settings);
    expect(readFileSync(join(snapshot.dir, VISION))).toEqual(readFileSync(join(hubDir, 'tiny/clip', VISION)));
    const gets = hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
    expect(gets.map((r) => r.range)).toEqual(['bytes=40000-']);
    expect(snapshot.downloaded).toBe(size - 40_000);
  });

  it('deletes a file whose sha256 is not the one the hub gave, and says so', async () => {
    hub.faults.corrupt.add(VISION);
    await expect(ensureHfModel(spec('hf:tiny/clip'), settings)).rejects.toMatchObject({
      code: 'MODEL_DOWNLOAD_FAILED',
      message: expect.stringMatching(
        /onnx\/vision_model\.onnx .* is corrupt: its sha256 is [0-9a-f]{64} where the server gave [0-9a-f]{64}; it was deleted/,
      ),
    });
    const dir = join(cacheDir, 'hf/tiny/clip/main/files/onnx');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    // Nothing wrong is kept: the next run downloads it afresh and succeeds.
    hub.faults.corrupt.clear();
    await expect(ensureHfModel(spec('hf:tiny/clip'), settings)).resolves.toMatchObject({ commit: hub.commit });
  });

  it('refuses a file of another size than the hub announced', async () => {
    hub.faults.sizeLie.set(VISION, 10);
    await expect(ensureHfModel(spec('hf:tiny/clip'), settings)).rejects.toMatchObject({
      code: 'MODEL_DOWNLOAD_FAILED',
      message: expect.stringMatching(/sends \d+ bytes for onnx\/vision_model\.onnx, where \d+ were announced/),
    });
  });

  it('offline with nothing cached: a fast, clear error naming the model and the cache, with a hint to pull it', async () => {
    const down = await serveTinyHub(hubDir);
    const endpoint = down.endpoint;
    await down.close();
    const started = Date.now();
    const error = await ensureHfModel(spec('hf:tiny/clip'), hubSettings({ ...settings, endpoint }, {})).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({
      code: 'MODEL_NOT_FOUND',
      hint: { action: 'pull-model', model: 'hf:tiny/clip' },
      message: `hf:tiny/clip is not in the model cache ${cacheDir}, and it cannot be downloaded: ${endpoint} cannot be reached: connection refused (ECONNREFUSED)`,
    });
    await expect(
      ensureHfModel(spec('hf:tiny/clip'), hubSettings({ ...settings, offline: true }, {})),
    ).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('offline mode is on (HF_HUB_OFFLINE)'),
    });
    expect(hub.requests).toEqual([]);
    // What is cached works offline.
    await ensureHfModel(spec('hf:tiny/clip'), settings);
    await expect(
      ensureHfModel(spec('hf:tiny/clip'), hubSettings({ ...settings, endpoint }, {})),
    ).resolves.toMatchObject({
      downloaded: 0,
    });
  });

  it('names what the hub lacks: a repository, a revision, a dtype that is not published', async () => {
    await expect(ensureHfModel(spec('hf:tiny/nothing'), settings)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('no repository tiny/nothing'),
    });
    await expect(ensureHfModel(spec('hf:tiny/clip@v9'), settings)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('has no revision "v9"'),
    });
    await expect(ensureHfModel(spec('hf:tiny/clip:q4'), settings)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringMatching(/has no onnx\/vision_model_q4\.onnx .*is the q4 weight type published/),
    });
    await expect(ensureHfModel(spec('hf:tiny/dinov2'), settings, { parts: ['text'] })).rejects.toMatchObject({
      code: 'MODEL_UNSUPPORTED',
      message: expect.stringContaining('has no text tower'),
    });
  });

  it('downloads once when two callers ask at the same time: the second waits, then uses the cache', async () => {
    hub.faults.bytesPerSecond = 200_000;
    const waits: Progress[] = [];
    const [a, b] = await Promise.all([
      ensureHfModel(spec('hf:tiny/clip'), settings),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
        ensureHfModel(spec('hf:tiny/clip'), settings, { onProgress: (p) => waits.push(p) }),
      ),
    ]);
    expect(a.files).toEqual(b.files);
    expect(hub.requests.filter((r) => r.server === 'cdn').length).toBe(1);
    expect(waits[0]?.phase).toMatch(/^waiting for process \d+ to download hf:tiny\/clip$/);
  });

  it('takes over the lock of a process that is gone', async () => {
    const dir = join(cacheDir, 'hf/tiny/clip/main');
    await mkdir(dir, { recursive: true });
    // A pid that does not run on this host.
    writeFileSync(
      join(dir, 'download.lock'),
      JSON.stringify({ pid: 2 ** 22 + 7, host: (await import('node:os')).hostname(), since: '', token: 'x' }),
    );
    await expect(ensureHfModel(spec('hf:tiny/clip'), settings)).resolves.toMatchObject({ commit: hub.commit });
  });

  it('lists what is cached per complete dtype, and removes a revision', async () => {
    await ensureHfModel(spec('hf:tiny/dinov2'), settings);
    await ensureHfModel(spec('hf:tiny/dinov2:q8'), settings);
    await ensureHfModel(spec('hf:tiny/clip'), settings, { parts: ['image', 'text'] });
    const list = await listCachedModels(settings);
    expect(list.map((m) => [m.spec, m.complete, m.text, m.files.length])).toEqual([
      ['hf:tiny/clip', true, true, 6],
      ['hf:tiny/dinov2', true, false, 3],
      ['hf:tiny/dinov2:q8', true, false, 3],
    ]);
    expect(list[0]!.bytes).toBe(list[0]!.files.reduce((sum, f) => sum + f.size, 0));
    expect(await removeCachedModel(spec('hf:tiny/dinov2'), settings)).toBeGreaterThan(0);
    expect((await listCachedModels(settings)).map((m) => m.spec)).toEqual(['hf:tiny/clip']);
    expect(await removeCachedModel(spec('hf:tiny/dinov2'), settings)).toBe(0);
  });
});
