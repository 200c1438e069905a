/**
 * @module The HTTP API's contract, shared by the server (which validates with these schemas) and the
 * web app (which imports the types, type-only). Paths are under /api.
 */
import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_KINDS, IMAGE_STATUSES, type ImageId, type ImageStatus } from '../domain/index.js';
import { type ErrorCode, type ErrorHint, messageOf } from '../errors.js';
import { EXPORT_FORMATS } from '../formats/registry.js';
import { parseSplit } from '../formats/split.js';
import { bothFilters, checkFilter, parseWhere } from '../formats/where.js';
import { NEXT_STRATEGIES } from '../select/next.js';
import { HTTP_LIMITS } from './limits.js';
import type { CheckRecord, ClassInfo } from '../store/store.js';
import type { ChecksNeeded } from '../verify/certify.js';
import type { Progress } from '../util/progress.js';
import type { QueueStatus } from '../queue/status.js';
import type { VerifyStatus } from '../workspace/checks.js';
import type { AccuracyFigure } from '../workspace/fit-summary.js';
import type { ImagesPage } from '../workspace/images.js';
import type { LabelChangeResult, LabelUndoResult } from '../workspace/labels.js';
import type { AcceptResult, NextPick } from '../workspace/learning.js';
import type { WorkspaceStats } from '../workspace/workspace.js';

export type { ImagesPage };
export { HTTP_LIMITS };

const confidence = z.coerce.number().min(0).max(1);

/** GET /api/images */
export const ImagesQuerySchema = z.object({
  /** Comma-separated image ids: look images up by id. */
  ids: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'a comma-separated list of image ids')
    .transform((value) => value.split(',').map(Number) as ImageId[])
    .refine((ids) => ids.length <= HTTP_LIMITS.imageIds, `at most ${HTTP_LIMITS.imageIds} ids`)
    .optional(),
  status: z.enum(IMAGE_STATUSES).optional(),
  label: z.string().min(1).optional(),
  minConfidence: confidence.optional(),
  maxConfidence: confidence.optional(),
  /** `rank`: the order `next` recommends (unlabelled images only; other filters do not apply). */
  sort: z.enum(['path', 'confidence', '-confidence', 'rank']).default('path'),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(HTTP_LIMITS.pageSize).default(100),
});
export type ImagesQuery = z.infer<typeof ImagesQuerySchema>;

/** PUT /api/images/:id/label; answers LabelResult (DELETE answers it too, with label null). */
export const LabelBodySchema = z.object({ label: z.string() });

/** POST /api/labels: many labels (or clears, label null) in one transaction. */
export const BulkLabelsBodySchema = z.object({
  items: z
    .array(z.object({ imageId: z.number().int().positive(), label: z.string().nullable() }))
    .min(1)
    .max(HTTP_LIMITS.bulkLabels),
});
export type BulkLabelsBody = z.infer<typeof BulkLabelsBodySchema>;
/** Answer to POST /api/labels; `changeId` undoes it (POST /api/labels/undo). */
export type BulkLabelsResponse = Pick<LabelChangeResult, 'labeled' | 'cleared' | 'warnings' | 'changeId'>;

/**
 * POST /api/labels/undo: the changes to undo (the `changeId`s of answers to POST /api/labels and
 * POST /api/accept), all in one transaction. 409 when an image was changed again since, or a change
 * was undone already; 404 for a change not kept (the latest 100 are).
 */
export const UndoLabelsBodySchema = z.object({
  changeIds: z.array(z.number().int().positive()).min(1).max(100),
});
export type UndoLabelsBody = z.infer<typeof UndoLabelsBodySchema>;
/** Answer to POST /api/labels/undo: the changes undone (newest first) and the images whose labels came back. */
export type UndoLabelsResponse = LabelUndoResult;

/**
 * POST /api/accept: the suggestions of these images (a person's selection), or every certified one
 * (`auto: true`); both under core's one rule for out-of-date fits. Answers AcceptResult.
 */
export const AcceptBodySchema = z
  .object({
    imageIds: z.array(z.number().int().positive()).min(1).max(HTTP_LIMITS.acceptIds).optional(),
    auto: z.literal(true).optional(),
  })
  .refine((b) => (b.imageIds === undefined) !== (b.auto === undefined), {
    path: ['imageIds'],
    message: 'give one of imageIds (a list of images) and auto: true (the certified suggestions)',
  });
/** Answer to POST /api/accept; `changeId` undoes it (POST /api/labels/undo). */
export type AcceptResponse = AcceptResult;

