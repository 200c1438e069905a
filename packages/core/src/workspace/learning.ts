/** @module The learning jobs of a workspace: fit and suggest, pick what to label next, accept suggestions. */
import { join } from 'node:path';
import { AutolabelError, isAutolabelError, messageOf } from '../errors.js';
import { parseModelSpec } from '../embed/spec.js';
import { exportClassifierOnnx } from '../learn/export-onnx.js';
import { decodeHead, encodeHead } from '../learn/head-file.js';
import { expectedCalibrationError } from '../learn/calibration.js';
import { Learner, type LearnerFit, type SharedLearner } from '../learn/learner.js';
import { type NextStrategy, pickNext } from '../select/next.js';
import { HUMAN_LABEL_SOURCES, type ImageId } from '../domain/index.js';
import type { FitRecord, LabelRecord, NewSuggestion, Store } from '../store/store.js';
import type { HubOptions } from '../models/index.js';
import { type ProgressListener, ProgressTracker, stepReporter } from '../util/progress.js';
import {
  blendWithLearner,
  checkTemplates,
  DEFAULT_TEMPLATES,
  learnerOnly,
  scoreClasses,
  type SuggestionFit,
  zeroShotFit,
  type ZeroShotRecord,
} from '../zero-shot/index.js';
import {
  type Certificate,
  certify,
  type ClassPrecision,
  drawShare,
  estimateAccuracy,
  estimateClassPrecision,
  frameOf,
  type HeldOutCheck,
  type ScoredCheck,
} from '../verify/index.js';
import type { WorkspaceContext } from './context.js';
import { readConfig } from './config.js';
import { accuracyFigure, type AccuracyFigure, expectedAccuracyFigure, summaryOf } from './fit-summary.js';
import { type CheckCounts, type CheckEvidence, checkEvidence, countChecks, VERIFY_BATCH } from './checks.js';

export interface SuggestOptions {
  /** Auto-accept the largest region that random checks certify at precision >= this, at 95% confidence. */
  readonly targetPrecision?: number;
  readonly onProgress?: ProgressListener;
  /** A learner kept between fits (the server's); the caller closes it. Default: one for this call. */
  readonly learner?: Learner;
  /** With `learner`: reuse its last fit's calibration when the classes are unchanged (see Learner.fit). */
  readonly quick?: boolean;
  /**
   * Zero-shot from class names, for models with a text tower: `false` leaves it out; `templates`
   * replace the workspace config's (`zeroShot.templates`), each with `{}` for the class name.
   */
  readonly zeroShot?: false | { readonly templates?: readonly string[] };
  /** hf: models: the model cache and the hub (the text tower may need a download). */
  readonly hub?: HubOptions;
}

export interface SuggestResult {
  readonly fitId: number;
  readonly method: string;
  /** Calibration carried over from the previous fit (a quick refit). */
  readonly reused: boolean;
  readonly classes: readonly {
    readonly label: string;
    readonly labels: number;
    readonly suggested: number;
    /** Precision of this class's suggestions from random checks (95% interval); null without checks of it. */
    readonly precision: ClassPrecision | null;
  }[];
  readonly suggestions: number;
  readonly auto: number;
  readonly targetPrecision: number | null;
  /** Confidence at or above which suggestions are auto; null when nothing is certified. */
  readonly threshold: number | null;
  /** The certificate behind `auto`; null without a target. */
  readonly certificate: Certificate | null;
  readonly accuracy: AccuracyFigure;
  /** Where the temperature was fitted; `none`: zero-shot with no labels to calibrate on. */
  readonly calibratedOn: 'checks' | 'labels' | 'none';
  /** Zero-shot's part in the suggestions (null: the model has no text tower, or zero-shot is off). */
  readonly zeroShot: ZeroShotRecord | null;
  /** Calibration error of the held-out predictions it was fitted on. */
  readonly calibrationError: number;
  readonly checks: CheckCounts;
  readonly unembedded: number;
  readonly warnings: readonly string[];
  /** `save`: writing the fit and its suggestions. */
  readonly seconds: { readonly graph: number; readonly fit: number; readonly save: number; readonly total: number };
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
  /** Accept the certified suggestions (marked auto) of the latest fit. */
  readonly auto?: boolean;
  /** Accept these images' suggestions (a person chose them, e.g. in the review grid). */
  readonly imageIds?: readonly ImageId[];
}

