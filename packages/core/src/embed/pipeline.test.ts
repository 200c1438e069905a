import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { decodeRgb } from '../image/decode.js';
import { openStore } from '../store/open.js';
import { initWorkspace } from '../workspace/workspace.js';
import { type Embedder, type TensorEmbedder, takesTensors } from './embedder.js';
import { loadEmbedder } from './load.js';
import { KeptDecodeWorkers } from './decode-pool.js';
import { embedPending } from './pipeline.js';

let dir: string;
let images: string;
let spec: string;
let reference: Embedder;
/** Path -> what decoding the file and embedding it alone gives (the pipeline before decode workers). */
const expected = new Map<string, Float32Array>();
/** Truncated JPEGs amid the others (a failed image's slot is filled by the next one, or closed up at the end) and an empty file. */
const BAD = ['05b-broken.jpg', '19b-broken.jpg', 'empty.png'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autolabel-pipeline-'));
  images = join(dir, 'images');
  // Larger than the 32 px model input (resized by libvips) and smaller (upscaled in JavaScript), in several formats.
  const kinds = ['jpeg', 'png', 'webp', 'gray-jpeg', 'alpha-png', 'rotated-jpeg', 'cmyk-jpeg'] as const;
  for (let i = 0; i < 21; i++) {
    const kind = kinds[i % kinds.length]!;
    const small = i % 3 === 0;
    await writeImage(
      join(
        images,
        `${String(i).padStart(2, '0')}-${kind}.${kind === 'png' || kind === 'alpha-png' ? 'png' : kind === 'webp' ? 'webp' : 'jpg'}`,
      ),
      kind,
      {
        color: [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256],
        pattern: i % 2 === 0 ? 'checker' : 'stripes',
        noise: 30,
        seed: i + 1,
        width: small ? 20 : 64 + i,
        height: small ? 14 : 48,
      },
    );
  }
  await writeImage(join(images, '05b-broken.jpg'), 'truncated-jpeg', { noise: 30, seed: 1 });
  await writeImage(join(images, '19b-broken.jpg'), 'truncated-jpeg', { noise: 30, seed: 2 });
  writeFileSync(join(images, 'empty.png'), '');
  const model = await writeTinyOnnxModel(join(dir, 'model'), { featureDim: 8 });
  spec = `onnx:${model.dir}`;
  reference = await loadEmbedder(spec);
  const ws = await initWorkspace({ images, workspace: join(dir, 'reference'), model: spec });
  await ws.scan();
  await ws.close();
}, 30_000);

