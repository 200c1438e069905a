// hf: models through the built CLI, as a user runs it, downloading from a tiny hub on 127.0.0.1
// (HF_ENDPOINT) into a cache of its own (AUTOLABEL_CACHE_DIR).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveTinyHub, type TinyHub, writeTinyHubModel } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.js';
import { writeColourPhotos } from './testing/cli.js';

const bin = fileURLToPath(new URL('../bin/autolabel.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'autolabel-models-'));
const cache = join(dir, 'cache');
let hub: TinyHub;
let truth: Map<string, string>;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, AUTOLABEL_CACHE_DIR: cache, HF_ENDPOINT: hub.endpoint, ...extra };
}

/** Runs the CLI without blocking this process: the tiny hub answers from it. */
function cliAsync(args: readonly string[], extra?: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: env(extra) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const ok = async (args: readonly string[], extra?: Record<string, string>): Promise<Run> => {
  const run = await cliAsync(args, extra);
  if (run.code !== 0) throw new Error(`autolabel ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run;
};

beforeAll(async () => {
  await writeTinyHubModel(join(dir, 'hub'), { kind: 'clip', featureDim: 4096 });
  await writeTinyHubModel(join(dir, 'hub'), { kind: 'dinov2', featureDim: 4096 });
  hub = await serveTinyHub(join(dir, 'hub'));
  truth = await writeColourPhotos(join(dir, 'photos'), 8);
});
afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hf: models in the CLI', () => {
  it('init --model hf:..., scan, embed (downloading with progress), then suggest learns on it', async () => {
    await ok(['init', '--images', 'photos', '--model', 'hf:tiny/clip']);
    await ok(['scan', '-q']);
    const embed = await ok(['embed']);
    // The download's progress line in bytes, then the embedding.
    expect(embed.stderr).toMatch(/download hf:tiny\/clip: [\d.]+ kB\/[\d.]+ kB \(100\.0%\), [\d.]+ [kMG]?B\/s/);
    expect(embed.stdout).toMatch(/^Embedded 24 images/);
    const labels = [...truth].filter((_, i) => i % 8 < 2).map(([path, label]) => `${path},${label}`);
    writeFileSync(join(dir, 'labels.csv'), `image,label\n${labels.join('\n')}\n`);
    await ok(['import', 'labels.csv']);
    const fit = JSON.parse((await ok(['suggest', '--json'])).stdout) as { suggestions: number };
    expect(fit.suggestions).toBe(18);
    const exported = (await ok(['export'])).stdout.trim().split('\n').slice(1);
    const right = exported.filter((row) => {
      const [path, label] = row.split(',');
      return truth.get(path!) === label;
    });
    // The tiny image tower sees colour: every suggestion is right.
    expect(right.length).toBe(24);
    // The second embed needs neither the hub nor a download.
    hub.requests.length = 0;
    expect((await ok(['embed'])).stdout).toMatch(/^Embedded 0 images/);
    expect(hub.requests).toEqual([]);
  });

  it('models list shows the cache; models pull of a cached model makes no request', async () => {
    const list = await ok(['models', 'list']);
    // suggest fetched the text tower too (zero-shot from the class names): both towers are cached.
    expect(list.stdout).toMatch(/hf:tiny\/clip\s+6\s+[\d.]+ kB\s+image \+ text towers/);
    expect(list.stdout).toContain(cache);
    hub.requests.length = 0;
    const pull = await ok(['models', 'pull', 'hf:tiny/clip']);
    expect(pull.stdout).toMatch(/hf:tiny\/clip: 3 files, [\d.]+ kB in .* \(already in the cache\)/);
    expect(hub.requests).toEqual([]);
    const json = JSON.parse((await ok(['models', 'list', '--json'])).stdout) as {
      models: { spec: string; files: { path: string; sha256: string }[] }[];
    };
    expect(json.models[0]!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'config.json',
        'preprocessor_config.json',
        'onnx/vision_model.onnx',
        'onnx/text_model.onnx',
      ]),
    );
    expect(json.models[0]!.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
  });

  it('offline with nothing cached: the error names the model and the cache dir, the hint the command; fast', async () => {
    const started = Date.now();
    const run = await cliAsync(['embed', '--model', 'hf:tiny/dinov2', '--cache-dir', 'empty-cache'], {
      HF_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.code).toBe(EXIT.notFound);
    expect(run.stderr).toContain(
      `error: hf:tiny/dinov2 is not in the model cache ${join(dir, 'empty-cache')}, and it cannot be downloaded: http://127.0.0.1:9 cannot be reached: connection refused (ECONNREFUSED)`,
    );
    expect(run.stderr).toContain('hint: run autolabel models pull hf:tiny/dinov2 where the model host can be reached');
    const json = await cliAsync(['models', 'pull', 'hf:tiny/dinov2', '--json'], {
      HF_HUB_OFFLINE: '1',
      AUTOLABEL_CACHE_DIR: join(dir, 'empty'),
    });
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: {
        code: 'MODEL_NOT_FOUND',
        hint: { action: 'pull-model', model: 'hf:tiny/dinov2' },
        exitStatus: EXIT.notFound,
      },
    });
  });

  it('two processes pulling the same model at once download it once', async () => {
    hub.faults.bytesPerSecond = 100_000;
    hub.requests.length = 0;
    try {
      const runs = await Promise.all([
        cliAsync(['models', 'pull', 'hf:tiny/dinov2']),
        new Promise((resolve) => setTimeout(resolve, 300)).then(() => cliAsync(['models', 'pull', 'hf:tiny/dinov2'])),
      ]);
      expect(runs.map((r) => r.code)).toEqual([0, 0]);
      expect(hub.requests.filter((r) => r.server === 'cdn' && r.file === 'onnx/model.onnx').length).toBe(1);
      expect(runs.map((r) => /already in the cache/.test(r.stdout)).sort()).toEqual([false, true]);
      expect(runs[1]!.stderr).toMatch(/waiting for process \d+ to download hf:tiny\/dinov2/);
    } finally {
      hub.faults.bytesPerSecond = 0;
    }
  });

  it('model set embeds what the new model lacks and keeps the old embeddings; --model picks another per command', async () => {
    const set = await ok(['model', 'set', 'hf:tiny/dinov2']);
    expect(set.stdout).toMatch(/^Model set to hf:tiny\/dinov2 \(was hf:tiny\/clip\): 24 images embedded/);
    expect(JSON.parse(readFileSync(join(dir, '.autolabel', 'autolabel.json'), 'utf8'))).toMatchObject({
      model: 'hf:tiny/dinov2',
    });
    const shown = await ok(['model']);
    expect(shown.stdout).toMatch(/Model {2}hf:tiny\/dinov2/);
    expect(shown.stdout).toMatch(/hf:tiny\/clip: 24\n/);
    expect(shown.stdout).toMatch(/hf:tiny\/dinov2: 24 \(in use\)/);
    // Either model's embeddings, per command.
    expect((await ok(['suggest', '--model', 'hf:tiny/clip'])).stdout).toMatch(/^Fit \d+ .*: 18 suggestions/);
    expect((await ok(['next', '--count', '2', '--model', 'hf:tiny/clip', '--json'])).stdout).toMatch(/"picks"/);
    const missing = await cliAsync(['next', '--model', 'builtin:centernet']);
    expect(missing.code).toBe(EXIT.badInput);
    expect(missing.stderr).toContain('hint: run autolabel embed --model builtin:centernet');
    // Back: nothing to embed, the old embeddings were kept.
    const back = await ok(['model', 'set', 'hf:tiny/clip']);
    expect(back.stdout).toMatch(/: 0 images embedded/);
    // A model that cannot be fetched never becomes the workspace's.
    const bad = await cliAsync(['model', 'set', 'hf:tiny/nothing']);
    expect(bad.code).toBe(EXIT.notFound);
    expect(JSON.parse(readFileSync(join(dir, '.autolabel', 'autolabel.json'), 'utf8'))).toMatchObject({
      model: 'hf:tiny/clip',
    });
  });

  it('serve --model answers with the model it was given', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--model', 'hf:tiny/dinov2'], {
      cwd: dir,
      env: env(),
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /at (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const picks = (await (await fetch(`${url}api/next?count=3`)).json()) as { picks: unknown[] };
      expect(picks.picks.length).toBe(3);
    } finally {
      child.kill('SIGTERM');
    }
    const none = spawn(process.execPath, [bin, 'serve', '--port', '0', '--model', 'builtin:centernet'], {
      cwd: dir,
      env: env(),
    });
    try {
      const url = await new Promise<string>((resolve) => {
        let out = '';
        none.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /at (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
      });
      const answer = await fetch(`${url}api/next?count=3`);
      expect(answer.status).toBe(409);
      expect(await answer.json()).toMatchObject({ error: { code: 'NO_EMBEDDINGS' } });
    } finally {
      none.kill('SIGTERM');
    }
  });
});
