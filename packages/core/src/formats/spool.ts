/**
 * @module A temporary file that text is appended to and read back from: what an export that must
 * write something after the rows (COCO's annotations, a list per split) keeps instead of memory.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeError } from '../util/fs.js';

/** Text gathered before it is appended, so a row costs no system call. */
const BUFFER_CHARS = 64 * 1024;

export class Spool {
  readonly path = join(tmpdir(), `autolabel-spool-${randomBytes(6).toString('hex')}`);
  #buffer = '';
  #written = false;

  /** Adds `text`; the file is written to every 64 Ki characters. */
  async append(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= BUFFER_CHARS) await this.#flush();
  }

  /** Everything appended, in order, as chunks of text. */
  async *read(): AsyncGenerator<string> {
    await this.#flush();
    if (!this.#written) return;
    for await (const chunk of createReadStream(this.path, { encoding: 'utf8' })) yield chunk as string;
  }

  /** Bytes appended so far (after a flush). */
  async size(): Promise<number> {
    await this.#flush();
    return this.#written ? (await stat(this.path)).size : 0;
  }

  async dispose(): Promise<void> {
    this.#buffer = '';
    await rm(this.path, { force: true });
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    try {
      await appendFile(this.path, text);
    } catch (error) {
      throw writeError(this.path, error);
    }
    this.#written = true;
  }
}

/** Runs `work` with `count` spools, removing their files however it ends. */
export async function withSpools<T>(count: number, work: (spools: Spool[]) => Promise<T>): Promise<T> {
  const spools = Array.from({ length: count }, () => new Spool());
  try {
    return await work(spools);
  } finally {
    await Promise.all(spools.map((s) => s.dispose()));
  }
}

/** `chunks` of text cut into lines (without their `\n`), each mapped by `each` to text, in chunks again. */
export async function* mapLines(chunks: AsyncIterable<string>, each: (line: string) => string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) yield lines.map(each).join('');
  }
  if (rest !== '') yield each(rest);
}
