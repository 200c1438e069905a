/**
 * @module One file downloaded into place: bytes go to `FILE.partial` (resumed with an HTTP Range
 * request after a dropped connection or in a later run), are counted and hashed on the way, and
 * the file is renamed into place only when its size, and its sha256 where the server gave one, are
 * right. A wrong file is deleted, never kept.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AutolabelError, messageOf } from '../errors.js';
import { HttpConnectError, httpGet } from './http.js';

export interface RemoteFile {
  /** The file's path in the repository, for messages. */
  readonly path: string;
  readonly url: string;
  /** Expected bytes; null when the server did not say (then Content-Length is trusted). */
  readonly size: number | null;
  /** Expected sha256 (hex); null when the server gave none. */
  readonly sha256: string | null;
}

export interface DownloadOptions {
  readonly timeoutMs: number;
  /** Transfers resumed after a failure before giving up. */
  readonly retries: number;
  readonly token?: { readonly value: string; readonly origin: string };
  readonly signal?: AbortSignal;
  /**
   * Bytes arrived, or (`fromDisk`) found in a partial file of an earlier run; negative when a
   * transfer starts over.
   */
  readonly onBytes?: (bytes: number, fromDisk: boolean) => void;
}

export interface Downloaded {
  readonly size: number;
  readonly sha256: string;
  /** Bytes that were already there from an earlier, interrupted run. */
  readonly resumedFrom: number;
}

/** What a partial file is a part of: a later run resumes it only if the remote file is still that one. */
interface PartialMeta {
  readonly url: string;
  readonly size: number | null;
  readonly sha256: string | null;
}

export async function downloadFile(remote: RemoteFile, dest: string, options: DownloadOptions): Promise<Downloaded> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const metaFile = `${partial}.json`;
  const meta: PartialMeta = { url: remote.url, size: remote.size, sha256: remote.sha256 };
  let offset = await resumableBytes(partial, metaFile, meta);
  if (offset === 0) {
    await rm(partial, { force: true });
    await writeFile(metaFile, JSON.stringify(meta));
  }
  const resumedFrom = offset;
  const hash = createHash('sha256');
  if (offset > 0) {
    await hashInto(hash, partial);
    options.onBytes?.(offset, true);
  }
  let expected = remote.size;
  let failures = 0;
  let hashed = hash;
  for (;;) {
    if (options.signal?.aborted) throw new AutolabelError('ABORTED', `download of ${remote.path} stopped`);
    let attempt: Attempt;
    try {
      attempt = await transfer(remote, partial, offset, expected, hashed, options);
    } catch (error) {
      if (error instanceof AutolabelError) throw error;
      // Unexpected (a disk error, say): what the partial file holds is no longer known, so it starts over.
      await rm(partial, { force: true });
      options.onBytes?.(-offset, true);
      attempt = { kind: 'failed', reason: messageOf(error), offset: 0, expected, hash: createHash('sha256') };
    }
    ({ offset, expected, hash: hashed } = attempt);
    if (attempt.kind === 'done') break;
    if (attempt.progressed) failures = 0;
    failures++;
    if (failures > options.retries) {
      throw new AutolabelError(
        'MODEL_DOWNLOAD_FAILED',
        `download of ${remote.path} from ${remote.url} failed${options.retries > 0 ? ` (${options.retries} retries)` : ''}: ${attempt.reason} (the ${offset} bytes so far are kept in ${partial}; run again to resume)`,
      );
    }
    // A moment before trying again: a server that just dropped us may need it.
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** failures)));
  }
  const sha256 = hashed.digest('hex');
  const wrong =
    expected !== null && offset !== expected
      ? `${offset} bytes arrived where ${expected} were expected`
      : remote.sha256 !== null && sha256 !== remote.sha256
        ? `its sha256 is ${sha256} where the server gave ${remote.sha256}`
        : null;
  if (wrong !== null) {
    await rm(partial, { force: true });
    await rm(metaFile, { force: true });
    throw new AutolabelError(
      'MODEL_DOWNLOAD_FAILED',
      `${remote.path} from ${remote.url} is corrupt: ${wrong}; it was deleted (run again to download it afresh)`,
    );
  }
  await syncFile(partial);
  await rename(partial, dest);
  await rm(metaFile, { force: true });
  return { size: offset, sha256, resumedFrom };
}

