import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Model-heavy suites each use every core; running two at once only makes both slower.
    fileParallelism: false,
  },
});
