/** @module The learning jobs of a workspace: fit and suggest, pick what to label next, accept suggestions. */
import { join } from 'node:path';
import { z } from 'zod';
import { AutolabelError } from '../errors.js';
import { parseModelSpec } from '../embed/spec.js';
import { exportClassifierOnnx } from '../learn/export-onnx.js';
import { decodeHead, encodeHead } from '../learn/head-file.js';
import { Learner } from '../learn/learner.js';
import { type NextStrategy, pickNext } from '../select/next.js';
import { HUMAN_LABEL_SOURCES, type FitRecord, type ImageId, type NewSuggestion, type Store } from '../store/store.js';
import { type ProgressListener, ProgressTracker } from '../util/progress.js';

export interface SuggestOptions {
  /** Auto-accept where precision >= this can be claimed at 95% confidence. */
  readonly targetPrecision?: number;
  readonly onProgress?: ProgressListener;
  /** A learner kept between fits (the server's); the caller closes it. Default: one for this call. */
  readonly learner?: Learner;
  /** With `learner`: reuse its last fit's calibration when the classes are unchanged (see Learner.fit). */
  readonly quick?: boolean;
}

export interface SuggestResult {
  readonly fitId: number;
  readonly method: string;
  /** Calibration and threshold carried over from the previous fit (a quick refit). */
  readonly reused: boolean;
  readonly classes: readonly { readonly label: string; readonly labels: number; readonly suggested: number }[];
  readonly suggestions: number;
  readonly auto: number;
  readonly targetPrecision: number | null;
  /** Confidence at or above which suggestions are auto; null when nothing can be auto-accepted. */
  readonly threshold: number | null;
  readonly precisionLowerBound: number | null;
  /** When the target cannot be claimed yet: about how many more labels it needs. */
  readonly moreLabelsNeeded: number | null;
  /** Cross-validated accuracy on the labelled images and the calibration error there. */
  readonly estimatedAccuracy: number;
  readonly calibrationError: number;
  readonly unembedded: number;
  readonly warnings: readonly string[];
  readonly seconds: { readonly graph: number; readonly fit: number; readonly total: number };
  readonly graph: 'cached' | 'extended' | 'built';
}

export interface NextPick {
  readonly imageId: ImageId;
  readonly path: string;
  readonly strategy: Exclude<NextStrategy, 'auto'>;
  readonly reason: string;
}

export interface AcceptOptions {
  /** Accept suggestions with confidence >= this. */
  readonly minConfidence?: number;
  /** Accept the suggestions marked auto by the latest fit. */
  readonly auto?: boolean;
}

export interface LearningContext {
  readonly store: Store;
  readonly dir: string;
  modelId(): Promise<string>;
}

/** A learner over every embedding of the workspace's model, its graph cached in the workspace. */
export async function openLearner(ws: LearningContext): Promise<Learner> {
  const embeddings = await ws.store.loadEmbeddings(await ws.modelId());
  return Learner.create(embeddings, { cacheDir: join(ws.dir, 'cache') });
}

