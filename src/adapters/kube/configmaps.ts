/**
 * The outputs ConfigMap a tenant asks for with `spec.connection`. The operator writes only a
 * ConfigMap it created for this very Tenant (its labels and an owner reference with the Tenant's
 * UID, see `isOwnedBy`): anything else already at that name is a conflict and is not touched at
 * all. Updates carry the resourceVersion that was checked and deletes a uid + resourceVersion
 * precondition, so the object written or deleted is the one that was checked. Owned by the Tenant,
 * so the garbage collector removes it with the Tenant; deleted by the operator on finalization too.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { API_VERSION, FIELD_MANAGER, LABELS } from '../../api/v1alpha1/constants.js';
import type { Tenant } from '../../api/v1alpha1/types.js';
import { describeOwner, isOwnedBy } from '../../core/connection.js';
import { ConflictError } from '../../core/errors.js';
import type { OutputsDeleteResult, OutputsPort, OutputsResult } from '../../ports/outputs.js';
import type { CoreV1Api } from './client.js';
import { classifyKubeError, statusOf } from './errors.js';

/** Writes and deletes outputs ConfigMaps (the OutputsPort over the core API). */
export class OutputsWriter implements OutputsPort {
  constructor(private readonly core: CoreV1Api) {}

  private async read(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  /** Makes the ConfigMap hold exactly `data`, if it is absent or this tenant's; never touches another's. */
  async apply(owner: Tenant, namespace: string, name: string, data: Record<string, string>): Promise<OutputsResult> {
    const existing = await this.read(namespace, name);
    if (existing) return this.update(owner, namespace, name, existing, data);
    try {
      await this.core.createNamespacedConfigMap({ namespace, body: desired(owner, namespace, name, data), fieldManager: FIELD_MANAGER });
      return { outcome: 'written' };
    } catch (e) {
      // Creating in a namespace that does not exist answers 404.
      if (statusOf(e) === 404) return { outcome: 'namespace-missing' };
      if (statusOf(e) !== 409) throw e;
    }
    // AlreadyExists: someone created it between the read and the create (or an earlier create of
    // ours whose answer was lost); decide on what is there now, as if it had been there all along.
    const raced = await this.read(namespace, name);
    // Gone again: a ConflictError makes the work queue run the pass again soon, to decide afresh.
    if (!raced) throw new ConflictError(`ConfigMap ${namespace}/${name} was created and deleted while being written`);
    return this.update(owner, namespace, name, raced, data);
  }

  /** Updates an existing ConfigMap only if it is this tenant's, guarded by the resourceVersion read. */
  private async update(
    owner: Tenant,
    namespace: string,
    name: string,
    existing: V1ConfigMap,
    data: Record<string, string>,
  ): Promise<OutputsResult> {
    if (!isOwnedBy(existing.metadata, owner)) return { outcome: 'conflict', owner: describeOwner(existing.metadata, owner) };
    if (sameData(existing.data, data)) return { outcome: 'unchanged' };
    const body = desired(owner, namespace, name, data);
    // A replace with the resourceVersion that was checked fails (409) if anyone changed it since.
    body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion };
    try {
      await this.core.replaceNamespacedConfigMap({ namespace, name, body, fieldManager: FIELD_MANAGER });
    } catch (e) {
      throw classifyKubeError(e, `ConfigMap ${namespace}/${name}`);
    }
    return { outcome: 'written' };
  }

  /** Deletes the ConfigMap only if it is this tenant's (owner UID), and only the very object checked. */
  async delete(owner: Tenant, namespace: string, name: string): Promise<OutputsDeleteResult> {
    const existing = await this.read(namespace, name);
    if (!existing) return 'absent';
    if (!isOwnedBy(existing.metadata, owner)) return 'not-owned';
    const preconditions = { uid: existing.metadata?.uid, resourceVersion: existing.metadata?.resourceVersion };
    try {
      await this.core.deleteNamespacedConfigMap({ namespace, name, body: { preconditions } });
    } catch (e) {
      if (statusOf(e) === 404) return 'absent';
      // 409: it changed (or was replaced) since it was checked; the next pass checks again.
      throw classifyKubeError(e, `ConfigMap ${namespace}/${name}`);
    }
    return 'deleted';
  }
}

/** The ConfigMap as the operator creates it for `owner`. */
function desired(owner: Tenant, namespace: string, name: string, data: Record<string, string>): V1ConfigMap {
  const uid = owner.metadata.uid;
  // Only objects read from the API server reach here, and they always have a uid.
  if (!uid) throw new Error(`Tenant ${owner.metadata.name} has no uid: cannot own its ConfigMap`);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { [LABELS.managedBy]: FIELD_MANAGER, [LABELS.tenant]: owner.metadata.name },
      // A namespaced object may be owned by a cluster-scoped one.
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'Tenant', name: owner.metadata.name, uid }],
    },
    data,
  };
}

/** Same keys and values, in any order. */
function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const x = a ?? {};
  const keys = Object.keys(b);
  return Object.keys(x).length === keys.length && keys.every((k) => x[k] === b[k]);
}
