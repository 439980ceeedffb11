/**
 * Where a tenant's outputs ConfigMap may go and whether an existing ConfigMap is the tenant's:
 * pure checks the reconciler runs before every write or delete, so a Tenant can never point the
 * operator at a ConfigMap it did not create for that very Tenant (a system one, another tenant's).
 */
import { FIELD_MANAGER, GROUP, LABELS, REASON } from '../api/v1alpha1/constants.js';
import type { Tenant } from '../api/v1alpha1/types.js';
import type { Refusal } from './admission.js';

/** Namespaces no connection ConfigMap may go to, whatever the configuration says (CEL refuses them too). */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

/** What the operator's configuration says about connection namespaces. */
export interface ConnectionScope {
  /** Namespaces any tenant may publish to besides its own (the `connectionNamespaces` setting). */
  allowedNamespaces: readonly string[];
  /** The namespace the operator runs in (its Lease's); never allowed. */
  operatorNamespace: string;
}

/** The parts of an object's metadata that say who it belongs to. */
export interface OwnershipMeta {
  labels?: Record<string, string>;
  ownerReferences?: readonly { apiVersion: string; kind: string; name: string; uid: string }[];
}

const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/** The tenant's own namespace: the one its application's service account lives in (Pod Identity). */
export function ownNamespace(tenant: Tenant): string | undefined {
  return tenant.spec.access?.podIdentity?.namespace;
}

/** Namespaces this tenant may publish to, own first, without the ones that are never allowed. */
export function allowedConnectionNamespaces(tenant: Tenant, scope: ConnectionScope): string[] {
  const never = new Set([...SYSTEM_NAMESPACES, scope.operatorNamespace]);
  const own = ownNamespace(tenant);
  return [...new Set([...(own ? [own] : []), ...scope.allowedNamespaces])].filter((n) => !never.has(n));
}

/**
 * Checks `spec.connection.namespace`: it must be the tenant's own Pod Identity namespace or one
 * the configuration allows, and never a system namespace or the operator's own, even if listed.
 * Exact names only: `acme-evil` is not `acme`.
 */
export function checkConnectionNamespace(tenant: Tenant, scope: ConnectionScope): Refusal | undefined {
  const ns = tenant.spec.connection?.namespace;
  if (ns === undefined) return undefined;
  const allowed = allowedConnectionNamespaces(tenant, scope);
  if (allowed.includes(ns)) return undefined;
  const why = SYSTEM_NAMESPACES.includes(ns)
    ? 'is a system namespace, never allowed'
    : ns === scope.operatorNamespace
      ? "is the operator's own namespace, never allowed"
      : "is neither the tenant's own namespace (spec.access.podIdentity.namespace) nor in the operator's connectionNamespaces setting";
  const choices = allowed.length ? `one of ${quoted(allowed)}` : "the application's Pod Identity namespace (set spec.access.podIdentity)";
  return {
    reason: REASON.ConnectionNamespaceNotAllowed,
    message: `spec.connection.namespace "${ns}" ${why}: set it to ${choices}, or have the operator's administrator add it to connectionNamespaces in the operator's --config file`,
  };
}

/**
 * True when the object is the one the operator created for this very Tenant: the operator's
 * managed-by label, this tenant's label, and an owner reference to a Tenant of our group with
 * this Tenant's UID. Labels alone can be copied by anyone who can write ConfigMaps; the UID
 * also tells a recreated Tenant of the same name from the one that made the object.
 */
export function isOwnedBy(meta: OwnershipMeta | undefined, tenant: Tenant): boolean {
  const uid = tenant.metadata.uid;
  if (!uid || !meta) return false;
  const labels = meta.labels ?? {};
  if (labels[LABELS.managedBy] !== FIELD_MANAGER || labels[LABELS.tenant] !== tenant.metadata.name) return false;
  return (meta.ownerReferences ?? []).some((r) => r.kind === 'Tenant' && r.apiVersion.split('/')[0] === GROUP && r.uid === uid);
}

/** Who an object belongs to, as far as its metadata says, for a message; undefined when nothing says. */
export function describeOwner(meta: OwnershipMeta | undefined, tenant: Tenant): string | undefined {
  const tenantRef = meta?.ownerReferences?.find((r) => r.kind === 'Tenant' && r.apiVersion.split('/')[0] === GROUP);
  if (tenantRef) {
    return tenantRef.name === tenant.metadata.name && tenantRef.uid !== tenant.metadata.uid
      ? `an earlier Tenant "${tenantRef.name}" (uid ${tenantRef.uid}), not this one`
      : `Tenant "${tenantRef.name}"`;
  }
  const other = meta?.ownerReferences?.[0];
  if (other) return `${other.kind} "${other.name}" (${other.apiVersion})`;
  const labels = meta?.labels ?? {};
  if (labels[LABELS.managedBy] === FIELD_MANAGER && labels[LABELS.tenant]) return `Tenant "${labels[LABELS.tenant]}" (by its label)`;
  if (labels[LABELS.managedBy]) return `${labels[LABELS.managedBy]} (its ${LABELS.managedBy} label)`;
  return undefined;
}