export async function suggest(ws: LearningContext, options: SuggestOptions = {}): Promise<SuggestResult> {
  const started = performance.now();
  const modelId = await ws.modelId();
  const learner = options.learner ?? (await openLearner(ws));
  try {
    const allLabels = await ws.store.listLabels();
    const human = allLabels.filter((l) => HUMAN_LABEL_SOURCES.includes(l.source));
    const labelled = new Set(allLabels.map((l) => l.imageId as number));
    let tracker: ProgressTracker | undefined;
    const fitStarted = performance.now();
    const fit = await learner.fit(human, {
      targetPrecision: options.targetPrecision,
      quick: options.quick,
      onStep: (done, total) => {
        tracker ??= new ProgressTracker('fit', total, options.onProgress);
        tracker.advance(done - tracker.done);
      },
    });
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const c = fit.classes.length;
    const threshold = fit.threshold?.threshold ?? null;
    const suggestions: NewSuggestion[] = [];
    const suggestedPerClass = new Array<number>(c).fill(0);
    for (let row = 0; row < learner.size; row++) {
      const imageId = learner.imageIdAt(row);
      if (labelled.has(imageId)) continue;
      let first = 0;
      let second = c > 1 ? 1 : 0;
      if (fit.probabilities[row * c + second]! > fit.probabilities[row * c + first]!) [first, second] = [second, first];
      for (let j = 2; j < c; j++) {
        const p = fit.probabilities[row * c + j]!;
        if (p > fit.probabilities[row * c + first]!) {
          second = first;
          first = j;
        } else if (p > fit.probabilities[row * c + second]!) second = j;
      }
      const confidence = fit.probabilities[row * c + first]!;
      suggestedPerClass[first]!++;
      suggestions.push({
        imageId,
        label: fit.classes[first]!,
        confidence,
        runnerUp: fit.classes[second]!,
        runnerUpConfidence: fit.probabilities[row * c + second]!,
        status: threshold !== null && confidence >= threshold ? 'auto' : 'suggested',
      });
    }
    const auto = suggestions.filter((s) => s.status === 'auto').length;
    const summary = {
      method: fit.method,
      modelSpec: modelId,
      temperature: fit.temperature,
      targetPrecision: options.targetPrecision ?? null,
      threshold: fit.threshold,
      crossValidation: {
        folds: fit.crossValidation.folds,
        accuracy: fit.crossValidation.accuracy,
        accuracyByConfig: fit.crossValidation.accuracyByConfig,
        calibrationError: fit.crossValidation.calibrationError,
        predictions: fit.crossValidation.predictions.map((p) => [Number(p.confidence.toFixed(4)), p.correct ? 1 : 0]),
      },
      labelCounts: fit.labelCounts,
      warnings: fit.warnings,
      suggestions: suggestions.length,
      auto,
    };
    const fitId = await ws.store.saveFit(
      {
        modelId,
        classes: fit.classes,
        labels: human.length - fit.labelsWithoutEmbedding,
        summary,
        head: encodeHead({ classes: fit.classes, transform: learner.transform, head: fit.head }),
      },
      suggestions,
    );
    return {
      fitId,
      method: fit.method,
      reused: fit.reused,
      classes: fit.classes.map((label, j) => ({
        label,
        labels: fit.labelCounts[label]!,
        suggested: suggestedPerClass[j]!,
      })),
      suggestions: suggestions.length,
      auto,
      targetPrecision: options.targetPrecision ?? null,
      threshold,
      precisionLowerBound: fit.threshold && threshold !== null ? fit.threshold.precisionLowerBound : null,
      moreLabelsNeeded: fit.threshold && threshold === null ? fit.threshold.moreLabelsNeeded : null,
      estimatedAccuracy: fit.crossValidation.accuracy,
      calibrationError: fit.crossValidation.calibrationError,
      unembedded: fit.labelsWithoutEmbedding,
      warnings: fit.warnings,
      seconds: { graph: learner.graphInfo.ms / 1000, fit: fitSeconds, total: (performance.now() - started) / 1000 },
      graph: learner.graphInfo.how,
    };
  } finally {
    if (!options.learner) await learner.close();
  }
}

export interface NextOptions {
  readonly count?: number;
  readonly strategy?: NextStrategy;
  readonly seed?: number;
  /** A learner kept between calls (the server's); the caller closes it. */
  readonly learner?: Learner;
}

export async function next(ws: LearningContext, options: NextOptions = {}): Promise<NextPick[]> {
  const modelId = await ws.modelId();
  const learner = options.learner ?? (await openLearner(ws));
  try {
    const fit = await currentFit(ws.store, modelId);
    const classes = fit?.classes ?? [];
    const classIndex = new Map(classes.map((name, j) => [name, j]));
    const seeds = new Int32Array(learner.size).fill(-1);
    // Every labelled image is taken, whatever its class; classes the fit does not know count as covered.
    for (const label of await ws.store.listLabels()) {
      const row = learner.rowOf(label.imageId);
      if (row !== undefined) seeds[row] = classIndex.get(label.label) ?? classes.length;
    }
    let probabilities: Float32Array | undefined;
    const c = classes.length;
    if (fit && c >= 2) {
      // Rebuild top-two probabilities from the stored suggestions; the rest share what is left.
      probabilities = new Float32Array(learner.size * c).fill(1 / c);
      for (const s of await ws.store.listSuggestions()) {
        const row = learner.rowOf(s.imageId);
        if (row === undefined) continue;
        const rest = c > 2 ? (1 - s.confidence - (s.runnerUpConfidence ?? 0)) / (c - 2) : 0;
        probabilities.fill(Math.max(0, rest), row * c, (row + 1) * c);
        probabilities[row * c + classIndex.get(s.label)!] = s.confidence;
        if (s.runnerUp !== null) probabilities[row * c + classIndex.get(s.runnerUp)!] = s.runnerUpConfidence ?? 0;
      }
    }
    const picks = await pickNext(
      { math: learner.math, features: learner.features, graph: learner.graph, seeds, classes, probabilities },
      options.count ?? 20,
      options.strategy ?? 'auto',
      options.seed ?? 1,
    );
    const paths = new Map((await ws.store.listImages()).map((image) => [image.id as number, image.path]));
    return picks.map((pick) => {
      const imageId = learner.imageIdAt(pick.row);
      return { imageId, path: paths.get(imageId)!, strategy: pick.strategy, reason: pick.reason };
    });
  } finally {
    if (!options.learner) await learner.close();
  }
}

