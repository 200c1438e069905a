/**
 * @module The verify loop of a workspace: draw random checks of the current suggestions, hand them to
 * people one at a time (or as a checklist), take answers and skips, and turn what was answered into
 * the evidence that certification and accuracy estimates rest on (see verify/).
 */
import { resolve } from 'node:path';
import { AutolabelError } from '../errors.js';
import { checklistChunks } from '../formats/checklist.js';
import { normalizeLabel } from '../labels/label.js';
import type { ImageId } from '../domain/index.js';
import type { CheckDrawRecord, CheckRecord, Store } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { type Certificate, checkWeights, frameShareOf, planDraw } from '../verify/index.js';
import type { WorkspaceContext } from './context.js';
import { summaryOf } from './fit-summary.js';

/** The default precision target of draws and the web app's progress line. */
export const DEFAULT_TARGET_PRECISION = 0.95;
/** Checks drawn at a time for people verifying one by one (the web app). */
export const VERIFY_BATCH = 20;
/** A check handed to a browser tab stays with it this long before another tab may take it. */
const CLAIM_LEASE_MS = 10 * 60_000;

export interface DrawOptions {
  readonly count: number;
  readonly seed?: number;
  readonly targetPrecision?: number;
}

export interface DrawResult {
  readonly drawId: number;
  readonly fitId: number;
  readonly checks: readonly CheckRecord[];
  readonly strata: CheckDrawRecord['strata'];
}

/** A check that counts as evidence: answered or skipped, and not retired by an accept. */
export interface CheckEvidence {
  readonly check: CheckRecord;
  readonly weight: number;
}

export interface CheckCounts {
  readonly drawn: number;
  readonly answered: number;
  readonly skipped: number;
  /** Drawn, neither answered nor skipped yet (some may have been labelled another way meanwhile). */
  readonly open: number;
  /** Answered or skipped checks that stood for a region since accepted: they certify nothing more. */
  readonly retired: number;
}

export interface VerifyStatus {
  readonly counts: CheckCounts;
  readonly targetPrecision: number;
  /** The latest fit's certificate at the target it was made for; null before any fit with a target. */
  readonly certificate: Certificate | null;
  readonly fitId: number | null;
}

/** Draws `count` random checks of the latest fit's suggestions (stratified; verify/design.ts). */
export async function drawChecks(store: Store, options: DrawOptions): Promise<DrawResult> {
  const fit = await store.latestFit();
  if (!fit) {
    throw new AutolabelError(
      'NOT_ENOUGH_LABELS',
      'there are no suggestions to verify yet: label a few images of at least two classes, then make suggestions',
    );
  }
  if (fit.classes.length < 2) {
    throw new AutolabelError('NOT_ENOUGH_LABELS', 'verifying needs suggestions in at least two classes');
  }
  const all = await store.listChecks();
  const drawn = new Set(all.map((c) => c.imageId as number));
  const pool = (await store.listSuggestions()).filter((s) => !drawn.has(s.imageId));
  if (pool.length === 0) {
    throw new AutolabelError('NOT_ENOUGH_LABELS', 'every suggestion has been labelled or drawn for a check already');
  }
  const target = options.targetPrecision ?? DEFAULT_TARGET_PRECISION;
  const seed = options.seed ?? (await store.listCheckDraws()).length + 1;
  const existing = all
    .filter((c) => c.retiredByFit === null && (c.answer !== null || c.skipped))
    .map((c) => c.confidence);
  // One campaign keeps one frame: the same target, and no accept has retired its checks since.
  const last = (await store.listCheckDraws()).at(-1);
  const keep =
    last && last.targetPrecision === target && !all.some((c) => c.drawId === last.id && c.retiredByFit !== null)
      ? frameShareOf(last.strata)
      : undefined;
  const plan = planDraw(pool, options.count, target, seed, existing, keep);
  const checks = await store.saveCheckDraw(
    { fitId: fit.id, targetPrecision: target, seed, strata: plan.strata },
    plan.checks.map((c) => ({
      imageId: c.imageId as ImageId,
      stratum: c.stratum,
      suggested: c.label,
      confidence: c.confidence,
    })),
  );
  return { drawId: checks[0]?.drawId ?? 0, fitId: fit.id, checks, strata: plan.strata };
}