type Attempt =
  | { readonly kind: 'done'; readonly offset: number; readonly expected: number | null; readonly hash: Hash }
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly offset: number;
      readonly expected: number | null;
      readonly hash: Hash;
      readonly progressed?: boolean;
    };

/** One GET from `offset`: appends what arrives to the partial file. */
async function transfer(
  remote: RemoteFile,
  partial: string,
  offset: number,
  expected: number | null,
  hash: Hash,
  options: DownloadOptions,
): Promise<Attempt> {
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  let response;
  try {
    response = await httpGet(remote.url, {
      method: 'GET',
      headers,
      timeoutMs: options.timeoutMs,
      redirects: 'all',
      token: options.token,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new AutolabelError('ABORTED', `download of ${remote.path} stopped`);
    const reason = error instanceof HttpConnectError ? error.reason : messageOf(error);
    return { kind: 'failed', reason, offset, expected, hash };
  }
  const { status, body } = response;
  if (status === 416 && offset > 0) {
    // The partial file is as long as the remote one or longer: start again.
    body.resume();
    await rm(partial, { force: true });
    options.onBytes?.(-offset, true);
    return { kind: 'failed', reason: 'the server refused to resume', offset: 0, expected, hash: createHash('sha256') };
  }
  if (status !== 200 && status !== 206) {
    body.resume();
    if (status >= 500 || status === 429) {
      return { kind: 'failed', reason: `the server answered HTTP ${status}`, offset, expected, hash };
    }
    throw new AutolabelError('MODEL_DOWNLOAD_FAILED', `${remote.url} answered HTTP ${status} for ${remote.path}`);
  }
  let start = offset;
  let digest = hash;
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? ''));
  if (status === 206 && (range === null || Number(range[1]) !== offset)) {
    body.resume();
    await rm(partial, { force: true });
    options.onBytes?.(-offset, true);
    return {
      kind: 'failed',
      reason: 'the server resumed at the wrong place',
      offset: 0,
      expected,
      hash: createHash('sha256'),
    };
  }
  if (status === 200) {
    // A full answer to a Range request (or a first request): the file starts over.
    start = 0;
    if (offset > 0) {
      digest = createHash('sha256');
      options.onBytes?.(-offset, true);
    }
  }
  const length = Number(response.headers['content-length'] ?? NaN);
  const total =
    status === 206 && range?.[2] !== '*' ? Number(range?.[2]) : Number.isFinite(length) ? start + length : null;
  if (expected === null && total !== null) expected = total;
  else if (expected !== null && total !== null && total !== expected) {
    body.resume();
    throw new AutolabelError(
      'MODEL_DOWNLOAD_FAILED',
      `${remote.url} sends ${total} bytes for ${remote.path}, where ${expected} were announced`,
    );
  }
  const out = await open(partial, start === 0 ? 'w' : 'a');
  let written = start;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      await out.write(chunk);
      digest.update(chunk);
      written += chunk.length;
      options.onBytes?.(chunk.length, false);
      if (expected !== null && written > expected) break;
    }
  } catch (error) {
    await out.close();
    if (options.signal?.aborted) throw new AutolabelError('ABORTED', `download of ${remote.path} stopped`);
    return {
      kind: 'failed',
      reason: error instanceof HttpConnectError ? error.reason : `the transfer broke off (${messageOf(error)})`,
      offset: written,
      expected,
      hash: digest,
      progressed: written > offset,
    };
  }
  await out.close();
  // Broken off early (more bytes than announced): let the connection go.
  if (!body.complete) body.destroy();
  if (expected !== null && written < expected) {
    return {
      kind: 'failed',
      reason: `the transfer ended after ${written} of ${expected} bytes`,
      offset: written,
      expected,
      hash: digest,
      progressed: written > offset,
    };
  }
  return { kind: 'done', offset: written, expected, hash: digest };
}

/** Bytes of an earlier partial download that can be kept: it must be of the same remote file. */
async function resumableBytes(partial: string, metaFile: string, meta: PartialMeta): Promise<number> {
  const info = await stat(partial).catch(() => undefined);
  if (!info || info.size === 0) return 0;
  try {
    const earlier = JSON.parse(await readFile(metaFile, 'utf8')) as PartialMeta;
    const same =
      earlier.size === meta.size &&
      earlier.sha256 === meta.sha256 &&
      (meta.sha256 !== null || earlier.url === meta.url);
    if (!same || (meta.size !== null && info.size > meta.size)) return 0;
    return info.size;
  } catch {
    return 0;
  }
}

async function hashInto(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
