/**
 * @module The learning state of one workspace and model: every embedding transformed, the k-NN graph
 * (cached on disk, extended when images are added), and fits from the current labels. Built once and
 * kept by whoever refits often (the server); the CLI builds it per command.
 */
import { AutolabelError } from '../errors.js';
import type { ImageId } from '../domain/index.js';
import type { EmbeddingSet, LabelRecord } from '../store/store.js';
import {
  type EmbeddingPages,
  type FeatureTransform,
  featureKey,
  learnerFeatures,
  type ReduceMode,
} from './features.js';
import { type FitOptions, fitLabels, type LabelFit } from './fit.js';
import type { HnswOptions } from './ann.js';
import { type GraphStep, type KnnGraph, normalizedAffinity, type SparseMatrix } from './graph.js';
import { loadOrBuildGraph, type NeighbourMode } from './graph-cache.js';
import type { Matrix } from './matrix.js';
import type { OrtMath } from './ort-math.js';
import { SharedMemoryMath } from './shared-math.js';

/** Neighbours kept per image (typicality, outliers); the propagation graph uses the first `AFFINITY_K`. */
export const GRAPH_K = 20;
export const AFFINITY_K = 10;

export interface LearnerOptions {
  /** Folder for the graph cache; none: no cache. */
  readonly cacheDir?: string;
  readonly threads?: number;
  /** Exact or approximate (HNSW) neighbour search; default `auto`: approximate from `ANN_MIN_ROWS` images on. */
  readonly neighbours?: NeighbourMode;
  /** The HNSW index's parameters, for benchmarks that tune them. */
  readonly hnsw?: HnswOptions;
  /** Counts the images whose neighbours are searched while the graph is built or extended (not when cached). */
  readonly onGraphStep?: GraphStep;
  /** PCA-reduced features: default `auto`, from `REDUCE_MIN_ROWS` images on (features.ts). */
  readonly reduce?: ReduceMode;
  /**
   * Loads the raw embeddings again (the learner keeps only the features): for what reads the vectors
   * as the model made them, zero-shot's cosines. None: `rawEmbeddings` refuses.
   */
  readonly reload?: () => Promise<EmbeddingSet>;
}

/** Which images a learner's rows are, and of which model (the vectors themselves are not kept). */
export type LearnerImages = Pick<EmbeddingSet, 'modelId' | 'dim' | 'imageIds'>;

/**
 * What another thread needs to make a learner over the same memory (`Learner.share`,
 * `Learner.fromShared`): every array lives in a SharedArrayBuffer, so posting it copies nothing.
 */
export interface SharedLearner {
  readonly images: LearnerImages;
  readonly transform: FeatureTransform;
  readonly features: Matrix;
  readonly graph: KnnGraph;
  readonly graphInfo: GraphBuildInfo;
}

export interface GraphBuildInfo {
  readonly how: 'cached' | 'extended' | 'built';
  /** Exact search, or the HNSW index's approximate one (big workspaces). */
  readonly search: 'exact' | 'approximate';
  readonly ms: number;
  /** Why the graph could not be cached (a full disk, a read-only workspace); the learner works without. */
  readonly cacheWarning?: string;
}

export interface LearnerFit extends LabelFit {
  readonly classes: readonly string[];
  /** Rows (images) the fit learned from, by class name. */
  readonly labelCounts: Readonly<Record<string, number>>;
  /** Human labels on images without an embedding (not used). */
  readonly labelsWithoutEmbedding: number;
  readonly warnings: readonly string[];
}

export class Learner {
  readonly #rowOf = new Map<number, number>();
  #last: LearnerFit | undefined;
  #affinity: SparseMatrix | undefined;

