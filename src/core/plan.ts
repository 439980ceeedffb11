/** Pure planning: given desired and observed state, the one action to take next. */
import { REASON } from '../api/v1alpha1/constants.js';
import type { Diff, Observation } from './observation.js';

/** The reason of an observation of a resource that carries our name but belongs to another owner. */
export const FOREIGN_REASON = 'NameConflict';

/**
 * Reasons of observations of resources that carry our name and are not ours: another owner's
 * (NameConflict), another account's bucket, a deleted predecessor's retained resource. A deletion
 * never touches them.
 */
export const NOT_OURS: ReadonlySet<string> = new Set([FOREIGN_REASON, REASON.BucketOwnedElsewhere, REASON.RetainedResourcesFound]);

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
