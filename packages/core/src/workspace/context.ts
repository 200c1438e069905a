/** @module What a workspace's use cases share: its store (private to core), folders and model. */
import type { Store } from '../store/store.js';

export interface WorkspaceContext {
  readonly store: Store;
  readonly dir: string;
  readonly imagesRoot: string;
  /** The workspace's model spec, any path resolved from where the workspace is now. */
  readonly modelSpec: string;
  /** The id the workspace model's embeddings are stored under; throws NO_EMBEDDINGS before any. */
  modelId(): Promise<string>;
}
