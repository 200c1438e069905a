/**
 * @module A workspace's data quality audit: likely label errors, near-duplicate groups and outliers
 * (the methods are in audit/), computed by `run` and persisted, so a dashboard lists and counts them
 * without recomputing; a person dismisses a finding (until its data changes) or excludes its images
 * from learning and export.
 */
import { join } from 'node:path';
import { findLabelErrors } from '../audit/label-errors.js';
import { duplicateGroups } from '../audit/duplicates.js';
import { centroidDistances, OUTLIER_CLUSTERS, outlierRatios, outlierScore } from '../audit/outliers.js';
import { hashWords, perceptualHash } from '../audit/phash.js';
import {
  AUDIT_KINDS,
  type AuditAction,
  type AuditKind,
  HUMAN_LABEL_SOURCES,
  type ImageId,
  SKIP_REASONS,
  type SkipReason,
} from '../domain/index.js';
import { AutolabelError, isAutolabelError } from '../errors.js';
import type { AuditFinding, AuditResolveResponse, AuditResponse } from '../audit/findings.js';
import { Learner } from '../learn/learner.js';
import type { PipelineConfig } from '../learn/semi-supervised.js';
import { sphericalKMeans } from '../learn/kmeans.js';
import type { AuditFindingRecord, ImageRecord, LabelRecord, NewAuditFinding, Store } from '../store/store.js';
import { embeddingRows } from '../store/embedding-rows.js';
import { sha256 } from '../util/hash.js';
import { mapOrdered } from '../util/pool.js';
import { type ProgressListener, ProgressTracker, stepReporter } from '../util/progress.js';
import { GRAPH_PHASE } from './learning.js';
import type { WorkspaceContext } from './context.js';

/** A class takes part in the label-error audit with at least this many labels (its out-of-fold folds need them). */
export const MIN_LABELS_PER_CLASS = 5;
/** Folds of the cross-fit whose held-out probabilities confident learning reads. */
const AUDIT_FOLDS = 5;
/**
 * The one pipeline the audit cross-fits: a logistic head with correct and smooth on the graph. The
 * audit needs honest out-of-fold probabilities, not the best suggestions; this is the cheapest variant
 * (one head per fold; half the time of the learner's two, measured on CIFAR-10 in bench:audit).
 */
const AUDIT_PIPELINE: PipelineConfig = {
  name: 'logistic+correct-smooth',
  l2: 1e-4,
  selfTrainingRounds: 0,
  pseudoShare: 0,
  alpha: 0.8,
};
/** Labelled neighbours whose labels are compared with an image's, and shown with a label-error finding. */
const LABEL_NEIGHBOURS = 10;
const SHOWN_NEIGHBOURS = 5;
/** Outliers kept: those at least this far out, at most the larger of a count and a share of the images. */
const OUTLIER_MIN_RATIO = 1.15;
const OUTLIER_KEEP = 200;
const OUTLIER_KEEP_SHARE = 0.02;
/** Skip reasons that mean the file is there but could not be decoded as an image. */
const DECODE_FAILURES: readonly SkipReason[] = ['corrupt', 'not-an-image', 'empty-file', 'too-large', 'unreadable'];
/** Perceptual hashes computed at a time, and stored per transaction. */
const HASH_CONCURRENCY = 4;
const HASH_BATCH = 500;

export interface AuditRunOptions {
  /** The kinds to compute (default: all); findings of other kinds stay as they were. */
  readonly kinds?: readonly AuditKind[];
  /** Findings returned per kind (all are persisted). Default 50. */
  readonly limit?: number;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface AuditRunResult {
  /** The open findings, most likely first, at most `limit` of each kind. */
  readonly findings: AuditFinding[];
  /** Parts that could not run, and why. */
  readonly notes: string[];
}

export interface AuditFindingsOptions {
  readonly kind?: AuditKind;
  /** At most this many of each kind. Default 200. */
  readonly limit?: number;
  /** List dismissed and resolved findings too (marked). */
  readonly includeDismissed?: boolean;
}

export interface AuditResolveOptions {
  /** `exclude` / `include`: these images of the finding only (a duplicate group's "keep one"); default all. */
  readonly imageIds?: readonly number[];
}

/** A finding's kind-specific part (what is stored as its detail), with its reason. */
type Evidence = AuditFinding extends infer F
  ? F extends AuditFinding
    ? Omit<F, 'id' | 'kind' | 'images' | 'imageIds' | 'score' | 'dismissed' | 'excluded'>
    : never
  : never;

export class WorkspaceAudit {
  readonly #ctx: WorkspaceContext;
  readonly #maxPixels: () => number;

