/**
 * Which AWS resources a tier and a tenant get, per isolation pattern (see docs/api.md), bound to
 * their desired specs in dependency order, with the ids already persisted on status. So far:
 * encryption keys, document storage and IAM; the vector store and knowledge base drivers join
 * these lists next.
 *
 * | pattern | tier owns                                   | tenant owns                                   |
 * |---------|---------------------------------------------|-----------------------------------------------|
 * | pool    | [tier key], bucket, knowledge base role     | prefix, tenant role                           |
 * | bridge  | [tier key], bucket                          | prefix, knowledge base role, tenant role      |
 * | silo    | [tier key]                                  | [tenant key], bucket, kb role, tenant role    |
 *
 * A tier key exists with `storage.encryption: TierKey`; a tenant key with `TenantKey` (silo only).
 */
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { type NamingContext, type Owner, ROLE_PATH, bucketName, keyAlias, roleName, tenantPrefix } from '../core/naming.js';
import { type DataScope, knowledgeBasePermissions, knowledgeBaseTrust, tenantPermissions, tenantTrust } from '../core/policies/roles.js';
import type { OwnerRef } from '../core/tags.js';
import type { IamRoleDriver, RoleSpec } from './iam-role/driver.js';
import type { KmsKeyDriver } from './kms-key/driver.js';
import type { BoundResource } from './managed-resource.js';
import type { S3BucketDriver } from './s3-bucket/driver.js';
import type { S3PrefixDriver } from './s3-prefix/driver.js';

/** What binding needs: names, settings, and one driver instance per kind. */
export interface StackDeps {
  naming: () => Promise<NamingContext>;
  permissionsBoundaryArn?: string;
  /** Days a deleted key waits before KMS destroys it (7-30). */
  keyPendingWindowDays: number;
  keys: KmsKeyDriver;
  buckets: S3BucketDriver;
  prefixes: S3PrefixDriver;
  knowledgeBaseRoles: IamRoleDriver;
  tenantRoles: IamRoleDriver;
}

const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';
type Outputs = Record<string, string>;

function ownerRef(n: NamingContext, kind: Owner['kind'], name: string, uid: string | undefined, tier: string): OwnerRef {
  return { cluster: n.cluster, kind, name, uid: uid ?? '', tier };
}

function bind<S>(driver: { kind: string }, spec: S | ((o: Outputs) => S), ids: Record<string, string | undefined> = {}): BoundResource {
  const known = Object.fromEntries(Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { driver: driver as BoundResource['driver'], spec, ids: known };
}

/** Where a tenant's documents are: its own bucket (silo) or its prefix in the tier bucket. */
export function tenantScope(n: NamingContext, tenant: Tenant, tier: TenantTier): DataScope {
  const silo = tier.spec.isolation === 'silo';
  return {
    region: n.region,
    accountId: n.accountId,
    bucket: silo
      ? bucketName(n, { kind: 'Tenant', name: tenant.metadata.name })
      : bucketName(n, { kind: 'TenantTier', name: tier.metadata.name }),
    prefix: silo ? undefined : tenantPrefix(tenant.metadata.name),
  };
}

function key(deps: StackDeps, n: NamingContext, owner: OwnerRef, what: string, ids: Record<string, string | undefined>): BoundResource {
  return bind(
    deps.keys,
    {
      alias: keyAlias(n, { kind: owner.kind, name: owner.name }),
      description: `Encrypts the documents of ${what}`,
      owner,
      pendingWindowDays: deps.keyPendingWindowDays,
    },
    ids,
  );
}

function kbRole(
  deps: StackDeps,
  n: NamingContext,
  owner: OwnerRef,
  scope: (o: Outputs) => DataScope,
  embeddingModelId: string,
  what: string,
): BoundResource {
  return bind(deps.knowledgeBaseRoles, (o: Outputs): RoleSpec => {
    const s = scope(o);
    return {
      name: roleName(n, { kind: owner.kind, name: owner.name }, 'kb'),
      path: ROLE_PATH,
      description: `Bedrock knowledge base role of ${what}`,
      owner,
      trust: knowledgeBaseTrust(s),
      inline: { 'knowledge-base': knowledgeBasePermissions({ ...s, embeddingModelId }) },
      boundaryArn: deps.permissionsBoundaryArn,
    };
  });
}

/** The tier's shared resources. */
export async function tierResources(deps: StackDeps, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const name = tier.metadata.name;
  const owner = ownerRef(n, 'TenantTier', name, tier.metadata.uid, name);
  const shared = tier.status?.shared ?? {};
  const out: BoundResource[] = [];
  if (tier.spec.storage?.encryption === 'TierKey') out.push(key(deps, n, owner, `tier ${name}`, shared));
  if (tier.spec.isolation === 'silo') return out;
  const bucket = bucketName(n, { kind: 'TenantTier', name });
  out.push(bind(deps.buckets, (o: Outputs) => ({ name: bucket, region: n.region, owner, kmsKeyArn: o.kmsKeyArn })));
  if (tier.spec.isolation === 'pool') {
    // One knowledge base serves the pool, so its role reads every tenant's prefix.
    const scope = (o: Outputs): DataScope => ({
      region: n.region,
      accountId: n.accountId,
      bucket,
      prefix: 'tenants/',
      kmsKeyArn: o.kmsKeyArn,
    });
    out.push(kbRole(deps, n, owner, scope, tier.spec.knowledgeBase?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL, `pool tier ${name}`));
  }
  return out;
}

/** The tenant's own resources. */
export async function tenantResources(deps: StackDeps, tenant: Tenant, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const name = tenant.metadata.name;
  const owner = ownerRef(n, 'Tenant', name, tenant.metadata.uid, tenant.spec.tier);
  const iso = tier.spec.isolation;
  const base = tenantScope(n, tenant, tier);
  const mine = tenant.status?.resources ?? {};
  const tierKeyArn = tier.spec.storage?.encryption === 'TierKey' ? tier.status?.shared?.kmsKeyArn : undefined;
  // The tenant's key if it has one (published earlier in this pass), else the tier's.
  const scope = (o: Outputs): DataScope => ({ ...base, kmsKeyArn: o.kmsKeyArn ?? tierKeyArn });
  const out: BoundResource[] = [];
  if (iso === 'silo') {
    if (tier.spec.storage?.encryption === 'TenantKey') out.push(key(deps, n, owner, `tenant ${name}`, mine));
    out.push(bind(deps.buckets, (o: Outputs) => ({ name: base.bucket, region: n.region, owner, kmsKeyArn: scope(o).kmsKeyArn })));
  } else {
    // Its documents in the tier bucket: nothing to create, emptied when a Delete tenant goes.
    out.push(bind(deps.prefixes, { bucket: base.bucket, prefix: base.prefix ?? '' }));
  }
  if (iso !== 'pool') {
    const embeddingModelId =
      tenant.spec.knowledgeBase?.embeddingModel ?? tier.spec.knowledgeBase?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL;
    out.push(kbRole(deps, n, owner, scope, embeddingModelId, `tenant ${name}`));
  }
  out.push(
    bind(deps.tenantRoles, (o: Outputs): RoleSpec => ({
      name: roleName(n, { kind: 'Tenant', name }, 'app'),
      path: ROLE_PATH,
      description: `Role of tenant ${name}'s application`,
      owner,
      trust: tenantTrust(base, tenant.spec.access as Parameters<typeof tenantTrust>[1]),
      inline: { 'tenant-access': tenantPermissions(scope(o)) },
      boundaryArn: deps.permissionsBoundaryArn,
    })),
  );
  return out;
}
