/** @module Where a worker thread's script is: built next to this module, or in dist when this module runs from source (tests). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built worker script `name` (e.g. `audit-worker.js`). */
export function workerFile(name: string): URL {
  const sibling = new URL(`./${name}`, import.meta.url);
  return existsSync(fileURLToPath(sibling)) ? sibling : new URL(`../dist/${name}`, import.meta.url);
}
