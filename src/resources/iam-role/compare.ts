/**
 * What an IAM role should be and how it differs from what was found: pure, so every field the
 * driver sets (trust, inline policies, boundary, tags, and no managed policies) is compared in one
 * place and tested case by case.
 */
import { MODEL_POLICY_PREFIX } from '../../core/model-access/names.js';
import { type PolicyDocument, samePolicy } from '../../core/policies/document.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';

/** The role as wanted. */
export interface RoleSpec {
  name: string;
  path: string;
  description: string;
  owner: OwnerRef;
  trust: PolicyDocument;
  inline: Record<string, PolicyDocument>;
  boundaryArn?: string;
}

/** The role as found. */
export interface RoleObserved {
  name: string;
  arn: string;
  trust: unknown;
  inline: Record<string, unknown>;
  /** ARNs of the managed policies attached to the role. */
  attached: string[];
  boundaryArn?: string;
  tags: Record<string, string>;
}

/** Prefix of the diff entry of a managed policy attached to the role: `attached:<policy ARN>`. */
export const ATTACHED = 'attached:';

/**
 * The aspects in which the role differs from the spec: `trust`, `inline:<name>`,
 * `attached:<policy ARN>` (the operator attaches no managed policy, so any is foreign),
 * `boundary`, `tags`.
 */
export function compareRole(spec: RoleSpec, o: RoleObserved): string[] {
  const diff: string[] = [];
  if (!samePolicy(spec.trust, o.trust)) diff.push('trust');
  // Policies named model-* belong to ModelAccess grants (role-policy driver): only those the
  // spec names are compared here, so the role driver never deletes a grant it did not write.
  const managed = Object.keys(o.inline).filter((n) => n in spec.inline || !n.startsWith(MODEL_POLICY_PREFIX));
  const names = new Set([...Object.keys(spec.inline), ...managed]);
  for (const n of [...names].sort()) if (!samePolicy(spec.inline[n], o.inline[n])) diff.push(`inline:${n}`);
  // A managed policy can give the role more than its inline policies say (the boundary caps it,
  // but a boundary is optional): whoever attached it, it goes.
  for (const arn of [...o.attached].sort()) diff.push(`${ATTACHED}${arn}`);
  // A boundary is set or replaced, never removed: the operator's own policy denies removing one.
  if (spec.boundaryArn && o.boundaryArn !== spec.boundaryArn) diff.push('boundary');
  if (tagDrift(o.tags, ownerTags(spec.owner)).length) diff.push('tags');
  return diff;
}
