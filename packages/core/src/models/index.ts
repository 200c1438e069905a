/** @module The model cache: hub models downloaded once (resumable, verified, locked), listed and removed. */
export { ensureHfModel, listCachedModels, removeCachedModel, snapshotDir } from './hub.js';
export type { CachedFile, CachedModel, EnsureOptions, HfSnapshot } from './hub.js';
export { filesFor, hasTextTower, towerFileName, type HubModelConfig, type ModelPart } from './files.js';
export { DEFAULT_ENDPOINT, defaultCacheDir, hubSettings, type HubOptions, type HubSettings } from './settings.js';
