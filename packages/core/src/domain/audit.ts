/** @module The words of the data quality audit: the kinds of finding and what a person can do about one. */

/** What the audit looks for, each with what it means. */
export const AUDIT_KINDS = ['label-error', 'duplicate', 'outlier'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/**
 * What a person can do about a finding besides relabelling: `dismiss` (it is fine; it stays dismissed
 * until the data it names changes), `exclude` (leave its images out of learning and export), `include`
 * (undo an exclude).
 */
export const AUDIT_ACTIONS = ['dismiss', 'exclude', 'include'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