  /** `maxPixels`: the workspace's limit on decoded pixels (its config, as it is now). */
  constructor(ctx: WorkspaceContext, maxPixels: () => number) {
    this.#ctx = ctx;
    this.#maxPixels = maxPixels;
  }

  /** Computes and persists the findings of `kinds`; the parts that cannot run are told in `notes`. */
  async run(options: AuditRunOptions = {}): Promise<AuditRunResult> {
    const { store } = this.#ctx;
    const kinds = options.kinds && options.kinds.length > 0 ? [...new Set(options.kinds)] : [...AUDIT_KINDS];
    const notes: string[] = [];
    const data = await loadAuditData(store);
    const findings: NewAuditFinding[] = [];
    const learner = await this.#openLearner(notes, options.onProgress);
    try {
      if (kinds.includes('duplicate')) {
        findings.push(...(await this.#duplicates(data, learner, options)));
      }
      if (kinds.includes('outlier')) findings.push(...(await outlierFindings(data, learner)));
      if (kinds.includes('label-error')) {
        if (learner) findings.push(...(await labelErrorFindings(data, learner, notes, options)));
        else notes.push('label errors were not audited: they need embeddings');
      }
    } finally {
      await learner?.close();
    }
    options.signal?.throwIfAborted();
    await store.saveAudit({ kinds, notes }, findings);
    const { findings: open } = await this.findings({ limit: options.limit ?? 50 });
    return { findings: open.filter((f) => kinds.includes(f.kind)), notes };
  }

  /** The persisted findings, most likely first, with the open ones counted per kind. */
  async findings(options: AuditFindingsOptions = {}): Promise<AuditResponse> {
    const { store } = this.#ctx;
    const data = await loadAuditData(store);
    const limit = options.limit ?? 200;
    const counts = Object.fromEntries(AUDIT_KINDS.map((k) => [k, 0])) as Record<AuditKind, number>;
    const perKind = Object.fromEntries(AUDIT_KINDS.map((k) => [k, 0])) as Record<AuditKind, number>;
    const listed: AuditFinding[] = [];
    for (const record of await store.listAuditFindings()) {
      const finding = toFinding(record, data);
      if (!finding) continue;
      const open = isOpen(finding);
      if (open) counts[finding.kind]++;
      if (options.kind !== undefined && finding.kind !== options.kind) continue;
      if (!open && !options.includeDismissed) continue;
      if (perKind[finding.kind]++ >= limit) continue;
      listed.push(finding);
    }
    const run = await store.latestAudit();
    return {
      findings: listed,
      counts,
      excluded: data.excluded.size,
      ranAt: run?.createdAt ?? null,
      notes: run?.notes ?? [],
    };
  }

  /**
   * Acts on a finding: `dismiss` marks it fine (until its images or labels change, which makes it a new
   * finding); `exclude` leaves its images (or `imageIds` of them) out of learning and export; `include`
   * takes them back. Relabelling goes through `ws.labels.set`.
   */
  async resolve(
    findingId: string,
    action: AuditAction,
    options: AuditResolveOptions = {},
  ): Promise<AuditResolveResponse> {
    const { store } = this.#ctx;
    const record = (await store.listAuditFindings()).find((f) => f.id === findingId);
    const data = await loadAuditData(store);
    const current = record && toFinding(record, data);
    if (!record || !current) {
      throw new AutolabelError(
        'IMAGE_NOT_FOUND',
        `no audit finding ${findingId}: its images or labels changed since the audit, or it was never found; audit again`,
      );
    }
    const imageIds = (options.imageIds ?? record.imageIds) as ImageId[];
    const foreign = imageIds.filter((id) => !record.imageIds.includes(id));
    if (foreign.length > 0) {
      throw new AutolabelError('INVALID_ARGUMENT', `imageIds: image ${foreign[0]} is not in finding ${findingId}`);
    }
    if (action === 'dismiss') await store.dismissAuditFindings([findingId]);
    else await store.setExcluded(imageIds, action === 'exclude');
    const after = await this.findings({ includeDismissed: true, limit: Number.MAX_SAFE_INTEGER });
    return {
      finding: after.findings.find((f) => f.id === findingId) ?? current,
      counts: after.counts,
      excluded: after.excluded,
    };
  }

  /**
   * The duplicate groups of the last audit, by image path (dismissed ones too: they are still copies),
   * for an export's split to keep each group on one side.
   */
  async splitGroups(): Promise<Map<string, string>> {
    const { store } = this.#ctx;
    const data = await loadAuditData(store);
    const groups = new Map<string, string>();
    for (const record of await store.listAuditFindings()) {
      if (record.kind !== 'duplicate') continue;
      for (const id of record.imageIds) {
        const image = data.imageById.get(id);
        if (image && !groups.has(image.path)) groups.set(image.path, record.id);
      }
    }
    return groups;
  }

  /**
   * A learner over every embedding, excluded images included (they are audited too), with each row's
   * distance to the centroid of all (the learner keeps no raw vectors); undefined without embeddings.
   */
  async #openLearner(notes: string[], onProgress?: ProgressListener): Promise<AuditLearner | undefined> {
    const { store } = this.#ctx;
    let modelId: string;
    try {
      modelId = await this.#ctx.modelId();
    } catch (error) {
      if (!isAutolabelError(error, 'NO_EMBEDDINGS')) throw error;
      notes.push(
        `no embeddings for model ${this.#ctx.modelSpec} yet (run autolabel embed): label errors and outliers need them, and duplicates are found by identical and perceptual hashes only`,
      );
      return undefined;
    }
    const embeddings = await store.loadEmbeddings(modelId, { includeExcluded: true });
    // The learner's own cache holds the graph of the images it learns from; with exclusions that set differs.
    const excluded = (await store.listExcluded()).length > 0;
    const centroid = centroidDistances(embeddings.imageIds.length, embeddings.dim, (r) =>
      embeddingRows(embeddings, r, 1),
    );
    // The graph is built once per image set (then cached): a phase of its own in the progress.
    const learner = await Learner.create(embeddings, {
      cacheDir: join(this.#ctx.dir, 'cache', ...(excluded ? ['audit'] : [])),
      onGraphStep: stepReporter(GRAPH_PHASE, onProgress, 'images'),
    });
    return Object.assign(learner, { centroid });
  }

  async #duplicates(
    data: AuditData,
    learner: Learner | undefined,
    options: AuditRunOptions,
  ): Promise<NewAuditFinding[]> {
    const images = data.images.filter((image) => image.skipReason === null);
    const hashes = await ensurePerceptualHashes(this.#ctx, this.#maxPixels(), images, options);
    const contentIndex = new Map<string, number>();
    const contentKeys = Int32Array.from(images, (image) => {
      let key = contentIndex.get(image.contentHash);
      if (key === undefined) contentIndex.set(image.contentHash, (key = contentIndex.size));
      return key;
    });
    const words = new Uint32Array(images.length * 2);
    const hasHash = new Uint8Array(images.length);
    images.forEach((image, r) => {
      const hash = hashes.get(image.contentHash);
      if (!hash) return;
      const [hi, lo] = hashWords(hash);
      words[2 * r] = hi;
      words[2 * r + 1] = lo;
      hasHash[r] = 1;
    });
    // The graph, re-indexed from learner rows to these rows; images without an embedding have no neighbours.
    const k = learner?.graph.k ?? 1;
    const neighbours = new Int32Array(images.length * k);
    const similarities = new Float32Array(images.length * k);
    const rowOfId = new Map(images.map((image, r) => [image.id as number, r]));
    images.forEach((image, r) => {
      const lr = learner?.rowOf(image.id);
      for (let j = 0; j < k; j++) {
        const t = lr === undefined ? undefined : rowOfId.get(learner!.imageIdAt(learner!.graph.indices[lr * k + j]!));
        neighbours[r * k + j] = t ?? r;
        similarities[r * k + j] = t === undefined ? 0 : learner!.graph.scores[lr! * k + j]!;
      }
    });
    const groups = duplicateGroups({
      rows: images.length,
      contentKeys,
      hashWords: words,
      hasHash,
      neighbours,
      similarities,
      k,
    });
    return groups.map((group) => {
      const members = group.rows.map((r) => images[r]!);
      const labels = members.map((image) => data.labelOf.get(image.id)?.label ?? null);
      const distinct = new Set(labels.filter((l) => l !== null));
      const mixedLabels = distinct.size > 1;
      const how = group.exact ? 'identical copies' : 'near-duplicates';
      const reason = mixedLabels
        ? `${members.length} ${how} carry different labels (${[...distinct].join(', ')}): one of them is wrong, or they are one class`
        : `${members.length} ${how} (similarity ${group.similarity.toFixed(3)}): a duplicate inflates its class and can leak across a split`;
      const evidence = { labels, similarity: round(group.similarity), exact: group.exact, mixedLabels, reason };
      return newFinding('duplicate', members, data, group.exact ? 1 : group.similarity, evidence);
    });
  }
}

/** The learner the audit reads, with each row's cosine distance to the centroid of all embeddings. */
type AuditLearner = Learner & { readonly centroid: Float64Array };

interface AuditData {
  readonly images: readonly ImageRecord[];
  readonly imageById: ReadonlyMap<number, ImageRecord>;
  /** Every label (people's and accepted suggestions) by image. */
  readonly labelOf: ReadonlyMap<number, LabelRecord>;
  readonly excluded: ReadonlySet<number>;
}

async function loadAuditData(store: Store): Promise<AuditData> {
  const images = await store.listImages();
  return {
    images,
    imageById: new Map(images.map((image) => [image.id as number, image])),
    labelOf: new Map((await store.listLabels()).map((label) => [label.imageId as number, label])),
    excluded: new Set(await store.listExcluded()),
  };
}

/**
 * A finding's id: a fingerprint of its kind and, for each image, its content and label. A dismissal
 * is kept by id, so new content or a new label makes a new finding that is not dismissed.
 */
function fingerprint(kind: AuditKind, images: readonly ImageRecord[], data: AuditData): string {
  const parts = images.map((image) => `${image.contentHash}:${data.labelOf.get(image.id)?.label ?? ''}`).sort();
  return sha256(`${kind}\n${parts.join('\n')}`).slice(0, 24);
}

function newFinding(
  kind: AuditKind,
  images: readonly ImageRecord[],
  data: AuditData,
  score: number,
  evidence: Evidence,
): NewAuditFinding {
  return {
    id: fingerprint(kind, images, data),
    kind,
    score: round(Math.min(1, Math.max(0, score))),
    imageIds: images.map((image) => image.id),
    detail: evidence as unknown as Record<string, unknown>,
  };
}

/** The finding as it stands: undefined when an image is gone or the data changed since (its fingerprint moved). */
function toFinding(record: AuditFindingRecord, data: AuditData): AuditFinding | undefined {
  const images = record.imageIds.map((id) => data.imageById.get(id));
  if (images.some((image) => image === undefined)) return undefined;
  const present = images as ImageRecord[];
  if (fingerprint(record.kind, present, data) !== record.id) return undefined;
  return {
    ...(record.detail as unknown as Evidence),
    id: record.id,
    kind: record.kind,
    images: present.map((image) => image.path),
    imageIds: [...record.imageIds],
    score: record.score,
    dismissed: record.dismissed,
    excluded: record.imageIds.filter((id) => data.excluded.has(id)),
  } as unknown as AuditFinding;
}

/** Open: not dismissed, and not settled by exclusion (a duplicate group down to one image, an image excluded). */
function isOpen(finding: AuditFinding): boolean {
  if (finding.dismissed) return false;
  const included = finding.imageIds.length - finding.excluded.length;
  return included >= (finding.kind === 'duplicate' ? 2 : 1);
}

/** Perceptual hashes of every content, those not stored yet computed now and stored in batches (a crash keeps what was done). */
async function ensurePerceptualHashes(
  ctx: WorkspaceContext,
  maxPixels: number,
  images: readonly ImageRecord[],
  options: AuditRunOptions,
): Promise<Map<string, string>> {
  const { store } = ctx;
  const byContent = new Map<string, ImageRecord>();
  for (const image of images) if (!byContent.has(image.contentHash)) byContent.set(image.contentHash, image);
  const hashes = new Map(
    (await store.getPerceptualHashes([...byContent.keys()])).map((h) => [h.contentHash, h.hash] as const),
  );
  const missing = [...byContent.values()].filter((image) => !hashes.has(image.contentHash));
  if (missing.length === 0) return hashes;
  const tracker = new ProgressTracker('perceptual hashes', missing.length, options.onProgress);
  let batch: { contentHash: string; hash: string }[] = [];
  for await (const result of mapOrdered(missing, HASH_CONCURRENCY, async (image) => {
    options.signal?.throwIfAborted();
    try {
      return {
        contentHash: image.contentHash,
        hash: await perceptualHash(join(ctx.imagesRoot, image.path), maxPixels),
      };
    } catch {
      // An image that cannot be read now is left to the graph; the next audit tries again.
      return undefined;
    }
  })) {
    tracker.advance(1);
    if (!result) continue;
    hashes.set(result.contentHash, result.hash);
    batch.push(result);
    if (batch.length >= HASH_BATCH) {
      await store.putPerceptualHashes(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.putPerceptualHashes(batch);
  return hashes;
}

async function outlierFindings(data: AuditData, learner: AuditLearner | undefined): Promise<NewAuditFinding[]> {
  const out: NewAuditFinding[] = [];
  for (const image of data.images) {
    if (image.skipReason === null || !DECODE_FAILURES.includes(image.skipReason)) continue;
    const decodeError = `${SKIP_REASONS[image.skipReason]}${image.skipDetail ? `: ${image.skipDetail}` : ''}`;
    out.push(
      newFinding('outlier', [image], data, 1, {
        distanceRatio: 0,
        decodeError,
        reason: `the image could not be decoded (${decodeError}), so it is neither learned from nor suggested`,
      }),
    );
  }
  if (!learner || learner.size < 3) return out;
  // Small groups that keep to themselves: clusters of about 20 images at least.
  const clusters = Math.min(OUTLIER_CLUSTERS, Math.floor(learner.size / 20));
  const ratios = outlierRatios({
    rows: learner.size,
    neighbours: learner.graph.indices,
    similarities: learner.graph.scores,
    k: learner.graph.k,
    centroidDistance: learner.centroid,
    clusters: {
      count: clusters,
      assignment: (await sphericalKMeans(learner.math, learner.features, clusters)).assignment,
    },
  });
  const order = [...ratios.keys()]
    .filter((r) => ratios[r]! >= OUTLIER_MIN_RATIO)
    .sort((a, b) => ratios[b]! - ratios[a]!);
  const keep = Math.max(OUTLIER_KEEP, Math.ceil(OUTLIER_KEEP_SHARE * learner.size));
  for (const row of order.slice(0, keep)) {
    const image = data.imageById.get(learner.imageIdAt(row));
    if (!image) continue;
    const ratio = ratios[row]!;
    out.push(
      newFinding('outlier', [image], data, outlierScore(ratio), {
        distanceRatio: round(ratio),
        reason: `it stands ${ratio.toFixed(2)} times as far apart as usual (from its neighbours, from the centre of all images, or in a small group that keeps to itself): it may not belong in this data set`,
      }),
    );
  }
  return out;
}

async function labelErrorFindings(
  data: AuditData,
  learner: Learner,
  notes: string[],
  options: AuditRunOptions,
): Promise<NewAuditFinding[]> {
  // People's labels, random checks' answers included; accepted suggestions came from the model itself.
  const human = [...data.labelOf.values()].filter(
    (l) => HUMAN_LABEL_SOURCES.includes(l.source) && learner.rowOf(l.imageId) !== undefined,
  );
  const perClass = new Map<string, number>();
  for (const l of human) perClass.set(l.label, (perClass.get(l.label) ?? 0) + 1);
  const enough = [...perClass].filter(([, n]) => n >= MIN_LABELS_PER_CLASS).map(([name]) => name);
  const few = [...perClass].filter(([, n]) => n < MIN_LABELS_PER_CLASS).map(([name]) => name);
  if (enough.length < 2) {
    notes.push(
      enough.length === 1 && few.length === 0
        ? `the label-error audit needs labels in at least 2 classes, and all labels are in one class ("${enough[0]}"): label images of another class`
        : `the label-error audit needs at least 2 labelled classes with ${MIN_LABELS_PER_CLASS} labels each; label some images first`,
    );
    return [];
  }
  if (few.length > 0) {
    notes.push(
      `labels of ${few.map((n) => `"${n}"`).join(', ')} were not audited: a class needs ${MIN_LABELS_PER_CLASS} labels`,
    );
  }
  const audited = human.filter((l) => enough.includes(l.label));
  let tracker: ProgressTracker | undefined;
  const fit = await learner.fit(audited, {
    folds: AUDIT_FOLDS,
    configs: [AUDIT_PIPELINE],
    onStep: (done, total) => {
      options.signal?.throwIfAborted();
      tracker ??= new ProgressTracker('label errors', total, options.onProgress);
      tracker.advance(done - tracker.done);
    },
  });
  const heldOut = fit.crossValidation.heldOut;
  if (!heldOut) return [];
  const c = fit.classes.length;
  const classIndex = new Map(fit.classes.map((name, j) => [name, j]));
  const seeds = new Int32Array(learner.size).fill(-1);
  for (const l of audited) seeds[learner.rowOf(l.imageId)!] = classIndex.get(l.label)!;
  const rows = heldOut.rows;
  const given = Int32Array.from(rows, (row) => seeds[row]!);
  const { indices, scores, k } = learner.graph;
  // The labels of each row's nearest labelled neighbours, by similarity.
  const neighbourVotes = new Float32Array(rows.length * c);
  rows.forEach((row, i) => {
    let seen = 0;
    for (let j = 0; j < k && seen < LABEL_NEIGHBOURS; j++) {
      const t = indices[row * k + j]!;
      if (t === row || seeds[t]! < 0) continue;
      neighbourVotes[i * c + seeds[t]!]! += Math.max(0, scores[row * k + j]!);
      seen++;
    }
  });
  const candidates = findLabelErrors({ classes: c, probabilities: heldOut.scores, given, neighbourVotes });
  return candidates.flatMap((candidate) => {
    const row = rows[candidate.index]!;
    const image = data.imageById.get(learner.imageIdAt(row));
    if (!image) return [];
    const neighbours: { imageId: number; path: string; label: string; similarity: number }[] = [];
    for (let j = 0; j < k && neighbours.length < SHOWN_NEIGHBOURS; j++) {
      const t = indices[row * k + j]!;
      if (t === row || seeds[t]! < 0) continue;
      const other = data.imageById.get(learner.imageIdAt(t));
      if (other)
        neighbours.push({
          imageId: other.id,
          path: other.path,
          label: fit.classes[seeds[t]!]!,
          similarity: round(scores[row * k + j]!),
        });
    }
    const givenLabel = fit.classes[given[candidate.index]!]!;
    const likelyLabel = fit.classes[candidate.likely]!;
    const disagreeing = neighbours.filter((n) => n.label !== givenLabel).length;
    const reason =
      `labelled "${givenLabel}", but a model that never saw this label, with the labels of its neighbours, gives "${likelyLabel}" ` +
      `${percent(candidate.likelyProbability)} and "${givenLabel}" ${percent(candidate.givenProbability)}` +
      (neighbours.length > 0
        ? `; ${disagreeing} of its ${neighbours.length} nearest labelled neighbours are not "${givenLabel}"`
        : '');
    return [
      newFinding('label-error', [image], data, candidate.score, {
        givenLabel,
        likelyLabel,
        likelyProbability: round(candidate.likelyProbability),
        neighbours,
        reason,
      }),
    ];
  });
}

function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
