/** @module Test fixtures generated at test time (no downloads): tiny ONNX models and awkward image files. */
export * from './images.js';
export * from './tiny-onnx.js';
export * from './browser.js';