export interface AcceptResult {
  readonly accepted: number;
  readonly fitId: number;
  /** Labels given since the fit: they do not touch its certificate, but the fit does not know them. */
  readonly newerLabels: number;
  /**
   * What `labels.undo` takes to make the accepted suggestions suggestions again (checks retired by
   * accepting a certified region stay retired); null when nothing was accepted.
   */
  readonly changeId: number | null;
}

/** The learner's graph build as progress: phase `graph`, counting images. */
export const GRAPH_PHASE = 'graph';

/**
 * A learner over every embedding of the workspace's model, its graph cached in the workspace; or, given
 * another thread's learner memory (`Learner.share`), one over that memory, with no copy of its own.
 * `onProgress` hears the graph build (phase `graph`), when the graph is not cached.
 */
export async function openLearner(
  ws: WorkspaceContext,
  shared?: SharedLearner,
  onProgress?: ProgressListener,
): Promise<Learner> {
  const modelId = await ws.modelId();
  const options = {
    cacheDir: join(ws.dir, 'cache'),
    reload: () => ws.store.loadEmbeddings(modelId),
    onGraphStep: stepReporter(GRAPH_PHASE, onProgress, 'images'),
  };
  if (shared) return Learner.fromShared(shared, options);
  // Read a page at a time: a big pool's raw vectors never sit whole beside its features.
  const page = (afterId: number, limit: number) => ws.store.loadEmbeddings(modelId, { afterId, limit });
  return Learner.create({ modelId, page }, options);
}

