/** @module What the data quality audit reports: its findings, as `ws.audit` returns them and GET /api/audit answers. */
import type { AuditKind } from '../domain/index.js';

/** What every finding of the data quality audit carries. */
export interface AuditFindingBase {
  /** A fingerprint of kind, the images' content and their labels: a change of any makes a new finding. */
  readonly id: string;
  readonly kind: AuditKind;
  /** Paths relative to the images root: one image, or every image of a duplicate group. */
  readonly images: readonly string[];
  readonly imageIds: readonly number[];
  /** 0..1, higher = more likely a real problem; findings are ranked by it. */
  readonly score: number;
  /** One sentence a person reads. */
  readonly reason: string;
  /** Marked fine by a person (listed only when asked for). */
  readonly dismissed: boolean;
  /** Images of the finding that are excluded from learning and export. */
  readonly excluded: readonly number[];
}

/** A label that is likely wrong (confident learning on out-of-fold probabilities, plus the neighbours). */
export interface LabelErrorFinding extends AuditFindingBase {
  readonly kind: 'label-error';
  readonly givenLabel: string;
  readonly likelyLabel: string;
  /** Out-of-fold probability of `likelyLabel`. */
  readonly likelyProbability: number;
  /** The nearest labelled neighbours, most similar first (cosine similarity of the features). */
  readonly neighbours: readonly {
    readonly imageId: number;
    readonly path: string;
    readonly label: string;
    readonly similarity: number;
  }[];
}

/** A group of the same picture: exact copies, or resized, re-encoded or slightly cropped ones. */
export interface DuplicateFinding extends AuditFindingBase {
  readonly kind: 'duplicate';
  /** Each image's label (or suggestion), in the order of `images`; null without either. */
  readonly labels: readonly (string | null)[];
  /** The lowest similarity that links the group (cosine of features, or 1 - hash distance / 64). */
  readonly similarity: number;
  /** Every image has the same content hash or perceptual hash. */
  readonly exact: boolean;
  /** The group carries different labels. */
  readonly mixedLabels: boolean;
}

/** An image far from its neighbours compared with how close they are to theirs, or one that failed to decode. */
export interface OutlierFinding extends AuditFindingBase {
  readonly kind: 'outlier';
  /**
   * How far apart it stands compared with usual (1 = typical): the largest of its k-NN distance over
   * its neighbours' and the median's, its distance to the centre of all images over the median's, and
   * for a member of a small cluster that keeps to itself, that cluster's isolation; 0 for an image that
   * failed to decode.
   */
  readonly distanceRatio: number;
  /** Why the image could not be decoded, if that is the finding. */
  readonly decodeError?: string;
}

export type AuditFinding = LabelErrorFinding | DuplicateFinding | OutlierFinding;

/** Answer to GET /api/audit (and what `ws.audit.findings()` returns). */
export interface AuditResponse {
  readonly findings: readonly AuditFinding[];
  /** Open (not dismissed) findings per kind, of the whole audit (not just this page). */
  readonly counts: Readonly<Record<AuditKind, number>>;
  /** Images excluded from learning and export. */
  readonly excluded: number;
  /** When the findings were computed; null before the first audit. */
  readonly ranAt: string | null;
  /** Parts of the last audit that could not run, and why. */
  readonly notes: readonly string[];
}

/** Answer to POST /api/audit/findings/:id: the finding as it stands now, and the new counts. */
export interface AuditResolveResponse {
  readonly finding: AuditFinding;
  readonly counts: Readonly<Record<AuditKind, number>>;
  readonly excluded: number;
}
