import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAutolabelError } from '../errors.js';
import { writeFileAtomic } from './fs.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes many small chunks and large ones, in order', async () => {
    const file = join(dir, 'rows.csv');
    const big = new Uint8Array(3 << 20).fill(65);
    async function* chunks(): AsyncGenerator<string | Uint8Array> {
      for (let i = 0; i < 10_000; i++) yield `${i}\n`;
      yield big;
      yield 'end\n';
    }
    await writeFileAtomic(file, chunks());
    const text = readFileSync(file, 'latin1');
    expect(text.startsWith('0\n1\n2\n')).toBe(true);
    expect(text.length).toBe(Array.from({ length: 10_000 }, (_, i) => `${i}\n`).join('').length + big.length + 4);
    expect(text.endsWith(`${'A'.repeat(10)}end\n`)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file and leaves no temporary file when the writing fails half-way', async () => {
    const file = join(dir, 'kept.txt');
    writeFileSync(file, 'old');
    function* failing(): Generator<string> {
      yield 'new, and half';
      throw new Error('the source broke');
    }
    const error = await writeFileAtomic(file, failing()).catch((e: unknown) => e);
    expect(isAutolabelError(error, 'IO_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/cannot write .*kept\.txt: the source broke/);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('names the file and the missing folder', async () => {
    await expect(writeFileAtomic(join(dir, 'nowhere', 'x.txt'), ['x'])).rejects.toThrow(
      /cannot write .*nowhere\/x\.txt: folder .*nowhere does not exist \(ENOENT\)/,
    );
  });
});