/** POST /api/verify/next: who is asking (a browser tab's own random id; two ids never share a check). */
export const VerifyNextBodySchema = z.object({ client: z.string().trim().min(1).max(200) });
/** POST /api/verify/:id/answer: the image's true class, an existing class. */
export const VerifyAnswerBodySchema = z.object({ label: z.string() });

/** GET /api/verify, and with every verify answer. */
export interface VerifyResponse {
  readonly status: VerifyStatus;
}
/** POST /api/verify/next and /api/verify/:id/answer. */
export interface VerifyCheckResponse extends VerifyResponse {
  /** The check handed out or answered; null when none is left (or before the first fit). */
  readonly check: CheckRecord | null;
}

/** POST /api/classes */
export const ClassBodySchema = z.object({ name: z.string() });
/** PATCH /api/classes/:name: rename, or merge into an existing class. */
export const ClassChangeBodySchema = z.union([
  z.object({ rename: z.string() }).strict(),
  z.object({ mergeInto: z.string() }).strict(),
]);
/** DELETE /api/classes/:name?labels=keep|clear: a class with labels is only deleted with labels=clear. */
export const ClassDeleteQuerySchema = z.object({ labels: z.enum(['keep', 'clear']).default('keep') });
/** Answer to DELETE /api/classes/:name. */
export interface ClassDeleteResponse extends ClassesResponse {
  readonly removedLabels: number;
}

/** GET /api/next */
export const NextQuerySchema = z.object({
  count: z.coerce.number().int().min(1).max(HTTP_LIMITS.nextPicks).default(20),
  strategy: z.enum(NEXT_STRATEGIES).default('auto'),
});
/** Answer to GET /api/next: the picks in order, each with its reason. */
export interface NextResponse {
  readonly picks: readonly NextPick[];
}

/** GET /api/map: the 2-D map of the embeddings (202 while it is computed, in the background). */
export type MapState =
  | {
      readonly state: 'ready';
      /** Names this layout (its images and model): GET /api/map/classes says which one it follows. */
      readonly version: string;
      readonly ids: readonly number[];
      readonly xy: readonly number[];
    }
  | {
      readonly state: 'computing';
      /** `graph`: the learner's neighbour graph, in images (first, once per image set); else layout epochs. */
      readonly phase?: 'graph' | 'layout';
      readonly done: number;
      readonly total: number;
    }
  | { readonly state: 'failed'; readonly message: string };

/**
 * GET /api/map/classes: what every point of the map is coloured by, in one answer at any size, in the
 * order of the points of map `map` (its `version`): `classOf` and `status` are base64 of the arrays of
 * MapClasses (little-endian Uint16, Uint8). Its ETag is `version`: If-None-Match answers 304 while the
 * labels, suggestions and map are unchanged. Before the map is ready, the map's own state (202 or failed).
 */
export type MapClassesState =
  | {
      readonly state: 'ready';
      readonly map: string;
      readonly version: string;
      readonly classes: readonly string[];
      readonly classOf: string;
      readonly status: string;
    }
  | Exclude<MapState, { readonly state: 'ready' }>;

/**
 * GET /api/export: the export as an attachment, in any format (folder formats as a tar archive).
 * Which images: `where` in the syntax of the CLI's `--where` (`status=auto,suggested label=cat
 * min-confidence=0.8`) and/or the filters of GET /api/images (`status` may list several, comma-
 * separated); all must hold. None: the format's default. `split` and `seed` for folder formats.
 */
export const ExportQuerySchema = z
  .object({
    format: z.enum(EXPORT_FORMATS).default('csv'),
    where: z.string().max(2000).optional(),
    status: z
      .string()
      .transform((value, ctx) => {
        const statuses = value.split(',');
        const bad = statuses.find((s) => !(IMAGE_STATUSES as readonly string[]).includes(s));
        if (bad === undefined) return statuses as ImageStatus[];
        ctx.addIssue({ code: 'custom', message: `"${bad}" is not a status (expected ${IMAGE_STATUSES.join(', ')})` });
        return z.NEVER;
      })
      .optional(),
    label: z.string().min(1).optional(),
    minConfidence: confidence.optional(),
    maxConfidence: confidence.optional(),
    split: z.string().max(100).optional(),
    seed: z.coerce.number().int().min(0).default(0),
  })
  .transform((query, ctx) => {
    const { format, where, split, seed, label, ...filters } = query;
    const given = Object.fromEntries(
      Object.entries({ ...filters, label: label === undefined ? undefined : [label] }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    const attempt = <T>(field: string, work: () => T): T => {
      try {
        return work();
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [field], message: messageOf(error) });
        return z.NEVER;
      }
    };
    const fromWhere = where === undefined ? undefined : attempt('where', () => parseWhere(where));
    const filter =
      fromWhere === undefined && Object.keys(given).length === 0
        ? undefined
        : attempt('where', () => bothFilters(fromWhere ?? {}, checkFilter(given)));
    return { format, filter, split: split === undefined ? undefined : attempt('split', () => parseSplit(split)), seed };
  })
  .refine((q) => q.split === undefined || q.format === 'imagefolder' || q.format === 'yolo-cls', {
    path: ['split'],
    message: 'only folder formats (imagefolder, yolo-cls) split',
  });
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

