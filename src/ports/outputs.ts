/** The outputs ConfigMap a tenant asks for with `spec.connection`, as the Tenant controller writes it. */
import type { Tenant } from '../api/v1alpha1/types.js';

/** What a write did; a conflict says who owns the ConfigMap, when its metadata tells. */
export type OutputsResult = { outcome: 'written' | 'unchanged' | 'namespace-missing' } | { outcome: 'conflict'; owner: string | undefined };

/** What a delete did: deleted, nothing there, or left alone because it is not this tenant's. */
export type OutputsDeleteResult = 'deleted' | 'absent' | 'not-owned';

/** Writes and deletes a tenant's outputs ConfigMap, never one that is not that very Tenant's. */
export interface OutputsPort {
  /** Makes the ConfigMap hold exactly `data`, if it is absent or this tenant's; never touches another's. */
  apply(owner: Tenant, namespace: string, name: string, data: Record<string, string>): Promise<OutputsResult>;
  /** Deletes the ConfigMap only if it is this tenant's. */
  delete(owner: Tenant, namespace: string, name: string): Promise<OutputsDeleteResult>;
}
