/** @module The one place where errors become messages and exit statuses. */
import { AutolabelError, type ErrorAction, type ErrorCode, type ErrorHint, messageOf } from '@autolabel/core';
import { CommanderError } from 'commander';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, badInput: 4, model: 5, interrupted: 130 } as const;

const BY_CODE: Record<ErrorCode, number> = {
  WORKSPACE_NOT_FOUND: EXIT.notFound,
  WORKSPACE_EXISTS: EXIT.usage,
  WORKSPACE_INVALID: EXIT.badInput,
  IMAGES_ROOT_NOT_FOUND: EXIT.notFound,
  CONFIG_INVALID: EXIT.badInput,
  MODEL_SPEC_INVALID: EXIT.usage,
  MODEL_NOT_FOUND: EXIT.notFound,
  MODEL_INVALID: EXIT.model,
  MODEL_RUN_FAILED: EXIT.model,
  MODEL_DOWNLOAD_FAILED: EXIT.failure,
  CSV_INVALID: EXIT.badInput,
  IMPORT_INVALID: EXIT.badInput,
  IMAGE_NOT_FOUND: EXIT.notFound,
  LABEL_INVALID: EXIT.badInput,
  IO_FAILED: EXIT.failure,
  FILE_NOT_FOUND: EXIT.notFound,
  MODEL_UNSUPPORTED: EXIT.badInput,
  ABORTED: EXIT.interrupted,
  STORE_FAILED: EXIT.failure,
  INVALID_ARGUMENT: EXIT.usage,
  NOT_ENOUGH_LABELS: EXIT.badInput,
  NO_EMBEDDINGS: EXIT.badInput,
  FIT_STALE: EXIT.badInput,
  CLASS_NOT_FOUND: EXIT.notFound,
  CLASS_EXISTS: EXIT.badInput,
  CLASS_IN_USE: EXIT.badInput,
  CHANGE_NOT_FOUND: EXIT.notFound,
  UNDO_CONFLICT: EXIT.badInput,
  UNAUTHORIZED: EXIT.usage,
  MISDIRECTED: EXIT.usage,
  CROSS_SITE: EXIT.usage,
  UNSUPPORTED_MEDIA_TYPE: EXIT.badInput,
  PAYLOAD_TOO_LARGE: EXIT.badInput,
  ROUTE_NOT_FOUND: EXIT.notFound,
  IMAGE_UNREADABLE: EXIT.badInput,
  PORT_IN_USE: EXIT.usage,
  NATIVE_MODULE_FAILED: EXIT.failure,
  QUEUE_FAILED: EXIT.failure,
};

export function exitCodeOf(error: unknown): number {
  return error instanceof AutolabelError ? BY_CODE[error.code] : EXIT.failure;
}

/** Core's hints, worded as the command that does it. */
const HINTS: Record<ErrorAction, string> = {
  init: 'run autolabel init --images DIR to create a workspace, or pass --workspace',
  scan: 'run autolabel scan to pick up what changed in the images folder',
  embed: 'run autolabel embed',
  label: 'label images with autolabel label or autolabel import (autolabel next suggests which)',
  suggest: 'run autolabel suggest',
  verify: 'run autolabel verify',
  'pull-model': 'run autolabel models pull SPEC where the model host can be reached (see --cache-dir and HF_ENDPOINT)',
};

/** A hint as the command to run, for the model it names (in place of SPEC, or as embed's --model). */
function hintText(hint: ErrorHint): string {
  const text = HINTS[hint.action];
  if (hint.model === undefined) return text;
  return hint.action === 'embed' ? `${text} --model ${hint.model}` : text.replace('SPEC', hint.model);
}

/**
 * An error as one line of JSON for `--json` runs: `{"error": {code, message, hint?, exitStatus}}`,
 * the hint worded as the command to run, as in the text form.
 */
export function jsonError(error: unknown): string {
  if (error instanceof CommanderError) {
    const message = error.message.replace(/^error: /, '');
    return JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message, exitStatus: EXIT.usage } });
  }
  if (error instanceof AutolabelError) {
    const hint = error.hint ? { ...error.hint, text: hintText(error.hint) } : undefined;
    return JSON.stringify({
      error: { code: error.code, message: error.message, hint, exitStatus: BY_CODE[error.code] },
    });
  }
  return JSON.stringify({ error: { code: 'INTERNAL', message: messageOf(error), exitStatus: EXIT.failure } });
}

export function describeError(error: unknown): string {
  if (error instanceof AutolabelError) {
    return `error: ${error.message}${error.hint ? `\nhint: ${hintText(error.hint)}` : ''}`;
  }
  if (error instanceof Error) return `error: ${error.message}\n${error.stack ?? ''}`;
  return `error: ${String(error)}`;
}
