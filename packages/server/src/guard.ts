/**
 * @module What a request must pass before any route sees it: a Host this server answers to (DNS
 * rebinding), no cross-site calls into /api (CSRF), JSON bodies under a size limit, and the access
 * token when there is one (header or cookie; in the URL only on the first page load).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { AutolabelError } from '@autolabel/core';

export interface GuardOptions {
  /** Host names (no port) this server answers to besides loopback ones, e.g. `--allowed-host` and the bound host. */
  readonly allowedHosts?: readonly string[];
  /** Bound to every interface: any IP literal is a fine Host (no DNS name, so no rebinding). */
  readonly anyAddress?: boolean;
  /** The port listened on, once known; a Host naming another port is refused. Undefined: not checked (in-process). */
  readonly port?: () => number | undefined;
  /** When set, every /api request must carry it. */
  readonly token?: string;
}

const KIB = 1024;
/** POST /api/labels takes 10,000 items; /api/accept 100,000 ids; everything else is a few fields. */
export const BODY_LIMITS = { labels: 16 * KIB * KIB, accept: 4 * KIB * KIB, other: 64 * KIB } as const;

const isApi = (path: string): boolean => path === '/api' || path.startsWith('/api/');

/** `name[:port]` or `[v6][:port]` → lower-case name without brackets, and the port (null when absent). */
export function splitHost(host: string): { name: string; port: number | null } | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(host);
  if (!match) return null;
  return { name: (match[1] ?? match[2]!).toLowerCase(), port: match[3] === undefined ? null : Number(match[3]) };
}

export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

/** Mounts the guards on `app`; call before any route. */
export function mountGuards(app: Hono, options: GuardOptions): void {
  app.use('*', hostGuard(options));
  app.use('/api/*', originGuard());
  app.use('/api/*', bodyGuard());
  if (options.token) app.use('*', tokenGuard(options.token));
}

/** Refuses a Host this server does not answer to: a page on attacker.example rebound to 127.0.0.1 sends its own name. */
function hostGuard(options: GuardOptions): MiddlewareHandler {
  const named = new Set((options.allowedHosts ?? []).map((name) => splitHost(name)?.name ?? name.toLowerCase()));
  return async (c, next) => {
    const given = c.req.header('host') ?? new URL(c.req.url).host;
    const host = splitHost(given);
    const port = options.port?.();
    const portOk = host !== null && (port === undefined || (host.port ?? 80) === port);
    const ok =
      host !== null &&
      (named.has(host.name) ||
        (portOk && (isLoopbackName(host.name) || (options.anyAddress === true && isIP(host.name) !== 0))));
    if (!ok) {
      throw new AutolabelError(
        'MISDIRECTED',
        `this server does not answer to the host "${given.slice(0, 100)}": open it as http://localhost:${port ?? '<port>'}/ or start it with --allowed-host NAME`,
      );
    }
    await next();
  };
}

/**
 * Refuses requests into /api that a browser sent on behalf of another site (Fetch Metadata, then
 * Origin). Requests with neither header (curl, scripts) pass: no browser, so no ambient credentials.
 */
function originGuard(): MiddlewareHandler {
  return async (c, next) => {
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const host = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
    const crossSite = site === 'cross-site' || site === 'same-site';
    if (crossSite || (origin !== undefined && originHost(origin) !== host)) {
      throw new AutolabelError(
        'CROSS_SITE',
        `the API answers only pages of its own origin (http://${host}); this request came from ${origin ?? `a ${site} page`}`,
      );
    }
    await next();
  };
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return null; // "null" (sandboxed frames, file:) and junk are no one's origin
  }
}

/** A body must be JSON and within its route's limit; the limit is checked before any of it is parsed. */
function bodyGuard(): MiddlewareHandler {
  const limit = (maxSize: number): MiddlewareHandler =>
    bodyLimit({
      maxSize,
      onError: (c) => {
        throw new AutolabelError(
          'PAYLOAD_TOO_LARGE',
          `the body of ${c.req.method} ${c.req.path} is over its limit of ${formatBytes(maxSize)}`,
        );
      },
    });
  const labels = limit(BODY_LIMITS.labels);
  const accept = limit(BODY_LIMITS.accept);
  const other = limit(BODY_LIMITS.other);
  return async (c, next) => {
    if (hasBody(c)) requireJson(c);
    const method = c.req.method;
    const chosen =
      method === 'POST' && c.req.path === '/api/labels'
        ? labels
        : method === 'POST' && c.req.path === '/api/accept'
          ? accept
          : other;
    return chosen(c, next);
  };
}

function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  return (
    c.req.raw.body !== null && (length === undefined ? c.req.header('transfer-encoding') !== undefined : length !== '0')
  );
}

/** Only JSON: a form or a text/plain body is what a cross-site page can send without asking (no CORS preflight). */
export function requireJson(c: Context): void {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new AutolabelError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be JSON sent with Content-Type: application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'})`,
    );
  }
}

function formatBytes(bytes: number): string {
  return bytes >= KIB * KIB ? `${bytes / KIB / KIB} MiB` : `${bytes / KIB} KiB`;
}

/**
 * The access token: /api takes it from `Authorization: Bearer` or the cookie; a page load may bring
 * it once as `?token=`, answered with the cookie and a redirect to the same URL without it, so it
 * leaves the address bar, the history and any Referer. In an /api URL it is refused (logs, caches).
 */
function tokenGuard(token: string): MiddlewareHandler {
  const expected = Buffer.from(token);
  // Cookies are not scoped by port: a name of its own keeps two servers on one host from clobbering each other.
  const cookie = `autolabel-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
  const matches = (given: string | undefined): boolean =>
    given !== undefined &&
    Buffer.byteLength(given) === expected.length &&
    timingSafeEqual(Buffer.from(given), expected);
  return async (c, next) => {
    const url = new URL(c.req.url);
    const inUrl = url.searchParams.get('token');
    if (isApi(c.req.path)) {
      if (inUrl !== null) {
        throw new AutolabelError(
          'UNAUTHORIZED',
          'the access token does not go in an /api URL: send it as "Authorization: Bearer <token>"',
        );
      }
      const header = c.req.header('authorization');
      const given = header?.startsWith('Bearer ') ? header.slice(7) : getCookie(c, cookie);
      if (!matches(given)) {
        throw new AutolabelError('UNAUTHORIZED', 'this server needs its access token (printed when it started)');
      }
      return next();
    }
    if (inUrl === null) return next();
    if (!matches(inUrl)) throw new AutolabelError('UNAUTHORIZED', 'that access token is not this server’s');
    setCookie(c, cookie, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    url.searchParams.delete('token');
    return c.redirect(`${url.pathname}${url.search}`, 303);
  };
}
