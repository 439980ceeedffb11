/** The ownership check every driver makes on a resource it found by its deterministic name. */
import { ANNOTATIONS, REASON } from '../api/v1alpha1/constants.js';
import { MANAGED_BY, type OwnerRef, TAG, foreignOwner, retainedFrom } from '../core/tags.js';
import { FOREIGN_REASON } from '../core/plan.js';
import type { Observation } from './managed-resource.js';

/**
 * `ready` when the found resource is ours (or, for kinds tagged after their create, untagged: a
 * create of ours that crashed before tagging), otherwise `failed`: NameConflict naming the other owner, or RetainedResourcesFound
 * when a deleted predecessor of the same name left it (its UID differs) and the owner has not
 * asked to adopt it. `what` names the resource in the message, e.g. `bucket rag-prod-t-acme-...`.
 */
export function readyIfOwned<O>(
  observed: O,
  tags: Record<string, string>,
  owner: OwnerRef,
  what: string,
  opts: { taggedAtCreate?: boolean } = {},
): Observation<O> {
  // Kinds whose create call sets the tags can leave no untagged resource behind a crash: an
  // untagged one is someone else's, and adopting (tagging) it would hand it to the operator.
  if (opts.taggedAtCreate && (tags[TAG.managedBy] !== MANAGED_BY || tags[TAG.cluster] === undefined)) {
    return {
      state: 'failed',
      observed,
      reason: FOREIGN_REASON,
      message: `${what} exists and was not created by the operator (it carries no ownership tags): delete or rename it; the operator will not touch it`,
    };
  }
  const other = foreignOwner(tags, owner);
  if (other) {
    return {
      state: 'failed',
      observed,
      reason: FOREIGN_REASON,
      message: `${what} already belongs to ${other}: rename or delete one of them`,
    };
  }
  const predecessor = retainedFrom(tags, owner);
  if (!predecessor || owner.adoptRetained) return { state: 'ready', observed };
  // A new object reusing a retained one's name must not silently inherit its data.
  return {
    state: 'failed',
    observed,
    reason: REASON.RetainedResourcesFound,
    message:
      `${what} was left by a deleted ${owner.kind} "${owner.name}" (uid ${predecessor}) with deletionPolicy Retain: ` +
      `to take it over with its data, annotate this ${owner.kind} ${ANNOTATIONS.adoptRetained}="true"; ` +
      'to start afresh, delete it in AWS or choose another name',
  };
}
