/** Who a tenant's application is in IAM: a role of its own, or its pool tier's shared role. */
import type { TenantTier } from '../api/v1alpha1/types.js';

/** True for a pool tier whose tenants share its role (`tenantRoles: Shared`). */
export function sharesRole(tier: Pick<TenantTier, 'spec'>): boolean {
  return tier.spec.isolation === 'pool' && tier.spec.tenantRoles === 'Shared';
}
