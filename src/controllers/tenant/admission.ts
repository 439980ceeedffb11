/**
 * What ends a tenant's pass before its finalizer: a refusal (its tier, its identity, its
 * principals), `spec.suspend`, or a tier that is not Ready yet. A tenant already admitted to a
 * tier that is being deleted is not refused: the tier waits for it and its stack keeps working.
 */
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantStatus, TenantTier } from '../../api/v1alpha1/types.js';
import { type Refusal, type TrustScope, checkIdentity, checkPrincipals, checkSharedRoleAccess, checkTenant } from '../../core/admission.js';
import { type ConditionInput, findCondition } from '../../core/conditions.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { Step } from '../owner/template.js';

/** Who may be given a tenant's role. */
export interface AccessDeps {
  /** Whose roles spec.access.principals may name (the operator's account and trusted ones). */
  trust: () => Promise<TrustScope>;
  /** The EKS cluster whose Pod Identity sessions tenant roles trust (required for podIdentity). */
  eksClusterArn?: string;
}

/** True once the tenant holds the finalizer: it was admitted and may have AWS resources. */
export function admitted(tenant: Tenant): boolean {
  return tenant.metadata.finalizers?.includes(FINALIZER) ?? false;
}

/** True while the tier is being deleted. */
export function tierDeleting(tier: TenantTier | undefined): boolean {
  return tier?.metadata.deletionTimestamp !== undefined && tier.metadata.deletionTimestamp !== null;
}

/** Why the tenant may not proceed, if it may not. */
export async function refusalOf(
  tenant: Tenant,
  tier: TenantTier | undefined,
  stores: { tenants: ObjectStore<Tenant>; tiers: ObjectStore<TenantTier> },
  access: AccessDeps,
): Promise<Refusal | undefined> {
  const tenants = stores.tenants.list();
  const tierTenants = tenants.filter((t) => t.spec.tier === tenant.spec.tier);
  // A deleting tier refuses new tenants only; checkTenant sees it as it was for admitted ones.
  const checked =
    tier && tierDeleting(tier) && admitted(tenant) ? { ...tier, metadata: { ...tier.metadata, deletionTimestamp: undefined } } : tier;
  const namesPrincipals = !!tenant.spec.access && 'principals' in tenant.spec.access;
  return (
    checkTenant(tenant, checked, stores.tiers.list(), tierTenants) ??
    checkSharedRoleAccess(tenant, tier) ??
    checkIdentity(tenant, tenants, access.eksClusterArn) ??
    (namesPrincipals ? checkPrincipals(tenant, await access.trust()) : undefined)
  );
}

/** A pass that ends at admission with `Ready` as given. */
function ended(ready: Omit<ConditionInput, 'type' | 'status'>, evaluated: boolean): Step<TenantStatus> {
  return { conditions: [{ type: CONDITION.Ready, status: 'False', ...ready }], evaluated };
}

/** The step that ends the pass before the finalizer, or undefined when the tenant goes on. */
export async function admissionStep(
  tenant: Tenant,
  tier: TenantTier | undefined,
  stores: { tenants: ObjectStore<Tenant>; tiers: ObjectStore<TenantTier> },
  access: AccessDeps,
): Promise<Step<TenantStatus> | undefined> {
  const refusal = await refusalOf(tenant, tier, stores, access);
  // Bad input: say what to change; no AWS call is made and nothing already there is touched.
  if (refusal) return ended(refusal, true);
  if (!tier) return ended({ reason: REASON.TierNotFound, message: 'tier not found' }, true);
  if (tenant.spec.suspend)
    return ended(
      {
        reason: REASON.Suspended,
        message: "spec.suspend is true: the operator leaves this tenant's AWS resources as they are; set it to false to resume",
      },
      true,
    );
  const tierReady = findCondition(tier.status?.conditions, CONDITION.Ready);
  // A deleting tier is not Ready (it waits for its tenants) but its shared stack is all there.
  if (tierReady?.status === 'True' || (tierDeleting(tier) && admitted(tenant))) return undefined;
  // The tier's watch requeues this tenant when the tier becomes Ready.
  return ended(
    {
      reason: REASON.TierNotReady,
      message: `waiting for TenantTier "${tier.metadata.name}" to be Ready${tierReady ? ` (${tierReady.reason}: ${tierReady.message})` : ''}`,
    },
    false,
  );
}

/**
 * The TierDeleting condition of an admitted tenant whose tier is being deleted: the tier waits
 * for its tenants, and says why in its own Ready; the tenant's stack keeps working meanwhile.
 */
export function tierDeletingCondition(tenant: Tenant, tier: TenantTier | undefined): ConditionInput | undefined {
  if (!tier || !tierDeleting(tier) || !admitted(tenant)) return undefined;
  const ready = findCondition(tier.status?.conditions, CONDITION.Ready);
  const why = ready && ready.status !== 'True' ? ` (${ready.reason}: ${ready.message})` : '';
  return {
    type: CONDITION.TierDeleting,
    status: 'True',
    reason: REASON.TierDeleting,
    message: `TenantTier "${tier.metadata.name}" is being deleted and waits for its tenants to go${why}; this tenant's stack keeps working until the tenant is deleted or moved to another tier`,
  };
}
