/** @module What every command is given: the process's streams and folder, and the helpers all commands share. */
import type { Workspace } from '@autolabel/core';

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
  withWorkspace<T>(work: (workspace: Workspace) => Promise<T>): Promise<T>;
}

/** "Examples:" after a command's help: each line a command and what it does. */
export function examples(lines: readonly (readonly [command: string, what: string])[]): string {
  const width = Math.max(...lines.map(([command]) => command.length));
  return `\nExamples:\n${lines.map(([command, what]) => `  ${command.padEnd(width)}  # ${what}`).join('\n')}\n`;
}
