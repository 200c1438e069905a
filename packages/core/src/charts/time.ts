/** @module The time unit an axis counts in, chosen from the span it covers. */

export interface TimeUnit {
  /** Plural, as an axis title says it: "minutes since the first label". */
  readonly name: 'seconds' | 'minutes' | 'hours' | 'days';
  readonly ms: number;
}

const UNITS: readonly TimeUnit[] = [
  { name: 'seconds', ms: 1000 },
  { name: 'minutes', ms: 60_000 },
  { name: 'hours', ms: 3_600_000 },
  { name: 'days', ms: 86_400_000 },
];

/**
 * The largest unit in which `spanMs` is at least two: a 40-minute span counts in minutes (not 0.67
 * hours), 90 seconds in seconds, three days in days. Spans under two seconds count in seconds.
 */
export function timeUnitFor(spanMs: number): TimeUnit {
  let unit = UNITS[0]!;
  for (const candidate of UNITS) if (Number.isFinite(spanMs) && spanMs >= 2 * candidate.ms) unit = candidate;
  return unit;
}
