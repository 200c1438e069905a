/** @module Workspaces: config, discovery and the operations the CLI and server call. */
export * from './config.js';
export * from './workspace.js';
export type {
  AcceptOptions,
  AcceptResult,
  AccuracyFigure,
  NextOptions,
  NextPick,
  SuggestOptions,
  SuggestResult,
} from './learning.js';
export { accuracyOf, summaryOf } from './learning.js';
export {
  checkEvidence,
  DEFAULT_TARGET_PRECISION,
  VERIFY_BATCH,
  type CheckCounts,
  type DrawOptions,
  type DrawResult,
  type VerifyStatus,
} from './checks.js';