export async function accept(
  ws: LearningContext,
  options: AcceptOptions,
): Promise<{ accepted: number; fitId: number }> {
  if (options.auto === undefined && options.minConfidence === undefined) {
    throw new AutolabelError('INVALID_ARGUMENT', 'say which suggestions to accept: --auto or --min-confidence X');
  }
  const fit = await ws.store.latestFit();
  if (!fit) throw new AutolabelError('FIT_STALE', 'no suggestions yet: run autolabel suggest first');
  const stale = await staleness(ws.store, fit, await ws.modelId());
  if (stale) throw new AutolabelError('FIT_STALE', `${stale}: run autolabel suggest again first`);
  const chosen = (await ws.store.listSuggestions()).filter(
    (s) =>
      (options.auto !== true || s.status === 'auto') &&
      (options.minConfidence === undefined || s.confidence >= options.minConfidence),
  );
  const accepted = await ws.store.acceptSuggestions(chosen.map((s) => s.imageId));
  return { accepted, fitId: fit.id };
}

/**
 * Writes the latest fit's linear part with the workspace's ONNX backbone as one ONNX classifier
 * (pixels -> probabilities; see learn/export-onnx.ts).
 */
export async function exportModel(
  ws: LearningContext & { readonly modelSpec: string },
  out: string,
): Promise<{ fitId: number; classes: readonly string[] }> {
  const spec = parseModelSpec(ws.modelSpec);
  if (spec.kind !== 'onnx') {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `export-model needs an onnx: backbone, and this workspace uses ${ws.modelSpec} (a tfjs model); re-init with --model onnx:PATH to export`,
    );
  }
  const fit = await currentFit(ws.store, await ws.modelId());
  if (!fit) throw new AutolabelError('FIT_STALE', 'no fit for the current model yet: run autolabel suggest first');
  const stored = decodeHead(fit.head);
  await exportClassifierOnnx({
    backboneDir: spec.path,
    transform: stored.transform,
    head: stored.head,
    classes: stored.classes,
    out,
    metadata: { 'autolabel.fit': String(fit.id), 'autolabel.fit_created_at': fit.createdAt },
  });
  return { fitId: fit.id, classes: stored.classes };
}

/** Why a fit no longer describes the workspace (another model, or labels changed since), or null. */
export async function staleness(store: Store, fit: FitRecord, modelId: string | null): Promise<string | null> {
  if (modelId !== null && fit.modelId !== modelId) {
    return 'the suggestions were made with another model than the workspace now uses';
  }
  const changed = (await store.listLabels()).some(
    (l) => HUMAN_LABEL_SOURCES.includes(l.source) && l.updatedAt > fit.createdAt,
  );
  return changed ? 'labels changed since the suggestions were made' : null;
}

/** The latest fit if it was made with this model. */
async function currentFit(store: Store, modelId: string): Promise<FitRecord | undefined> {
  const fit = await store.latestFit();
  return fit?.modelId === modelId ? fit : undefined;
}

/** The parts of a fit's stored summary that are read back (the report, status). */
const FitSummarySchema = z.object({
  targetPrecision: z.number().nullable(),
  suggestions: z.number(),
  auto: z.number(),
  crossValidation: z.object({
    accuracy: z.number(),
    calibrationError: z.number(),
    predictions: z.array(z.tuple([z.number(), z.number()])),
  }),
});
type FitSummary = z.infer<typeof FitSummarySchema>;

/** A summary from an older or damaged fit reads as missing rather than failing the report. */
export function summaryOf(fit: FitRecord | undefined): FitSummary | undefined {
  const parsed = FitSummarySchema.safeParse(fit?.summary);
  return parsed.success ? parsed.data : undefined;
}
