/** @module Starts the server: one process with the API and the web app, bound to loopback unless told otherwise. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { AutolabelError, openWorkspace, parseQueueUrl } from '@autolabel/core';
import { createApp } from './app.js';
import { AuditRuns } from './audit-runs.js';
import { LiveModel } from './live-model.js';

export interface ServeOptions {
  readonly workspace: string;
  readonly port?: number;
  readonly host?: string;
  /** Host names besides loopback (and the bound host) that browsers may use to reach it, e.g. behind a proxy. */
  readonly allowedHosts?: readonly string[];
  /** The built web app (index.html and assets); none: API only. */
  readonly webRoot?: string;
  readonly targetPrecision?: number;
  readonly debounceMs?: number;
  /** A model spec other than the workspace's default, for this server's suggestions and picks. */
  readonly model?: string;
  /** The embedding queue the dashboard shows (workers alive, jobs open, jobs per second, ETA). */
  readonly queue?: string;
}

export interface RunningServer {
  readonly url: string;
  /** The access token when bound beyond loopback; `tokenCreated` when it was made just now. */
  readonly token: string | null;
  readonly tokenCreated: boolean;
  close(): Promise<void>;
}

const TOKEN_FILE = 'server-token';
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): AutolabelError {
  if (error.code === 'EADDRINUSE') return new AutolabelError('PORT_IN_USE', `port ${port} is in use`, { cause: error });
  if (error.code === 'EACCES') {
    return new AutolabelError('INVALID_ARGUMENT', `port ${port} needs privileges this process lacks`, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new AutolabelError('INVALID_ARGUMENT', `${host} is not an address of this machine`, { cause: error });
  }
  return new AutolabelError('IO_FAILED', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error });
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  // A queue URL that cannot be one fails here, before anything is opened.
  if (options.queue !== undefined) parseQueueUrl(options.queue);
  const workspace = await openWorkspace(options.workspace, { model: options.model });
  // Fits saved by other servers on a shared store (or by autolabel suggest) reach this one's clients within 2 s.
  const live = new LiveModel(workspace, {
    targetPrecision: options.targetPrecision,
    debounceMs: options.debounceMs,
    watchMs: 2000,
  });
  await live.load();
  const audits = new AuditRuns(workspace, live);
  let token: string | null = null;
  let tokenCreated = false;
  if (!isLoopback(host)) {
    const file = join(workspace.dir, TOKEN_FILE);
    if (existsSync(file)) token = (await readFile(file, 'utf8')).trim();
    else {
      token = randomBytes(24).toString('base64url');
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      tokenCreated = true;
    }
  }
  // Known once listening (port 0 picks one); the Host check reads it then.
  const listening: { port?: number } = {};
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const app = createApp({
    workspace,
    live,
    audits,
    token: token ?? undefined,
    allowedHosts: [...(options.allowedHosts ?? []), ...(wildcard ? [] : [host])],
    anyAddress: wildcard,
    port: () => listening.port,
    queue: options.queue,
  });
  if (options.webRoot) {
    const root = resolve(options.webRoot);
    app.get('*', async (c) => {
      const path = normalize(decodeURIComponent(c.req.path)).replace(/^([/\\])+/, '');
      let file = join(root, path);
      if (!file.startsWith(root + sep) && file !== root) return c.notFound();
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) file = join(root, 'index.html'); // the app routes in the browser
      return c.body(await readFile(file), 200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    });
  }
  const wanted = options.port ?? 4800;
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: wanted, hostname: host }, () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, wanted)));
  }).catch(async (error: unknown) => {
    await live.close();
    await workspace.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : wanted;
  listening.port = port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    token,
    tokenCreated,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams stay open until told otherwise.
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closing;
      await audits.close();
      await live.close();
      await workspace.close();
    },
  };
}
