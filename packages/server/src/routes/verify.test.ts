import type { CheckRecord, ImagesPage, ServerEvent, StatsResponse, VerifyStatus, Workspace } from '@autolabel/core';
import { storeOf } from '@autolabel/core/learn';
import type { Rgb } from '@autolabel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { LiveModel } from '../live-model.js';
import { type Served, served, writeColourPhotos } from '../testing/served.js';

const COLORS: Readonly<Record<string, Rgb>> = { amber: [210, 130, 30], azure: [40, 100, 210] };
const PER_CLASS = 50;
/** Low enough that a few dozen right answers certify a region. */
const TARGET = 0.8;
let server: Served;
let workspace: Workspace;
let live: LiveModel;
let app: Served['app'];
let ids: ReadonlyMap<string, number>;
const events: ServerEvent[] = [];

interface NextResponse {
  readonly check: CheckRecord | null;
  readonly status: VerifyStatus;
}
interface ErrorBody {
  readonly error: { readonly code: string; readonly field?: string; readonly message: string };
}

const json = <T>(response: Response): Promise<T> => server.json<T>(response);
const post = (path: string, body: unknown): Promise<Response> => server.post(path, body);
const next = async (client: string): Promise<NextResponse> => {
  const response = await post('/api/verify/next', { client });
  expect(response.status).toBe(200);
  return json<NextResponse>(response);
};
const truthOf = (path: string): string => path.split('-')[0]!;
const otherThan = (label: string): string => (label === 'amber' ? 'azure' : 'amber');
const status = async (): Promise<VerifyStatus> =>
  (await json<{ status: VerifyStatus }>(await app.request('/api/verify'))).status;
const rowOf = async (imageId: number) =>
  (await json<ImagesPage>(await app.request(`/api/images?ids=${imageId}`))).items[0]!;

beforeAll(async () => {
  server = await served('verify', {
    photos: (photos) => writeColourPhotos(photos, COLORS, PER_CLASS, { width: 64, height: 48, pad: true }),
    live: { debounceMs: 20, targetPrecision: TARGET },
  });
  ({ workspace, live, app, ids } = server);
  live.subscribe((event) => events.push(event));
}, 60_000);

afterAll(() => server.close());

