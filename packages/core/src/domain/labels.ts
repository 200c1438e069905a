/** @module Labels: who gave one (source) and how its image came to be labelled (origin). */

/** Who gave a label: a person (`manual`, `import`) or a person accepting a suggestion (`accepted`). Fits learn from people only. */
export type LabelSource = 'manual' | 'import' | 'accepted';

export const HUMAN_LABEL_SOURCES: readonly LabelSource[] = ['manual', 'import'];

/**
 * How the image of a person's label came to be labelled, which decides what the label can prove:
 * `verify` (drawn at random for a check, verify/design.ts: an unbiased test point), `next` (picked
 * by `next`: informative, not random), `chosen` (the person's own pick) or `import`.
 */
export type LabelOrigin = 'next' | 'verify' | 'chosen' | 'import';
export const LABEL_ORIGINS: readonly LabelOrigin[] = ['next', 'verify', 'chosen', 'import'];
