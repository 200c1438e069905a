/**
 * @module The embedding map: computed once in the background per set of embeddings, cached in the
 * workspace; past a sample's size, UMAP of a sample stratified by class and the rest placed by their neighbours.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type MapState, messageOf, sha256, type Workspace, writeFileAtomic } from '@autolabel/core';
import type { LiveModel } from './live-model.js';

/** How long a request waits for the learner before it answers with the graph's progress (default). */
const LEARNER_WAIT_MS = 200;

export class EmbeddingMap {
  #progress = { done: 0, total: 0 };
  #job: Promise<void> | undefined;
  #failure: string | undefined;

  constructor(
    private readonly live: LiveModel,
    private readonly cacheDir: string,
    private readonly workspace: Workspace,
    private readonly learnerWaitMs = LEARNER_WAIT_MS,
  ) {}

  /** The map if it is ready; otherwise starts (or reports on) its computation. */
  async get(): Promise<MapState> {
    const opening = this.live.learner();
    // The learner's graph takes minutes in a big workspace: answer how far it is instead of waiting.
    opening.catch(() => undefined);
    const learner = await Promise.race([opening, delay(this.learnerWaitMs)]);
    if (!learner) {
      const graph = this.live.state.progress;
      return { state: 'computing', phase: 'graph', done: graph?.done ?? 0, total: graph?.total ?? 0 };
    }
    const ids = learner.embeddings.imageIds;
    const file = join(
      this.cacheDir,
      `map-${sha256(`${learner.embeddings.modelId}|${ids.join(',')}`).slice(0, 16)}.json`,
    );
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as MapState;
    if (this.#failure !== undefined) return { state: 'failed', message: this.#failure };
    if (this.#job === undefined)
      this.#job = (async () => {
        try {
          const { xy } = await this.workspace.mapLayout(learner, {
            onEpoch: (done, total) => (this.#progress = { done, total }),
          });
          const ready: MapState = { state: 'ready', ids: [...ids], xy: [...xy].map((v) => Math.round(v * 1e4) / 1e4) };
          await mkdir(this.cacheDir, { recursive: true });
          await writeFileAtomic(file, [JSON.stringify(ready)]);
        } catch (error) {
          this.#failure = messageOf(error);
        } finally {
          this.#job = undefined;
        }
      })();
    return { state: 'computing', phase: 'layout', ...this.#progress };
  }
}
