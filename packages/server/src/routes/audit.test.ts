// The audit over HTTP: a run in the background with its progress as events, the persisted findings
// and their counts, and a person's decisions (fine, keep one of a group, exclude), with the errors a
// client can reach. The workspace: photos of three classes, labelled, one of them wrongly, and an exact
// copy of one photo. Their embeddings are what a model gives distinct photos, three clusters: the tiny
// test model maps every photo of one colour to nearly the same vector, which would make them all copies.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AuditResolveResponse,
  AuditResponse,
  AuditRunState,
  ImageId,
  LabelErrorFinding,
  ServerEvent,
  DuplicateFinding,
} from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import { type Rgb, seededRandom } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, served, writeColourPhotos } from '../testing/served.js';

const COLORS: Readonly<Record<string, Rgb>> = { red: [200, 40, 40], green: [40, 160, 60], blue: [40, 80, 210] };
const PER_CLASS = 12;
/** Labelled green by mistake. */
const FLIPPED = 'red-04.png';
const COPY = 'blue-07-copy.png';
const DIM = 16;
let server: Served;
const events: ServerEvent[] = [];

interface ErrorBody {
  readonly error: { readonly code: string; readonly field?: string; readonly message: string };
}

const truthOf = (path: string): string => path.split('-')[0]!;
const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const response = await server.app.request(path);
  return { status: response.status, body: await server.json<T>(response) };
};
const post = async <T>(path: string, body: unknown): Promise<{ status: number; body: T }> => {
  const response = await server.post(path, body);
  return { status: response.status, body: await server.json<T>(response) };
};
const audit = async (query = '') => (await get<AuditResponse>(`/api/audit${query}`)).body;
const exportedPaths = async () =>
  (await (await server.app.request('/api/export?format=csv')).text())
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0]!);

beforeAll(async () => {
  server = await served('audit', {
    photos: async (photos) => {
      await writeColourPhotos(photos, COLORS, PER_CLASS, { width: 64, height: 48, pad: true });
      copyFileSync(join(photos, 'blue-07.png'), join(photos, COPY));
    },
    embed: false,
  });
  await plantEmbeddings(server);
  await server.workspace.labels.set(
    [...server.ids].map(([path, id]) => ({
      image: id as ImageId,
      label: path === FLIPPED ? 'green' : truthOf(path),
    })),
  );
  server.live.subscribe((event) => events.push(event));
}, 60_000);

afterAll(() => server.close());