  private constructor(
    readonly math: OrtMath,
    readonly embeddings: LearnerImages,
    readonly transform: FeatureTransform,
    readonly features: Matrix,
    readonly graph: KnnGraph,
    readonly graphInfo: GraphBuildInfo,
    readonly options: LearnerOptions,
  ) {
    embeddings.imageIds.forEach((id, row) => this.#rowOf.set(id, row));
  }

  /**
   * Once the features are made, nothing here holds `embeddings`, so the raw vectors can be collected
   * before the graph is built (the caller should not hold them either); `EmbeddingPages` are read a
   * page at a time and never held whole.
   */
  static async create(embeddings: EmbeddingSet | EmbeddingPages, options: LearnerOptions = {}): Promise<Learner> {
    // The features are the one full-size copy of the vectors (reduced by PCA in big pools).
    const { cacheDir, threads, reduce } = options;
    const { transform, features, imageIds, dim } = await learnerFeatures(embeddings, { reduce, cacheDir, threads });
    if (imageIds.length === 0) {
      throw new AutolabelError('NO_EMBEDDINGS', `no embeddings for model ${embeddings.modelId} yet`, {
        hint: { action: 'embed' },
      });
    }
    const images = { modelId: embeddings.modelId, dim, imageIds };
    return Learner.#withGraph(images, transform, features, options);
  }

  static async #withGraph(
    images: LearnerImages,
    transform: FeatureTransform,
    features: Matrix,
    options: LearnerOptions,
  ): Promise<Learner> {
    const math = new SharedMemoryMath({ threads: options.threads });
    try {
      const started = performance.now();
      const { graph, how, search, warnings } = await loadOrBuildGraph(math, images, features, {
        k: GRAPH_K,
        cacheDir: options.cacheDir,
        neighbours: options.neighbours,
        features: featureKey(transform),
        hnsw: { threads: options.threads, ...options.hnsw },
        onStep: options.onGraphStep,
      });
      const cacheWarning = warnings.length > 0 ? warnings.join('; ') : undefined;
      const info = { how, search, ms: performance.now() - started, cacheWarning };
      return new Learner(math, images, transform, features, sharedGraph(graph), info, options);
    } catch (error) {
      await math.close();
      throw error;
    }
  }

  /**
   * A learner over another thread's memory (`share`): features and graph are read in place, never
   * copied; only the affinity (built on the first fit) and the fits are this learner's own.
   */
  static fromShared(shared: SharedLearner, options: LearnerOptions = {}): Learner {
    const math = new SharedMemoryMath({ threads: options.threads });
    const { images, transform, features, graph, graphInfo } = shared;
    return new Learner(math, images, transform, features, graph, graphInfo, options);
  }

  /** This learner's memory, to post to a worker thread (`fromShared`). */
  share(): SharedLearner {
    const { embeddings: images, transform, features, graph, graphInfo } = this;
    return { images, transform, features, graph, graphInfo };
  }

  /** S of the propagation graph, built on first use (a learner that never fits, like a map's, never holds it). */
  get affinity(): SparseMatrix {
    this.#affinity ??= normalizedAffinity(this.graph, AFFINITY_K);
    return this.#affinity;
  }

  /** The embeddings as stored, loaded again (see `LearnerOptions.reload`), in this learner's row order. */
  async rawEmbeddings(): Promise<EmbeddingSet> {
    if (!this.options.reload) throw new AutolabelError('STORE_FAILED', 'this learner cannot load its embeddings again');
    const set = await this.options.reload();
    const ids = this.embeddings.imageIds;
    if (set.imageIds.length === ids.length && set.imageIds.every((id, i) => id === ids[i])) return set;
    // Images embedded or removed since the learner was made: its rows, in its order (missing ones zero).
    const dim = set.dim;
    const from = new Map<number, number>();
    set.imageIds.forEach((id, row) => from.set(id, row));
    const vectors = set.dtype === 'float16' ? new Uint16Array(ids.length * dim) : new Float32Array(ids.length * dim);
    ids.forEach((id, row) => {
      const source = from.get(id);
      if (source !== undefined)
        (vectors as Float32Array).set(set.vectors.subarray(source * dim, (source + 1) * dim), row * dim);
    });
    return { ...set, imageIds: ids, vectors };
  }

  get size(): number {
    return this.features.rows;
  }

  rowOf(id: ImageId): number | undefined {
    return this.#rowOf.get(id);
  }

