/** Which ids a tenant's status shows from its tier, and which are its own (the engine may act on those only). */
import type { Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { tenantPrefix } from '../../core/naming.js';
import { STORE_SHARED_KEYS, storeOf } from '../../core/vector-stores.js';
import { sharesRole } from '../../core/tenant-roles.js';

/** The tier's shared ids each pattern's tenants use, besides those of the tier's vector store. */
const SHARED_KEYS = {
  pool: ['bucket', 'knowledgeBaseRoleArn', 'knowledgeBaseId', 'dataSourceId'],
  bridge: ['bucket'],
  silo: [],
} as const;

/**
 * What a tenant uses of its tier's shared resources, as the tier publishes them: for pool and
 * bridge its prefix in the tier's bucket and the shared ids, and for every pattern the tier's
 * KMS key when the tier encrypts with one (`TierKey`), which the tenant's documents are under.
 */
export function sharedResources(tenant: Tenant, tier: TenantTier): Record<string, string> {
  const shared: Record<string, unknown> = tier.status?.shared ?? {};
  const keys: readonly string[] = [
    ...SHARED_KEYS[tier.spec.isolation],
    // The application's role is the tier's on a Shared pool tier.
    ...(sharesRole(tier) ? ['roleArn'] : []),
    ...(tier.spec.isolation === 'silo' ? [] : STORE_SHARED_KEYS[storeOf(tier)][tier.spec.isolation]),
    ...(tier.spec.storage?.encryption === 'TierKey' ? ['kmsKeyArn'] : []),
  ];
  const out: Record<string, string> = tier.spec.isolation === 'silo' ? {} : { prefix: tenantPrefix(tenant.metadata.name) };
  for (const k of keys) {
    const v = shared[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * The ids status records for the tenant's own resources (not the tier's, which a tenant must
 * never act on), handed to the engine so a deletion knows them before it reaches their owners.
 */
export function ownIds(tenant: Tenant, tier: TenantTier): Record<string, string> {
  const shared = new Set(Object.keys(sharedResources(tenant, tier)));
  const mine = tenant.status?.resources ?? {};
  return Object.fromEntries(Object.entries(mine).filter((e): e is [string, string] => typeof e[1] === 'string' && !shared.has(e[0])));
}
