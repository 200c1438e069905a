/** @module What a class name may be: checked once here for every way labels come in. */
import { AutolabelError } from '../errors.js';

export const MAX_LABEL_LENGTH = 200;

/**
 * Trims and checks a class name. Slashes are refused because class names become folder names
 * in ImageFolder exports; control characters because they break every text format.
 */
export function normalizeLabel(raw: string, where: string): string {
  const label = raw.normalize('NFC').trim();
  if (label.length === 0) throw new AutolabelError('LABEL_INVALID', `${where}: the label is empty`);
  if (label.length > MAX_LABEL_LENGTH) {
    throw new AutolabelError('LABEL_INVALID', `${where}: the label is longer than ${MAX_LABEL_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) {
    throw new AutolabelError('LABEL_INVALID', `${where}: the label "${label}" contains control characters`);
  }
  if (/[/\\]/.test(label)) {
    throw new AutolabelError('LABEL_INVALID', `${where}: the label "${label}" contains a slash`);
  }
  if (label === '.' || label === '..')
    throw new AutolabelError('LABEL_INVALID', `${where}: "${label}" is not a usable label`);
  return label;
}

/** Image paths as people write them (./a.jpg, a\\b.jpg) to the stored form (a.jpg, a/b.jpg). */
export function normalizeImagePath(raw: string): string {
  let path = raw.trim().replaceAll('\\', '/');
  while (path.startsWith('./')) path = path.slice(2);
  return path.replace(/\/{2,}/g, '/');
}
