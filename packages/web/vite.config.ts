/** @module Builds the review app into dist/, which `autolabel serve` serves; `vite` alone proxies /api to a running server. */
import { defineConfig } from 'vite';

const API = 'http://127.0.0.1:4800';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/api': {
        target: API,
        changeOrigin: true,
        // The server answers only its own origin (no cross-site writes): the dev page's origin is vite's, so restate it.
        configure: (proxy) => proxy.on('proxyReq', (request) => request.setHeader('origin', API)),
      },
    },
  },
});
