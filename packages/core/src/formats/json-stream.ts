/**
 * @module A JSON document read as it streams in: a top-level object's keys one at a time, and the
 * elements of one array of it (a list of images) one at a time, so a file of any size is never one
 * string nor one parsed value. Each value is cut out by a scan that counts brackets outside strings,
 * then `JSON.parse`d, so what is accepted is exactly JSON.
 */
import { AutolabelError } from '../errors.js';

export type JsonEvent =
  /** A top-level key and its value (the streamed array's key says `streamed` when it is done). */
  | { readonly kind: 'value'; readonly key: string; readonly value: unknown; readonly streamed?: true }
  /** One element of the streamed array. */
  | { readonly kind: 'item'; readonly key: string; readonly index: number; readonly value: unknown }
  /** A document that is not an object, parsed whole (for the caller's schema to refuse). */
  | { readonly kind: 'document'; readonly value: unknown };

const isSpace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

class Scanner {
  readonly #chunks: AsyncIterator<string>;
  readonly #source: string;
  #buf = '';
  #pos = 0;
  #eof = false;

  constructor(chunks: AsyncIterable<string>, source: string) {
    this.#chunks = chunks[Symbol.asyncIterator]();
    this.#source = source;
  }

  error(what: string): AutolabelError {
    return new AutolabelError('IMPORT_INVALID', `${this.#source}: not valid JSON: ${what}`);
  }

  /** The next character that is not white space (not consumed), or undefined at the end of the text. */
  async peek(): Promise<string | undefined> {
    for (;;) {
      while (this.#pos < this.#buf.length && isSpace(this.#buf.charCodeAt(this.#pos))) this.#pos++;
      if (this.#pos < this.#buf.length) return this.#buf[this.#pos];
      if (!(await this.#fill())) return undefined;
    }
  }

  /** Consumes `char`, which must come next (after white space). */
  async expect(char: string, after: string): Promise<void> {
    const next = await this.peek();
    if (next !== char) {
      throw this.error(
        `expected "${char}" ${after}, found ${next === undefined ? 'the end of the file' : `"${next}"`}`,
      );
    }
    this.#pos++;
  }

  /** The JSON value that comes next, parsed. */
  async value(): Promise<unknown> {
    const first = await this.peek();
    if (first === undefined) throw this.error('the file ends where a value should be');
    const compound = first === '{' || first === '[';
    const string = first === '"';
    let scanned = 0;
    let depth = 0;
    let inString = false;
    let escape = false;
    for (;;) {
      const buf = this.#buf;
      let end = -1;
      for (let j = this.#pos + scanned; j < buf.length; j++) {
        const ch = buf[j]!;
        if (inString) {
          if (escape) escape = false;
          else if (ch === '\\') escape = true;
          else if (ch === '"') {
            inString = false;
            if (string) {
              end = j + 1;
              break;
            }
          }
        } else if (ch === '"') inString = true;
        else if (compound && (ch === '{' || ch === '[')) depth++;
        else if (compound && (ch === '}' || ch === ']')) {
          if (--depth === 0) {
            end = j + 1;
            break;
          }
        } else if (!compound && !string && (ch === ',' || ch === '}' || ch === ']' || isSpace(ch.charCodeAt(0)))) {
          end = j;
          break;
        }
      }
      if (end < 0) {
        scanned = buf.length - this.#pos;
        if (await this.#fill()) continue;
        if (compound || string) throw this.error('the file ends inside a value');
        end = this.#buf.length;
      }
      const text = this.#buf.slice(this.#pos, end);
      this.#pos = end;
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw this.error((error as Error).message);
      }
    }
  }

  /** Appends the next chunk (dropping what was consumed); false at the end of the text. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const next = await this.#chunks.next();
    if (next.done) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.slice(this.#pos) + next.value;
    this.#pos = 0;
    return true;
  }
}

/** The events of a JSON document (a leading byte order mark allowed) whose array `arrayKey` is streamed. */
export async function* jsonEvents(
  chunks: AsyncIterable<string>,
  source: string,
  arrayKey: string,
): AsyncGenerator<JsonEvent> {
  const scanner = new Scanner(withoutBom(chunks), source);
  if ((await scanner.peek()) !== '{') {
    yield { kind: 'document', value: await scanner.value() };
  } else {
    await scanner.expect('{', 'to start the document');
    for (let first = true; ; first = false) {
      if ((await scanner.peek()) === '}') {
        await scanner.expect('}', '');
        break;
      }
      if (!first) await scanner.expect(',', 'or "}" after a value');
      if ((await scanner.peek()) !== '"') await scanner.expect('"', 'to start a key');
      const key = String(await scanner.value());
      await scanner.expect(':', `after the key "${key}"`);
      if (key !== arrayKey || (await scanner.peek()) !== '[') {
        yield { kind: 'value', key, value: await scanner.value() };
        continue;
      }
      await scanner.expect('[', '');
      let index = 0;
      for (;;) {
        if ((await scanner.peek()) === ']') {
          await scanner.expect(']', '');
          break;
        }
        if (index > 0) await scanner.expect(',', `or "]" after ${key}[${index - 1}]`);
        yield { kind: 'item', key, index, value: await scanner.value() };
        index++;
      }
      yield { kind: 'value', key, value: [], streamed: true };
    }
  }
  const after = await scanner.peek();
  if (after !== undefined) throw scanner.error(`unexpected "${after}" after the end of the document`);
}

async function* withoutBom(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let first = true;
  for await (const chunk of chunks) {
    yield first ? chunk.replace(/^\ufeff/, '') : chunk;
    first = false;
  }
}
