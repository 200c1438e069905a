/** @module @autolabel/test-utils: test fixtures generated at test time (no downloads): tiny ONNX models, a tiny model hub, awkward image files, a headless Chromium launcher, throwaway PostgreSQL and Redis servers, a stub of the app's server, image rows without files. Private: never part of a published package. */
export * from './images.js';
export * from './tiny-onnx.js';
export * from './browser.js';
export * from './tiny-hub.js';
export * from './tiny-clip.js';
export * from './servers.js';
export * from './stub-app.js';
export * from './synthetic-image.js';
