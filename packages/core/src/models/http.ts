/**
 * @module HTTP requests for downloads, with node:http(s) rather than fetch: an idle timeout that
 * covers connecting and every read (a stalled transfer fails instead of hanging), redirects
 * followed by hand (the hub's redirect carries the file's hash), and no content decoding, so byte
 * counts are the file's.
 */
import type { IncomingHttpHeaders, IncomingMessage, request as httpRequest } from 'node:http';

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  /** Idle milliseconds allowed while connecting and between reads. */
  readonly timeoutMs: number;
  /** Which redirects to follow: all (downloads), same origin only (metadata), or none. */
  readonly redirects: 'all' | 'same-origin' | 'none';
  /** Sent as `Authorization: Bearer` to this origin only, never after a redirect elsewhere. */
  readonly token?: { readonly value: string; readonly origin: string };
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: string;
  /** The body stream; its reads keep the idle timeout. Consume or destroy it. */
  readonly body: IncomingMessage;
}

/** A request that could not get an answer: refused, unreachable, timed out or reset. */
export class HttpConnectError extends Error {
  override readonly name = 'HttpConnectError';
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${reason}`, options);
  }
}

const MAX_REDIRECTS = 10;

export async function httpGet(url: string, options: HttpRequest): Promise<HttpResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    // node:https (TLS) loads with the first download, not with every command that imports core.
    const send =
      current.protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
    const response = await once(current, options, send);
    const location = response.headers.location;
    const redirect = response.status >= 300 && response.status < 400 && location !== undefined;
    if (!redirect || options.redirects === 'none' || hop >= MAX_REDIRECTS) return response;
    const next = new URL(location, current);
    if (options.redirects === 'same-origin' && next.origin !== current.origin) return response;
    response.body.resume();
    current = next;
  }
}

function once(url: URL, options: HttpRequest, send: typeof httpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
    if (options.token && url.origin === options.token.origin) headers.authorization = `Bearer ${options.token.value}`;
    const request = send(url, { method: options.method, headers, signal: options.signal });
    let answered: IncomingMessage | undefined;
    // Idle timeout of the socket: connecting, waiting for the answer and each read of the body.
    request.setTimeout(options.timeoutMs, () => {
      const error = new HttpConnectError(url.href, `nothing arrived for ${options.timeoutMs / 1000} s (timed out)`);
      // After the answer, the body's reader gets the reason.
      if (answered) answered.destroy(error);
      request.destroy(error);
    });
    // After the answer, failures surface on the body stream; a listener stays so none is unhandled.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return;
      reject(
        error instanceof HttpConnectError ? error : new HttpConnectError(url.href, reasonOf(error), { cause: error }),
      );
    });
    request.once('response', (body) => {
      answered = body;
      resolve({ status: body.statusCode ?? 0, headers: body.headers, url: url.href, body });
    });
    request.end();
  });
}

/** A connection failure in words: "connection refused (ECONNREFUSED)". */
export function reasonOf(error: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ABORT_ERR: 'aborted',
  };
  const code = error.code;
  return code && words[code] ? `${words[code]} (${code})` : error.message;
}
