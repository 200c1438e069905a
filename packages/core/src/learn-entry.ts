/**
 * @module @autolabel/core/learn: the learning, selection and verification internals (matrices, graphs,
 * heads, calibration, pick strategies, certification bounds) for the benchmarks and tests that study
 * them one by one. The CLI and the server use the workspace API of '@autolabel/core' instead.
 */
// First: onnxruntime's telemetry is off before anything can load it (util/onnxruntime.ts).
import './util/onnxruntime.js';
export * from './learn/index.js';
export * from './select/index.js';
export * from './verify/index.js';
// Benchmarks and tests that set up what no front end could (synthetic embeddings, fits) reach the store.
export { openPostgresStore, openSqliteStore, PostgresStore, SqliteStore } from './store/index.js';
export { storeOf } from './workspace/workspace.js';
// ONNX graph-writing helpers, for tools that write small models (the test fixtures in @autolabel/test-utils).
export * as onnxGraph from './learn/onnx-graph.js';
