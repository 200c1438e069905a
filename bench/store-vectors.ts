/**
 * @module How the PostgreSQL store keeps vectors: bytea (float32 or float16, as the SQLite store does)
 * against real[], for writing and loading N x D embeddings, on a throwaway server (or
 * AUTOLABEL_TEST_POSTGRES_URL).
 *
 *   npm run bench:store-vectors -- [--rows 100000] [--dim 1024] [--batch 256]
 *
 * bytea goes through the store itself (putEmbeddings in batches, loadEmbeddings); real[] through the
 * same statements on a table of its own, as node-postgres sends and parses it (text: there is no
 * binary array format in node-postgres). Figures: wall seconds, this process's CPU seconds (the server
 * runs on the same cores), and the table's size on disk.
 */
import { randomBytes } from 'node:crypto';
import { openPostgresStore } from '@autolabel/core/learn';
import type { ImageId, NewImage } from '@autolabel/core';
import { postgresQuery, testPostgres } from '@autolabel/test-utils';
import pg from 'pg';
import { benchArgs, intArg } from './args.js';

const args = benchArgs('bench:store-vectors [--rows 100000] [--dim 1024] [--batch 256]', {
  rows: { type: 'string' },
  dim: { type: 'string' },
  batch: { type: 'string' },
});
const rows = intArg(args.rows, 'rows', 100_000);
const dim = intArg(args.dim, 'dim', 1024);
const batchSize = intArg(args.batch, 'batch', 256);

interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; timing: Timing }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, timing: { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 } };
}

/** Deterministic vectors in [-1, 1): row r, value d. */
function vector(r: number): Float32Array {
  const out = new Float32Array(dim);
  let x = (r * 2654435761) >>> 0;
  for (let d = 0; d < dim; d++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[d] = x / 2 ** 31 - 1;
  }
  return out;
}

const found = await testPostgres();
if (!found.server) {
  process.stderr.write(`bench:store-vectors needs PostgreSQL: ${found.skip}\n`);
  process.exit(1);
}
const server = found.server;

async function database(): Promise<string> {
  const name = `bench_vectors_${randomBytes(4).toString('hex')}`;
  await postgresQuery(server.url, `CREATE DATABASE ${name}`);
  return Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
}

async function tableSize(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows: sizes } = await client.query<{ n: string }>('SELECT pg_total_relation_size($1) AS n', [table]);
  await client.end();
  return Number(sizes[0]!.n) / 2 ** 20;
}

const image = (r: number): NewImage => ({
  path: `img/${String(r).padStart(7, '0')}.jpg`,
  contentHash: `h${r}`,
  size: 1,
  mtimeMs: 1,
  width: 1,
  height: 1,
  format: 'jpeg',
  skipReason: null,
  skipDetail: null,
});

/** bytea through the store: what `embed` writes and `suggest` loads. */
async function viaStore(dtype: 'float32' | 'float16'): Promise<{ write: Timing; load: Timing; mib: number }> {
  const url = await database();
  const store = await openPostgresStore(url);
  for (let start = 0; start < rows; start += 10_000) {
    const upserts = Array.from({ length: Math.min(10_000, rows - start) }, (_, k) => image(start + k));
    await store.applyScan({ upserts, moves: [], removals: [] });
  }
  await store.registerModel({ id: 'm', spec: 'builtin:bench', dim });
  const write = await timed(async () => {
    for (let start = 0; start < rows; start += batchSize) {
      const vectors = [];
      for (let r = start; r < Math.min(rows, start + batchSize); r++)
        vectors.push({ contentHash: `h${r}`, vector: vector(r) });
      await store.putEmbeddings({ modelId: 'm', dtype, dim, vectors, failures: [] });
    }
  });
  const load = await timed(() => store.loadEmbeddings('m'));
  if (load.result.imageIds.length !== rows) throw new Error(`loaded ${load.result.imageIds.length} of ${rows} rows`);
  await store.close();
  return { write: write.timing, load: load.timing, mib: await tableSize(url, 'embeddings') };
}

/** real[] as node-postgres sends it (a JS array, as text) and parses it back (an array of numbers). */
async function viaRealArray(): Promise<{ write: Timing; load: Timing; mib: number }> {
  const url = await database();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    'CREATE TABLE embeddings (id integer PRIMARY KEY, content_hash text NOT NULL, vector real[] NOT NULL)',
  );
  const write = await timed(async () => {
    for (let start = 0; start < rows; start += batchSize) {
      const params: unknown[] = [];
      const values: string[] = [];
      for (let r = start; r < Math.min(rows, start + batchSize); r++) {
        values.push(`($${params.length + 1}, $${params.length + 2}, $${params.length + 3}::real[])`);
        params.push(r, `h${r}`, Array.from(vector(r)));
      }
      await client.query('BEGIN');
      await client.query(`INSERT INTO embeddings (id, content_hash, vector) VALUES ${values.join(', ')}`, params);
      await client.query('COMMIT');
    }
  });
  const load = await timed(async () => {
    const out = new Float32Array(rows * dim);
    const ids = new Int32Array(rows);
    let count = 0;
    for (let after = -1; ;) {
      const page = await client.query<{ id: number; vector: number[] }>(
        'SELECT id, vector FROM embeddings WHERE id > $1 ORDER BY id LIMIT 4096',
        [after],
      );
      for (const row of page.rows) {
        out.set(row.vector, count * dim);
        ids[count++] = row.id as ImageId;
      }
      if (page.rows.length < 4096) break;
      after = page.rows[page.rows.length - 1]!.id;
    }
    return count;
  });
  if (load.result !== rows) throw new Error(`loaded ${load.result} of ${rows} rows`);
  await client.end();
  return { write: write.timing, load: load.timing, mib: await tableSize(url, 'embeddings') };
}

process.stdout.write(
  `bench:store-vectors: ${rows} x ${dim}, batches of ${batchSize}, ${server.url.replace(/\/\/.*@/, '//')}\n`,
);
const results: [string, Awaited<ReturnType<typeof viaStore>>][] = [];
try {
  results.push(['bytea float32 (store)', await viaStore('float32')]);
  results.push(['bytea float16 (store)', await viaStore('float16')]);
  results.push(['real[]', await viaRealArray()]);
} finally {
  await server.stop();
}
const base = results[0]![1];
process.stdout.write(
  `${'format'.padEnd(24)}${'write s'.padStart(9)}${'cpu s'.padStart(8)}${'rows/s'.padStart(9)}` +
    `${'load s'.padStart(9)}${'cpu s'.padStart(8)}${'size MiB'.padStart(10)}${'write/load vs float32'.padStart(24)}\n`,
);
for (const [name, r] of results) {
  process.stdout.write(
    `${name.padEnd(24)}${r.write.wall.toFixed(1).padStart(9)}${r.write.cpu.toFixed(1).padStart(8)}` +
      `${Math.round(rows / r.write.wall)
        .toString()
        .padStart(9)}${r.load.wall.toFixed(1).padStart(9)}` +
      `${r.load.cpu.toFixed(1).padStart(8)}${r.mib.toFixed(0).padStart(10)}` +
      `${`${(r.write.wall / base.write.wall).toFixed(2)}x / ${(r.load.wall / base.load.wall).toFixed(2)}x`.padStart(24)}\n`,
  );
}
