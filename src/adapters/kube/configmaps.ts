/**
 * The outputs ConfigMap a tenant asks for with `spec.connection`: read, then created or replaced
 * only when its data differ (guarded by resourceVersion), owned by the Tenant so the garbage
 * collector removes it with the Tenant, and deleted by the operator on finalization too.
 */
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { API_VERSION, FIELD_MANAGER, LABELS } from '../../api/v1alpha1/constants.js';
import type { Tenant } from '../../api/v1alpha1/types.js';
import { withTimeout } from './call-options.js';
import { statusOf } from './errors.js';

/** What a write did. */
export type OutputsResult = 'written' | 'unchanged' | 'namespace-missing';

/** Writes and deletes outputs ConfigMaps. */
export class OutputsWriter {
  constructor(private readonly core: CoreV1Api) {}

  private async read(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name }, withTimeout());
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  /** Makes the ConfigMap hold exactly `data`. */
  async apply(owner: Tenant, namespace: string, name: string, data: Record<string, string>): Promise<OutputsResult> {
    const existing = await this.read(namespace, name);
    if (existing && JSON.stringify(existing.data ?? {}) === JSON.stringify(data)) return 'unchanged';
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        labels: { [LABELS.managedBy]: FIELD_MANAGER, [LABELS.tenant]: owner.metadata.name },
        // A namespaced object may be owned by a cluster-scoped one.
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'Tenant', name: owner.metadata.name, uid: owner.metadata.uid ?? '' }],
        ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      data,
    };
    try {
      if (existing) await this.core.replaceNamespacedConfigMap({ namespace, name, body, fieldManager: FIELD_MANAGER }, withTimeout());
      else await this.core.createNamespacedConfigMap({ namespace, body, fieldManager: FIELD_MANAGER }, withTimeout());
    } catch (e) {
      // Creating in a namespace that does not exist answers 404.
      if (!existing && statusOf(e) === 404) return 'namespace-missing';
      throw e;
    }
    return 'written';
  }

  /** Deletes the ConfigMap if it is there and the tenant's. */
  async delete(owner: Tenant, namespace: string, name: string): Promise<void> {
    const existing = await this.read(namespace, name);
    if (!existing || existing.metadata?.labels?.[LABELS.tenant] !== owner.metadata.name) return;
    try {
      await this.core.deleteNamespacedConfigMap({ namespace, name }, withTimeout());
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
  }
}
