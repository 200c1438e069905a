/** @module A workspace's images: look one up by id or by a written path, and page through them (by rank too). */
import { AutolabelError } from '../errors.js';
import { findImageByWrittenPath } from '../labels/find.js';
import type { Learner } from '../learn/learner.js';
import type { ImageId } from '../domain/index.js';
import type { ImageItem, ImageQuery, ImageRecord } from '../store/store.js';
import type { WorkspaceContext } from './context.js';
import { next } from './learning.js';

export interface ImagesQueryOptions extends Omit<ImageQuery, 'sort'> {
  /** `rank`: the order `next` recommends (images without a person's label only; other filters do not apply). */
  readonly sort?: ImageQuery['sort'] | 'rank';
  /** A learner kept between calls (the server's), for `rank`. */
  readonly learner?: Learner;
}

export interface ImagesPage {
  /** Images matching the query in all. */
  readonly total: number;
  readonly offset: number;
  readonly items: readonly ImageItem[];
}

export class WorkspaceImages {
  readonly #ctx: WorkspaceContext;

  constructor(ctx: WorkspaceContext) {
    this.#ctx = ctx;
  }

  /** The image with this id; IMAGE_NOT_FOUND when there is none. */
  async get(id: ImageId): Promise<ImageRecord> {
    const image = await this.#ctx.store.getImage(id);
    if (!image) throw new AutolabelError('IMAGE_NOT_FOUND', `no image with id ${id}`);
    return image;
  }

  /** The image a person means by a path as written (relative to the images folder, or absolute inside it). */
  async find(path: string): Promise<ImageRecord> {
    const image = await findImageByWrittenPath(this.#ctx.store, path, this.#ctx.imagesRoot);
    if (!image) {
      throw new AutolabelError(
        'IMAGE_NOT_FOUND',
        `image "${path}" is not in the workspace (paths are relative to ${this.#ctx.imagesRoot}; scan the folder if it is new)`,
        { hint: { action: 'scan' } },
      );
    }
    return image;
  }

  /** One page of images; by `rank`, the first `offset + limit` picks of `next` in that order. */
  async query(query: ImagesQueryOptions): Promise<ImagesPage> {
    const { store } = this.#ctx;
    const { learner, sort, ...filters } = query;
    if (sort === 'rank') {
      const picks = await next(this.#ctx, { count: query.offset + query.limit, learner });
      const wanted = picks.slice(query.offset).map((p) => p.imageId);
      const found = await store.queryImages({ ids: wanted, offset: 0, limit: wanted.length || 1 });
      const byId = new Map(found.items.map((item) => [item.id as number, item]));
      const counts = await store.statusCounts();
      return {
        total: counts.unlabeled + counts.suggested + counts.auto,
        offset: query.offset,
        items: wanted.flatMap((id) => byId.get(id) ?? []),
      };
    }
    const page = await store.queryImages({ ...filters, sort });
    return { total: page.total, offset: query.offset, items: page.items };
  }
}
