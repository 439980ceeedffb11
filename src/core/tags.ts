/** Ownership tags on every AWS resource: who owns it, so it can be found and adopted after a crash. */
import { ANNOTATIONS, GROUP } from '../api/v1alpha1/constants.js';

/** Tag keys. */
export const TAG = {
  cluster: `${GROUP}/cluster`,
  kind: `${GROUP}/kind`,
  name: `${GROUP}/name`,
  uid: `${GROUP}/uid`,
  tier: `${GROUP}/tier`,
  managedBy: 'managed-by',
  /** Cost allocation: the tenant a metered resource (an inference profile) bills to. */
  tenant: `${GROUP}/tenant`,
  /** The ModelAccess an inference profile belongs to. */
  modelAccess: `${GROUP}/model-access`,
  /**
   * On a tier's KMS key, one per tenant deleted with Retain whose bucket the key encrypts
   * (`retained/<tenant>` = bucket): the key must outlive those buckets.
   */
  retainedPrefix: `${GROUP}/retained/`,
} as const;

/** The tenants deleted with Retain whose data a key still encrypts, from the key's tags. */
export function retainedBy(tags: Record<string, string>): string[] {
  return Object.keys(tags)
    .filter((k) => k.startsWith(TAG.retainedPrefix))
    .map((k) => k.slice(TAG.retainedPrefix.length))
    .sort();
}

/** The value of the managed-by tag. */
export const MANAGED_BY = 'tenant-rag-operator';

/** The owner of a resource as tags record it. */
export interface OwnerRef {
  cluster: string;
  kind: 'Tenant' | 'TenantTier';
  name: string;
  uid: string;
  tier: string;
  /**
   * Set by the owner's `rag.tenancy.dev/adopt-retained: "true"` annotation: resources with this
   * owner's name left by a deleted predecessor (another UID) are taken over. Never a tag.
   */
  adoptRetained?: boolean;
}

/** Whether an object asks to take over what a deleted predecessor of its name retained. */
export function adoptsRetained(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[ANNOTATIONS.adoptRetained] === 'true';
}

/** The tags for a resource owned by `owner`. */
export function ownerTags(owner: OwnerRef): Record<string, string> {
  return {
    [TAG.cluster]: owner.cluster,
    [TAG.kind]: owner.kind,
    [TAG.name]: owner.name,
    [TAG.uid]: owner.uid,
    [TAG.tier]: owner.tier,
    [TAG.managedBy]: MANAGED_BY,
  };
}

/**
 * Whether tags found on a resource say it belongs to `owner` (same cluster, kind and name, and
 * the same object: a predecessor's UID is not this owner's).
 */
export function ownedBy(tags: Record<string, string | undefined>, owner: OwnerRef): boolean {
  return (
    tags[TAG.cluster] === owner.cluster &&
    tags[TAG.kind] === owner.kind &&
    tags[TAG.name] === owner.name &&
    tags[TAG.managedBy] === MANAGED_BY &&
    retainedFrom(tags, owner) === undefined
  );
}

/**
 * The UID of the deleted object that left a resource tagged for `owner`'s cluster, kind and name
 * (a predecessor deleted with Retain), or undefined when the UID is this owner's or unknown.
 */
export function retainedFrom(tags: Record<string, string | undefined>, owner: OwnerRef): string | undefined {
  const uid = tags[TAG.uid];
  return uid && owner.uid && uid !== owner.uid ? uid : undefined;
}

/** Tag keys whose values differ from `want` (missing keys included), for drift repair. */
export function tagDrift(have: Record<string, string | undefined>, want: Record<string, string>): string[] {
  return Object.keys(want)
    .filter((k) => have[k] !== want[k])
    .sort();
}

/** Converts a tag list of any casing (`Key`/`Value` or `key`/`value`) to a map. */
export function tagMap(list: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/**
 * When a resource found by its deterministic name carries tags naming another owner (another
 * cluster, kind or name, or another manager), who that is. Undefined when the tags are ours,
 * partly ours or missing: a create of ours that crashed before tagging, or tags someone edited,
 * which the driver adopts and repairs.
 */
export function foreignOwner(tags: Record<string, string | undefined>, owner: OwnerRef): string | undefined {
  const differs = (key: string, want: string): boolean => tags[key] !== undefined && tags[key] !== want;
  if (differs(TAG.managedBy, MANAGED_BY)) return `a resource managed by "${tags[TAG.managedBy] ?? ''}"`;
  if (differs(TAG.cluster, owner.cluster) || differs(TAG.kind, owner.kind) || differs(TAG.name, owner.name)) {
    return `${tags[TAG.kind] ?? '?'} "${tags[TAG.name] ?? '?'}" of cluster "${tags[TAG.cluster] ?? '?'}"`;
  }
  return undefined;
}
