/**
 * @module The `label-studio` format: Label Studio's JSON export of tasks (an array, or one task
 * object), image classification. In: each task's `data.image` as written (upload, local-files, http
 * and bare paths are resolved by the import's matching), its annotations' `choices` (cancelled ones
 * left out, several annotators' choices together); drafts and reviews are not labels and are only
 * counted, nor are predictions, which `predictions` imports as suggestions (score = confidence). Out: one task per image, people's and accepted labels as annotations,
 * suggestions as predictions with `score` and `model_version` (the fit), so they show as
 * pre-annotations; Autolabel's status, confidence and origin in the task's `meta.autolabel`.
 */
import { z } from 'zod';
import { hasLabel } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import type { ExportRecord } from '../store/store.js';
import { ConfidenceSchema, entryOfRow, parseEntry, readJson, StatusSchema } from './entries.js';
import {
  defineFormat,
  type LabelEntry,
  type Prediction,
  type ReadContext,
  type ReadSession,
  type SniffInput,
  type SniffScore,
} from './format.js';
import { recordFields, renderedChunks } from './rows.js';

/** The labelling config the export's tasks fit (Label Studio's image classification template). */
export const LABEL_STUDIO_CONFIG =
  '<View><Image name="image" value="$image"/><Choices name="choice" toName="image"/></View>';

const ResultSchema = z.looseObject({
  type: z.string().optional(),
  value: z
    .looseObject({ choices: z.array(z.string(), { error: 'must be a list of class names' }).optional() })
    .optional(),
});
const ScoreSchema = z
  .number({ error: 'must be a number from 0 to 1' })
  .min(0, 'must be a number from 0 to 1')
  .max(1, 'must be a number from 0 to 1')
  .nullable()
  .optional();
/** A model's pre-annotation: its choices and score (on the prediction, or on a result). */
const PredictionSchema = z.looseObject({
  model_version: z.union([z.string(), z.number()]).nullable().optional(),
  score: ScoreSchema,
  result: z.array(ResultSchema.extend({ score: ScoreSchema }), { error: 'must be a list of results' }).optional(),
});
const AnnotationSchema = z.looseObject({
  result: z.array(ResultSchema, { error: 'must be a list of results' }).optional(),
  was_cancelled: z.boolean().nullable().optional(),
});
const TaskSchema = z.looseObject({
  data: z.looseObject({}, { error: 'must be an object holding the image' }),
  annotations: z.array(AnnotationSchema, { error: 'must be a list of annotations' }).optional(),
  /** What Label Studio before 1.0 called annotations. */
  completions: z.array(AnnotationSchema, { error: 'must be a list of annotations' }).optional(),
  predictions: z.array(z.unknown()).optional(),
  drafts: z.array(z.unknown()).optional(),
  meta: z
    .looseObject({
      autolabel: z
        .object({
          status: StatusSchema.nullable().optional(),
          confidence: ConfidenceSchema.optional(),
          origin: z.string().nullable().optional(),
          origin_detail: z.string().nullable().optional(),
        })
        .optional(),
    })
    .nullable()
    .optional(),
});
/** Label Studio's "JSON-MIN" export: one flat object per task, the choice under the control's name. */
const MinTaskSchema = z.looseObject({
  image: z.string({ error: 'must be a string naming the image' }).min(1, 'is empty'),
  choice: z.union([z.string(), z.looseObject({ choices: z.array(z.string()) })]).optional(),
});

const EXPECTED = 'expected a Label Studio JSON export: [{"data": {"image": ...}, "annotations": [...]}]';

/** The image of a task: `data.image`, else the one string in `data`. */
function imageOf(data: Record<string, unknown>, where: string): string {
  const image =
    data.image ??
    (() => {
      const strings = Object.values(data).filter((v) => typeof v === 'string');
      return strings.length === 1 ? strings[0] : undefined;
    })();
  if (typeof image !== 'string' || image === '') {
    throw new AutolabelError(
      'IMPORT_INVALID',
      `${where}: data.image: must be a string naming the image (data holds ${Object.keys(data).join(', ') || 'nothing'})`,
    );
  }
  return image;
}

