/**
 * Quota and usage windows: the UTC day and the UTC calendar month. Every function takes the time
 * as an argument (from the injected clock), so window resets are testable to the millisecond.
 */

const DAY_MS = 86_400_000;

/** The UTC month of `at`, e.g. `2026-11`; the `window` of status.usage. */
export function monthKey(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The UTC day of `at`, e.g. `2026-11-05`. */
export function dayKey(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** 00:00 UTC of the day `at` falls in. */
export function startOfDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

/** 00:00 UTC of the next day: when a daily quota resets. */
export function nextDay(at: Date): Date {
  return new Date(startOfDay(at).getTime() + DAY_MS);
}

/** 00:00 UTC of the first day of the month `at` falls in. */
export function startOfMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** 00:00 UTC of the first day of the next month: when a monthly quota resets. */
export function nextMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** Whole days from the start of the month to the end of today: the per-day buckets a poll reads. */
export function daysSoFar(at: Date): number {
  return Math.round((nextDay(at).getTime() - startOfMonth(at).getTime()) / DAY_MS);
}
