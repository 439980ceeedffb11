/**
 * How long to wait before looking again at an AWS resource in transition: half of the time it has
 * been in transition, between one second and `maxMs`. A knowledge base or data source that
 * settles in seconds is seen soon after; a collection that takes minutes is looked at every
 * `maxMs`, after a handful of early looks.
 */
export function pollDelay(since: Date | number | undefined, maxMs: number, nowMs: number = Date.now()): number {
  if (since === undefined) return maxMs;
  const age = nowMs - (since instanceof Date ? since.getTime() : since);
  if (!Number.isFinite(age)) return maxMs;
  return Math.round(Math.min(maxMs, Math.max(1_000, age / 2)));
}
