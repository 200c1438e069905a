/** @module Progress reports for long jobs: what a CLI bar or an HTTP client needs to show count, rate and ETA. */

export interface Progress {
  readonly phase: string;
  readonly done: number;
  /** Null while the total is still being counted. */
  readonly total: number | null;
  /** Items per second since the job started. */
  readonly rate: number;
  /** Seconds left at the current rate; null when unknown. */
  readonly etaSeconds: number | null;
  /** What `done` and `total` count: the front end's items (the default), bytes (downloads) or images. */
  readonly unit?: 'bytes' | 'images';
  /** A word on how the work goes, shown after the ETA (a queue's jobs open and workers alive). */
  readonly note?: string;
}

export type ProgressListener = (progress: Progress) => void;

/** Tracks one job's count and turns it into Progress reports. */
export class ProgressTracker {
  readonly #started = performance.now();
  #done = 0;

  constructor(
    readonly phase: string,
    readonly total: number | null,
    private readonly listener: ProgressListener | undefined,
    readonly unit?: 'images',
  ) {}

  get done(): number {
    return this.#done;
  }

  advance(count: number): void {
    this.#done += count;
    this.report();
  }

  report(): void {
    if (!this.listener) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const left = this.total === null ? null : Math.max(0, this.total - this.#done);
    this.listener({
      phase: this.phase,
      done: this.#done,
      total: this.total,
      rate,
      etaSeconds: left === null || rate === 0 ? null : left / rate,
      ...(this.unit ? { unit: this.unit } : {}),
    });
  }
}

/**
 * A `(done, total)` callback, as learn/ reports its steps, that reports to `listener` as `phase`
 * (rate and ETA from the first step on); undefined without a listener.
 */
export function stepReporter(
  phase: string,
  listener: ProgressListener | undefined,
  unit?: 'images',
): ((done: number, total: number) => void) | undefined {
  if (!listener) return undefined;
  let tracker: ProgressTracker | undefined;
  return (done, total) => {
    tracker ??= new ProgressTracker(phase, total, listener, unit);
    tracker.advance(done - tracker.done);
  };
}
