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
  // Invisible and direction-changing characters make two names look alike, or one read backwards.
  if (/[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/.test(label)) {
    throw new AutolabelError(
      'LABEL_INVALID',
      `${where}: the label "${label}" contains invisible or text-direction characters (zero-width or bidi controls)`,
    );
  }
  if (/[/\\]/.test(label)) {
    throw new AutolabelError('LABEL_INVALID', `${where}: the label "${label}" contains a slash`);
  }
  if (label === '.' || label === '..')
    throw new AutolabelError('LABEL_INVALID', `${where}: "${label}" is not a usable label`);
  return label;
}

/**
 * Image paths as people write them (./a.jpg, a\\b.jpg) to the stored form (a.jpg, a/b.jpg). Never
 * trimmed: " lead space.jpg" is a real file name. Callers that match a path can retry trimmed
 * (`imagePathCandidates`), for hand-written CSVs with a space after the comma.
 */
export function normalizeImagePath(raw: string): string {
  let path = raw.replaceAll('\\', '/');
  while (path.startsWith('./')) path = path.slice(2);
  return path.replace(/\/{2,}/g, '/');
}

/** The stored paths a written path may mean, in order: exactly as written, then trimmed. */
export function imagePathCandidates(raw: string): string[] {
  const exact = normalizeImagePath(raw);
  const trimmed = normalizeImagePath(raw.trim());
  return trimmed === exact ? [exact] : [exact, trimmed];
}

/** The form two class names share when they differ only in case, spacing, hyphens or underscores. */
function classKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/**
 * Warnings for new class names that look like existing ones ("T-Shirt" beside "t-shirt"): a typo
 * creates a class silently otherwise, and every count and key after it shifts.
 */
export function lookalikeClassWarnings(existing: readonly string[], given: readonly string[]): string[] {
  const known = new Set(existing);
  const byKey = new Map(existing.map((name) => [classKey(name), name]));
  const warnings: string[] = [];
  // A new name is compared with the existing classes and with the new names before it (one batch).
  for (const name of new Set(given)) {
    if (known.has(name)) continue;
    const twin = byKey.get(classKey(name));
    if (twin !== undefined) {
      const which = existing.includes(twin) ? 'the existing class' : 'the new class';
      warnings.push(`new class "${name}" looks like ${which} "${twin}"; is it a typo?`);
    }
    known.add(name);
    byKey.set(classKey(name), twin ?? name);
  }
  return warnings;
}
