/**
 * @module Write load on the server: concurrent clients label images for a while against a large
 * synthetic workspace while the server refits in the background; reports throughput and latency,
 * and checks that every acknowledged label is in the database (none lost, none doubled).
 *
 *   npm run bench:serve -- [--images 50000] [--dim 1024] [--clients 20] [--seconds 60]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@autolabel/core';
import { openSqliteStore } from '@autolabel/core/learn';
import { benchArgs, intArg } from './args.js';
import { serveInChild } from './serve-child.js';
import { writeSyntheticWorkspace } from './synthetic.js';

const args = benchArgs('bench:serve [--images 50000] [--dim 1024] [--clients 20] [--seconds 60]', {
  images: { type: 'string' },
  dim: { type: 'string' },
  clients: { type: 'string' },
  seconds: { type: 'string' },
});
const imageCount = intArg(args.images, 'images', 50_000);
const dim = intArg(args.dim, 'dim', 1024);
const clients = intArg(args.clients, 'clients', 20);
const seconds = intArg(args.seconds, 'seconds', 60);
const CLASSES = Array.from({ length: 10 }, (_, i) => `class-${i}`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'autolabel-bench-serve-'));
try {
  // A workspace whose images and embeddings are synthetic: ten clusters, so refits have real work.
  const graphSeconds = await writeSyntheticWorkspace(dir, { images: imageCount, dim, classes: CLASSES, labelled: 50 });
  log(`workspace: ${imageCount} images x ${dim}-d; graph built in ${graphSeconds.toFixed(1)} s`);
  const truth = Int32Array.from({ length: imageCount }, (_, i) => i % CLASSES.length);

  // The server runs as `autolabel serve` in its own process, as users run it; clients stay here.
  const server = await serveInChild(join(dir, 'ws'));
  const events = new AbortController();
  const fitting: { from: number; to: number }[] = [];
  let openSince: number | null = null;
  // Follow the model's state so latencies can be split into "while a refit runs" and not.
  void (async () => {
    const response = await fetch(`${server.url}api/events`, { signal: events.signal });
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(chunk);
      if (process.env.BENCH_DEBUG) log(text.trim());
      for (const match of text.matchAll(/"state":"(\w+)"/g)) {
        if (match[1] === 'fitting' && openSince === null) openSince = performance.now();
        if (match[1] !== 'fitting' && openSince !== null) {
          fitting.push({ from: openSince, to: performance.now() });
          openSince = null;
        }
      }
    }
  })().catch(() => undefined);
  await fetch(`${server.url}api/labels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ imageId: 51, label: CLASSES[truth[50]!] }] }),
  });

  const acknowledged = new Map<number, string>();
  const latencies: { at: number; ms: number }[] = [];
  let failures = 0;
  const end = performance.now() + seconds * 1000;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const pick = seededRandom(100 + client);
      while (performance.now() < end) {
        const id = 1 + Math.floor(pick() * imageCount);
        const label = CLASSES[pick() < 0.8 ? truth[id - 1]! : Math.floor(pick() * CLASSES.length)]!;
        const started = performance.now();
        const response = await fetch(`${server.url}api/images/${id}/label`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ label }),
        });
        await response.arrayBuffer();
        const finished = performance.now();
        if (response.status !== 200) {
          failures++;
          continue;
        }
        latencies.push({ at: started, ms: finished - started });
        acknowledged.set(id, label); // one client per id at a time is not guaranteed: last acknowledged wins below
      }
    }),
  );
  const elapsed = (performance.now() - t) / 1000;
  // A refit still running at the end counts up to the end.
  if (openSince !== null) fitting.push({ from: openSince, to: performance.now() });
  events.abort();
  await server.close();
  log(`server: ${server.log().trim().split('\n').slice(-1)[0] ?? ''}`);

  const store = openSqliteStore(join(dir, 'ws', 'autolabel.db'));
  const stored = new Map((await store.listLabels()).map((l) => [l.imageId as number, l.label]));
  const rows = (await store.listLabels()).length;
  await store.close();
  // Two clients may write one id concurrently; the acknowledged order is the server's, so a
  // mismatch is only a loss when no acknowledged write for that id carried the stored label.
  let lost = 0;
  for (const [id] of acknowledged) if (!stored.has(id)) lost++;
  const duplicates = rows - stored.size;
  const inRefit = (at: number): boolean => fitting.some((w) => at >= w.from && at <= w.to);
  const pct = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  };
  const all = latencies.map((l) => l.ms);
  const during = latencies.filter((l) => inRefit(l.at)).map((l) => l.ms);
  process.stdout.write(
    `\n${clients} clients, ${elapsed.toFixed(0)} s, ${imageCount} images x ${dim}-d\n` +
      `writes: ${latencies.length} acknowledged (${(latencies.length / elapsed).toFixed(0)} req/s), ${failures} failed\n` +
      `latency all:          p50 ${pct(all, 50).toFixed(1)} ms, p99 ${pct(all, 99).toFixed(1)} ms, max ${Math.max(...all).toFixed(0)} ms\n` +
      `latency during refit: p50 ${pct(during, 50).toFixed(1)} ms, p99 ${pct(during, 99).toFixed(1)} ms (${during.length} writes; ${fitting.length} refits, ${(fitting.reduce((sum, w) => sum + w.to - w.from, 0) / 1000).toFixed(0)} s of ${elapsed.toFixed(0)} s refitting)\n` +
      `labels: ${acknowledged.size} images acknowledged, ${lost} lost, ${duplicates} duplicated\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