afterAll(async () => {
  await reference?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every stored vector of a workspace, by image path. */
function storedVectors(workspaceDir: string): Map<string, Float32Array> {
  const db = new Database(join(workspaceDir, 'autolabel.db'), { readonly: true });
  try {
    const rows = db
      .prepare('SELECT i.path, e.vector FROM images i JOIN embeddings e ON e.content_hash = i.content_hash')
      .all() as { path: string; vector: Buffer }[];
    return new Map(rows.map((r) => [r.path, new Float32Array(new Uint8Array(r.vector).buffer)]));
  } finally {
    db.close();
  }
}

async function expectedFor(path: string): Promise<Float32Array> {
  let vector = expected.get(path);
  if (!vector) {
    const db = new Database(join(dir, 'reference', 'autolabel.db'), { readonly: true });
    const size = db.prepare('SELECT width, height FROM images WHERE path = ?').get(path) as {
      width: number | null;
      height: number | null;
    };
    db.close();
    const pixels = await decodeRgb(readFileSync(join(images, path)), reference.input, { maxPixels: 1e8 }, size);
    vector = await reference.embed(pixels, 1);
    expected.set(path, vector);
  }
  return vector;
}

describe('embed pipeline', () => {
  it.each([0, 1, 2])(
    'with %i decode workers stores what decoding and embedding each image alone gives, and names the files it skipped',
    async (decodeWorkers) => {
      const ws = await initWorkspace({ images, workspace: join(dir, `ws-${decodeWorkers}`), model: spec });
      await ws.scan();
      const result = await ws.embed({ batchSize: 4, decodeWorkers });
      // The empty file is refused at scan time; the truncated JPEGs only when they are decoded.
      expect(result).toMatchObject({ embedded: 21, skipped: 2, aborted: false });
      const status = await ws.status();
      expect(status.skipped.map((s) => s.path).sort()).toEqual(BAD);
      expect(status.skipped.map((s) => s.reason).sort()).toEqual(['corrupt', 'corrupt', 'empty-file']);
      await ws.close();
      const stored = storedVectors(join(dir, `ws-${decodeWorkers}`));
      expect(stored.size).toBe(21);
      for (const [path, vector] of stored) {
        const want = await expectedFor(path);
        expect(vector.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(vector[i]).toBeCloseTo(want[i]!, 5);
      }
    },
    30_000,
  );

  it('feeds an embedder that takes only bytes (no tensors) the same images', async () => {
    const bytesOnly: Embedder = {
      modelId: reference.modelId,
      name: reference.name,
      dim: reference.dim,
      input: reference.input,
      batchSize: reference.batchSize,
      embed: (pixels, count) => reference.embed(pixels, count),
      close: async () => undefined,
    };
    const workspaceDir = join(dir, 'ws-bytes');
    const ws = await initWorkspace({ images, workspace: workspaceDir, model: spec });
    await ws.scan();
    expect(await ws.embed({ embedder: bytesOnly, batchSize: 4, decodeWorkers: 1 })).toMatchObject({
      embedded: 21,
      skipped: 2,
    });
    await ws.close();
    for (const [path, vector] of storedVectors(workspaceDir)) {
      const want = await expectedFor(path);
      for (let i = 0; i < want.length; i++) expect(vector[i]).toBeCloseTo(want[i]!, 5);
    }
  });

  it('stops at Ctrl-C with decode workers running ahead, and the next run embeds only the rest', async () => {
    const workspaceDir = join(dir, 'ws-abort');
    const ws = await initWorkspace({ images, workspace: workspaceDir, model: spec });
    await ws.scan();
    const controller = new AbortController();
    const first = await ws.embed({
      batchSize: 4,
      decodeWorkers: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 4) controller.abort();
      },
    });
    expect(first.aborted).toBe(true);
    expect(storedVectors(workspaceDir).size).toBe(first.embedded);
    expect(first.embedded).toBeLessThan(21);
    const second = await ws.embed({ batchSize: 4, decodeWorkers: 1 });
    expect(first.embedded + second.embedded).toBe(21);
    await ws.close();
    expect(storedVectors(workspaceDir).size).toBe(21);
  });

  it.each([true, false])(
    'with turns %s, decodes wait while a batch is in the model (or overlap it), and every image is embedded as alone',
    async (takeTurns) => {
      const workspaceDir = join(dir, `ws-turns-${takeTurns}`);
      const ws = await initWorkspace({ images, workspace: workspaceDir, model: spec });
      await ws.scan();
      await ws.close();
      const store = await openStore(undefined, join(workspaceDir, 'autolabel.db'));
      const embedder = await loadEmbedder(spec);
      if (!takesTensors(embedder)) throw new Error('the tiny ONNX model takes tensors');
      // Decodes posted to a worker and not yet answered, and those posted while the model ran.
      let decoding = 0;
      let modelRunning = false;
      let overlaps = 0;
      const createDecodeWorker = (url: URL, workerOptions: WorkerOptions): Worker => {
        const worker = new Worker(url, workerOptions);
        const post = worker.postMessage.bind(worker);
        worker.postMessage = (message: { type: string }, transfer?: readonly ArrayBuffer[]) => {
          if (message.type === 'decode') {
            decoding++;
            if (modelRunning) overlaps++;
          }
          post(message, transfer as ArrayBuffer[]);
        };
        worker.on('message', (message: { type: string }) => {
          if (message.type === 'decoded') decoding--;
        });
        return worker;
      };
      // The model takes 30 ms a batch: long enough for decoders running ahead to be caught at it.
      const slow: TensorEmbedder = {
        modelId: embedder.modelId,
        name: embedder.name,
        dim: embedder.dim,
        input: embedder.input,
        batchSize: embedder.batchSize,
        tensorFormat: embedder.tensorFormat,
        embed: (pixels, count) => embedder.embed(pixels, count),
        async embedTensor(tensor, count) {
          modelRunning = true;
          if (decoding > 0) overlaps++;
          await new Promise((resolve) => setTimeout(resolve, 30));
          try {
            return await embedder.embedTensor(tensor, count);
          } finally {
            modelRunning = false;
          }
        },
        close: () => embedder.close(),
      };
      try {
        const result = await embedPending(store, slow, {
          imagesRoot: images,
          maxPixels: 1e8,
          dtype: 'float32',
          spec,
          batchSize: 4,
          decodeWorkers: 2,
          takeTurns,
          createDecodeWorker,
        });
        expect(result).toMatchObject({ embedded: 21, skipped: 2 });
        if (takeTurns) expect(overlaps).toBe(0);
        else expect(overlaps).toBeGreaterThan(0);
        for (const [path, vector] of storedVectors(workspaceDir)) {
          expect(Array.from(vector)).toEqual(Array.from(await expectedFor(path)));
        }
      } finally {
        await embedder.close();
        await store.close();
      }
    },
    30_000,
  );

  it('keeps its decode workers for the next job after a clean one, and starts new ones after a stopped one', async () => {
    const kept = new KeptDecodeWorkers();
    let started = 0;
    const createDecodeWorker = (url: URL, workerOptions: WorkerOptions): Worker => {
      started++;
      return new Worker(url, workerOptions);
    };
    const embedder = await loadEmbedder(spec);
    const run = async (name: string, signal?: AbortSignal): Promise<string> => {
      const workspaceDir = join(dir, `ws-kept-${name}`);
      const ws = await initWorkspace({ images, workspace: workspaceDir, model: spec });
      await ws.scan();
      await ws.close();
      const store = await openStore(undefined, join(workspaceDir, 'autolabel.db'));
      try {
        const options = { imagesRoot: images, maxPixels: 1e8, dtype: 'float32' as const, spec, batchSize: 4 };
        await embedPending(store, embedder, {
          ...options,
          decodeWorkers: 2,
          keptDecodeWorkers: kept,
          createDecodeWorker,
          signal,
        });
      } finally {
        await store.close();
      }
      return workspaceDir;
    };
    try {
      const first = await run('first');
      expect(started).toBe(2);
      const second = await run('second');
      expect(started).toBe(2);
      for (const workspaceDir of [first, second]) {
        const stored = storedVectors(workspaceDir);
        expect(stored.size).toBe(21);
        for (const [path, vector] of stored) expect(Array.from(vector)).toEqual(Array.from(await expectedFor(path)));
      }
      const stop = new AbortController();
      stop.abort();
      await run('stopped', stop.signal);
      await run('after');
      expect(started).toBe(4);
    } finally {
      await kept.close();
      await embedder.close();
    }
  }, 30_000);

  it('fails with an error, not a hang, when a decode worker dies, and the next run embeds the rest once', async () => {
    const workspaceDir = join(dir, 'ws-crash');
    const ws = await initWorkspace({ images, workspace: workspaceDir, model: spec });
    await ws.scan();
    await ws.close();
    const store = await openStore(undefined, join(workspaceDir, 'autolabel.db'));
    const embedder = await loadEmbedder(spec);
    try {
      const options = { imagesRoot: images, maxPixels: 1e8, dtype: 'float32' as const, spec, batchSize: 4 };
      let decoded = 0;
      const createDecodeWorker = (url: URL, workerOptions: WorkerOptions): Worker => {
        const worker = new Worker(url, workerOptions);
        // Killed from outside after its second image, with batches in flight.
        worker.on('message', (message: { type: string }) => {
          if (message.type === 'decoded' && ++decoded === 2) void worker.terminate();
        });
        return worker;
      };
      await expect(
        embedPending(store, embedder, { ...options, decodeWorkers: 1, createDecodeWorker }),
      ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringMatching(/decoder worker exited/) });
      const first = storedVectors(workspaceDir).size;
      expect(first).toBeLessThan(21);
      const second = await embedPending(store, embedder, { ...options, decodeWorkers: 1 });
      expect(first + second.embedded).toBe(21);
      expect(storedVectors(workspaceDir).size).toBe(21);
    } finally {
      await embedder.close();
      await store.close();
    }
  }, 30_000);
});
