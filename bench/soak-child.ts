/**
 * @module Child entry for bench:soak: runs `autolabel serve` in this process (so its pid is the
 * server's, for /proc RSS and SIGKILL) and exits when its parent goes away, so no server outlives the
 * soak even when the soak itself is killed with SIGKILL.
 *
 *   node bench/dist/soak-child.js --workspace DIR serve --port N
 */

// The parent holds our stdin open; end of stdin means the parent is gone, however it died.
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();

// A computed URL, so this entry needs no build-time reference to the CLI package (as serve-child.ts).
const cli = (await import(new URL('../../packages/cli/dist/main.js', import.meta.url).href)) as {
  main(argv: readonly string[]): Promise<number>;
};
process.exitCode = await cli.main(process.argv.slice(2));
// stdin keeps the event loop alive; once the server closed cleanly there is nothing left to wait for.
process.exit();
