/** @module The one error type core throws, with a stable code for every failure a caller may handle. */

export const ERROR_CODES = [
  'WORKSPACE_NOT_FOUND',
  'WORKSPACE_EXISTS',
  'WORKSPACE_INVALID',
  'IMAGES_ROOT_NOT_FOUND',
  'CONFIG_INVALID',
  'MODEL_SPEC_INVALID',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'MODEL_RUN_FAILED',
  /** A model download failed: the host refused or stalled, or a file arrived with the wrong size or hash. */
  'MODEL_DOWNLOAD_FAILED',
  'CSV_INVALID',
  'IMPORT_INVALID',
  'IMAGE_NOT_FOUND',
  'LABEL_INVALID',
  'IO_FAILED',
  /** A file or folder named as input does not exist. */
  'FILE_NOT_FOUND',
  /** The workspace's model cannot do what was asked (export a tfjs backbone, say). */
  'MODEL_UNSUPPORTED',
  'ABORTED',
  'STORE_FAILED',
  'INVALID_ARGUMENT',
  'NOT_ENOUGH_LABELS',
  'NO_EMBEDDINGS',
  'FIT_STALE',
  'CLASS_NOT_FOUND',
  'CLASS_EXISTS',
  'CLASS_IN_USE',
  /** An undo names a change of labels that is not kept (unknown, or too old). */
  'CHANGE_NOT_FOUND',
  /** An undo is refused: the images were changed again since, or the change was undone already. */
  'UNDO_CONFLICT',
  'UNAUTHORIZED',
  /** The HTTP layer's own refusals: a Host it does not serve, a cross-site request, a body that is not JSON or too big, no such route, an image that cannot be shown. */
  'MISDIRECTED',
  'CROSS_SITE',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'ROUTE_NOT_FOUND',
  'IMAGE_UNREADABLE',
  'PORT_IN_USE',
  /** A native add-on (usearch's approximate neighbour search) cannot load on this machine. */
  'NATIVE_MODULE_FAILED',
  /** A job queue cannot be reached, or jobs on it failed after every try. */
  'QUEUE_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What a person can do next about an error, as data: core's messages say what is wrong, and each
 * front end words the way out in its own terms (a CLI command, a step in the web app).
 */
export const ERROR_ACTIONS = ['init', 'scan', 'embed', 'label', 'suggest', 'verify', 'pull-model'] as const;
export type ErrorAction = (typeof ERROR_ACTIONS)[number];
export interface ErrorHint {
  readonly action: ErrorAction;
  /** The model spec the action is about (`pull-model`). */
  readonly model?: string;
}

export class AutolabelError extends Error {
  override readonly name = 'AutolabelError';
  readonly code: ErrorCode;
  readonly hint: ErrorHint | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: ErrorHint }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options?.hint;
  }
}

export function isAutolabelError(error: unknown, code?: ErrorCode): error is AutolabelError {
  return error instanceof AutolabelError && (code === undefined || error.code === code);
}

/** The message of any thrown value, for reasons recorded next to skipped files. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
