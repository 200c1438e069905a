/** @module What every command is given: the process's streams and folder, and the helpers all commands share. */
import { resolve } from 'node:path';
import { AutolabelError, type OpenWorkspaceOptions, type Progress, type Workspace } from '@autolabel/core';
import type { z } from 'zod';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
  /** Aborted on Ctrl-C; long jobs stop after the batch in flight. */
  readonly signal: AbortSignal;
  /** `--json` was given: errors are printed as JSON too (main.ts), usage errors included. */
  readonly jsonErrors?: boolean;
}

export interface GlobalFlags {
  workspace?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  readonly io: CliIo;
  /** Prints `human`, or with --json the data as JSON, on stdout. */
  print(human: string, data: unknown): void;
  /** Opens the workspace (--workspace, else found from the current folder), runs `work`, closes it. */
  withWorkspace<T>(work: (workspace: Workspace) => Promise<T>, options?: OpenWorkspaceOptions): Promise<T>;
  /** A progress line on stderr (none with -q); `done` finishes it. */
  progress(unit: string): { onProgress: (progress: Progress) => void; done: () => void };
}

/** Flags checked by a zod schema; a failure names the flag as typed (`--batch-size`). */
export function parseFlags<T extends z.ZodType>(schema: T, flags: unknown): z.infer<T> {
  const parsed = schema.safeParse(flags);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path
      .map((part) => `--${String(part).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
      .join(' ');
    throw new AutolabelError('INVALID_ARGUMENT', `${flag || 'arguments'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** onnx specs carry a path: make it absolute from where the command was run. */
export function resolveSpec(cwd: string, spec: string): string {
  return spec.startsWith('onnx:') ? `onnx:${resolve(cwd, spec.slice(5))}` : spec;
}

/** "Examples:" after a command's help: each line a command and what it does. */
export function examples(lines: readonly (readonly [command: string, what: string])[]): string {
  const width = Math.max(...lines.map(([command]) => command.length));
  return `\nExamples:\n${lines.map(([command, what]) => `  ${command.padEnd(width)}  # ${what}`).join('\n')}\n`;
}
