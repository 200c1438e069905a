export * from './calibration.js';
export { applyFeatureTransform, fitFeatureTransform, type FeatureTransform } from './features.js';
export {
  calibrate,
  fitLabels,
  MIN_CHECKS_FOR_CALIBRATION,
  type CheckRows,
  type CrossValidation,
  type FitOptions,
  type HeldOutScores,
  type LabelFit,
} from './fit.js';
export {
  buildKnnGraph,
  extendKnnGraph,
  normalizedAffinity,
  type KnnGraph,
  type NeighbourSearch,
  type SparseMatrix,
} from './graph.js';
export { ANN_MIN_ROWS, approximateKnnGraph, HnswIndex, HnswSearch, type HnswOptions } from './ann.js';
export type { NeighbourMode } from './graph-cache.js';
export { AFFINITY_K, GRAPH_K, Learner, type LearnerFit, type LearnerOptions } from './learner.js';
export { sphericalKMeans, type Clustering } from './kmeans.js';
export { headLogits, softmaxRows, trainLogistic, type LinearHead } from './logistic.js';
export { matrix, normalizeRows, rowOf, selectRows, type Matrix } from './matrix.js';
export { OrtMath, type Neighbours } from './ort-math.js';
export {
  PIPELINE_CONFIGS,
  predictHead,
  runPipeline,
  type LearnContext,
  type PipelineConfig,
} from './semi-supervised.js';
export { propagateLabels, seedMatrix } from './propagate.js';
export { decodeHead, encodeHead, type StoredHead } from './head-file.js';
export * from './export-onnx.js';
export {
  MAP_SAMPLE,
  projectGraph,
  projectLearnerMap,
  type LearnerMapInput,
  type ProjectionOptions,
} from './projection.js';
