/**
 * The server's guards (guard.ts) and its answers to odd requests: in-process with `app.request`,
 * over real sockets the way curl would send them, and from another origin in headless Chromium.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutolabelError, initWorkspace, type StatsResponse, type Workspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { chromiumLaunchOptions, writeImage, writeTinyOnnxModel } from '@autolabel/test-utils';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { BODY_LIMITS } from './guard.js';
import { LiveModel } from './live-model.js';
import { type RunningServer, startServer } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'autolabel-security-'));
const PORT = 5100;
let workspace: Workspace;
let live: LiveModel;
let app: ReturnType<typeof createApp>;
/** Knows its port, as a started server does. */
let hosted: ReturnType<typeof createApp>;
const ids = new Map<string, number>();

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}
const errorOf = async (response: Response): Promise<ErrorBody['error']> => ((await response.json()) as ErrorBody).error;
const labeled = async (): Promise<number> => (await storeOf(workspace).statusCounts()).labeled;
const labelsBody = (label = 'cat'): string => JSON.stringify({ items: [{ imageId: ids.get('a.png')!, label }] });
const JSON_TYPE = { 'content-type': 'application/json' };

async function makeWorkspace(at: string): Promise<Workspace> {
  for (const name of ['a', 'b', 'c'])
    await writeImage(join(at, 'photos', `${name}.png`), 'png', { color: [9, 99, 199] });
  writeFileSync(join(at, 'photos', 'broken.png'), Buffer.from('not a png at all, only words pretending'));
  writeFileSync(join(at, 'photos', 'empty.png'), Buffer.alloc(0));
  const model = await writeTinyOnnxModel(join(at, 'model'), { featureDim: 8 });
  const ws = await initWorkspace({ images: join(at, 'photos'), workspace: join(at, 'ws'), model: `onnx:${model.dir}` });
  await ws.scan();
  return ws;
}

beforeAll(async () => {
  workspace = await makeWorkspace(join(dir, 'one'));
  for (const image of await storeOf(workspace).listImages()) ids.set(image.path, image.id);
  live = new LiveModel(workspace, { debounceMs: 20 });
  app = createApp({ workspace, live });
  hosted = createApp({ workspace, live, port: () => PORT, allowedHosts: ['labels.lan'] });
}, 60_000);

afterAll(async () => {
  await live.close();
  await workspace.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Host (DNS rebinding)', () => {
  it.each(['localhost:5100', '127.0.0.1:5100', '[::1]:5100', 'LOCALHOST:5100', 'labels.lan', 'labels.lan:443'])(
    'answers Host %s',
    async (host) => {
      expect((await hosted.request('/api/stats', { headers: { host } })).status).toBe(200);
    },
  );

  it.each([
    ['/api/export?format=csv', 'attacker.example:5100'],
    ['/api/stats', 'attacker.example'],
    ['/', 'attacker.example:5100'], // the app's page too
    ['/api/stats', 'localhost:5101'], // another port: another origin
    ['/api/stats', '10.0.0.7:5100'], // bound to loopback: no LAN address is ours
    ['/api/stats', 'localhost.attacker.example:5100'],
    ['/api/stats', 'bad host'],
  ])('refuses %s with Host %s: 403 and a JSON error', async (path, host) => {
    const response = await hosted.request(path, { headers: { host } });
    expect(response.status).toBe(403);
    expect(await errorOf(response)).toMatchObject({ code: 'MISDIRECTED', message: expect.stringMatching(/host/) });
  });

  it('takes any IP literal when bound to every interface, but no unknown name', async () => {
    const open = createApp({ workspace, live, port: () => PORT, anyAddress: true });
    expect((await open.request('/api/stats', { headers: { host: '10.0.0.7:5100' } })).status).toBe(200);
    expect((await open.request('/api/stats', { headers: { host: 'attacker.example:5100' } })).status).toBe(403);
  });
});

