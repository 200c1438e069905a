/** @module Finding the image a person means by a written path: as written, trimmed, or absolute inside the images folder. */
import { isAbsolute, relative, sep } from 'node:path';
import type { ImageRecord, Store } from '../store/store.js';
import { imagePathCandidates } from './label.js';

/**
 * The stored image a written path names: exactly as written first, then trimmed (a space after a
 * CSV comma); an absolute path inside `imagesRoot` (what tab completion gives) as its relative path.
 */
export async function findImageByWrittenPath(
  store: Store,
  raw: string,
  imagesRoot?: string,
): Promise<ImageRecord | undefined> {
  const written = [raw];
  if (imagesRoot !== undefined && isAbsolute(raw.trim())) {
    const rel = relative(imagesRoot, raw.trim());
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) written.push(rel.split(sep).join('/'));
  }
  for (const candidate of written.flatMap(imagePathCandidates)) {
    const image = await store.findImageByPath(candidate);
    if (image) return image;
  }
  return undefined;
}