export interface LabelResult {
  readonly imageId: number;
  readonly label: string | null;
  /** A new class name that looks like an existing one (a typo?). */
  readonly warnings: readonly string[];
}

/** Answer to GET /api/classes, and to adding, renaming and merging one. */
export interface ClassesResponse {
  readonly classes: readonly ClassInfo[];
}

export interface ModelState {
  /** The fit the suggestions come from, or null before the first. */
  readonly fitId: number | null;
  readonly state: 'idle' | 'waiting' | 'fitting' | 'failed';
  /** Why the last refit failed (e.g. labels in one class only). */
  readonly message: string | null;
  /** The latest fit's accuracy figure and what it rests on (random checks, or chosen labels). */
  readonly accuracy: AccuracyFigure | null;
  readonly targetPrecision: number | null;
  readonly threshold: number | null;
  /** Suggestions certified at the target, and what more checks would certify. */
  readonly certified: number;
  readonly next: ChecksNeeded | null;
  /**
   * The learner's neighbour graph while it is built (phase `graph`, images, rate, time left): the
   * server's first refit and its map wait for it. Absent or null otherwise.
   */
  readonly progress?: Progress | null;
}

/** GET /api/queue: the embedding queue the server was started with (`serve --queue`), or null without one. */
export interface QueueResponse {
  readonly queue: QueueStatus | null;
}

/** GET /api/stats: the workspace's figures and the live model's state. */
export interface StatsResponse extends WorkspaceStats {
  readonly model: ModelState;
}

export type {
  AuditFinding,
  AuditResolveResponse,
  AuditResponse,
  DuplicateFinding,
  LabelErrorFinding,
  OutlierFinding,
} from '../audit/findings.js';

/** GET /api/audit: the persisted findings of the last audit, most likely first. */
export const AuditQuerySchema = z.object({
  kind: z.enum(AUDIT_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
  /** `true`: dismissed findings too (marked `dismissed`). */
  includeDismissed: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
/** POST /api/audit/findings/:id: what to do about a finding (relabelling goes through the label routes). */
export const AuditResolveBodySchema = z.object({
  action: z.enum(AUDIT_ACTIONS),
  /** `exclude` / `include`: only these images of the finding (a duplicate group's "keep one"); default all. */
  imageIds: z.array(z.number().int().positive()).min(1).max(1000).optional(),
});

/** POST /api/audit/run: the kinds to audit (default all); the findings of other kinds stay as they were. */
export const AuditRunBodySchema = z.object({ kinds: z.array(z.enum(AUDIT_KINDS)).min(1).max(10).optional() });

/** The server's audit run (GET and POST /api/audit/run, and `audit` events): one at a time, in the background. */
export interface AuditRunState {
  readonly state: 'idle' | 'running' | 'done' | 'failed';
  /** The running audit's latest progress (phase, count, rate, time left); null before its first report. */
  readonly progress: Progress | null;
  /** Why the last run failed. */
  readonly message: string | null;
  readonly hint?: ErrorHint;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** Server-sent events on GET /api/events. */
export type ServerEvent =
  | { readonly type: 'labels'; readonly imageIds: readonly number[] }
  | { readonly type: 'model'; readonly model: ModelState }
  /** The audit run moved on, or a finding was decided: pages read GET /api/audit again. */
  | { readonly type: 'audit'; readonly run: AuditRunState };

/** Every error answer: a stable code, a message naming the field, and what a person can do about it. */
export interface ApiError {
  readonly error: {
    readonly code: ErrorCode | 'INTERNAL';
    readonly message: string;
    /** The request field that failed its schema (`items.3.label`). */
    readonly field?: string;
    readonly hint?: ErrorHint;
  };
}
