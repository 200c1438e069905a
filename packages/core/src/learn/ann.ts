/**
 * @module Approximate nearest neighbours for big workspaces: an HNSW index (Malkov & Yashunin 2018,
 * "Efficient and robust approximate nearest neighbor search using Hierarchical Navigable Small World
 * graphs") from usearch's prebuilt native add-on, loaded with the first search, never at import. The
 * index is kept per model in the workspace's cache folder, keyed by image id, so images added later
 * join it instead of a rebuild. Below `ANN_MIN_ROWS` the exact search of ort-math.ts is as fast.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type * as Usearch from 'usearch';
import { AutolabelError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256File } from '../util/hash.js';
import { appendNodes, dropSelf, GraphProgress, type GraphStep, type KnnGraph, type NeighbourSearch } from './graph.js';
import type { Matrix } from './matrix.js';
import type { Neighbours } from './ort-math.js';

/**
 * From this many images on the graph is built by HNSW. Measured (`npm run bench:ann`, README): with
 * float16 vectors HNSW costs 3.0x exact search's CPU on 10k real CIFAR-10 features, and 3.0x, 1.85x,
 * at 50k, 100k synthetic 1024-d ones (their noise makes them HNSW's hard case: recall 0.81, 0.69),
 * 1.35x at 200k; exact search grows as n² and HNSW as n^1.3-1.5 (crossing near 350k there).
 */
export const ANN_MIN_ROWS = 200_000;

export interface HnswOptions {
  /** Links per node (M). */
  readonly connectivity?: number;
  /** Candidate list while inserting (efConstruction). */
  readonly expansionAdd?: number;
  /** Candidate list while searching (ef); at least the k asked for. */
  readonly expansionSearch?: number;
  /** Native threads for adds and searches; default: every core. */
  readonly threads?: number;
  /**
   * How the index stores vectors: float16 (default) halves its memory and, measured, costs about half
   * the CPU of float32 at the same recall (`bench:ann --quantization`).
   */
  readonly quantization?: 'f16' | 'f32';
}

const DEFAULTS = { connectivity: 16, expansionAdd: 128, expansionSearch: 64, quantization: 'f16' } as const;
/** Rows per native call: the event loop gets a turn between them, and result buffers stay small. */
const BATCH_ROWS = 16_384;
/** Below this many new rows, the old nodes' nearest new ones are found by exact search (one small Gemm). */
const EXACT_NEW_ROWS = 1024;
const INDEX_MAGIC = 'autolabel-hnsw-v1';

