/**
 * Checks that need other objects and so cannot be CEL rules: each returns a specific reason and
 * a one-sentence message saying what to change, or undefined when the object may proceed.
 */
import { storeOf } from './vector-stores.js';
import { EMBEDDING_MODELS, FINALIZER, REASON } from '../api/v1alpha1/constants.js';
import { orList } from '../api/v1alpha1/schema/common.js';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { kbSettings } from './kb-settings.js';

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
  if (storeOf(tier) === 'Managed' && overrides.length > 0) {
    return {
      reason: REASON.OverrideNotAllowed,
      message: `tier "${tierName}" uses Bedrock-managed knowledge bases, which embed with Bedrock's own model, chunk by its default and keep their vectors themselves, so spec.knowledgeBase (${overrides.join(', ')}) cannot be set: remove it or use a tier with another vector store`,
    };
  }
  if (tenant.spec.knowledgeBase?.vectorIndex && storeOf(tier) !== 'OpenSearchServerless') {
    return {
      reason: REASON.OverrideNotAllowed,
      message: `tier "${tierName}" keeps its vectors in ${storeOf(tier)}, whose indexes have no OpenSearch parameters, so spec.knowledgeBase.vectorIndex cannot be set: remove it`,
    };
  }
  const dimensions = checkDimensions(tenant, tier);
  if (dimensions) return dimensions;
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

/**
 * Checks the tenant's effective embedding model and dimensions (its overrides over the tier's
 * settings): the schema refuses a pair set on one object, but not dimensions a tenant sets for
 * the model its tier names, which would otherwise pass until Bedrock refuses the knowledge base,
 * after its role, data access policy and index exist.
 */
function checkDimensions(tenant: Tenant, tier: TenantTier): Refusal | undefined {
  const { embeddingModel, dimensions } = kbSettings(tier, tenant);
  const outputs = EMBEDDING_MODELS[embeddingModel]?.outputs;
  if (!outputs || outputs.includes(dimensions)) return undefined;
  const whose =
    tenant.spec.knowledgeBase?.embeddingModel !== undefined
      ? `spec.knowledgeBase.embeddingModel ${embeddingModel}`
      : `tier "${tier.metadata.name}" uses embedding model ${embeddingModel}, which`;
  const others = Object.entries(EMBEDDING_MODELS)
    .filter(([, m]) => m.outputs.includes(dimensions))
    .map(([id]) => id);
  // Both fields are immutable once the Tenant exists, so the fix is a new Tenant.
  const admitted = tenant.metadata.finalizers?.includes(FINALIZER) ?? false;
  return {
    reason: REASON.DimensionsNotSupported,
    message:
      `${whose} outputs ${orList(outputs)} dimensions, not spec.knowledgeBase.dimensions ${dimensions}: ` +
      `delete this Tenant${admitted ? '' : ' (nothing was created for it)'} and create it again with dimensions ${orList(outputs)}` +
      (others.length
        ? `, or with embeddingModel ${orList(others)} as well, which output${others.length > 1 ? '' : 's'} ${dimensions}`
        : ''),
  };
}

/** Whose IAM roles may be trusted by tenant roles: the operator's own account and the listed ones. */
export interface TrustScope {
  accountId: string;
  trustedAccountIds: readonly string[];
  /** The operator's own role: never a tenant's principal (it would reach every tenant's data). */
  operatorPrincipal?: string;
}

