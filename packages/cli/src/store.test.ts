import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPostgres, writeTinyOnnxModel, postgresQuery as sql } from '@autolabel/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson, writeColourPhotos } from './testing/cli.js';

// The server CI started, or one of our own from the local binaries; without either, skipped (never in CI).
const postgres = await testPostgres();
const server = postgres.server;

if (!server) {
  describe.skip(`autolabel init --store (skipped: ${postgres.skip})`, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const name = `autolabel_cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  await sql(server.url, `CREATE DATABASE ${name}`);
  const storeUrl = Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'autolabel-cli-store-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sql(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.stop();
  });

  describe('autolabel init --store', () => {
    it('keeps everything in the PostgreSQL store, for every later command and every workspace on it', async () => {
      await writeColourPhotos(join(dir, 'photos'), 4);
      const model = await writeTinyOnnxModel(join(dir, 'tiny-model'), { featureDim: 24 });
      const init = runCli(dir, ['init', '--images', 'photos', '--model', `onnx:${model.dir}`, '--store', storeUrl]);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.stdout).toMatch(/store: {2}PostgreSQL autolabel@127\.0\.0\.1:\d+\/autolabel_cli_/);
      const config = JSON.parse(readFileSync(join(dir, '.autolabel', 'autolabel.json'), 'utf8')) as { store?: string };
      expect(config.store).toBe(storeUrl);
      for (const args of [
        ['scan', '-q'],
        ['embed', '-q'],
      ])
        expect(runCli(dir, args).code).toBe(0);
      expect(runCli(dir, ['label', 'img_am00.png', 'amber']).code).toBe(0);
      // Nothing in a SQLite file: the store has it all.
      expect(existsSync(join(dir, '.autolabel', 'autolabel.db'))).toBe(false);
      const rows = (await sql(storeUrl, 'SELECT count(*)::int AS n FROM images')).rows as { n: number }[];
      expect(rows[0]!.n).toBe(12);
      // A second workspace (another machine) on the same store sees the same images, embeddings and labels.
      const other = join(dir, 'other');
      expect(
        runCli(dir, [
          'init',
          '--images',
          'photos',
          '--model',
          `onnx:${model.dir}`,
          '--store',
          storeUrl,
          '--workspace',
          other,
        ]).code,
      ).toBe(0);
      const status = runCliJson<{ imageCount: number; embedded: number; labeled: number }>(dir, [
        'status',
        '--workspace',
        other,
      ]);
      expect(status).toMatchObject({ imageCount: 12, embedded: 12, labeled: 1 });
    });

    it('fails naming the server, never the password, with what to check, and leaves no workspace', () => {
      const port = Number(new URL(server.url).port) + 1;
      const refused = runCli(dir, [
        'init',
        '--images',
        'photos',
        '--workspace',
        'nowhere',
        '--store',
        `postgres://someone:s3cret@127.0.0.1:${port}/photos`,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`PostgreSQL someone@127\\.0\\.0\\.1:${port}/photos: .*is the server running, and listening`),
      );
      expect(refused.stderr).not.toContain('s3cret');
      expect(refused.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(join(dir, 'nowhere'))).toBe(false);
      const scheme = runCli(dir, ['init', '--images', 'photos', '--workspace', 'nowhere', '--store', 'mysql://db/x']);
      expect(scheme.code).toBe(2);
      expect(scheme.stderr).toMatch(/unknown kind of store "mysql"; give postgres:\/\/user@host:port\/database/);
    });
  });
}