describe('audit routes', () => {
  it('has no findings before the first audit, and says so', async () => {
    expect(await audit()).toEqual({
      findings: [],
      counts: { 'label-error': 0, duplicate: 0, outlier: 0 },
      excluded: 0,
      ranAt: null,
      notes: [],
    });
    expect((await get<AuditRunState>('/api/audit/run')).body).toMatchObject({ state: 'idle', progress: null });
  });

  it('runs the audit in the background, telling its progress as events, then lists the findings', async () => {
    const started = await post<AuditRunState>('/api/audit/run', {});
    expect(started.status).toBe(202);
    expect(started.body.state).toBe('running');
    // A second click while it runs joins the run rather than starting another.
    expect((await post<AuditRunState>('/api/audit/run', {})).body.startedAt).toBe(started.body.startedAt);
    await server.audits.settled();
    const run = (await get<AuditRunState>('/api/audit/run')).body;
    expect(run).toMatchObject({ state: 'done', message: null });
    const runs = events.flatMap((event) => (event.type === 'audit' ? [event.run] : []));
    expect(runs.some((r) => r.state === 'running' && r.progress !== null && r.progress.done > 0)).toBe(true);
    expect(runs.at(-1)!.state).toBe('done');

    const all = await audit();
    expect(all.ranAt).not.toBeNull();
    expect(all.counts['label-error']).toBeGreaterThan(0);
    expect(all.counts.duplicate).toBeGreaterThan(0);
    // Most likely first: the label flipped is the top label error, with red as the likely class.
    const errors = await audit('?kind=label-error');
    expect(errors.findings.every((f) => f.kind === 'label-error')).toBe(true);
    const top = errors.findings[0] as LabelErrorFinding;
    expect(top).toMatchObject({ images: [FLIPPED], givenLabel: 'green', likelyLabel: 'red', dismissed: false });
    expect(top.likelyProbability).toBeGreaterThan(0.5);
    expect(top.neighbours.length).toBeGreaterThan(0);
    expect(top.neighbours.map((n) => n.imageId)).toEqual(top.neighbours.map((n) => server.ids.get(n.path)));
    expect((await audit('?kind=label-error&limit=1')).findings).toHaveLength(1);
  });

  it('dismisses a finding: it leaves the open list and the counts, and is listed as dismissed when asked', async () => {
    const copies = await duplicatePair();
    const before = await audit();
    const answer = await post<AuditResolveResponse>(`/api/audit/findings/${copies.id}`, { action: 'dismiss' });
    expect(answer.status).toBe(200);
    expect(answer.body.finding).toMatchObject({ id: copies.id, dismissed: true });
    expect(answer.body.counts.duplicate).toBe(before.counts.duplicate - 1);
    expect((await audit('?kind=duplicate')).findings.map((f) => f.id)).not.toContain(copies.id);
    const everything = await audit('?kind=duplicate&includeDismissed=true');
    expect(everything.findings.find((f) => f.id === copies.id)?.dismissed).toBe(true);
    // The other pages hear of it.
    expect(events.at(-1)?.type).toBe('audit');
  });

  it('keeps one image of a group: the others leave the export, and include takes them back', async () => {
    const copies = await duplicatePair(true);
    const copyId = server.ids.get(COPY)!;
    const answer = await post<AuditResolveResponse>(`/api/audit/findings/${copies.id}`, {
      action: 'exclude',
      imageIds: [copyId],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.excluded).toBe(1);
    expect(answer.body.finding.excluded).toEqual([copyId]);
    expect(await exportedPaths()).not.toContain(COPY);
    expect(await exportedPaths()).toContain('blue-07.png');
    expect((await audit()).excluded).toBe(1);

    await post(`/api/audit/findings/${copies.id}`, { action: 'include' });
    expect(await exportedPaths()).toContain(COPY);
    expect((await audit()).excluded).toBe(0);
  });

  it('settles a label error once the image is relabelled through the label route', async () => {
    const before = await audit('?kind=label-error');
    const imageId = server.ids.get(FLIPPED)!;
    const put = await server.send(`/api/images/${imageId}/label`, 'PUT', { label: 'red' });
    expect(put.status).toBe(200);
    const after = await audit('?kind=label-error');
    expect(after.findings.map((f) => f.images[0])).not.toContain(FLIPPED);
    expect(after.counts['label-error']).toBe(before.counts['label-error'] - 1);
  });

  it('answers bad requests with the field at fault, and an unknown finding with 404', async () => {
    const kind = await get<ErrorBody>('/api/audit?kind=typo');
    expect(kind.status).toBe(400);
    expect(kind.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'kind' });
    const limit = await get<ErrorBody>('/api/audit?limit=0');
    expect(limit.body.error.field).toBe('limit');
    const action = await post<ErrorBody>('/api/audit/findings/abc', { action: 'delete' });
    expect(action.status).toBe(400);
    expect(action.body.error.field).toBe('action');
    const kinds = await post<ErrorBody>('/api/audit/run', { kinds: ['label-error', 'blur'] });
    expect(kinds.status).toBe(400);
    expect(kinds.body.error.field).toBe('kinds.1');
    const unknown = await post<ErrorBody>('/api/audit/findings/0123456789abcdef01234567', { action: 'dismiss' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/no audit finding 0123456789abcdef01234567/);
    const copies = await duplicatePair(true);
    const stranger = await post<ErrorBody>(`/api/audit/findings/${copies.id}`, {
      action: 'exclude',
      imageIds: [server.ids.get('red-00.png')!],
    });
    expect(stranger.status).toBe(400);
    expect(stranger.body.error.message).toMatch(/is not in finding/);
  });
});

describe('audit routes without embeddings or labels', () => {
  it('still finds copies by their hashes, and says what else it needs', async () => {
    const bare = await served('audit-bare', {
      photos: async (photos) => {
        await writeColourPhotos(photos, COLORS, 3, { width: 64, height: 48, pad: true });
        copyFileSync(join(photos, 'blue-01.png'), join(photos, 'blue-01-copy.png'));
      },
      embed: false,
    });
    try {
      expect((await bare.post('/api/audit/run', {})).status).toBe(202);
      await bare.audits.settled();
      expect((await bare.json<AuditRunState>(await bare.app.request('/api/audit/run'))).state).toBe('done');
      const answer = await bare.json<AuditResponse>(await bare.app.request('/api/audit'));
      expect(answer.notes.join(' ')).toMatch(/no embeddings/);
      expect(answer.findings.filter((f) => f.kind === 'duplicate').map((f) => [...f.images].sort())).toEqual([
        ['blue-01-copy.png', 'blue-01.png'],
      ]);
      expect(answer.counts['label-error']).toBe(0);
    } finally {
      await bare.close();
    }
  });
});

/** The group of the planted copy and its original (open, or dismissed too). */
async function duplicatePair(includeDismissed = false): Promise<DuplicateFinding> {
  const { findings } = await audit(`?kind=duplicate${includeDismissed ? '&includeDismissed=true' : ''}`);
  const group = findings.find((f) => f.images.includes(COPY)) as DuplicateFinding | undefined;
  expect(group, `no duplicate group holds ${COPY}: ${JSON.stringify(findings.map((f) => f.images))}`).toBeDefined();
  expect([...group!.images].sort()).toEqual(['blue-07-copy.png', 'blue-07.png']);
  expect(group!).toMatchObject({ exact: true, mixedLabels: false });
  return group!;
}

/** Each photo's vector near its class's centre (a copy has its original's: embeddings go by content). */
async function plantEmbeddings({ workspace }: Served): Promise<void> {
  const store = storeOf(workspace);
  await store.registerModel({ id: 'planted', spec: workspace.modelSpec, dim: DIM });
  const random = seededRandom(7);
  const centres = new Map(Object.keys(COLORS).map((name) => [name, Array.from({ length: DIM }, () => random() * 4)]));
  const vectors = (await store.listImages()).map((image) => ({
    contentHash: image.contentHash,
    vector: Float32Array.from(centres.get(truthOf(image.path))!, (x) => Math.max(0, x + 3 * (random() - 0.5))),
  }));
  await store.putEmbeddings({ modelId: 'planted', dtype: 'float32', dim: DIM, vectors, failures: [] });
}
