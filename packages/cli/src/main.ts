/** @module CLI entry: runs the command tree and maps every failure to a message and an exit status. */
import { CommanderError } from 'commander';
import { describeError, EXIT, exitCodeOf, jsonError } from './exit-codes.js';
import { buildProgram } from './program.js';

export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\nStopping after the work in flight is saved (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Options end at `--`; after it, "--json" would be an argument.
  const end = argv.indexOf('--');
  const jsonErrors = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  const program = buildProgram({
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    signal: controller.signal,
    jsonErrors,
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help or the usage error (or, with --json, left the error to us).
      if (error.exitCode === 0) return EXIT.ok;
      if (jsonErrors) process.stderr.write(`${jsonError(error)}\n`);
      return EXIT.usage;
    }
    if (jsonErrors) process.stderr.write(`${jsonError(error)}\n`);
    else if (!(controller.signal.aborted && exitCodeOf(error) === EXIT.interrupted)) {
      process.stderr.write(`${describeError(error)}\n`);
    }
    return exitCodeOf(error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