  imageIdAt(row: number): ImageId {
    return this.embeddings.imageIds[row]! as ImageId;
  }

  /**
   * Fits the human labels (class names sorted; images without an embedding are left out and counted).
   * `quick`: when the last fit of this learner had the same classes, reuse its cross-validated
   * variant, calibration and threshold and warm-start from it (a refit after a few new labels);
   * otherwise a full fit.
   */
  async fit(
    labels: readonly LabelRecord[],
    options: Omit<FitOptions, 'checks' | 'reuse'> & {
      readonly quick?: boolean;
      /** Labelled images that are random checks, with their design weights (see verify/design.ts). */
      readonly checks?: readonly { readonly imageId: ImageId; readonly weight: number }[];
    } = {},
  ): Promise<LearnerFit> {
    const classes = [...new Set(labels.map((l) => l.label))].sort();
    const classIndex = new Map(classes.map((name, j) => [name, j]));
    const seeds = new Int32Array(this.size).fill(-1);
    let missing = 0;
    for (const label of labels) {
      const row = this.rowOf(label.imageId);
      if (row === undefined) missing++;
      else seeds[row] = classIndex.get(label.label)!;
    }
    const counts: Record<string, number> = Object.fromEntries(classes.map((name) => [name, 0]));
    for (const s of seeds) if (s >= 0) counts[classes[s]!]!++;
    // Classes whose only labelled images lack embeddings cannot be predicted: they sit this fit out.
    const kept = classes.filter((name) => counts[name]! > 0);
    if (kept.length < 2) {
      throw new AutolabelError(
        'NOT_ENOUGH_LABELS',
        kept.length === 0
          ? 'no labelled images with embeddings yet: label a few images of at least two classes'
          : `all labels are in one class ("${kept[0]}"): label at least one image of another class so there is something to tell apart`,
        { hint: { action: 'label' } },
      );
    }
    const remap = Int32Array.from(classes, (name) => kept.indexOf(name));
    for (let i = 0; i < seeds.length; i++) if (seeds[i]! >= 0) seeds[i] = remap[seeds[i]!]!;
    const warnings: string[] = this.graphInfo.cacheWarning ? [this.graphInfo.cacheWarning] : [];
    if (missing > 0)
      warnings.push(`${missing} labelled images have no embedding yet and were not used (embed them first)`);
    for (const name of classes)
      if (counts[name] === 0)
        warnings.push(`class "${name}" has no labelled image with an embedding: it cannot be suggested`);
    for (const name of kept) {
      if (counts[name] === 1)
        warnings.push(
          `class "${name}" has 1 label: its suggestions and their confidence are rough until it has 3 or more`,
        );
    }
    const previous = this.#last;
    const reuse = options.quick && previous?.classes.join('\n') === kept.join('\n') ? previous : undefined;
    const checkRows = (options.checks ?? []).flatMap((check) => {
      const row = this.rowOf(check.imageId);
      return row !== undefined && seeds[row]! >= 0 ? [{ row, weight: check.weight }] : [];
    });
    const fit = await fitLabels(
      { math: this.math, features: this.features, affinity: this.affinity, classes: kept.length },
      seeds,
      {
        ...options,
        reuse,
        checks:
          checkRows.length === 0
            ? undefined
            : {
                rows: Int32Array.from(checkRows, (r) => r.row),
                weights: Float64Array.from(checkRows, (r) => r.weight),
              },
      },
    );
    const result: LearnerFit = {
      ...fit,
      classes: kept,
      labelCounts: Object.fromEntries(kept.map((name) => [name, counts[name]!])),
      labelsWithoutEmbedding: missing,
      warnings,
    };
    this.#last = result;
    return result;
  }

  async close(): Promise<void> {
    await this.math.close();
  }
}

/** A copy of `array` in a SharedArrayBuffer (the array itself when it is in one already). */
function sharedCopy<T extends Int32Array | Float32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

function sharedGraph(graph: KnnGraph): KnnGraph {
  return { ...graph, indices: sharedCopy(graph.indices), scores: sharedCopy(graph.scores) };
}
