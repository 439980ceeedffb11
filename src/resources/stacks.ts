/**
 * Which AWS resources a tier and a tenant get, per isolation pattern (see docs/api.md), bound to
 * their desired specs in the order AWS requires (reversed for deletion), with the ids already
 * persisted on status. "collection" stands for its encryption, network and data access policies
 * and itself (the data policy before the collection, so a deletion keeps it until the collection
 * is gone); "kb" for the vector index, the knowledge base and its S3 data source.
 *
 * | pattern | tier owns                                         | tenant owns                                                     |
 * |---------|---------------------------------------------------|-----------------------------------------------------------------|
 * | pool    | [key], bucket, collection, kb role, kb            | prefix, tenant role                                             |
 * | bridge  | [key], bucket, collection (operator's data policy) | prefix, kb role, data policy (its index only), kb, tenant role |
 * | silo    | [key]                                             | [key], bucket, collection, kb role, kb, tenant role             |
 *
 * A tier key exists with `storage.encryption: TierKey`; a tenant key with `TenantKey` (silo only).
 */
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import {
  type NamingContext,
  type Owner,
  ROLE_PATH,
  bucketName,
  idempotencyToken,
  namePrefix,
  indexName,
  keyAlias,
  roleArn,
  roleName,
  tenantPrefix,
} from '../core/naming.js';
import { type DataScope, knowledgeBasePermissions, knowledgeBaseTrust, tenantPermissions, tenantTrust } from '../core/policies/roles.js';
import { type OwnerRef, adoptsRetained } from '../core/tags.js';
import type { IamRoleDriver, RoleSpec } from './iam-role/driver.js';
import type { PodIdentityDriver, PodIdentitySpec } from './pod-identity/driver.js';
import { type NamingGuard, recordedNames } from './naming-guard/driver.js';
import type { KmsKeyDriver } from './kms-key/driver.js';
import type { BoundResource } from './managed-resource.js';
import type { S3BucketDriver } from './s3-bucket/driver.js';
import type { S3PrefixDriver } from './s3-prefix/driver.js';
import {
  type CollectionRef,
  type Outputs,
  type VectorDeps,
  bind,
  collectionResources,
  dataPolicy,
  knowledgeBaseResources,
} from './vector-stack.js';
import { kbSettings } from '../core/kb-settings.js';
import { keyPolicy } from '../core/policies/kms.js';

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
  /** Tenants' Pod Identity associations, made in the cluster `eksClusterArn` names. */
  podIdentities: PodIdentityDriver;
  namingGuard: NamingGuard;
  eksClusterArn?: string;
  vector: VectorDeps;
  /** The operator's own IAM principal: it must be in the data access policies to create indexes. */
  operatorPrincipal: () => Promise<string>;
}