export async function suggest(ws: WorkspaceContext, options: SuggestOptions = {}): Promise<SuggestResult> {
  const started = performance.now();
  const modelId = await ws.modelId();
  // Another process's save in progress, or a read-only workspace: wait or fail before the fit, not after it.
  await ws.store.waitForFitLock();
  const learner = options.learner ?? (await openLearner(ws, undefined, options.onProgress));
  try {
    const allLabels = await ws.store.listLabels();
    // Images excluded by the audit are not learned from (the learner has no row for them either).
    const excluded = new Set<number>(await ws.store.listExcluded());
    const human = allLabels.filter((l) => HUMAN_LABEL_SOURCES.includes(l.source) && !excluded.has(l.imageId));
    const labelled = new Set(allLabels.map((l) => l.imageId as number));
    const evidence = await checkEvidence(ws.store);
    const answered = evidence.filter((e) => e.check.answer !== null);
    let tracker: ProgressTracker | undefined;
    const fitStarted = performance.now();
    const fit = await fitWithZeroShot(ws, learner, human, answered, options, () =>
      learner.fit(human, {
        quick: options.quick,
        checks: answered.map((e) => ({ imageId: e.check.imageId, weight: e.weight })),
        onStep: (done, total) => {
          tracker ??= new ProgressTracker('fit', total, options.onProgress);
          tracker.advance(done - tracker.done);
        },
      }),
    );
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const c = fit.classes.length;
    const top = (scores: Float32Array, offset: number): [number, number] => {
      let first = 0;
      let second = c > 1 ? 1 : 0;
      if (scores[offset + second]! > scores[offset + first]!) [first, second] = [second, first];
      for (let j = 2; j < c; j++) {
        const p = scores[offset + j]!;
        if (p > scores[offset + first]!) {
          second = first;
          first = j;
        } else if (p > scores[offset + second]!) second = j;
      }
      return [first, second];
    };
    const pool: { imageId: ImageId; first: number; second: number; confidence: number }[] = [];
    for (let row = 0; row < learner.size; row++) {
      const imageId = learner.imageIdAt(row);
      if (labelled.has(imageId)) continue;
      const [first, second] = top(fit.probabilities, row * c);
      pool.push({ imageId, first, second, confidence: fit.probabilities[row * c + first]! });
    }
    const poolConfidences = Float64Array.from(pool, (p) => p.confidence);
    const scoredChecks = heldOutChecks(evidence, fit, learner, top);
    const target = options.targetPrecision;
    const certificate =
      target === undefined
        ? null
        : certify(
            poolConfidences,
            scoredChecks.map((s) => s.held),
            {
              targetPrecision: target,
              drawShare: drawShare(
                frameOf(
                  [...poolConfidences].sort((a, b) => b - a),
                  target,
                  VERIFY_BATCH,
                  scoredChecks.map((s) => s.held.confidence),
                ),
                pool.length,
              ),
            },
          );
    const threshold = certificate?.threshold ?? null;
    const suggestions: NewSuggestion[] = [];
    const suggestedPerClass = new Array<number>(c).fill(0);
    for (const p of pool) {
      suggestedPerClass[p.first]!++;
      const row = learner.rowOf(p.imageId)!;
      suggestions.push({
        imageId: p.imageId,
        label: fit.classes[p.first]!,
        confidence: p.confidence,
        runnerUp: fit.classes[p.second]!,
        runnerUpConfidence: fit.probabilities[row * c + p.second]!,
        status: threshold !== null && p.confidence >= threshold ? 'auto' : 'suggested',
      });
    }
    const auto = suggestions.filter((s) => s.status === 'auto').length;
    const answeredScores = scoredChecks.filter((s) => !s.held.skipped).map((s) => s.scored);
    const fromChecks = estimateAccuracy(answeredScores);
    const accuracy =
      fit.zeroShot?.coldStart && !fromChecks
        ? expectedAccuracyFigure(fit.crossValidation.accuracy, answeredScores.length)
        : accuracyFigure(fromChecks, fit.crossValidation.accuracy, answeredScores.length);
    const precisionByClass = new Map(estimateClassPrecision(answeredScores).map((p) => [p.label, p]));
    const calibrationError =
      fit.calibratedOn === 'checks'
        ? expectedCalibrationError(answeredScores.map((s) => ({ confidence: s.confidence, correct: s.correct })))
        : fit.crossValidation.calibrationError;
    const checks = countChecks(await ws.store.listChecks());
    const summary = {
      method: fit.method,
      modelSpec: modelId,
      temperature: fit.temperature,
      calibratedOn: fit.calibratedOn,
      targetPrecision: target ?? null,
      certificate,
      accuracy,
      calibrationError,
      classPrecision: [...precisionByClass.values()],
      // Held-out predictions of the checks: [check id, confidence, right (1) or not, answer].
      checks: scoredChecks.map((s) => [s.id, Number(s.held.confidence.toFixed(4)), s.held.correct ? 1 : 0, s.answer]),
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
      zeroShot: fit.zeroShot,
    };
    const saveStarted = performance.now();
    const fitId = await ws.store.saveFit(
      {
        modelId,
        classes: fit.classes,
        labels: human.length - fit.labelsWithoutEmbedding,
        summary,
        head: encodeHead({ classes: fit.classes, transform: fit.transform ?? learner.transform, head: fit.head }),
      },
      suggestions,
    );
    const saveSeconds = (performance.now() - saveStarted) / 1000;
    return {
      fitId,
      method: fit.method,
      reused: fit.reused,
      classes: fit.classes.map((label, j) => ({
        label,
        labels: fit.labelCounts[label]!,
        suggested: suggestedPerClass[j]!,
        precision: precisionByClass.get(label) ?? null,
      })),
      suggestions: suggestions.length,
      auto,
      targetPrecision: target ?? null,
      threshold,
      certificate,
      accuracy,
      calibratedOn: fit.calibratedOn,
      calibrationError,
      zeroShot: fit.zeroShot,
      checks,
      unembedded: fit.labelsWithoutEmbedding,
      warnings: fit.warnings,
      seconds: {
        graph: learner.graphInfo.ms / 1000,
        fit: fitSeconds,
        save: saveSeconds,
        total: (performance.now() - started) / 1000,
      },
      graph: learner.graphInfo.how,
    };
  } finally {
    if (!options.learner) await learner.close();
  }
}

