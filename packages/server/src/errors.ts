/** @module The one place where errors become HTTP statuses and JSON bodies. */
import { type ApiError, AutolabelError, type ErrorCode } from '@autolabel/core';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type z } from 'zod';

const STATUS_BY_CODE: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  IMAGE_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  MODEL_UNSUPPORTED: 409,
  CLASS_NOT_FOUND: 404,
  LABEL_INVALID: 400,
  INVALID_ARGUMENT: 400,
  CSV_INVALID: 400,
  NOT_ENOUGH_LABELS: 409,
  NO_EMBEDDINGS: 409,
  FIT_STALE: 409,
  CLASS_EXISTS: 409,
  CLASS_IN_USE: 409,
  CHANGE_NOT_FOUND: 404,
  UNDO_CONFLICT: 409,
  UNAUTHORIZED: 401,
  IMAGES_ROOT_NOT_FOUND: 404,
  MISDIRECTED: 403,
  CROSS_SITE: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  ROUTE_NOT_FOUND: 404,
  IMAGE_UNREADABLE: 415,
};

/** Thrown for a request that fails its schema; names the field. */
export class BadRequest extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export function fromZod(error: z.ZodError, where: 'query' | 'body' | 'path'): BadRequest {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || where;
  return new BadRequest(field, `${where} field "${field}": ${issue?.message ?? 'invalid'}`);
}

export function errorResponse(error: unknown): { status: ContentfulStatusCode; body: ApiError } {
  if (error instanceof BadRequest) {
    return { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: error.message, field: error.field } } };
  }
  // decodeURIComponent of a path or query with a stray '%' (hono decodes params lazily).
  if (error instanceof URIError) {
    return {
      status: 400,
      body: {
        error: { code: 'INVALID_ARGUMENT', message: 'the URL is not valid: a "%" must start an escape like %20' },
      },
    };
  }
  if (error instanceof AutolabelError) {
    const { code, message, hint } = error;
    return { status: STATUS_BY_CODE[code] ?? 500, body: { error: { code, message, ...(hint ? { hint } : {}) } } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { code: 'INTERNAL', message } } };
}
