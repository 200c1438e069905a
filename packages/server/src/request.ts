/** @module Reading a request through a zod schema: a failure becomes a 400 that names the field (errors.ts). */
import type { Context } from 'hono';
import { z } from 'zod';
import { fromZod } from './errors.js';
import { requireJson } from './guard.js';

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'query' | 'body' | 'path'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZod(parsed.error, where);
  return parsed.data;
}

/** The JSON body, parsed by `schema`: a 415 without Content-Type: application/json, a 400 when it is not JSON. */
export async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  requireJson(c);
  const json: unknown = await c.req.json().catch(() => {
    throw fromZod(
      new z.ZodError([{ code: 'custom', path: [], message: 'the body must be JSON', input: undefined }]),
      'body',
    );
  });
  return parse(schema, json, 'body');
}

/** A positive integer id in the path (`:id`). */
export const IdSchema = z.object({ id: z.coerce.number().int().positive() });