/**
 * The next open check for one verifier (a browser tab); a new draw when none is open. Two verifiers
 * never hold the same check, and nobody is asked to check an image twice.
 */
export async function nextCheck(
  store: Store,
  client: string,
  targetPrecision?: number,
): Promise<CheckRecord | undefined> {
  const claimed = await store.claimCheck(client, CLAIM_LEASE_MS);
  if (claimed) return claimed;
  const pool = await store.listSuggestions();
  const drawn = new Set((await store.listChecks()).map((c) => c.imageId as number));
  if (!pool.some((s) => !drawn.has(s.imageId))) return undefined;
  await drawChecks(store, { count: VERIFY_BATCH, targetPrecision });
  return store.claimCheck(client, CLAIM_LEASE_MS);
}

/** The answered and skipped checks that are evidence, with their design weights. */
export async function checkEvidence(store: Store): Promise<CheckEvidence[]> {
  const draws = new Map((await store.listCheckDraws()).map((d) => [d.id, d.strata]));
  const responded = (await store.listChecks()).filter(
    (c) => (c.answer !== null || c.skipped) && c.retiredByFit === null,
  );
  const weights = checkWeights(draws, responded);
  return responded.map((check, i) => ({ check, weight: weights[i]! }));
}

export function countChecks(checks: readonly CheckRecord[]): CheckCounts {
  let answered = 0;
  let skipped = 0;
  let retired = 0;
  for (const c of checks) {
    if (c.answer !== null) answered++;
    else if (c.skipped) skipped++;
    if (c.retiredByFit !== null) retired++;
  }
  return {
    drawn: checks.length,
    answered,
    skipped,
    retired,
    open: checks.filter((c) => c.answer === null && !c.skipped && c.retiredByFit === null).length,
  };
}

/** A workspace's random checks: draw them, hand them out, take answers and skips, and say where they stand. */
export class WorkspaceChecks {
  readonly #ctx: WorkspaceContext;

  constructor(ctx: WorkspaceContext) {
    this.#ctx = ctx;
  }

  /** Draws random checks of the current suggestions (verify/design.ts). */
  async draw(options: DrawOptions): Promise<DrawResult> {
    return drawChecks(this.#ctx.store, options);
  }

  /** Draws checks and writes them as a checklist CSV to fill in and import. */
  async writeChecklist(options: DrawOptions & { readonly out: string }): Promise<DrawResult> {
    const draw = await this.draw(options);
    await writeFileAtomic(resolve(options.out), checklistChunks(draw.checks));
    return draw;
  }

  /** The next check for one verifier (a browser tab, by a client id); undefined when nothing is left. */
  async next(client: string, targetPrecision?: number): Promise<CheckRecord | undefined> {
    return nextCheck(this.#ctx.store, client, targetPrecision);
  }

  /** Answers a check with the image's true class (an existing class): a label that also trains. */
  async answer(id: number, label: string): Promise<CheckRecord> {
    const { store } = this.#ctx;
    const check = await this.#get(id);
    const name = normalizeLabel(label, 'label');
    if (!(await store.listClasses()).some((c) => c.name === name)) {
      throw new AutolabelError('CLASS_NOT_FOUND', `class "${name}" does not exist`);
    }
    await store.setLabels([{ imageId: check.imageId, label: name, source: 'manual' }]);
    return this.#get(id);
  }

  /** Marks a check skipped: it is not asked again, and it counts against certification (it confirmed nothing). */
  async skip(id: number): Promise<void> {
    await this.#get(id);
    await this.#ctx.store.skipCheck(id);
  }

  /** Checks drawn and answered, and the latest fit's certificate with its next step. */
  async status(): Promise<VerifyStatus> {
    const { store } = this.#ctx;
    const fit = await store.latestFit();
    const certificate = summaryOf(fit)?.certificate ?? null;
    return {
      counts: countChecks(await store.listChecks()),
      targetPrecision: certificate?.targetPrecision ?? DEFAULT_TARGET_PRECISION,
      certificate,
      fitId: fit?.id ?? null,
    };
  }

  async #get(id: number): Promise<CheckRecord> {
    const check = (await this.#ctx.store.listChecks()).find((c) => c.id === id);
    if (!check) throw new AutolabelError('IMAGE_NOT_FOUND', `no check with id ${id}`);
    return check;
  }
}
