/**
 * Checks that need other objects and so cannot be CEL rules: each returns a specific reason and
 * a one-sentence message saying what to change, or undefined when the object may proceed.
 */
import { FINALIZER, REASON } from '../api/v1alpha1/constants.js';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';

/** A refusal: reason plus what to change. */
export interface Refusal {
  reason: string;
  message: string;
}

const list = (names: string[]): string =>
  names.length ? names.slice(0, 10).join(', ') + (names.length > 10 ? ', ...' : '') : 'none exist yet';

/**
 * Orders a tier's tenants for admission: tenants already admitted (holding the finalizer) first,
 * then by creation time and name, so concurrent passes agree on who fits under maxTenants.
 */
export function admissionRank(tenants: readonly Tenant[]): Tenant[] {
  const admitted = (t: Tenant): number => (t.metadata.finalizers?.includes(FINALIZER) ? 0 : 1);
  const created = (t: Tenant): string => String(t.metadata.creationTimestamp ? new Date(t.metadata.creationTimestamp).toISOString() : '');
  return [...tenants]
    .filter((t) => !t.metadata.deletionTimestamp)
    .sort((a, b) => admitted(a) - admitted(b) || created(a).localeCompare(created(b)) || a.metadata.name.localeCompare(b.metadata.name));
}

/** Checks a Tenant against its tier and the tier's other tenants. */
export function checkTenant(
  tenant: Tenant,
  tier: TenantTier | undefined,
  allTiers: readonly TenantTier[],
  tierTenants: readonly Tenant[],
): Refusal | undefined {
  const tierName = tenant.spec.tier;
  if (!tier) {
    return {
      reason: REASON.TierNotFound,
      message: `TenantTier "${tierName}" does not exist: create it or set spec.tier to an existing tier (${list(allTiers.map((t) => t.metadata.name))})`,
    };
  }
  if (tier.metadata.deletionTimestamp) {
    return {
      reason: REASON.TierDeleting,
      message: `TenantTier "${tierName}" is being deleted and admits no new tenants: delete this tenant and create it in another tier`,
    };
  }
  const overrides = Object.keys(tenant.spec.knowledgeBase ?? {});
  if (tier.spec.isolation === 'pool' && overrides.length > 0) {
    return {
      reason: REASON.OverrideNotAllowed,
      message: `tier "${tierName}" uses isolation pool, where tenants share one knowledge base, so spec.knowledgeBase (${overrides.join(', ')}) cannot be set: remove it or use a bridge or silo tier`,
    };
  }
  const max = tier.spec.maxTenants;
  if (max !== undefined && !tenant.metadata.finalizers?.includes(FINALIZER)) {
    const rank = admissionRank(tierTenants).findIndex((t) => t.metadata.name === tenant.metadata.name);
    if (rank < 0 || rank >= max) {
      return {
        reason: REASON.TierFull,
        message: `tier "${tierName}" admits at most ${max} tenants and is full: raise spec.maxTenants on the tier or use another tier`,
      };
    }
  }
  return undefined;
}

/** Whose IAM roles may be trusted by tenant roles: the operator's own account and the listed ones. */
export interface TrustScope {
  accountId: string;
  trustedAccountIds: readonly string[];
}

/**
 * Checks `spec.access.principals`: each must be a role of the operator's account or of a trusted
 * account (the schema already refuses anything but exact role ARNs).
 */
export function checkPrincipals(tenant: Tenant, scope: TrustScope): Refusal | undefined {
  const access = tenant.spec.access;
  const principals = access && 'principals' in access ? (access.principals ?? []) : [];
  const allowed = new Set([scope.accountId, ...scope.trustedAccountIds]);
  const foreign = principals.filter((arn) => !allowed.has(/^arn:[^:]+:iam::(\d{12}):role\//.exec(arn)?.[1] ?? ''));
  if (foreign.length === 0) return undefined;
  return {
    reason: REASON.PrincipalNotAllowed,
    message: `spec.access.principals names roles of accounts the operator does not trust (${list(foreign)}): use roles of account ${scope.accountId}, or have the platform team add the account to trustedAccountIds in the operator's --config`,
  };
}

/** An approved model as the checks see it. */
export interface ApprovedModelRef {
  id: string;
}

/** Checks a ModelAccess against its tenant and the approved list. */
export function checkModelAccess(
  access: ModelAccess,
  tenant: Tenant | undefined,
  approved: readonly ApprovedModelRef[],
): Refusal | undefined {
  const tenantName = access.spec.tenantRef.name;
  if (!tenant) {
    return { reason: REASON.TenantNotFound, message: `Tenant "${tenantName}" does not exist: create it or fix spec.tenantRef.name` };
  }
  if (tenant.metadata.deletionTimestamp) {
    return {
      reason: REASON.TenantDeleting,
      message: `Tenant "${tenantName}" is being deleted, so no access is granted: delete this ModelAccess`,
    };
  }
  if (!approved.some((m) => m.id === access.spec.model)) {
    return {
      reason: REASON.ModelNotApproved,
      message: `model "${access.spec.model}" is not on the operator's approved list (${list(approved.map((m) => m.id))}): choose an approved model or ask the platform team to approve it`,
    };
  }
  return undefined;
}