/**
 * The learner's fit with zero-shot from class names where the model has a text tower (zero-shot/):
 * pooled with it at the weight cross-validation prefers, or, with no labels in two classes yet and
 * two classes declared, zero-shot alone (a cold start). Zero-shot failing (a text tower that cannot
 * be downloaded, say) leaves the learner's fit as it is, with a warning; at a cold start it is the
 * error.
 */
async function fitWithZeroShot(
  ws: WorkspaceContext,
  learner: Learner,
  human: readonly LabelRecord[],
  answered: readonly CheckEvidence[],
  options: SuggestOptions,
  fitLearner: () => Promise<LearnerFit>,
): Promise<SuggestionFit> {
  const configured = (await readConfig(ws.dir)).zeroShot;
  const enabled = options.zeroShot !== false && configured?.enabled !== false;
  const templates = checkTemplates(
    (options.zeroShot !== false ? options.zeroShot?.templates : undefined) ??
      configured?.templates ??
      DEFAULT_TEMPLATES,
  );
  const scoring = {
    modelSpec: ws.modelSpec,
    templates,
    cacheDir: join(ws.dir, 'cache'),
    hub: options.hub,
    onProgress: options.onProgress,
  };
  let fit: LearnerFit;
  try {
    fit = await fitLearner();
  } catch (error) {
    if (!enabled || !isAutolabelError(error, 'NOT_ENOUGH_LABELS')) throw error;
    // A cold start: classes people declared (or labelled), no labels in two of them.
    const declared = (await ws.store.listClasses()).map((c) => c.name);
    const classes = [...new Set([...declared, ...human.map((l) => l.label)])].sort();
    if (classes.length < 2) throw error;
    const scored = await scoreClasses(learner, async () => classes, scoring);
    if (!scored.found) {
      throw new AutolabelError('NOT_ENOUGH_LABELS', `${error.message} (zero-shot from class names: ${scored.why})`, {
        cause: error,
        hint: error.hint,
      });
    }
    const index = new Map(classes.map((name, j) => [name, j]));
    const truth = new Int32Array(learner.size).fill(-1);
    let missing = 0;
    for (const label of human) {
      const row = learner.rowOf(label.imageId);
      if (row === undefined) missing++;
      else truth[row] = index.get(label.label)!;
    }
    const checkRows = Int32Array.from(
      answered.flatMap((e) => {
        const row = learner.rowOf(e.check.imageId);
        return row !== undefined && truth[row]! >= 0 ? [row] : [];
      }),
    );
    const warnings = [...scored.warnings];
    if (missing > 0)
      warnings.push(`${missing} labelled images have no embedding yet and were not used (embed them first)`);
    return zeroShotFit(scored.input, truth, checkRows, { labelsWithoutEmbedding: missing, warnings });
  }
  if (!enabled) return learnerOnly(fit);
  // Declared classes without labels yet are scored too: only zero-shot can suggest them.
  const classesOf = async (): Promise<string[]> => {
    const declared = (await ws.store.listClasses()).map((c) => c.name);
    return [...new Set([...fit.classes, ...declared])].sort();
  };
  let scored;
  try {
    scored = await scoreClasses(learner, classesOf, scoring);
  } catch (error) {
    return learnerOnly({
      ...fit,
      warnings: [...fit.warnings, `zero-shot from class names left out: ${messageOf(error)}`],
    });
  }
  if (!scored.found) return learnerOnly(fit);
  const index = new Map(fit.classes.map((name, j) => [name, j]));
  const truth = new Int32Array(learner.size).fill(-1);
  for (const label of human) {
    const row = learner.rowOf(label.imageId);
    const j = index.get(label.label);
    if (row !== undefined && j !== undefined) truth[row] = j;
  }
  const checks = answered.flatMap((e) => {
    const row = learner.rowOf(e.check.imageId);
    return row !== undefined && truth[row]! >= 0 ? [{ row, weight: e.weight }] : [];
  });
  const blended = blendWithLearner(
    { ...fit, warnings: [...fit.warnings, ...scored.warnings] },
    scored.input,
    truth,
    checks.length === 0
      ? null
      : { rows: Int32Array.from(checks, (c) => c.row), weights: Float64Array.from(checks, (c) => c.weight) },
  );
  return blended;
}

