/** The ownership check every driver makes on a resource it found by its deterministic name. */
import { type OwnerRef, foreignOwner } from '../core/tags.js';
import { FOREIGN_REASON } from '../core/plan.js';
import type { Observation } from './managed-resource.js';

/**
 * `ready` when the found resource is ours (or untagged: a create of ours that crashed before
 * tagging), otherwise `failed` with reason NameConflict naming the other owner. `what` names the
 * resource in the message, e.g. `bucket rag-prod-t-acme-...`.
 */
export function readyIfOwned<O>(observed: O, tags: Record<string, string>, owner: OwnerRef, what: string): Observation<O> {
  const other = foreignOwner(tags, owner);
  if (!other) return { state: 'ready', observed };
  return {
    state: 'failed',
    observed,
    reason: FOREIGN_REASON,
    message: `${what} already belongs to ${other}: rename or delete one of them`,
  };
}
