/** @module Workspaces: config, discovery, and the one API of use cases the CLI, the server and the benchmarks call. */
export * from './config.js';
export {
  DEFAULT_WORKSPACE_DIR,
  findWorkspace,
  initWorkspace,
  openWorkspace,
  Workspace,
  type EmbedJobOptions,
  type InitOptions,
  type JobOptions,
  type OpenWorkspaceOptions,
  type WorkspaceStats,
  type WorkspaceStatus,
} from './workspace.js';
export type { WorkspaceImages, ImagesPage, ImagesQueryOptions } from './images.js';
export type { WorkspaceLabels, LabelChange, LabelChangeResult, LabelUndoResult } from './labels.js';
export type { WorkspaceClasses } from './classes.js';
export type { MapClasses } from './map.js';
export type {
  AuditFindingsOptions,
  AuditResolveOptions,
  AuditRunOptions,
  AuditRunResult,
  WorkspaceAudit,
} from './audit.js';
export type { WorkspaceSuggestions, FitFigures } from './suggestions.js';
export type { AccuracyFigure } from './fit-summary.js';
export type { AcceptOptions, AcceptResult, NextOptions, NextPick, SuggestOptions, SuggestResult } from './learning.js';
export {
  checkEvidence,
  DEFAULT_TARGET_PRECISION,
  VERIFY_BATCH,
  type CheckCounts,
  type DrawOptions,
  type DrawResult,
  type VerifyStatus,
  type WorkspaceChecks,
} from './checks.js';