/** Loads usearch; an `AutolabelError` naming the cause when its native add-on cannot load on this machine. */
export async function loadUsearch(): Promise<typeof Usearch> {
  try {
    return await import('usearch');
  } catch (error) {
    throw new AutolabelError(
      'NATIVE_MODULE_FAILED',
      `the approximate neighbour search (usearch's native add-on) could not be loaded: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/** What a saved index must match to be used: the model whose features it holds, which ones, and their width. */
export interface IndexIdentity {
  readonly modelId: string;
  readonly dim: number;
  /** features.ts `featureKey`; default (and an index saved before it was recorded) `full`. */
  readonly featureKey?: string;
}

interface IndexHeader extends IndexIdentity {
  readonly magic: string;
  readonly count: number;
  readonly metric: 'ip';
  readonly connectivity: number;
  readonly quantization: 'f16' | 'f32';
  /** Size and hash of the index file: usearch's loader crashes the process on a damaged file. */
  readonly bytes: number;
  readonly sha256: string;
}

/** An HNSW index of unit rows by inner product (cosine), each row under an integer key (an image id). */
export class HnswIndex {
  #keys: Int32Array;

  private constructor(
    readonly dim: number,
    readonly index: Usearch.Index,
    readonly options: HnswOptions,
    keys: Int32Array,
  ) {
    this.#keys = keys;
  }

  static async create(dim: number, options: HnswOptions = {}): Promise<HnswIndex> {
    return new HnswIndex(dim, newIndex(await loadUsearch(), dim, options), options, new Int32Array(0));
  }

  /**
   * The index saved at `file` (its keys in `file.keys`), or undefined when either is missing,
   * damaged, or made for another model, width, metric, connectivity or precision: such an index is rebuilt.
   * The file is hashed before it is loaded (a few seconds a GB).
   */
  static async open(file: string, identity: IndexIdentity, options: HnswOptions = {}): Promise<HnswIndex | undefined> {
    const usearch = await loadUsearch();
    if (!existsSync(file) || !existsSync(keysFile(file))) return undefined;
    try {
      const data = await readFile(keysFile(file));
      const headerLength = data.readUInt32LE(0);
      const header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')) as IndexHeader;
      const connectivity = options.connectivity ?? DEFAULTS.connectivity;
      if (
        header.magic !== INDEX_MAGIC ||
        header.modelId !== identity.modelId ||
        header.dim !== identity.dim ||
        (header.featureKey ?? 'full') !== (identity.featureKey ?? 'full') ||
        header.metric !== 'ip' ||
        header.connectivity !== connectivity ||
        header.quantization !== (options.quantization ?? DEFAULTS.quantization)
      )
        return undefined;
      const body = data.subarray(4 + headerLength);
      if (body.length !== 4 * header.count) return undefined;
      if ((await stat(file)).size !== header.bytes || (await sha256File(file)) !== header.sha256) return undefined;
      const keys = new Int32Array(new Uint8Array(body).buffer); // aligned copy
      const index = newIndex(usearch, identity.dim, options);
      index.load(file);
      if (index.size() !== header.count || index.dimensions() !== identity.dim) return undefined;
      return new HnswIndex(identity.dim, index, options, keys);
    } catch {
      return undefined; // a damaged index is rebuilt
    }
  }

  /** Keys in the order they were added. */
  get keys(): Int32Array {
    return this.#keys;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Adds `rows` under `keys` (one per row, not yet in the index); `onRows(rows)` after each native call. */
  async add(keys: Int32Array, rows: Matrix, onRows?: (rows: number) => void): Promise<void> {
    for (let start = 0; start < rows.rows; start += BATCH_ROWS) {
      const end = Math.min(rows.rows, start + BATCH_ROWS);
      const batchKeys = BigUint64Array.from(keys.subarray(start, end), (key) => BigInt(key));
      this.index.add(batchKeys, rows.data.subarray(start * rows.cols, end * rows.cols), this.options.threads ?? 0);
      onRows?.(end - start);
      await nextTurn();
    }
    const all = new Int32Array(this.#keys.length + keys.length);
    all.set(this.#keys);
    all.set(keys, this.#keys.length);
    this.#keys = all;
  }

  /**
   * The (about) k nearest keys of each query, nearest first, -1 where fewer were found; scores are dot
   * products (in float16, within about 1e-3). `onRows(rows)` after each native call.
   */
  async search(queries: Matrix, k: number, onRows?: (rows: number) => void): Promise<Neighbours> {
    const keys = new Int32Array(queries.rows * k).fill(-1);
    const scores = new Float32Array(queries.rows * k);
    for (let start = 0; start < queries.rows; start += BATCH_ROWS) {
      const end = Math.min(queries.rows, start + BATCH_ROWS);
      const chunk = queries.data.subarray(start * queries.cols, end * queries.cols);
      // One query comes back as plain matches (no counts, keys cut to those found).
      const found: { keys: BigUint64Array; distances: Float32Array; counts?: BigUint64Array } = this.index.search(
        chunk,
        k,
        this.options.threads ?? 0,
      );
      for (let r = 0; r < end - start; r++) {
        const count = found.counts ? Number(found.counts[r]) : found.keys.length;
        const o = (start + r) * k;
        for (let j = 0; j < count; j++) {
          keys[o + j] = Number(found.keys[r * k + j]);
          scores[o + j] = 1 - found.distances[r * k + j]!; // usearch's inner-product distance is 1 - dot
        }
      }
      onRows?.(end - start);
      await nextTurn();
    }
    return { indices: keys, scores, k };
  }

  /**
   * Saves to `file` and its keys to `file.keys`, each written whole under a temporary name first;
   * the old keys file goes first, so a crash in between leaves an index that `open` refuses.
   */
  async save(file: string, modelId: string, featureKey = 'full'): Promise<void> {
    const temporary = `${file}.${process.pid}.tmp`;
    let header: IndexHeader;
    try {
      this.index.save(temporary);
      header = {
        magic: INDEX_MAGIC,
        modelId,
        featureKey,
        dim: this.dim,
        count: this.size,
        metric: 'ip',
        connectivity: this.options.connectivity ?? DEFAULTS.connectivity,
        quantization: this.options.quantization ?? DEFAULTS.quantization,
        bytes: (await stat(temporary)).size,
        sha256: await sha256File(temporary),
      };
      await rm(keysFile(file), { force: true });
      await rename(temporary, file);
    } finally {
      await rm(temporary, { force: true });
    }
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    const keys = this.#keys;
    await writeFileAtomic(keysFile(file), [
      length,
      json,
      new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength),
    ]);
  }
}

function keysFile(file: string): string {
  return `${file}.keys`;
}

function newIndex(usearch: typeof Usearch, dim: number, options: HnswOptions): Usearch.Index {
  return new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.IP,
    quantization:
      (options.quantization ?? DEFAULTS.quantization) === 'f16' ? usearch.ScalarKind.F16 : usearch.ScalarKind.F32,
    connectivity: options.connectivity ?? DEFAULTS.connectivity,
    expansion_add: options.expansionAdd ?? DEFAULTS.expansionAdd,
    expansion_search: options.expansionSearch ?? DEFAULTS.expansionSearch,
    multi: false,
  });
}

/** Top-k by a throwaway HNSW index over `base` (keys: its rows); `NeighbourSearch` for extending a big graph. */
export class HnswSearch implements NeighbourSearch {
  constructor(readonly options: HnswOptions = {}) {}

  async topK(queries: Matrix, base: Matrix, k: number): Promise<Neighbours> {
    const index = await HnswIndex.create(base.cols, this.options);
    await index.add(
      Int32Array.from({ length: base.rows }, (_, i) => i),
      base,
    );
    return index.search(queries, Math.min(k, base.rows));
  }
}

export interface ApproximateGraphInput {
  /** Unit rows, one per image. */
  readonly features: Matrix;
  /** The image id of each row. */
  readonly ids: Int32Array;
  readonly modelId: string;
  /** features.ts `featureKey` (default `full`): an index of other features is rebuilt. */
  readonly featureKey?: string;
  readonly k: number;
  /** Where the index is kept; none: built in memory and dropped. */
  readonly file?: string;
  /** A graph of the first rows, to extend with the rest. */
  readonly previous?: KnnGraph;
  /** Exact search, for the old nodes' nearest new ones when few are new. */
  readonly exact: NeighbourSearch;
  readonly options?: HnswOptions;
  /** Counts the images whose neighbours are searched (`GraphProgress`). */
  readonly onStep?: GraphStep;
}

/**
 * What a row costs to add to the index, against searching it, in a build's progress: 1.57-1.77 times
 * at 50k-200k synthetic 1024-d images (bench:ann's add and search CPU-seconds, README).
 */
const ADD_WORK = 1.6;

export interface ApproximateGraph {
  readonly graph: KnnGraph;
  /** What became of the saved index: used as it was, joined by new images, or built. */
  readonly index: 'loaded' | 'extended' | 'built';
  /** Why the index could not be saved; it is built again next time. */
  readonly warning?: string;
}

/**
 * The k-NN graph of `features` by HNSW search: each row's k + 1 nearest keys, itself dropped. The
 * saved index is reused when its keys are a prefix of `ids` (the rest are added) and rebuilt
 * otherwise; with `previous`, only the new rows are searched and the old nodes' lists merged with
 * their nearest new rows.
 */
export async function approximateKnnGraph(input: ApproximateGraphInput): Promise<ApproximateGraph> {
  const { features, ids, k, file } = input;
  const options = input.options ?? {};
  const identity = { modelId: input.modelId, dim: features.cols, featureKey: input.featureKey };
  let index = file ? await HnswIndex.open(file, identity, options) : undefined;
  if (index && !(index.size <= ids.length && index.keys.every((key, i) => ids[i] === key))) index = undefined;
  const how: ApproximateGraph['index'] = !index ? 'built' : index.size === ids.length ? 'loaded' : 'extended';
  index ??= await HnswIndex.create(features.cols, options);
  const known = index.size;
  const from = input.previous?.nodes ?? 0;
  const searched = features.rows - from;
  // The old nodes' nearest new ones, when searched by a throwaway index of the new rows: those added, then searched.
  const merged = from > 0 && searched > EXACT_NEW_ROWS ? ADD_WORK * searched + from : 0;
  const progress = new GraphProgress(searched, ADD_WORK * (ids.length - known) + searched + merged, input.onStep);
  const step = (work: number) => (rows: number) => progress.advance(work * rows);
  if (known < ids.length) await index.add(ids.subarray(known), rowsFrom(features, known), step(ADD_WORK));

  const rowOfKey = new Map<number, number>();
  ids.forEach((id, row) => rowOfKey.set(id, row));
  const found = await index.search(rowsFrom(features, from), k + 1, step(1));
  for (let p = 0; p < found.indices.length; p++) {
    const key = found.indices[p]!;
    if (key >= 0) found.indices[p] = rowOfKey.get(key) ?? -1;
  }
  const fresh = dropSelf(found.indices, found.scores, features.rows - from, from, k + 1, k);
  let graph = fresh;
  if (input.previous && from > 0) {
    const added = rowsFrom(features, from);
    const old = { rows: from, cols: features.cols, data: features.data.subarray(0, from * features.cols) };
    const search = added.rows <= EXACT_NEW_ROWS ? input.exact : new HnswSearch(options);
    graph = appendNodes(input.previous, fresh, await search.topK(old, added, k));
  }
  progress.finish();

  if (file && how !== 'loaded') {
    try {
      await index.save(file, input.modelId, input.featureKey);
    } catch (error) {
      return {
        graph,
        index: how,
        warning: `the neighbour index was not saved (${messageOf(error)}); it is built again next time`,
      };
    }
  }
  return { graph, index: how };
}

function rowsFrom(m: Matrix, first: number): Matrix {
  return { rows: m.rows - first, cols: m.cols, data: m.data.subarray(first * m.cols) };
}
