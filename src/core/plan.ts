/** Pure planning: given desired and observed state, the one action to take next. */
import { REASON } from '../api/v1alpha1/constants.js';
import type { Diff, Observation } from './observation.js';

/** The reason of an observation of a resource that carries our name but belongs to another owner. */
export const FOREIGN_REASON = 'NameConflict';

/**
 * Reasons of observations of resources that carry our name and are not ours: another owner's
 * (NameConflict), another account's bucket. A deletion passes them by untouched.
 */
export const NOT_OURS: ReadonlySet<string> = new Set([FOREIGN_REASON, REASON.BucketOwnedElsewhere]);

/**
 * A deleted predecessor's retained resource stops a deletion altogether: what the stack holds
 * without tags of its own (a tenant's prefix in the tier bucket, its vector index) is the
 * predecessor's data too, and would otherwise be deleted after the tagged resources are passed by.
 */
function stopsDeletion<O>(observation: Observation<O>): Action | undefined {
  if (observation.state !== 'failed' || observation.reason !== REASON.RetainedResourcesFound) return undefined;
  return {
    type: 'fail',
    reason: REASON.RetainedResourcesFound,
    message: `${observation.message}. Deleting this object with deletionPolicy Delete would delete the retained data: set deletionPolicy to Retain to let it go without touching AWS`,
  };
}

/** The next action for one resource. */
export type Action =
  | { type: 'create' }
  | { type: 'update'; diff: Diff }
  | { type: 'delete' }
  | { type: 'wait'; afterMs: number; reason: string; message: string }
  | { type: 'fail'; reason: string; message: string }
  | { type: 'none' };

/**
 * Decides the next action. Deleting (or a spec that says "must not exist") removes what exists
 * and waits out transitions; otherwise absent -> create, pending -> wait, failed -> fail,
 * ready with differences -> update, else nothing.
 */
export function planStep<O>(wantExists: boolean, observation: Observation<O>, diff: Diff, deleting: boolean): Action {
  const state = observation.state;
  if (deleting || !wantExists) {
    if (state === 'absent') return { type: 'none' };
    const stop = stopsDeletion(observation);
    if (stop) return stop;
    // Found by our name but owned by someone else: not ours to delete.
    if (state === 'failed' && NOT_OURS.has(observation.reason)) return { type: 'none' };
    if (state === 'pending')
      return { type: 'wait', afterMs: observation.retryAfterMs, reason: observation.reason, message: observation.message };
    return { type: 'delete' };
  }
  switch (state) {
    case 'absent':
      return { type: 'create' };
    case 'pending':
      return { type: 'wait', afterMs: observation.retryAfterMs, reason: observation.reason, message: observation.message };
    case 'failed':
      return { type: 'fail', reason: observation.reason, message: observation.message };
    case 'ready':
      return diff.length > 0 ? { type: 'update', diff } : { type: 'none' };
  }
}
