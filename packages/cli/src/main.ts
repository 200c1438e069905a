/** @module CLI entry: runs the command tree and maps every failure to a message and an exit status. */
import { CommanderError } from 'commander';
import { describeError, EXIT, exitCodeOf } from './exit-codes.js';
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
  const program = buildProgram({
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help or the usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (!(controller.signal.aborted && exitCodeOf(error) === EXIT.interrupted)) {
      process.stderr.write(`${describeError(error)}\n`);
    }
    return exitCodeOf(error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
