/** @module `autolabel serve` in its own process, as users run it, for benchmarks that drive it from outside. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function serveInChild(workspace: string): Promise<{ url: string; close(): Promise<void>; log(): string }> {
  const bin = fileURLToPath(new URL('../../packages/cli/bin/autolabel.js', import.meta.url));
  const child = spawn(process.execPath, [bin, '--workspace', workspace, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`autolabel serve exited with ${code}: ${output}`)));
  });
  return {
    url,
    log: () => output,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}
