/** @module Builds the review app into dist/, which `autolabel serve` serves; `vite` alone proxies /api to a running server. */
import { defineConfig } from 'vite';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:4800' } },
});