describe('verify loop', () => {
  it('has nothing to hand out before the first fit', async () => {
    const first = await next('tab-a');
    expect(first.check).toBeNull();
    expect(first.status).toMatchObject({ counts: { drawn: 0, answered: 0 }, certificate: null, fitId: null });
  });

  it('never hands two clients the same check, and keeps a client on its own until it answers', async () => {
    const items = ['amber-00.png', 'amber-01.png', 'amber-02.png', 'azure-00.png', 'azure-01.png', 'azure-02.png'].map(
      (path) => ({ imageId: ids.get(path)!, label: truthOf(path) }),
    );
    expect((await post('/api/labels', { items })).status).toBe(200);
    await live.settled();
    expect(live.state.fitId).not.toBeNull();

    const a = await next('tab-a');
    const b = await next('tab-b');
    expect(a.check).not.toBeNull();
    expect(b.check).not.toBeNull();
    expect(a.check!.id).not.toBe(b.check!.id);
    expect(a.check!.imageId).not.toBe(b.check!.imageId);
    expect(a.check!.claimedBy).toBe('tab-a');
    // One batch was drawn for the first ask; the second client took the next check of it.
    expect(b.status.counts).toMatchObject({ drawn: 20, open: 20, answered: 0 });
    // Asking again (a reload of the tab) gives the same check back.
    expect((await next('tab-a')).check!.id).toBe(a.check!.id);
    // Many more clients: all different checks.
    const held = [a.check!.id, b.check!.id];
    for (const client of ['tab-c', 'tab-d', 'tab-e', 'tab-f']) held.push((await next(client)).check!.id);
    expect(new Set(held).size).toBe(held.length);
  });

  it('turns an answer into a label of origin verify, which also trains the model', async () => {
    const { check } = await next('tab-a');
    const truth = truthOf(check!.path);
    const before = events.length;
    const response = await post(`/api/verify/${check!.id}/answer`, { label: truth });
    expect(response.status).toBe(200);
    const answered = await json<{ check: CheckRecord; status: VerifyStatus }>(response);
    expect(answered.check).toMatchObject({ id: check!.id, answer: truth });
    expect(answered.status.counts.answered).toBe(1);
    expect(await rowOf(check!.imageId)).toMatchObject({ status: 'labeled', label: truth });
    const csv = await (await app.request('/api/export?format=csv')).text();
    expect(csv).toContain(`\n${check!.path},${truth},labeled,,verify,draw ${check!.drawId},,,\n`);
    expect(events.slice(before)).toContainEqual({ type: 'labels', imageIds: [check!.imageId] });
    // The client moves on to another check.
    expect((await next('tab-a')).check!.id).not.toBe(check!.id);
    await live.settled();
  });

  it('rejects an answer that is not an existing class, and a check that does not exist', async () => {
    const { check } = await next('tab-b');
    const unknown = await post(`/api/verify/${check!.id}/answer`, { label: 'teal' });
    expect(unknown.status).toBe(404);
    expect((await json<ErrorBody>(unknown)).error.code).toBe('CLASS_NOT_FOUND');
    expect((await rowOf(check!.imageId)).status).not.toBe('labeled');
    expect((await post('/api/verify/99999/answer', { label: 'amber' })).status).toBe(404);
    expect((await post('/api/verify/99999/skip', {})).status).toBe(404);
  });

  it('does not hand a skipped check out again, to anyone', async () => {
    const { check } = await next('tab-b');
    const response = await post(`/api/verify/${check!.id}/skip`, {});
    expect(response.status).toBe(200);
    expect((await json<{ status: VerifyStatus }>(response)).status.counts.skipped).toBe(1);
    expect((await next('tab-b')).check!.id).not.toBe(check!.id);
    for (const client of ['tab-g', 'tab-h', 'tab-i']) expect((await next(client)).check!.id).not.toBe(check!.id);
    // A skip labels nothing.
    expect((await rowOf(check!.imageId)).status).not.toBe('labeled');
  });

  it.each([
    ['/api/verify/next', {}, 'client'],
    ['/api/verify/next', { client: '' }, 'client'],
    ['/api/verify/next', { client: 7 }, 'client'],
    ['/api/verify/1/answer', {}, 'label'],
    ['/api/verify/abc/answer', { label: 'amber' }, 'id'],
    ['/api/verify/0/skip', {}, 'id'],
    ['/api/accept', {}, 'imageIds'],
    ['/api/accept', { auto: false }, 'auto'],
    ['/api/accept', { auto: true, imageIds: [1] }, 'imageIds'],
    ['/api/accept', { imageIds: [] }, 'imageIds'],
  ])('answers POST %s %j with 400 naming the field', async (path, body, field) => {
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error.field).toBe(field);
  });

  it('certifies a region from right answers, refuses it once an answer it used changes, and accepts it', async () => {
    // Answer checks (rightly: the colour is the class) until the model certifies a region.
    for (let i = 0; i < 60 && live.state.certified === 0; i++) {
      const { check } = await next('tab-bulk');
      if (!check) break;
      expect((await post(`/api/verify/${check.id}/answer`, { label: truthOf(check.path) })).status).toBe(200);
      if (i % 10 === 9) await live.settled();
    }
    await live.settled();
    const verified = await status();
    expect(verified.certificate).not.toBeNull();
    expect(verified.certificate!.certified).toBeGreaterThan(0);
    expect(verified.certificate!.targetPrecision).toBe(TARGET);
    expect(live.state).toMatchObject({ certified: verified.certificate!.certified, fitId: verified.fitId });
    const stats = await json<StatsResponse>(await app.request('/api/stats'));
    expect(stats.model.accuracy).toMatchObject({ basis: 'random-checks' });
    const auto = stats.byStatus.auto;
    expect(auto).toBe(verified.certificate!.certified);

    // A model that does not refit here, so the fit stays the one that made the certificate.
    const still = new LiveModel(workspace, { debounceMs: 60_000, maxWaitMs: 60_000, targetPrecision: TARGET });
    const frozen = createApp({ workspace, live: still });
    const send = (path: string, method: string, body: unknown) =>
      frozen.request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const used = (await storeOf(workspace).listChecks()).find((c) => c.answer !== null)!;
    const relabel = await send(`/api/images/${used.imageId}/label`, 'PUT', { label: otherThan(used.answer!) });
    expect(relabel.status).toBe(200);
    const refused = await send('/api/accept', 'POST', { auto: true });
    expect(refused.status).toBe(409);
    const { error } = await json<ErrorBody>(refused);
    expect(error.code).toBe('FIT_STALE');
    expect(error.message).toMatch(/answers to random checks changed/);
    expect((await send(`/api/images/${used.imageId}/label`, 'PUT', { label: used.answer })).status).toBe(200);
    await still.close();

    const accepted = await post('/api/accept', { auto: true });
    expect(accepted.status).toBe(200);
    // The answer put back counts as a label newer than the fit (it does not touch the certificate).
    expect(await json(accepted)).toEqual({
      accepted: auto,
      fitId: verified.fitId,
      newerLabels: 1,
      changeId: expect.any(Number),
    });
    const after = await json<StatsResponse>(await app.request('/api/stats'));
    expect(after.byStatus).toMatchObject({ auto: 0, accepted: auto });
    expect(events.at(-1)).toMatchObject({ type: 'model', model: { state: 'waiting' } });
    // The certified region's checks are retired; what is left is certified afresh.
    await live.settled();
    expect((await status()).counts.retired).toBeGreaterThan(0);
  });
});