async function read(source: string, ctx: ReadContext): Promise<ReadSession> {
  const data = await readJson(source);
  // A single task is exported (and posted) as one object, not a list.
  const single = !Array.isArray(data);
  const tasks: unknown[] = Array.isArray(data) ? data : [data];
  if (single && (typeof data !== 'object' || data === null || !('data' in data))) {
    throw new AutolabelError('IMPORT_INVALID', `${source}: not a task nor a list of tasks (${EXPECTED})`);
  }
  const counts = { predictions: 0, unscored: 0, drafts: 0, other: 0, cancelled: 0 };
  async function* entries(): AsyncGenerator<LabelEntry> {
    for (const [i, value] of tasks.entries()) {
      const at = single ? source : `${source}: [${i}]`;
      if (typeof value === 'object' && value !== null && !('data' in value) && 'image' in value) {
        const task = parseEntry(MinTaskSchema, value, at);
        const choice = task.choice;
        yield entryOfRow({
          where: `${at} (${task.image})`,
          image: { path: task.image },
          labels: choice === undefined ? [] : typeof choice === 'string' ? [choice] : choice.choices,
        });
        continue;
      }
      const task = parseEntry(TaskSchema, value, at);
      const image = imageOf(task.data, at);
      const labels: string[] = [];
      for (const annotation of task.annotations ?? task.completions ?? []) {
        if (annotation.was_cancelled === true) {
          counts.cancelled++;
          continue;
        }
        for (const result of annotation.result ?? []) {
          if (result.value?.choices !== undefined && (result.type === undefined || result.type === 'choices')) {
            for (const choice of result.value.choices) if (!labels.includes(choice)) labels.push(choice);
          } else counts.other++;
        }
      }
      let prediction: Prediction | undefined;
      if (ctx.predictions === true) {
        const read = predictionOf(task.predictions ?? [], at);
        prediction = read.prediction;
        counts.unscored += read.unscored;
      } else counts.predictions += task.predictions?.length ?? 0;
      counts.drafts += task.drafts?.length ?? 0;
      const autolabel = task.meta?.autolabel;
      const entry = entryOfRow({
        where: `${at} (${image})`,
        image: { path: image },
        labels,
        status: autolabel?.status,
        confidence: autolabel?.confidence,
        origin: autolabel?.origin,
        originDetail: autolabel?.origin_detail,
      });
      yield prediction === undefined ? entry : { ...entry, prediction };
    }
    const said = [
      counts.predictions > 0 &&
        `${counts.predictions} prediction${counts.predictions === 1 ? '' : 's'} (not labels; imported as suggestions when predictions are asked for)`,
      counts.unscored > 0 &&
        `${counts.unscored} prediction${counts.unscored === 1 ? '' : 's'} without a score (a suggestion needs one)`,
      counts.drafts > 0 && `${counts.drafts} draft${counts.drafts === 1 ? '' : 's'}`,
      counts.cancelled > 0 && `${counts.cancelled} cancelled annotation${counts.cancelled === 1 ? '' : 's'}`,
      counts.other > 0 && `${counts.other} result${counts.other === 1 ? '' : 's'} other than choices (regions, text)`,
    ].filter((s) => s !== false);
    if (said.length > 0) ctx.note(`${source}: not imported: ${said.join(', ')}`);
  }
  return { entries: entries() };
}

/**
 * A task's predictions as one suggestion: the choice of the best-scored prediction (its score on
 * the prediction, else on its result), the best other class as runner-up; predictions without
 * choices (regions) are not suggestions, and those without a score are counted.
 */
function predictionOf(values: readonly unknown[], at: string): { prediction?: Prediction; unscored: number } {
  const scored: { label: string; score: number; model: string | null }[] = [];
  let unscored = 0;
  for (const [j, value] of values.entries()) {
    const prediction = parseEntry(PredictionSchema, value, `${at}: predictions[${j}]`);
    const result = prediction.result?.find(
      (r) => r.value?.choices !== undefined && r.value.choices.length > 0 && (r.type ?? 'choices') === 'choices',
    );
    const label = result?.value?.choices?.[0];
    if (label === undefined) continue;
    const score = prediction.score ?? result?.score ?? null;
    if (score === null) {
      unscored++;
      continue;
    }
    scored.push({ label, score, model: prediction.model_version == null ? null : String(prediction.model_version) });
  }
  scored.sort((a, b) => b.score - a.score);
  const best = scored[0];
  if (best === undefined) return { unscored };
  const second = scored.find((p) => p.label !== best.label);
  return {
    prediction: {
      label: best.label,
      confidence: best.score,
      runnerUp: second?.label ?? null,
      runnerUpConfidence: second?.score ?? null,
      model: best.model,
    },
    unscored,
  };
}

function sniff(input: SniffInput): SniffScore {
  if (input.isDirectory) return 0;
  const head = input.head.replace(/^\ufeff/, '').trimStart();
  if (/^[[{]/.test(head) && /"data"\s*:\s*\{/.test(head) && /"(annotations|predictions|completions)"\s*:/.test(head))
    return 2;
  return 0;
}

const choice = (label: string) => ({
  from_name: 'choice',
  to_name: 'image',
  type: 'choices',
  value: { choices: [label] },
});

/** One task as written. */
export function labelStudioTask(row: ExportRecord): Record<string, unknown> {
  const { status, suggestion: s, confidence } = recordFields(row);
  return {
    // Label Studio serves files under LOCAL_FILES_DOCUMENT_ROOT (set it to the images folder) as /data/local-files/?d=<path>.
    data: { image: `/data/local-files/?d=${encodeURIComponent(row.path)}` },
    // Only people's labels and accepted suggestions are annotations: the store's row carries a suggestion's label too.
    annotations:
      hasLabel(status) && row.label !== null
        ? [{ result: [choice(row.label)], was_cancelled: false, ground_truth: false }]
        : [],
    predictions:
      s !== null
        ? [
            {
              model_version: `fit-${s.fitId}`,
              score: s.confidence,
              result: [{ ...choice(s.label), score: s.confidence }],
            },
          ]
        : [],
    meta: {
      autolabel: {
        status,
        confidence,
        origin: row.origin,
        origin_detail: row.originDetail,
      },
    },
  };
}

export const labelStudio = defineFormat({
  name: 'label-studio',
  description:
    "Label Studio's JSON tasks: choices on an image; out, labels as annotations and suggestions as predictions (score, model_version)",
  roundTrip:
    "people's labels (origin kept as provenance), accepted ones with their exact confidence (in each task's meta.autolabel); suggestions written as predictions, imported as suggestions only when predictions are asked for, never as labels",
  sniff,
  read,
  writer: {
    kind: 'file',
    mediaType: 'application/json',
    extension: 'json',
    async *chunks(rows, ctx) {
      yield '[';
      yield* renderedChunks(
        rows,
        ctx,
        (row, i) => `${i === 0 ? '' : ','}\n${JSON.stringify(labelStudioTask(row))}`,
        '\n]\n',
      );
    },
  },
});
