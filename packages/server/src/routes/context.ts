/** @module What every route module is given: the workspace (the one engine API) and the server's own parts. */
import type { Workspace } from '@autolabel/core';
import type { AuditRuns } from '../audit-runs.js';
import type { LiveModel } from '../live-model.js';
import type { EmbeddingMap } from '../map.js';
import type { MediaCache } from '../media.js';

export interface RouteContext {
  readonly workspace: Workspace;
  /** The background refits and the event stream. */
  readonly live: LiveModel;
  readonly media: MediaCache;
  readonly map: EmbeddingMap;
  /** The data quality audit running in the background, one at a time. */
  readonly audits: AuditRuns;
  /** The embedding queue shown on the dashboard (`serve --queue`), if any. */
  readonly queue?: string;
}

/** Labels changed: tell the open pages, and refit in the background. */
export function labelsChanged(live: LiveModel, imageIds: readonly number[]): void {
  live.emit({ type: 'labels', imageIds });
  live.labelsChanged();
}
