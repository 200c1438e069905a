/**
 * @module The grid's pages of images: each query (a group under one filter and order, named by
 * its key) is fetched by pages of /api/images as its rows come into view, each page once, and all of
 * them again after a change, the old images shown until their replacement arrives. Pages are kept for
 * the page's life (a few hundred bytes an image), so going back to a filter shows it at once. DOM-free;
 * the fetching is passed in.
 */

/** A query's key: pages of one key are never shown under another. */
export interface PageQuery {
  readonly key: string;
}

/** One answer of /api/images: a page of items and the size of the whole query. */
export interface PageAnswer<T> {
  readonly items: readonly T[];
  readonly total: number;
}

export interface PageCacheOptions<Q extends PageQuery, T> {
  /** Items per page. */
  readonly pageSize: number;
  readonly fetch: (query: Q, offset: number, limit: number) => Promise<PageAnswer<T>>;
  /** A page arrived (its items are in the cache); `total` is the query's size as that answer says it. */
  readonly onPage: (query: Q, total: number) => void;
  /** A page could not be fetched: it is asked for again next time. */
  readonly onError: (error: unknown) => void;
}

interface Page<T> {
  items: readonly T[] | null;
  /** Labels or suggestions changed since it was fetched: shown until its replacement arrives. */
  stale: boolean;
  request: Promise<void> | null;
}

export class PageCache<Q extends PageQuery, T> {
  readonly #options: PageCacheOptions<Q, T>;
  readonly #pages = new Map<string, Map<number, Page<T>>>();

  constructor(options: PageCacheOptions<Q, T>) {
    this.#options = options;
  }

  get pageSize(): number {
    return this.#options.pageSize;
  }

  /** The item at `index` of a query, or undefined where its page has not arrived. */
  item(key: string, index: number): T | undefined {
    const size = this.#options.pageSize;
    return this.#pages.get(key)?.get(Math.floor(index / size))?.items?.[index % size];
  }

  /** Everything changed: every page is fetched again when next asked for, and shown as it is meanwhile. */
  invalidate(): void {
    for (const pages of this.#pages.values()) for (const page of pages.values()) page.stale = true;
  }

  /** The items of page `index` of a query, fetched unless they are there and current. */
  async load(query: Q, index: number): Promise<readonly T[]> {
    let pages = this.#pages.get(query.key);
    if (!pages) this.#pages.set(query.key, (pages = new Map()));
    let page = pages.get(index);
    if (!page) pages.set(index, (page = { items: null, stale: true, request: null }));
    if (page.stale) page.request ??= this.#fetch(query, index, page);
    await page.request;
    return page.items ?? [];
  }

  /** Fetches the pages that hold items `first` to `last` of a query, without waiting for them. */
  loadRange(query: Q, first: number, last: number): void {
    const size = this.#options.pageSize;
    for (let p = Math.floor(first / size); p <= Math.floor(last / size); p++) void this.load(query, p);
  }

  /**
   * The items at ordinals [from, to] across queries laid end to end (each starting at ordinal `start`
   * and `count` long), fetching the pages not loaded yet.
   */
  async itemsBetween(
    queries: readonly (Q & { readonly start: number; readonly count: number })[],
    from: number,
    to: number,
  ): Promise<T[]> {
    const size = this.#options.pageSize;
    const items: T[] = [];
    for (const query of queries) {
      const lo = Math.max(from, query.start) - query.start;
      const hi = Math.min(to, query.start + query.count - 1) - query.start;
      if (hi < lo) continue;
      for (let p = Math.floor(lo / size); p <= Math.floor(hi / size); p++) {
        const page = await this.load(query, p);
        page.forEach((item, k) => {
          const index = p * size + k;
          if (index >= lo && index <= hi) items.push(item);
        });
      }
    }
    return items;
  }

  async #fetch(query: Q, index: number, page: Page<T>): Promise<void> {
    const size = this.#options.pageSize;
    try {
      page.stale = false; // a change while this request runs marks it stale again
      const answer = await this.#options.fetch(query, index * size, size);
      page.items = answer.items;
      this.#options.onPage(query, answer.total);
    } catch (error) {
      page.stale = true;
      this.#options.onError(error);
    } finally {
      page.request = null;
    }
  }
}