describe('cross-site requests (CSRF)', () => {
  const post = (headers: Record<string, string>) =>
    app.request('/api/labels', { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: labelsBody('csrf') });

  it.each([
    [{ 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-site': 'same-site' }],
    [{ origin: 'http://attacker.example' }],
    [{ origin: 'http://localhost:5173' }],
    [{ origin: 'null' }],
    [{ origin: 'http://localhost', 'sec-fetch-site': 'cross-site' }],
  ])('refuses a write with %o and changes nothing', async (headers) => {
    const before = await labeled();
    const response = await post(headers);
    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe('CROSS_SITE');
    expect(await labeled()).toBe(before);
  });

  it.each([
    [{}], // curl and scripts send neither header
    [{ 'sec-fetch-site': 'same-origin', origin: 'http://localhost' }],
    [{ 'sec-fetch-site': 'none' }],
  ])('takes a write with %o', async (headers) => {
    expect((await post(headers)).status).toBe(200);
  });

  it.each(['/api/export?format=csv', '/api/events', '/api/stats'])('refuses a cross-site GET of %s', async (path) => {
    expect((await app.request(path, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await app.request(path, { headers: { origin: 'http://attacker.example' } })).status).toBe(403);
  });

  it('lets the app page itself be opened from a link on another site', async () => {
    // No web root here: a 404, but not a refusal.
    expect((await app.request('/', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(404);
  });

  it.each([
    ['text/plain', labelsBody()],
    ['application/x-www-form-urlencoded', 'items=1'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
    [undefined, labelsBody()],
  ])('refuses a %s body with 415 and changes nothing', async (type, body) => {
    const before = await labeled();
    const response = await app.request('/api/labels', {
      method: 'POST',
      headers: type ? { 'content-type': type } : {},
      body,
    });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).message).toMatch(/application\/json/);
    expect(await labeled()).toBe(before);
  });

  it('takes JSON with a charset', async () => {
    const response = await app.request('/api/labels', {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
      body: labelsBody(),
    });
    expect(response.status).toBe(200);
  });
});

describe('body limits', () => {
  it('refuses a body over 64 KiB on small routes, naming the limit', async () => {
    const response = await app.request('/api/classes', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ name: 'x'.repeat(BODY_LIMITS.other) }),
    });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringMatching(/64 KiB/),
    });
  });

  it('takes 10,000 items in POST /api/labels, and refuses 17 MiB', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ imageId: ids.get('b.png')!, label: `c${i % 3}` }));
    const ok = await app.request('/api/labels', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ items }),
    });
    expect(ok.status).toBe(200);
    const huge = JSON.stringify({ items: [{ imageId: 1, label: 'x'.repeat(17 * 1024 * 1024) }] });
    const response = await app.request('/api/labels', { method: 'POST', headers: JSON_TYPE, body: huge });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).message).toMatch(/16 MiB/);
  });
});

describe('odd requests get clear 4xx answers', () => {
  it('answers a skipped image with 415 (no picture) or 404 (no file), saying why', async () => {
    for (const variant of ['thumbnail', 'file']) {
      const broken = await app.request(`/api/images/${ids.get('broken.png')}/${variant}`);
      expect(broken.status).toBe(415);
      expect((await errorOf(broken)).message).toMatch(/broken\.png was skipped/);
      const empty = await app.request(`/api/images/${ids.get('empty.png')}/${variant}`);
      expect(empty.status).toBe(404);
      expect((await errorOf(empty)).message).toMatch(/empty\.png was skipped.*empty/);
    }
  });

  it('answers an unknown /api route with a JSON 404', async () => {
    const response = await app.request('/api/nothing/here', { method: 'POST', headers: JSON_TYPE, body: '{}' });
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('access token', () => {
  const TOKEN = 'abcdefghijklmnopqrstuvwx';
  const locked = () => createApp({ workspace, live, token: TOKEN });

  it('compares byte lengths: a multibyte token of the right length is a 401, not a 500', async () => {
    const sneaky = `${'é'.repeat(1)}${'a'.repeat(TOKEN.length - 1)}`; // 24 characters, 25 bytes
    const response = await locked().request('/api/stats', { headers: { authorization: `Bearer ${sneaky}` } });
    expect(response.status).toBe(401);
    const page = await locked().request(`/?token=${encodeURIComponent(sneaky)}`);
    expect(page.status).toBe(401);
  });

  it('trades ?token= on the first page load for an HttpOnly cookie and a clean URL', async () => {
    const server = locked();
    const first = await server.request(`/review?x=1&token=${TOKEN}`);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/review?x=1');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    const pair = cookie.split(';')[0]!;
    expect(pair).toContain(TOKEN);
    expect((await server.request('/api/stats', { headers: { cookie: pair } })).status).toBe(200);
    expect(
      (await server.request('/api/stats', { headers: { cookie: pair.replace(TOKEN, 'x'.repeat(24)) } })).status,
    ).toBe(401);
    expect((await server.request('/api/stats', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await server.request('/?token=wrong')).status).toBe(401);
  });

  it('refuses ?token= on /api, even the right one, writes included', async () => {
    const server = locked();
    const before = await labeled();
    const read = await server.request(`/api/export?format=csv&token=${TOKEN}`);
    expect(read.status).toBe(401);
    expect((await errorOf(read)).message).toMatch(/Authorization/);
    const write = await server.request(`/api/labels?token=${TOKEN}`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: labelsBody('by-url'),
    });
    expect(write.status).toBe(401);
    expect(await labeled()).toBe(before);
  });
});

/** One raw HTTP/1.1 request, headers exactly as given (curl -H), to a started server. */
function raw(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    chunked?: boolean;
  },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {} },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    request.setTimeout(20_000, () => request.destroy(new Error('no answer in 20 s')));
    request.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer 413 and close before the whole body is sent.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    if (options.chunked && options.body) {
      const body = Buffer.from(options.body);
      for (let i = 0; i < body.length; i += 1 << 20) request.write(body.subarray(i, i + (1 << 20)));
      request.end();
    } else request.end(options.body);
  });
}

