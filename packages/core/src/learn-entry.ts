/**
 * @module @autolabel/core/learn: the learning, selection and verification internals (matrices, graphs,
 * heads, calibration, pick strategies, certification bounds) for the benchmarks and tests that study
 * them one by one. The CLI and the server use the workspace API of '@autolabel/core' instead.
 */
export * from './learn/index.js';
export * from './select/index.js';
export * from './verify/index.js';
