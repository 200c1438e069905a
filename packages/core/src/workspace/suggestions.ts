/** @module A workspace's suggestions: list them, read the latest fit's figures, and accept them as labels. */
import type { SuggestionRecord } from '../store/store.js';
import type { ChecksNeeded } from '../verify/certify.js';
import type { WorkspaceContext } from './context.js';
import { accuracyOf, type AccuracyFigure, summaryOf } from './fit-summary.js';
import { accept, type AcceptOptions, type AcceptResult } from './learning.js';

/** What the latest fit claims: its accuracy figure and what random checks certify. */
export interface FitFigures {
  readonly fitId: number;
  readonly accuracy: AccuracyFigure | null;
  /** Confidence at or above which suggestions are certified (auto); null when none are. */
  readonly threshold: number | null;
  readonly certified: number;
  /** What more random checks would certify; null when nothing more can be. */
  readonly next: ChecksNeeded | null;
}

export class WorkspaceSuggestions {
  readonly #ctx: WorkspaceContext;

  constructor(ctx: WorkspaceContext) {
    this.#ctx = ctx;
  }

  /** Suggestions of images that still have no label, most confident first. */
  async list(): Promise<SuggestionRecord[]> {
    return this.#ctx.store.listSuggestions();
  }

  /** The latest fit's figures, or null before the first fit. */
  async figures(): Promise<FitFigures | null> {
    const fit = await this.#ctx.store.latestFit();
    if (!fit) return null;
    const certificate = summaryOf(fit)?.certificate ?? null;
    return {
      fitId: fit.id,
      accuracy: accuracyOf(fit) ?? null,
      threshold: certificate?.threshold ?? null,
      certified: certificate?.certified ?? 0,
      next: certificate?.next ?? null,
    };
  }

  /**
   * Turns suggestions of the latest fit into labels (source `accepted`): the certified ones (`auto`),
   * those above a confidence, or a person's selection, all under one rule for out-of-date fits
   * (`acceptRefusal`). `newerLabels` in the result says how many labels the fit had not seen.
   */
  async accept(options: AcceptOptions): Promise<AcceptResult> {
    return accept(this.#ctx, options);
  }
}
