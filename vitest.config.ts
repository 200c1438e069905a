import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    // Tests load workers, the CLI and fixtures from dist: bring it up to date first, so a run never tests stale output.
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Model-heavy suites each use every core; running two at once only makes both slower.
    fileParallelism: false,
  },
});