describe('a started server, over real sockets', () => {
  let server: RunningServer;
  let port: number;
  const webRoot = join(dir, 'web');

  beforeAll(async () => {
    mkdirSync(webRoot, { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>Autolabel</title><p>the app</p>');
    const ws = await makeWorkspace(join(dir, 'two'));
    await ws.close();
    server = await startServer({ workspace: join(dir, 'two', 'ws'), port: 0, webRoot, debounceMs: 20 });
    port = Number(new URL(server.url).port);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const stats = async (): Promise<StatsResponse> =>
    JSON.parse((await raw(port, { path: '/api/stats' })).body) as StatsResponse;

  it('refuses a forged Host on the API and the page, and serves the page on its own', async () => {
    for (const path of ['/api/export?format=csv', '/', '/index.html']) {
      const refused = await raw(port, { path, headers: { host: `attacker.example:${port}` } });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'MISDIRECTED' } });
    }
    const page = await raw(port, { path: '/', headers: { host: `localhost:${port}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('the app');
  });

  it('takes a JSON write with neither Origin nor Sec-Fetch-Site (curl), refuses text/plain', async () => {
    const [image] = ((await (await fetch(`${server.url}api/images?limit=1`)).json()) as { items: { id: number }[] })
      .items;
    const body = JSON.stringify({ items: [{ imageId: image!.id, label: 'curl' }] });
    const plain = await raw(port, {
      method: 'POST',
      path: '/api/labels',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(plain.status).toBe(415);
    expect((await stats()).byStatus.labeled).toBe(0);
    const ok = await raw(port, { method: 'POST', path: '/api/labels', headers: JSON_TYPE, body });
    expect(ok.status).toBe(200);
    expect((await stats()).byStatus.labeled).toBe(1);
  });

  it('refuses an oversized body sent in chunks (no Content-Length) with 413', async () => {
    const body = JSON.stringify({ items: [{ imageId: 1, label: 'x'.repeat(BODY_LIMITS.labels + 1024) }] });
    const response = await raw(port, { method: 'POST', path: '/api/labels', headers: JSON_TYPE, body, chunked: true });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('answers unknown /api routes with JSON, not the page; other paths get the page', async () => {
    const api = await raw(port, { path: '/api/nope' });
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/json/);
    const page = await raw(port, { path: '/review/deep/link' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('the app');
    // The web root decodes the path: a stray % was a 500 "URI malformed".
    for (const path of ['/%E0%A4%A', '/50%']) {
      const bad = await raw(port, { path });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: /URL/ } });
    }
  });

  it('says the port is in use instead of crashing', async () => {
    const started = startServer({ workspace: join(dir, 'two', 'ws'), port });
    await expect(started).rejects.toThrow(AutolabelError);
    await expect(started).rejects.toThrow(new RegExp(`port ${port} is in use`));
  });

  it('cannot be written to by another origin in a real browser', async () => {
    const before = (await stats()).byStatus.labeled;
    const { items } = (await (await fetch(`${server.url}api/images?limit=3`)).json()) as { items: { id: number }[] };
    const target = `http://127.0.0.1:${port}/api/labels`;
    const body = JSON.stringify({ items: [{ imageId: items[2]!.id, label: 'evil' }] });
    const attack = `<!doctype html><iframe name="sink"></iframe>
      <form id="f" method="post" action="${target}" enctype="text/plain" target="sink">
        <input name='${body}' value=''>
      </form>
      <script>
        window.done = Promise.all([
          fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body)} }).catch(String),
          new Promise((resolve) => { document.querySelector('iframe').onload = resolve; document.getElementById('f').submit(); }),
        ]);
      </script>`;
    const evil: Server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(attack);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilPort = (evil.address() as { port: number }).port;
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      const statuses: number[] = [];
      page.on('response', (response) => {
        if (response.url() === target) statuses.push(response.status());
      });
      await page.goto(`http://127.0.0.1:${evilPort}/`);
      await page.evaluate(() => (window as unknown as { done: Promise<unknown> }).done);
      // Both requests reached the server and were refused; none wrote.
      expect(statuses.sort()).toEqual([403, 403]);
      expect((await stats()).byStatus.labeled).toBe(before);
      // The control: the app's own page can write with the same browser.
      await page.goto(server.url);
      const status = await page.evaluate(
        async ([url, json]) =>
          (await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json })).status,
        [target, body.replace('"evil"', '"own"')],
      );
      expect(status).toBe(200);
      expect((await stats()).byStatus.labeled).toBe(before + 1);
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  }, 60_000);
});
