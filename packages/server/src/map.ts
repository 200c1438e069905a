/**
 * @module The embedding map: computed once in the background per set of embeddings, cached in the
 * workspace; past a sample's size, UMAP of a sample stratified by class and the rest placed by their neighbours.
 * And what its points are coloured by (`classes`), in the map's order, as compact arrays with a version.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Learner,
  type MapClasses,
  type MapClassesState,
  type MapState,
  messageOf,
  sha256,
  type Workspace,
  writeFileAtomic,
} from '@autolabel/core';
import type { LiveModel } from './live-model.js';

/** How long a request waits for the learner before it answers with the graph's progress (default). */
const LEARNER_WAIT_MS = 200;

/** The map as its cache file holds it (its version is the file's name). */
type StoredMap = Omit<Extract<MapState, { state: 'ready' }>, 'version'>;
type NotReady = Exclude<MapState, { state: 'ready' }>;

/** The answer of GET /api/map/classes for map `map`: the arrays as base64, the version a hash of it all. */
export function mapClassesAnswer(map: string, { classes, classOf, status }: MapClasses): MapClassesState {
  const bytes = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const version = createHash('sha256')
    .update(`${map}|${JSON.stringify(classes)}|`)
    .update(bytes(classOf))
    .update(bytes(status))
    .digest('hex')
    .slice(0, 20);
  return {
    state: 'ready',
    map,
    version,
    classes,
    classOf: bytes(classOf).toString('base64'),
    status: bytes(status).toString('base64'),
  };
}

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
    const ready = await this.#ready();
    if (!('learner' in ready)) return ready;
    const stored = JSON.parse(await readFile(ready.file, 'utf8')) as StoredMap;
    return { ...stored, version: ready.version };
  }

  /**
   * Each point's class and status, in the order of the ready map's points; `version` changes with
   * them (and with the map), so a client that has it is answered 304. The map's state until it is ready.
   */
  async classes(): Promise<MapClassesState> {
    const ready = await this.#ready();
    if (!('learner' in ready)) return ready;
    return mapClassesAnswer(ready.version, await this.workspace.mapClasses(ready.learner.embeddings.imageIds));
  }

  /** The learner and its map's cache file once the map is computed; else the map's state, its computation started. */
  async #ready(): Promise<{ learner: Learner; version: string; file: string } | NotReady> {
    const opening = this.live.learner();
    // The learner's graph takes minutes in a big workspace: answer how far it is instead of waiting.
    opening.catch(() => undefined);
    const learner = await Promise.race([opening, delay(this.learnerWaitMs)]);
    if (!learner) {
      const graph = this.live.state.progress;
      return { state: 'computing', phase: 'graph', done: graph?.done ?? 0, total: graph?.total ?? 0 };
    }
    const ids = learner.embeddings.imageIds;
    const version = sha256(`${learner.embeddings.modelId}|${ids.join(',')}`).slice(0, 16);
    const file = join(this.cacheDir, `map-${version}.json`);
    if (existsSync(file)) return { learner, version, file };
    if (this.#failure !== undefined) return { state: 'failed', message: this.#failure };
    if (this.#job === undefined)
      this.#job = (async () => {
        try {
          const { xy } = await this.workspace.mapLayout(learner, {
            onEpoch: (done, total) => (this.#progress = { done, total }),
          });
          const ready: StoredMap = { state: 'ready', ids: [...ids], xy: [...xy].map((v) => Math.round(v * 1e4) / 1e4) };
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
