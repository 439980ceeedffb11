/**
 * What a driver's `observe` found and how it differs from the spec: the inputs of `planStep`.
 * Pure data, so the planning in core needs nothing from `resources/`.
 */

/** What `observe` found. */
export type Observation<O> =
  | { state: 'absent' }
  | { state: 'ready'; observed: O }
  | { state: 'pending'; observed: O; reason: string; message: string; retryAfterMs: number }
  | { state: 'failed'; observed: O; reason: string; message: string };

/** Differences between desired and observed, by field, for logs and update calls. */
export type Diff = string[];
