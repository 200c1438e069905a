/** @module Tiny flag parsing shared by the benchmark scripts. */
import { parseArgs } from 'node:util';

export function benchArgs<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(
  usage: string,
  options: T,
): Record<keyof T, string | boolean | undefined> {
  try {
    return parseArgs({ options, allowPositionals: false }).values as unknown as Record<
      keyof T,
      string | boolean | undefined
    >;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nusage: ${usage}\n`);
    process.exit(2);
  }
}

export function intArg(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive whole number, got ${String(value)}\n`);
    process.exit(2);
  }
  return n;
}
