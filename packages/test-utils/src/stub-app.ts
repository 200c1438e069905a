/**
 * @module A stub of the review app's server for browser tests and benchmarks at a scale no real
 * workspace reaches quickly: the built app's files, an API the caller answers, the model's state on
 * /api/events. And the map at scale it serves (`ringMapApi`), and an idle model (`IDLE_MODEL`).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import {
  type ImageId,
  type ImageItem,
  type ImagesPage,
  IMAGE_STATUSES,
  type MapClasses,
  type MapClassesState,
  type MapState,
  type ModelState,
  seededRandom,
  type StatsResponse,
} from '@autolabel/core';

/** The model before its first fit, idle. */
export const IDLE_MODEL: ModelState = {
  fitId: null,
  state: 'idle',
  message: null,
  accuracy: null,
  targetPrecision: 0.95,
  threshold: null,
  certified: 0,
  next: null,
  progress: null,
};

/** What a stub route answers: JSON (a string goes as it is), or bytes of a type; `undefined` for no such route. */
export type StubReply =
  { readonly json: unknown } | { readonly bytes: Uint8Array; readonly type: string; readonly cacheControl?: string };

export interface StubAppOptions {
  /** The built app's folder (packages/web/dist). */
  readonly webRoot: string;
  /** What /api/events says the model is, once, as the stream opens. */
  readonly model: ModelState;
  /** The API's answers; a path it does not answer is looked up in `webRoot`. */
  route(at: URL): StubReply | undefined;
}

export interface StubApp {
  /** Where the app is, `http://127.0.0.1:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Starts the stub on a free loopback port. */
export async function startStubApp({ webRoot, model, route }: StubAppOptions): Promise<StubApp> {
  async function answer(url: string, response: ServerResponse): Promise<void> {
    const at = new URL(url, 'http://stub');
    const path = at.pathname;
    if (path === '/api/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      return void response.write(`event: model\ndata: ${JSON.stringify({ type: 'model', model })}\n\n`);
    }
    const reply = route(at);
    if (reply && 'json' in reply) {
      response.writeHead(200, { 'content-type': 'application/json' });
      return void response.end(typeof reply.json === 'string' ? reply.json : JSON.stringify(reply.json));
    }
    if (reply) {
      response.writeHead(200, {
        'content-type': reply.type,
        ...(reply.cacheControl ? { 'cache-control': reply.cacheControl } : {}),
      });
      return void response.end(reply.bytes);
    }
    const file = join(webRoot, path === '/' ? 'index.html' : path);
    const bytes = file.startsWith(webRoot) ? await readFile(file).catch(() => null) : null;
    response.writeHead(bytes ? 200 : 404, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(bytes);
  }
  const server = createServer((request, response) => void answer(request.url ?? '/', response));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** The map's classes as GET /api/map/classes answers them (the server's `mapClassesAnswer`). */
export type MapClassesEncoder = (map: string, classes: MapClasses) => MapClassesState;

export interface RingMapApi {
  readonly count: number;
  readonly classes: readonly string[];
  /** The model the stub reports: idle on a fit. */
  readonly model: ModelState;
  /** The app's requests so far: for every point's classes, and for pages of image rows (not rows by id). */
  readonly requests: { classes: number; pages: number };
  /** The size of the classes answer, in bytes. */
  readonly classesBytes: number;
  /** The API's answers, for `startStubApp`. */
  route(at: URL): StubReply | undefined;
}

/**
 * The API of a workspace of `count` images on a map of ten clusters in a ring, image i + 1 in cluster
 * i mod 10 and suggested as class-(i mod 10): the map, its classes in one answer, the stats, and pages
 * or ids of image rows (as older builds of the app coloured the map from them). Any other /api/ path
 * answers `{}`.
 */
export function ringMapApi(count: number, encodeClasses: MapClassesEncoder): RingMapApi {
  const classes = Array.from({ length: 10 }, (_, c) => `class-${c}`);
  const model: ModelState = { ...IDLE_MODEL, fitId: 1 };
  const random = seededRandom(3);
  const ids: number[] = [];
  const xy: number[] = [];
  for (let i = 0; i < count; i++) {
    const angle = ((i % 10) / 10) * 2 * Math.PI;
    ids.push(i + 1);
    xy.push(0.6 * Math.cos(angle) + 0.15 * (random() - 0.5), 0.6 * Math.sin(angle) + 0.15 * (random() - 0.5));
  }
  const mapState: MapState = { state: 'ready', version: 'ring-map', ids, xy };
  const map = JSON.stringify(mapState);
  const classesAnswer = JSON.stringify(
    encodeClasses(mapState.version, {
      classes,
      classOf: Uint16Array.from({ length: count }, (_, i) => 1 + (i % 10)),
      status: new Uint8Array(count).fill(IMAGE_STATUSES.indexOf('suggested')),
    }),
  );
  const stats = JSON.stringify({
    images: count,
    byStatus: { labeled: 0, accepted: 0, auto: 0, suggested: count, unlabeled: 0 },
    classes: classes.map((name) => ({ name, labeled: 0, accepted: 0, auto: 0, suggested: count / 10 })),
    model,
    curve: [],
    confidence: new Array<number>(20).fill(0),
  } satisfies StatsResponse);
  const item = (id: number): ImageItem => ({
    id: id as ImageId,
    path: `img/${String(id).padStart(7, '0')}.jpg`,
    width: 64,
    height: 64,
    status: 'suggested',
    label: classes[(id - 1) % 10]!,
    confidence: 0.8,
    runnerUp: null,
    runnerUpConfidence: null,
    origin: null,
  });
  const requests = { classes: 0, pages: 0 };
  return {
    count,
    classes,
    model,
    requests,
    classesBytes: Buffer.byteLength(classesAnswer),
    route(at) {
      const path = at.pathname;
      if (path === '/api/map') return { json: map };
      if (path === '/api/map/classes') {
        requests.classes++;
        return { json: classesAnswer };
      }
      if (path === '/api/stats') return { json: stats };
      if (path === '/api/images') {
        if (!at.searchParams.has('ids')) requests.pages++;
        const ids = at.searchParams.get('ids')?.split(',').map(Number);
        const offset = Number(at.searchParams.get('offset') ?? 0);
        const limit = Number(at.searchParams.get('limit') ?? 100);
        const items =
          ids?.map(item) ??
          Array.from({ length: Math.max(0, Math.min(limit, count - offset)) }, (_, k) => item(offset + k + 1));
        return { json: { total: count, offset, items } satisfies ImagesPage };
      }
      if (path.startsWith('/api/')) return { json: '{}' };
      return undefined;
    },
  };
}
