/**
 * @module A streaming tar writer (POSIX ustar, with pax `path` records for long or non-ASCII names),
 * so a folder format can be downloaded as one archive without a temporary folder.
 */

/** Takes bytes in order; a promise it returns is awaited before the next write (backpressure). */
export interface ByteSink {
  write(chunk: Uint8Array | string): Promise<void> | void;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, type: '0' | '5' | 'x', mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string): void => void block.set(encoder.encode(text), offset);
  put(0, name);
  put(100, octal(type === '5' ? 0o755 : 0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(Math.floor(mtime / 1000), 12));
  put(148, '        ');
  put(156, type);
  put(257, 'ustar\u000000');
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** A pax record `"<length> path=<value>\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bytes = encoder.encode(body).length;
  let digits = String(bytes).length;
  while (String(bytes + digits).length !== digits) digits = String(bytes + digits).length;
  return encoder.encode(`${bytes + digits}${body}`);
}

export class TarWriter {
  readonly #sink: ByteSink;
  readonly #mtime = Date.now();

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  async folder(path: string): Promise<void> {
    await this.#entry(`${path.replace(/\/+$/, '')}/`, '5', new Uint8Array(0));
  }

  async file(path: string, data: Uint8Array): Promise<void> {
    await this.#entry(path, '0', data);
  }

  /** A file of `size` bytes whose content comes in chunks (which must add up to `size`). */
  async fileFrom(path: string, size: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await this.#header(path, '0', size);
    let written = 0;
    for await (const chunk of chunks) {
      await this.#sink.write(chunk);
      written += chunk.length;
    }
    if (written !== size) throw new Error(`tar: ${path}: ${written} bytes written, ${size} announced`);
    await this.#pad(size);
  }

  /** Two empty blocks end the archive. */
  async end(): Promise<void> {
    await this.#sink.write(new Uint8Array(2 * BLOCK));
  }

  async #entry(path: string, type: '0' | '5', data: Uint8Array): Promise<void> {
    await this.#header(path, type, data.length);
    await this.#write(data);
  }

  async #header(path: string, type: '0' | '5', size: number): Promise<void> {
    let name = path;
    // ustar names are 100 bytes of ASCII here; anything else travels in a pax record before the entry.
    if (encoder.encode(path).length > 100 || /[^\x20-\x7e]/.test(path)) {
      const pax = paxRecord('path', path);
      await this.#sink.write(header(`PaxHeader/${String(pax.length)}`, pax.length, 'x', this.#mtime));
      await this.#write(pax);
      name = path.replace(/[^\x20-\x7e]/g, '_').slice(-99);
    }
    await this.#sink.write(header(name, size, type, this.#mtime));
  }

  async #write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    await this.#sink.write(data);
    await this.#pad(data.length);
  }

  async #pad(size: number): Promise<void> {
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) await this.#sink.write(new Uint8Array(pad));
  }
}