/** A role's account and name (IAM role names are unique per account, case-insensitively). */
function roleKey(arn: string): string {
  const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1] ?? ''}/${(m[2] ?? '').toLowerCase()}` : arn;
}

/**
 * Whether two ARNs name the same role: the path does not count (STS drops it from an assumed
 * role's ARN, so the operator's own ARN may come without it) and neither does the name's case.
 */
function sameRole(a: string, b: string): boolean {
  return roleKey(a) === roleKey(b);
}

/**
 * Checks `spec.access.principals`: each must be a role of the operator's account or of a trusted
 * account (the schema already refuses anything but exact role ARNs).
 */
export function checkPrincipals(tenant: Tenant, scope: TrustScope): Refusal | undefined {
  const access = tenant.spec.access;
  const principals: readonly string[] = access && 'principals' in access ? (access.principals ?? []) : [];
  const operator = scope.operatorPrincipal;
  if (operator && principals.some((arn) => sameRole(arn, operator))) {
    return {
      reason: REASON.PrincipalNotAllowed,
      message: `spec.access.principals names the operator's own role (${scope.operatorPrincipal}), which must never assume a tenant role: name the application's role instead`,
    };
  }
  const allowed = new Set([scope.accountId, ...scope.trustedAccountIds]);
  const foreign = principals.filter((arn) => !allowed.has(/^arn:[^:]+:iam::(\d{12}):role\//.exec(arn)?.[1] ?? ''));
  if (foreign.length === 0) return undefined;
  return {
    reason: REASON.PrincipalNotAllowed,
    message: `spec.access.principals names roles of accounts the operator does not trust (${list(foreign)}): use roles of account ${scope.accountId}, or have the platform team add the account to trustedAccountIds in the operator's --config`,
  };
}

/** When `a` came first: created earlier, or at the same second with the smaller name. */
function earlier(a: Tenant, b: Tenant): boolean {
  const ta = new Date(a.metadata.creationTimestamp ?? 0).getTime();
  const tb = new Date(b.metadata.creationTimestamp ?? 0).getTime();
  return ta !== tb ? ta < tb : a.metadata.name < b.metadata.name;
}

/** Whether a tenant holds its Pod Identity association (status records one). */
const holds = (t: Tenant): boolean => !!t.status?.resources?.podIdentityAssociationId;

/**
 * Whether `a` has the better claim on a service account than `b`: the tenant holding the
 * association keeps it (an older Tenant edited to name a younger one's service account must not
 * take it over), and between two claims alike the earlier Tenant wins.
 */
function before(a: Tenant, b: Tenant): boolean {
  return holds(a) !== holds(b) ? holds(a) : earlier(a, b);
}

/**
 * Checks `spec.access.podIdentity`: the operator must know its EKS cluster (the tenant role
 * trusts that cluster's sessions only), and no earlier Tenant may use the same namespace and
 * service account (EKS allows one association per subject; two Tenants sharing it would share
 * credentials).
 */
/**
 * A tier with `tenantRoles: Shared` narrows its one role per tenant by the session policy of the
 * tenant's Pod Identity association: IAM principals named in spec.access could only be let into
 * the whole role, so they are refused before anything is made.
 */
export function checkSharedRoleAccess(tenant: Tenant, tier: TenantTier | undefined): Refusal | undefined {
  if (tier?.spec.isolation !== 'pool' || tier.spec.tenantRoles !== 'Shared') return undefined;
  if (!tenant.spec.access || !('principals' in tenant.spec.access)) return undefined;
  return {
    reason: REASON.SharedRoleNeedsPodIdentity,
    message: `tier ${tier.metadata.name} shares one role among its tenants (tenantRoles: Shared), narrowed to each by its EKS Pod Identity association: use spec.access.podIdentity, or a tier with tenantRoles PerTenant for spec.access.principals`,
  };
}

export function checkIdentity(tenant: Tenant, tenants: readonly Tenant[], eksClusterArn: string | undefined): Refusal | undefined {
  const access = tenant.spec.access;
  const pod = access && 'podIdentity' in access ? access.podIdentity : undefined;
  if (!pod) return undefined;
  if (!eksClusterArn) {
    return {
      reason: REASON.ClusterArnRequired,
      message:
        "spec.access.podIdentity needs the operator's EKS cluster: have the platform team set eksClusterArn in the operator's --config (the chart's config.eksClusterArn), or use spec.access.principals",
    };
  }
  const rival = tenants.find((t) => {
    const other = t.spec.access && 'podIdentity' in t.spec.access ? t.spec.access.podIdentity : undefined;
    return (
      t.metadata.name !== tenant.metadata.name &&
      other?.namespace === pod.namespace &&
      other.serviceAccount === pod.serviceAccount &&
      before(t, tenant)
    );
  });
  if (!rival) return undefined;
  return {
    reason: REASON.IdentityConflict,
    message: `Tenant "${rival.metadata.name}" already uses service account ${pod.namespace}/${pod.serviceAccount} for Pod Identity: give this tenant's application its own service account in spec.access.podIdentity`,
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
