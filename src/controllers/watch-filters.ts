/**
 * Which watch events are worth a reconcile pass. Every pass observes each AWS resource it owns,
 * so a pass triggered by a change that cannot alter its outcome (the object's own status write,
 * another tenant's condition) is pure AWS read cost. These predicates keep the events that can:
 * spec (generation), annotations (the on-demand sync), finalizers and deletion; the tier's shared
 * ids and readiness for its tenants; membership for the tier and for admission under maxTenants.
 * The resync still looks at every object periodically, whatever was filtered.
 */
import { CONDITION, REASON } from '../api/v1alpha1/constants.js';
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { findCondition } from '../core/conditions.js';

interface Meta {
  metadata: {
    generation?: number;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: Date | string;
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** True when `obj` is new or changed in what its own reconciler acts on (not its status). */
export function changedForOwner(obj: Meta, old: Meta | undefined): boolean {
  if (!old) return true;
  const a = obj.metadata;
  const b = old.metadata;
  return (
    a.generation !== b.generation ||
    !same(a.annotations, b.annotations) ||
    !same(a.finalizers, b.finalizers) ||
    !same(a.deletionTimestamp, b.deletionTimestamp)
  );
}

/** True when a tenant event changes who belongs to, or is admitted by, a tier. */
export function changedMembership(tenant: Tenant, old: Tenant | undefined, deleted: boolean): boolean {
  if (!old || deleted) return true;
  return (
    tenant.spec.tier !== old.spec.tier ||
    !same(tenant.metadata.finalizers, old.metadata.finalizers) ||
    !same(tenant.metadata.deletionTimestamp, old.metadata.deletionTimestamp)
  );
}

/** True when a tier event changes what its tenants build on: spec, shared ids, readiness, deletion. */
export function changedForTenants(tier: TenantTier, old: TenantTier | undefined): boolean {
  if (!old) return true;
  const ready = (t: TenantTier): unknown => {
    const c = findCondition(t.status?.conditions, CONDITION.Ready);
    // A ready tier's message counts its tenants; tenants only quote the message of a tier not ready.
    return [c?.status, c?.reason, c?.status === 'True' ? '' : c?.message];
  };
  return changedForOwner(tier, old) || !same(tier.status?.shared, old.status?.shared) || !same(ready(tier), ready(old));
}

/** True when the object's Ready condition changed status (what ModelAccess waits on). */
export function readyFlipped(obj: Tenant, old: Tenant | undefined): boolean {
  const ready = (t: Tenant | undefined): string | undefined => findCondition(t?.status?.conditions, CONDITION.Ready)?.status;
  return !old || ready(obj) !== ready(old);
}

/** True for a tenant refused because its tier was full (a departure may now admit it). */
export function waitingForRoom(tenant: Tenant): boolean {
  return findCondition(tenant.status?.conditions, CONDITION.Ready)?.reason === REASON.TierFull;
}

/** True for a tenant refused because another tenant uses its Pod Identity service account. */
export function waitingForIdentity(tenant: Tenant): boolean {
  return findCondition(tenant.status?.conditions, CONDITION.Ready)?.reason === REASON.IdentityConflict;
}