interface ScoredEvidence {
  readonly id: number;
  readonly answer: string | null;
  readonly held: HeldOutCheck;
  readonly scored: ScoredCheck;
}

/**
 * Each check scored by a prediction that did not see its answer: the fit's cross-fit over the checks;
 * for a check answered after the fit whose calibration a quick refit reused, the suggestion it was
 * drawn with (made before its answer existed); for a skipped check, the current prediction (there is
 * no answer to leak), counted as wrong.
 */
function heldOutChecks(
  evidence: readonly CheckEvidence[],
  fit: Pick<SuggestionFit, 'classes' | 'checks' | 'probabilities' | 'reused'>,
  learner: Learner,
  top: (scores: Float32Array, offset: number) => [number, number],
): ScoredEvidence[] {
  const c = fit.classes.length;
  const heldRow = new Map<number, number>();
  fit.checks?.rows.forEach((row, i) => heldRow.set(row, i));
  return evidence.flatMap(({ check, weight }) => {
    const row = learner.rowOf(check.imageId);
    let suggested: string;
    let confidence: number;
    const i = row === undefined ? undefined : heldRow.get(row);
    if (check.answer === null && row !== undefined) {
      const [first] = top(fit.probabilities, row * c);
      suggested = fit.classes[first]!;
      confidence = fit.probabilities[row * c + first]!;
    } else if (i !== undefined) {
      const [first] = top(fit.checks!.scores, i * c);
      suggested = fit.classes[first]!;
      confidence = fit.checks!.scores[i * c + first]!;
    } else if (fit.reused || row === undefined) {
      suggested = check.suggested;
      confidence = check.confidence;
    } else {
      return []; // a fold that could not hold it out (it would have left one class): no held-out prediction
    }
    const correct = check.answer !== null && check.answer === suggested;
    return [
      {
        id: check.id,
        answer: check.answer,
        held: { confidence, correct, weight, skipped: check.answer === null },
        scored: { confidence, correct, weight, suggested },
      },
    ];
  });
}

export interface NextOptions {
  readonly count?: number;
  readonly strategy?: NextStrategy;
  readonly seed?: number;
  /** A learner kept between calls (the server's); the caller closes it. */
  readonly learner?: Learner;
  /** The graph build, when a learner is made for this call and its graph is not cached. */
  readonly onProgress?: ProgressListener;
}

export async function next(ws: WorkspaceContext, options: NextOptions = {}): Promise<NextPick[]> {
  const modelId = await ws.modelId();
  const learner = options.learner ?? (await openLearner(ws, undefined, options.onProgress));
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
    // Suggestions with zero-shot in them know the classes without labels: `auto` asks where they are least sure.
    const zeroShot = (summaryOf(fit)?.zeroShot?.weight ?? 0) > 0;
    const picks = await pickNext(
      { math: learner.math, features: learner.features, graph: learner.graph, seeds, classes, probabilities, zeroShot },
      options.count ?? 20,
      options.strategy ?? 'auto',
      options.seed ?? 1,
    );
    const paths = new Map((await ws.store.listImages()).map((image) => [image.id as number, image.path]));
    const result = picks.map((pick) => {
      const imageId = learner.imageIdAt(pick.row);
      return { imageId, path: paths.get(imageId)!, strategy: pick.strategy, reason: pick.reason };
    });
    // A label given to a pick records that `next` chose its image (label origin).
    await ws.store.recordPicks(result);
    return result;
  } finally {
    if (!options.learner) await learner.close();
  }
}

