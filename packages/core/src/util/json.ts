/** @module Reading JSON files checked by a zod schema, with errors that name the file and the field. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { AutolabelError, type ErrorCode, messageOf } from '../errors.js';

export async function readJsonFile<T extends z.ZodType>(file: string, schema: T, code: ErrorCode): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AutolabelError(code, `cannot read ${file}: ${messageOf(error)}`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AutolabelError(
      code,
      `${file}: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
