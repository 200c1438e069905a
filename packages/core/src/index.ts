/** @module @autolabel/core: the engine behind the CLI and the server. */
export * from './errors.js';
export type { Embedder } from './embed/embedder.js';
export { loadEmbedder, type LoadEmbedderOptions } from './embed/load.js';
export { embedPending, type EmbedOptions, type EmbedResult } from './embed/pipeline.js';
export { DEFAULT_MODEL_SPEC, formatModelSpec, parseModelSpec } from './embed/spec.js';
export { EXPORT_FORMATS, type ExportFormat, type ExportedImage } from './formats/export.js';
export { decodeRgb, readImageInfo, type ImageInfo } from './image/decode.js';
export { IMAGE_EXTENSIONS, isImageName, scanImages, type ScanResult } from './image/scan.js';
export * from './domain/index.js';
export type { ImportResult } from './labels/import.js';
export * from './store/index.js';
export type { Progress, ProgressListener } from './util/progress.js';
export * from './workspace/index.js';
export * from './learn/index.js';
// ONNX graph-writing helpers, for tools that write small models (the test fixtures in @autolabel/test-utils).
export * as onnxGraph from './learn/onnx-graph.js';
export * from './select/index.js';
export { seededRandom } from './util/random.js';
export { sha256 } from './util/hash.js';
export * from './report/index.js';
export * from './api/contract.js';
export { writeFileAtomic } from './util/fs.js';
export { normalizeImagePath, normalizeLabel } from './labels/label.js';
export * from './verify/index.js';