/**
 * Turns suggestions of the latest fit into labels (source `accepted`), under one rule for fits that
 * are out of date (`acceptRefusal`). Accepting a certified region retires the checks that stood for
 * it: the rest still sample what is left.
 */
export async function accept(ws: WorkspaceContext, options: AcceptOptions): Promise<AcceptResult> {
  const ways = [options.auto === true, options.minConfidence !== undefined, options.imageIds !== undefined];
  if (ways.filter(Boolean).length !== 1) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      'say which suggestions to accept: the certified ones (auto), those above a confidence, or a list of images',
    );
  }
  const fit = await ws.store.latestFit();
  if (!fit) throw new AutolabelError('FIT_STALE', 'there are no suggestions yet: make suggestions first');
  const refusal = await acceptRefusal(ws.store, fit, await ws.modelId());
  if (refusal) throw new AutolabelError('FIT_STALE', `${refusal}; make suggestions again first`);
  const summary = summaryOf(fit);
  let chosen: ImageId[];
  let region: number | null = null;
  if (options.imageIds) {
    chosen = [...options.imageIds];
  } else {
    const auto = options.auto === true;
    region = auto ? (summary?.certificate?.threshold ?? null) : options.minConfidence!;
    chosen = (await ws.store.listSuggestions())
      .filter((s) => (auto ? s.status === 'auto' : s.confidence >= options.minConfidence!))
      .map((s) => s.imageId);
  }
  const { accepted, id: changeId } = await ws.store.changeLabels({ accept: chosen });
  if (region !== null && accepted > 0) {
    const retired = (summary?.checks ?? []).filter(([, confidence]) => confidence >= region).map(([id]) => id);
    await ws.store.retireChecks(retired, fit.id);
  }
  const newerLabels = (await ws.store.listLabels()).filter(
    (l) => HUMAN_LABEL_SOURCES.includes(l.source) && l.updatedAt > fit.createdAt,
  ).length;
  return { accepted, fitId: fit.id, newerLabels, changeId };
}

/**
 * The one rule for accepting from a fit that is out of date. Its suggestions were certified on random
 * checks it had not seen, so labels given since do not weaken that claim (the images they label are
 * simply no longer offered). Two things do: another model (the suggestions describe other
 * embeddings), and a changed or removed answer to a check the certificate used (its evidence).
 */
export async function acceptRefusal(store: Store, fit: FitRecord, modelId: string | null): Promise<string | null> {
  if (modelId !== null && fit.modelId !== modelId) {
    return 'the suggestions were made with another model than the workspace now uses';
  }
  const used = summaryOf(fit)?.checks ?? [];
  if (used.length === 0) return null;
  const answers = new Map((await store.listChecks()).map((c) => [c.id, c.answer]));
  const changed = used.filter(([id, , , answer]) => answer !== null && answers.get(id) !== answer).length;
  return changed > 0 ? `${changed} answers to random checks changed since the suggestions were made` : null;
}

/**
 * Writes the latest fit's linear part with the workspace's ONNX backbone as one ONNX classifier
 * (pixels -> probabilities; see learn/export-onnx.ts).
 */
export async function exportModel(
  ws: WorkspaceContext,
  out: string,
): Promise<{ fitId: number; classes: readonly string[] }> {
  const spec = parseModelSpec(ws.modelSpec);
  if (spec.kind !== 'onnx') {
    throw new AutolabelError(
      'MODEL_UNSUPPORTED',
      `exporting a classifier needs an onnx: backbone, and this workspace uses ${ws.modelSpec}; make a workspace with an onnx: model to export`,
    );
  }
  const fit = await currentFit(ws.store, await ws.modelId());
  if (!fit) {
    throw new AutolabelError('FIT_STALE', 'no fit for the current model yet', { hint: { action: 'suggest' } });
  }
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

/**
 * Why a fit no longer describes the workspace (another model, or labels changed since), or null:
 * whether new suggestions are due. Accepting follows its own rule, `acceptRefusal`.
 */
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
