/** @module Image status: where an image stands, its values, and the one rule that derives it. */
import type { LabelSource } from './labels.js';

/** `auto`: confident enough to meet the precision target of the fit that made it; `suggested`: the rest. */
export type SuggestionStatus = 'auto' | 'suggested';

/**
 * Where an image stands. `labeled`: a person's label; `accepted`: a suggestion a person accepted;
 * `auto`: a suggestion that meets the precision target, not yet accepted; `suggested`: any other
 * suggestion; `unlabeled`: neither a label nor a suggestion.
 */
export const IMAGE_STATUSES = ['labeled', 'accepted', 'auto', 'suggested', 'unlabeled'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];
/** The statuses of an image that has a class (a label or a suggestion): every one but `unlabeled`. */
export const CLASS_STATUSES = ['labeled', 'accepted', 'auto', 'suggested'] as const satisfies readonly ImageStatus[];

/** What the status of an image is derived from: its label's source and its current suggestion's status. */
export interface StatusInputs {
  /** The source of the image's label; null when it has none. */
  readonly source: LabelSource | null;
  /** The status of the image's current suggestion; null when it has none. */
  readonly suggestionStatus: SuggestionStatus | null;
}

/**
 * The one derivation of an image's status: a label (an accepted suggestion, else a person's) wins over
 * a suggestion. The Store computes the same in SQL (store/sqlite/statements.ts, `IMAGE_STATUS_SQL`).
 */
export function imageStatus({ source, suggestionStatus }: StatusInputs): ImageStatus {
  if (source === 'accepted') return 'accepted';
  if (source !== null) return 'labeled';
  return suggestionStatus ?? 'unlabeled';
}

/** Statuses whose image carries a label: a person's, or a suggestion a person accepted. */
export function hasLabel(status: ImageStatus): status is 'labeled' | 'accepted' {
  return status === 'labeled' || status === 'accepted';
}

/** Statuses whose image carries only a suggestion (certified or not). */
export function hasSuggestion(status: ImageStatus): status is 'auto' | 'suggested' {
  return status === 'auto' || status === 'suggested';
}
