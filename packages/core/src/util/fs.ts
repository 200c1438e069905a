/** @module File writes that never leave half a file behind. */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { AutolabelError, messageOf } from '../errors.js';

/** Writes chunks to a temporary file next to `file`, then renames it into place. */
export async function writeFileAtomic(
  file: string,
  chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const out = createWriteStream(temporary);
    for await (const chunk of chunks) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new AutolabelError('IO_FAILED', `cannot write ${file}: ${messageOf(error)}`, { cause: error });
  }
}