function ownerRef(n: NamingContext, kind: Owner['kind'], object: Tenant | TenantTier, tier: string): OwnerRef {
  const m = object.metadata;
  return { cluster: n.cluster, kind, name: m.name, uid: m.uid ?? '', tier, adoptRetained: adoptsRetained(m.annotations) };
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

function key(
  deps: StackDeps,
  n: NamingContext,
  owner: OwnerRef,
  what: string,
  ids: Record<string, string | undefined>,
  operator: string,
): BoundResource {
  return bind(
    deps.keys,
    {
      alias: keyAlias(n, { kind: owner.kind, name: owner.name }),
      description: `Encrypts the documents of ${what}`,
      owner,
      pendingWindowDays: deps.keyPendingWindowDays,
      policy: keyPolicy({ accountId: n.accountId, operatorPrincipal: operator }),
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

/** Where the tier's collection is, as the tier publishes it on status (bridge tenants use it). */
function tierCollection(tier: TenantTier): CollectionRef {
  const shared = tier.status?.shared ?? {};
  return { collectionId: shared.collectionId, collectionArn: shared.collectionArn, collectionEndpoint: shared.collectionEndpoint };
}

/** The tier's shared resources. */
export async function tierResources(deps: StackDeps, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const name = tier.metadata.name;
  const owner = ownerRef(n, 'TenantTier', tier, name);
  const shared = tier.status?.shared ?? {};
  const out: BoundResource[] = [bind(deps.namingGuard, { recorded: recordedNames(shared), prefix: namePrefix(n) })];
  const operator = await deps.operatorPrincipal();
  if (tier.spec.storage?.encryption === 'TierKey') out.push(key(deps, n, owner, `tier ${name}`, shared, operator));
  if (tier.spec.isolation === 'silo') return out;
  const v = deps.vector;
  const bucket = bucketName(n, { kind: 'TenantTier', name });
  const keyArn = (o: Outputs): string | undefined => o.kmsKeyArn;
  out.push(bind(deps.buckets, (o: Outputs) => ({ name: bucket, region: n.region, owner, kmsKeyArn: o.kmsKeyArn })));
  const kbRoleArn = roleArn(n, roleName(n, { kind: 'TenantTier', name }, 'kb'));
  // Bridge: tenants get their own index, knowledge base and data policy; the operator creates the
  // indexes. Pool: the shared knowledge base's role and the operator reach the one index.
  const access =
    tier.spec.isolation === 'bridge'
      ? dataPolicy(v, n, owner, (collection) => [
          { description: `operator: indexes of tier ${name}`, principals: [operator], collection, index: '*', collectionItems: true },
        ])
      : dataPolicy(v, n, owner, (collection) => [
          {
            description: `pool tier ${name}`,
            principals: [kbRoleArn, operator],
            collection,
            index: indexName(n, { kind: 'TenantTier', name }),
            collectionItems: true,
          },
        ]);
  out.push(...collectionResources(v, n, owner, keyArn, `tier ${name}`, access));
  if (tier.spec.isolation === 'bridge') return out;
  // Pool: one knowledge base serves every tenant, so its role reads every tenant's prefix.
  const scope = (o: Outputs): DataScope => ({
    region: n.region,
    accountId: n.accountId,
    bucket,
    prefix: 'tenants/',
    kmsKeyArn: o.kmsKeyArn,
    collectionArn: o.collectionArn,
    // Once the shared knowledge base exists its role trusts it alone.
    knowledgeBaseId: o.knowledgeBaseId ?? shared.knowledgeBaseId,
  });
  const settings = kbSettings(tier);
  out.push(kbRole(deps, n, owner, scope, settings.embeddingModel, `pool tier ${name}`));
  out.push(
    ...knowledgeBaseResources(v, n, owner, settings, { bucket, prefix: 'tenants/', kmsKeyArn: keyArn }, (o) => o, {
      knowledgeBaseId: shared.knowledgeBaseId,
      dataSourceId: shared.dataSourceId,
    }),
  );
  return out;
}

/** The tenant's own resources. */
export async function tenantResources(deps: StackDeps, tenant: Tenant, tier: TenantTier): Promise<BoundResource[]> {
  const n = await deps.naming();
  const name = tenant.metadata.name;
  const owner = ownerRef(n, 'Tenant', tenant, tenant.spec.tier);
  const iso = tier.spec.isolation;
  const base = tenantScope(n, tenant, tier);
  const mine = tenant.status?.resources ?? {};
  const v = deps.vector;
  const tierKeyArn = tier.spec.storage?.encryption === 'TierKey' ? tier.status?.shared?.kmsKeyArn : undefined;
  // The tenant's key if it has one (published earlier in this pass), else the tier's.
  const keyArn = (o: Outputs): string | undefined => o.kmsKeyArn ?? tierKeyArn;
  // Its own collection (silo) as published in this pass, or the tier's (bridge, pool).
  const collection = (o: Outputs): CollectionRef => (iso === 'silo' ? o : tierCollection(tier));
  const scope = (o: Outputs): DataScope => ({
    ...base,
    kmsKeyArn: keyArn(o),
    collectionArn: collection(o).collectionArn,
    knowledgeBaseId: iso === 'pool' ? undefined : o.knowledgeBaseId,
    pool: iso === 'pool',
  });
  const out: BoundResource[] = [bind(deps.namingGuard, { recorded: recordedNames(mine), prefix: namePrefix(n) })];
  const kbRoleArn = roleArn(n, roleName(n, { kind: 'Tenant', name }, 'kb'));
  const index = indexName(n, { kind: 'Tenant', name });
  const operator = await deps.operatorPrincipal();
  if (iso === 'silo') {
    if (tier.spec.storage?.encryption === 'TenantKey') out.push(key(deps, n, owner, `tenant ${name}`, mine, operator));
    out.push(bind(deps.buckets, (o: Outputs) => ({ name: base.bucket, region: n.region, owner, kmsKeyArn: keyArn(o) })));
    // The whole collection is the tenant's.
    const access = dataPolicy(v, n, owner, (c) => [
      { description: `tenant ${name}`, principals: [kbRoleArn, operator], collection: c, index, collectionItems: true },
    ]);
    out.push(...collectionResources(v, n, owner, keyArn, `tenant ${name}`, access));
  } else {
    // Its documents in the tier bucket: nothing to create, emptied when a Delete tenant goes.
    out.push(bind(deps.prefixes, { bucket: base.bucket, prefix: base.prefix ?? '' }));
  }
  if (iso !== 'pool') {
    const settings = kbSettings(tier, tenant);
    out.push(kbRole(deps, n, owner, scope, settings.embeddingModel, `tenant ${name}`));
    if (iso === 'bridge') {
      // The tenant's role reaches only its own index in the tier collection (the tier's policy
      // lets the operator create it).
      const tierOwner = ownerRef(n, 'TenantTier', tier, tier.metadata.name);
      out.push(
        dataPolicy(
          v,
          n,
          owner,
          (c) => [{ description: `tenant ${name}`, principals: [kbRoleArn], collection: c, index, collectionItems: false }],
          tierOwner,
        ),
      );
    }
    out.push(
      ...knowledgeBaseResources(v, n, owner, settings, { bucket: base.bucket, prefix: base.prefix, kmsKeyArn: keyArn }, collection, {
        knowledgeBaseId: mine.knowledgeBaseId,
        dataSourceId: mine.dataSourceId,
      }),
    );
  }
  out.push(
    bind(deps.tenantRoles, (o: Outputs): RoleSpec => ({
      name: roleName(n, { kind: 'Tenant', name }, 'app'),
      path: ROLE_PATH,
      description: `Role of tenant ${name}'s application`,
      owner,
      trust: tenantTrust(base, tenant.spec.access as Parameters<typeof tenantTrust>[1], deps.eksClusterArn),
      inline: { 'tenant-access': tenantPermissions(scope(o)) },
      boundaryArn: deps.permissionsBoundaryArn,
    })),
  );
  const pod = tenant.spec.access && 'podIdentity' in tenant.spec.access ? tenant.spec.access.podIdentity : undefined;
  const cluster = deps.eksClusterArn ? /:cluster\/(.+)$/.exec(deps.eksClusterArn)?.[1] : undefined;
  if (pod && cluster) {
    // The association gives the application the tenant role; made after the role, gone before it.
    out.push(
      bind(
        deps.podIdentities,
        (o: Outputs): PodIdentitySpec => ({
          clusterName: cluster,
          namespace: pod.namespace,
          serviceAccount: pod.serviceAccount,
          roleArn: o.roleArn ?? '',
          owner,
          // A new token once a recorded association vanished, so EKS makes a new one.
          clientRequestToken: idempotencyToken(tenant.metadata.uid ?? name, `pod-identity/${mine.podIdentityAssociationId ?? ''}`),
        }),
        mine,
      ),
    );
  }
  return out;
}
