/** @module Workspaces: config, discovery and the operations the CLI and server call. */
export * from './config.js';
export * from './workspace.js';
export type { AcceptOptions, NextOptions, NextPick, SuggestOptions, SuggestResult } from './learning.js';
export { summaryOf } from './learning.js';
