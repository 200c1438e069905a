/**
 * @module The k-NN graph of a workspace's model, cached in its cache folder: loaded when its images are
 * the same, extended when images were added since, built otherwise; by exact search below
 * `ANN_MIN_ROWS` images and by the HNSW index of ann.ts (kept next to the graph) from there on.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAutolabelError, messageOf } from '../errors.js';
import type { EmbeddingSet } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import { ANN_MIN_ROWS, approximateKnnGraph, type HnswOptions, loadUsearch } from './ann.js';
import { buildKnnGraph, extendKnnGraph, type GraphStep, type KnnGraph } from './graph.js';
import type { Matrix } from './matrix.js';
import type { OrtMath } from './ort-math.js';

/** Rebuild rather than extend once this share of the graph would be new. */
const REBUILD_SHARE = 0.2;
const GRAPH_MAGIC = 'autolabel-knn-graph-v1';

/** How neighbours are found: `auto` is exact below `ANN_MIN_ROWS` images and approximate from there. */
export type NeighbourMode = 'auto' | 'exact' | 'approximate';

export interface GraphOptions {
  /** Neighbours per node. */
  readonly k: number;
  /** Folder for the graph and index files; none: nothing cached. */
  readonly cacheDir?: string;
  readonly neighbours?: NeighbourMode;
  readonly hnsw?: HnswOptions;
  /** Counts the images whose neighbours are searched while a graph is built or extended (not when cached). */
  readonly onStep?: GraphStep;
  /**
   * What the features are (features.ts `featureKey`; default `full`): a graph or index made from other
   * features (a PCA reduction, or none) is rebuilt, not extended.
   */
  readonly features?: string;
}

export interface CachedGraph {
  readonly graph: KnnGraph;
  readonly how: 'cached' | 'extended' | 'built';
  /** How the graph's new rows were searched (a cached graph: how this learner would have). */
  readonly search: 'exact' | 'approximate';
  /** What could not be done and was worked around (no cache written, no approximate search). */
  readonly warnings: readonly string[];
}

/** The cache files of a model: the graph, and the HNSW index with its keys (`.keys`). */
function cacheFiles(dir: string, modelId: string): { graph: string; index: string } {
  const key = sha256(modelId).slice(0, 16);
  return { graph: join(dir, `graph-${key}.bin`), index: join(dir, `hnsw-${key}.usearch`) };
}

export async function loadOrBuildGraph(
  math: OrtMath,
  images: Pick<EmbeddingSet, 'modelId' | 'imageIds'>,
  features: Matrix,
  options: GraphOptions,
): Promise<CachedGraph> {
  const { cacheDir } = options;
  const k = Math.min(options.k, Math.max(1, features.rows - 1));
  const files = cacheDir ? cacheFiles(cacheDir, images.modelId) : undefined;
  const ids = images.imageIds;
  const featureKey = options.features ?? 'full';
  const warnings: string[] = [];
  let approximate =
    options.neighbours === 'approximate' || (options.neighbours !== 'exact' && features.rows >= ANN_MIN_ROWS);
  if (approximate) {
    try {
      await loadUsearch();
    } catch (error) {
      if (options.neighbours === 'approximate' || !isAutolabelError(error)) throw error;
      warnings.push(`${error.message}; neighbours are searched exactly instead (slower)`);
      approximate = false;
    }
  }
  const search = approximate ? 'approximate' : 'exact';

  let previous: KnnGraph | undefined;
  if (files && existsSync(files.graph)) {
    const cached = decodeGraph(await readFile(files.graph));
    if (cached && cached.graph.k === k && cached.features === featureKey && cached.ids.length <= ids.length) {
      const prefix = cached.ids.every((id, i) => ids[i] === id);
      if (prefix && cached.ids.length === ids.length) return { graph: cached.graph, how: 'cached', search, warnings };
      if (prefix && ids.length - cached.ids.length <= REBUILD_SHARE * ids.length) previous = cached.graph;
    }
  }
  const how = previous ? 'extended' : 'built';
  let graph: KnnGraph;
  if (approximate) {
    const built = await approximateKnnGraph({
      features,
      ids,
      modelId: images.modelId,
      featureKey,
      k,
      file: files && (await ready(cacheDir!, warnings)) ? files.index : undefined,
      previous,
      exact: math,
      options: options.hnsw,
      onStep: options.onStep,
    });
    if (built.warning) warnings.push(built.warning);
    graph = built.graph;
  } else {
    graph = previous
      ? await extendKnnGraph(math, previous, features, options.onStep)
      : await buildKnnGraph(math, features, k, options.onStep);
  }
  if (files && (await ready(cacheDir!, warnings))) {
    try {
      await writeFileAtomic(files.graph, encodeGraph(graph, ids, featureKey));
    } catch (error) {
      // The cache only saves time: a full disk or a read-only workspace must not stop the fit.
      warnings.push(`the neighbour graph was not cached (${messageOf(error)}); it is built again next time`);
    }
  }
  return { graph, how, search, warnings };
}

/** Makes the cache folder; false (and a warning, once) where it cannot be. */
async function ready(dir: string, warnings: string[]): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true });
    return true;
  } catch (error) {
    const warning = `the neighbour graph was not cached (${messageOf(error)}); it is built again next time`;
    if (!warnings.includes(warning)) warnings.push(warning);
    return false;
  }
}

function encodeGraph(graph: KnnGraph, ids: Int32Array, features: string): Uint8Array[] {
  const header = Buffer.from(JSON.stringify({ magic: GRAPH_MAGIC, nodes: graph.nodes, k: graph.k, features }) + '\n');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const bytes = (a: Int32Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return [length, header, bytes(ids), bytes(graph.indices), bytes(graph.scores)];
}

function decodeGraph(data: Buffer): { graph: KnnGraph; ids: Int32Array; features: string } | undefined {
  try {
    const headerLength = data.readUInt32LE(0);
    const header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')) as {
      magic: string;
      nodes: number;
      k: number;
      /** Absent in graphs written before the reduction: full-width features. */
      features?: string;
    };
    if (header.magic !== GRAPH_MAGIC) return undefined;
    const { nodes, k } = header;
    const body = data.subarray(4 + headerLength);
    if (body.length !== 4 * (nodes + 2 * nodes * k)) return undefined;
    const copy = new Uint8Array(body); // aligned
    const ids = new Int32Array(copy.buffer, 0, nodes);
    const indices = new Int32Array(copy.buffer, 4 * nodes, nodes * k);
    const scores = new Float32Array(copy.buffer, 4 * (nodes + nodes * k), nodes * k);
    return { ids, graph: { nodes, k, indices, scores }, features: header.features ?? 'full' };
  } catch {
    return undefined; // a damaged cache is rebuilt
  }
}
