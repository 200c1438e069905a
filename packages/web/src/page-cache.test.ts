// The grid's pages of images (app/page-cache.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { type PageAnswer, PageCache } from '../app/page-cache.js';

interface Query {
  readonly key: string;
  readonly size: number;
}
interface Item {
  readonly key: string;
  readonly index: number;
  readonly version: number;
}

/** A server whose queries hold `size` items each; `version` counts the changes made since the start. */
function server(pageSize = 10) {
  const calls: string[] = [];
  const errors: unknown[] = [];
  const totals: [string, number][] = [];
  const state = { version: 0, failNext: false, gate: null as Promise<void> | null };
  const cache = new PageCache<Query, Item>({
    pageSize,
    fetch: async (query, offset, limit): Promise<PageAnswer<Item>> => {
      calls.push(`${query.key}@${offset}+${limit}`);
      const version = state.version;
      if (state.gate) await state.gate;
      if (state.failNext) {
        state.failNext = false;
        throw new Error('offline');
      }
      const items = Array.from({ length: Math.max(0, Math.min(limit, query.size - offset)) }, (_, k) => ({
        key: query.key,
        index: offset + k,
        version,
      }));
      return { items, total: query.size };
    },
    onPage: (query, total) => totals.push([query.key, total]),
    onError: (error) => errors.push(error),
  });
  return { cache, calls, errors, totals, state };
}

const cats: Query = { key: 'cat', size: 35 };
const dogs: Query = { key: 'dog', size: 12 };

describe('PageCache', () => {
  it('has the images of a page once it has arrived, and not before', async () => {
    const { cache, totals } = server();
    expect(cache.item('cat', 13)).toBeUndefined();
    const page = await cache.load(cats, 1);
    expect(page.map((item) => item.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(cache.item('cat', 13)?.index).toBe(13);
    expect(cache.item('cat', 23)).toBeUndefined();
    expect(totals).toEqual([['cat', 35]]);
  });

  it('fetches each page once, however often and however fast it is asked for', async () => {
    const { cache, calls } = server();
    await Promise.all([cache.load(cats, 0), cache.load(cats, 0), cache.load(cats, 0)]);
    await cache.load(cats, 0);
    expect(calls).toEqual(['cat@0+10']);
  });

  it('never shows one query’s images under another', async () => {
    const { cache } = server();
    await cache.load(cats, 0);
    expect(cache.item('dog', 3)).toBeUndefined();
    await cache.load(dogs, 0);
    expect(cache.item('dog', 3)?.key).toBe('dog');
    expect(cache.item('cat', 3)?.key).toBe('cat');
  });

  it('fetches the pages of the rows in view, and only those', async () => {
    const { cache, calls } = server();
    cache.loadRange(cats, 8, 21);
    await cache.load(cats, 2);
    expect(calls).toEqual(['cat@0+10', 'cat@10+10', 'cat@20+10']);
    calls.length = 0;
    cache.loadRange(cats, 14, 15);
    await cache.load(cats, 1);
    expect(calls).toEqual([]);
  });

  it('after a change, fetches again but shows the old images until the new ones arrive', async () => {
    const { cache, calls, state } = server();
    await cache.load(cats, 0);
    state.version = 1;
    cache.invalidate();
    let release!: () => void;
    state.gate = new Promise((resolve) => (release = resolve));
    const reload = cache.load(cats, 0);
    expect(cache.item('cat', 4)?.version).toBe(0);
    release();
    await reload;
    expect(cache.item('cat', 4)?.version).toBe(1);
    expect(calls).toEqual(['cat@0+10', 'cat@0+10']);
  });

  it('fetches again a page that changed while it was on its way', async () => {
    const { cache, calls, state } = server();
    let release!: () => void;
    state.gate = new Promise((resolve) => (release = resolve));
    const first = cache.load(cats, 0);
    state.version = 1;
    cache.invalidate();
    // Asked again meanwhile (a scroll): it waits for the request on its way rather than piling up another.
    const again = cache.load(cats, 0);
    expect(calls).toHaveLength(1);
    state.gate = null;
    release();
    await Promise.all([first, again]);
    expect(cache.item('cat', 0)?.version).toBe(0);
    await cache.load(cats, 0);
    expect(cache.item('cat', 0)?.version).toBe(1);
    expect(calls).toHaveLength(2);
  });

  it('reports a failed page and asks for it again next time', async () => {
    const { cache, calls, errors, state } = server();
    state.failNext = true;
    expect(await cache.load(cats, 0)).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(cache.item('cat', 0)).toBeUndefined();
    expect((await cache.load(cats, 0)).length).toBe(10);
    expect(calls).toHaveLength(2);
  });

  it('gives the images of a range across groups laid end to end, in order, fetching what it needs', async () => {
    const { cache, calls } = server();
    const groups = [
      { ...cats, start: 0, count: 35 },
      { ...dogs, start: 35, count: 12 },
    ];
    const items = await cache.itemsBetween(groups, 28, 38);
    expect(items.map((item) => `${item.key}${item.index}`)).toEqual([
      'cat28',
      'cat29',
      'cat30',
      'cat31',
      'cat32',
      'cat33',
      'cat34',
      'dog0',
      'dog1',
      'dog2',
      'dog3',
    ]);
    expect(calls).toEqual(['cat@20+10', 'cat@30+10', 'dog@0+10']);
    expect(await cache.itemsBetween(groups, 50, 60)).toEqual([]);
  });
});
