/**
 * Which AWS resources a tier and a tenant get, per isolation pattern (see docs/api.md), bound to
 * their desired specs. So far: document storage and IAM; the vector store and knowledge base
 * drivers join these lists in dependency order.
 *
 * | pattern | tier owns                     | tenant owns                               |
 * |---------|-------------------------------|-------------------------------------------|
 * | pool    | bucket, knowledge base role   | prefix, tenant role                       |
 * | bridge  | bucket                        | prefix, knowledge base role, tenant role  |
 * | silo    | nothing                       | bucket, knowledge base role, tenant role  |
 */
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { type NamingContext, ROLE_PATH, bucketName, roleName, tenantPrefix } from '../core/naming.js';
import { type DataScope, knowledgeBasePermissions, knowledgeBaseTrust, tenantPermissions, tenantTrust } from '../core/policies/roles.js';
import type { OwnerRef } from '../core/tags.js';
import type { IamRoleDriver } from './iam-role/driver.js';
import type { BoundResource } from './managed-resource.js';
import type { S3BucketDriver } from './s3-bucket/driver.js';
import type { S3PrefixDriver } from './s3-prefix/driver.js';

/** What binding needs: names, the boundary, and one driver instance per kind. */
export interface StackDeps {
  naming: () => Promise<NamingContext>;
  permissionsBoundaryArn?: string;
  buckets: S3BucketDriver;
  prefixes: S3PrefixDriver;
  knowledgeBaseRoles: IamRoleDriver;
  tenantRoles: IamRoleDriver;
}

const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';

function tierOwner(n: NamingContext, tier: TenantTier): OwnerRef {
  return { cluster: n.cluster, kind: 'TenantTier', name: tier.metadata.name, uid: tier.metadata.uid ?? '', tier: tier.metadata.name };
}

function tenantOwner(n: NamingContext, tenant: Tenant): OwnerRef {
  return { cluster: n.cluster, kind: 'Tenant', name: tenant.metadata.name, uid: tenant.metadata.uid ?? '', tier: tenant.spec.tier };
}

function bind<S>(driver: { kind: string }, spec: S): BoundResource {
  return { driver: driver as BoundResource['driver'], spec, ids: {} };
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

/** The tier's shared resources. */
export async function tierResources(deps: StackDeps, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const owner = tierOwner(n, tier);
  const iso = tier.spec.isolation;
  if (iso === 'silo') return [];
  const bucket = bucketName(n, { kind: 'TenantTier', name: tier.metadata.name });
  const out = [bind(deps.buckets, { name: bucket, region: n.region, owner })];
  if (iso === 'pool') {
    // One knowledge base serves the pool, so its role reads every tenant's prefix.
    const scope: DataScope = { region: n.region, accountId: n.accountId, bucket, prefix: 'tenants/' };
    const embeddingModelId = tier.spec.knowledgeBase?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL;
    out.push(
      bind(deps.knowledgeBaseRoles, {
        name: roleName(n, { kind: 'TenantTier', name: tier.metadata.name }, 'kb'),
        path: ROLE_PATH,
        description: `Bedrock knowledge base role of pool tier ${tier.metadata.name}`,
        owner,
        trust: knowledgeBaseTrust(scope),
        inline: { 'knowledge-base': knowledgeBasePermissions({ ...scope, embeddingModelId }) },
        boundaryArn: deps.permissionsBoundaryArn,
      }),
    );
  }
  return out;
}

/** The tenant's own resources. */
export async function tenantResources(deps: StackDeps, tenant: Tenant, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const owner = tenantOwner(n, tenant);
  const iso = tier.spec.isolation;
  const scope = tenantScope(n, tenant, tier);
  const out: BoundResource[] = [];
  if (iso === 'silo') out.push(bind(deps.buckets, { name: scope.bucket, region: n.region, owner }));
  // Its documents in the tier bucket: nothing to create, emptied when a Delete tenant goes.
  else out.push(bind(deps.prefixes, { bucket: scope.bucket, prefix: scope.prefix ?? '' }));
  if (iso !== 'pool') {
    const embeddingModelId =
      tenant.spec.knowledgeBase?.embeddingModel ?? tier.spec.knowledgeBase?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL;
    out.push(
      bind(deps.knowledgeBaseRoles, {
        name: roleName(n, { kind: 'Tenant', name: tenant.metadata.name }, 'kb'),
        path: ROLE_PATH,
        description: `Bedrock knowledge base role of tenant ${tenant.metadata.name}`,
        owner,
        trust: knowledgeBaseTrust(scope),
        inline: { 'knowledge-base': knowledgeBasePermissions({ ...scope, embeddingModelId }) },
        boundaryArn: deps.permissionsBoundaryArn,
      }),
    );
  }
  out.push(
    bind(deps.tenantRoles, {
      name: roleName(n, { kind: 'Tenant', name: tenant.metadata.name }, 'app'),
      path: ROLE_PATH,
      description: `Role of tenant ${tenant.metadata.name}'s application`,
      owner,
      trust: tenantTrust(scope, tenant.spec.access as Parameters<typeof tenantTrust>[1]),
      inline: { 'tenant-access': tenantPermissions(scope) },
      boundaryArn: deps.permissionsBoundaryArn,
    }),
  );
  return out;
}
