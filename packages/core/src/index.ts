/** @module @autolabel/core: the engine behind the CLI and the server. */
// First: onnxruntime's telemetry is off before anything can load it (util/onnxruntime.ts).
import './util/onnxruntime.js';
export * from './errors.js';
export { type Embedder, takesTensors, type TensorEmbedder } from './embed/embedder.js';
export { type TensorFormat, TensorWriter } from './image/tensor.js';
export { loadEmbedder, type LoadEmbedderOptions, pullModel, type PullOptions } from './embed/load.js';
export {
  type CachedModel,
  defaultCacheDir,
  type HfSnapshot,
  hubSettings,
  type HubOptions,
  type HubSettings,
  listCachedModels,
  removeCachedModel,
} from './models/index.js';
export { embedPending, type EmbedOptions, type EmbedResult } from './embed/pipeline.js';
export { DEFAULT_MODEL_SPEC, formatModelSpec, parseModelSpec } from './embed/spec.js';
export {
  EXPORT_FORMATS,
  FORMAT_NAMES,
  IMPORT_FORMATS,
  downloadOf,
  parseSplit,
  parseWhere,
  type ByteSink,
  type ExportFormat,
  type ExportedImage,
  type ExportOptions,
  type ExportResult,
  type FormatName,
  type ImportFormat,
} from './formats/index.js';
export { decodeRgb, readImageInfo, type ImageInfo } from './image/decode.js';
export { decodeJpegInWasm, decodesExactlyInWasm, isJpeg, readJpegHeader } from './image/jpeg.js';
export { IMAGE_EXTENSIONS, isImageName, scanImages, type ScanResult } from './image/scan.js';
export * from './domain/index.js';
export {
  MULTI_LABEL_RULES,
  type ImportOptions,
  type ImportResult,
  type MultiLabelRule,
  type SkippedEntry,
} from './labels/import.js';
// The Store port's record types (what the contract's answers carry); the store itself is core's own.
export type * from './store/store.js';
export { describeStoreUrl } from './store/store-url.js';
export type { Progress, ProgressListener } from './util/progress.js';
export * from './workspace/index.js';
export { runWorker, type RunWorkerOptions } from './workspace/worker.js';
export {
  parseQueueUrl,
  queueStatus,
  type EmbedJobResult,
  type QueueEmbedResult,
  type QueueStatus,
  type QueueWorkerSummary,
  type WorkerJobEvent,
} from './queue/index.js';
// What the CLI and the server use of learning: the learner a server keeps between fits, the map, the pick
// strategies, what certification still needs. The rest of learn/, select/ and verify/ is '@autolabel/core/learn'.
export { Learner, type LearnerFit, type LearnerOptions, type SharedLearner } from './learn/learner.js';
export { embeddingRows } from './store/embedding-rows.js';
export { MAP_SAMPLE, projectGraph, projectLearnerMap, type ProjectionOptions } from './learn/projection.js';
export { NEXT_STRATEGIES, type NextStrategy } from './select/next.js';
export type { Certificate, ChecksNeeded } from './verify/certify.js';
export { seededRandom } from './util/random.js';
export { sha256 } from './util/hash.js';
export * from './http/api.js';
export { writeFileAtomic } from './util/fs.js';
export { normalizeImagePath, normalizeLabel } from './labels/label.js';
