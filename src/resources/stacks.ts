/**
 * Which AWS resources a tier and a tenant get, per isolation pattern (see docs/api.md), bound to
 * their desired specs in the order AWS requires (reversed for deletion), with the ids already
 * persisted on status. The vector store's parts come from the tier's store module
 * (vector-stores/<store>/): its "container" (an OpenSearch Serverless collection with its
 * policies, or an S3 Vectors vector bucket), a bridge tenant's "access" to the tier's container,
 * and the owner's "index"; "kb" is the knowledge base and its S3 data source on that index.
 *
 * | pattern | tier owns                                   | tenant owns                                                  |
 * |---------|---------------------------------------------|--------------------------------------------------------------|
 * | pool    | [key], bucket, container, kb role, index, kb | prefix, tenant role                                         |
 * | bridge  | [key], bucket, container                    | prefix, kb role, access, index, kb, tenant role              |
 * | silo    | [key]                                       | [key], bucket, container, kb role, index, kb, tenant role    |
 *
 * A tier key exists with `storage.encryption: TierKey`; a tenant key with `TenantKey` (silo, and
 * bridge on a store whose tenant part is an index or a knowledge base, not a collection).
 */
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import {
  type NamingContext,
  type Owner,
  ROLE_PATH,
  bucketName,
  namePrefix,
  keyAlias,
  roleArn,
  roleName,
  tenantPrefix,
} from '../core/naming.js';
import { type DataScope, knowledgeBasePermissions, knowledgeBaseTrust, tenantPermissions, tenantTrust } from '../core/policies/roles.js';
import { withGatewayTrust } from '../core/policies/gateway.js';
import { SESSION_POLICY_MAX_CHARS, sharedRolePermissions, sharedRoleTrust, tenantSessionPolicy } from '../core/policies/shared-role.js';
import { TerminalError } from '../core/errors.js';
import { sharesRole } from '../core/tenant-roles.js';
import { REASON } from '../api/v1alpha1/constants.js';
import { type OwnerRef, adoptsRetained } from '../core/tags.js';
import type { IamRoleDriver, RoleSpec } from './iam-role/driver.js';
import type { PodIdentityDriver, PodIdentitySpec } from './pod-identity/driver.js';
import { type NamingGuard, recordedNames } from './naming-guard/driver.js';
import type { KmsKeyDriver } from './kms-key/driver.js';
import type { BoundResource } from './managed-resource.js';
import type { S3BucketDriver } from './s3-bucket/driver.js';
import type { S3PrefixDriver } from './s3-prefix/driver.js';
import { type KnowledgeBaseDeps, knowledgeBaseResources } from './knowledge-base-stack.js';
import { bind } from './vector-stores/bind.js';
import type { VectorStore } from './vector-stores/index.js';
import type { Outputs, StoreInput } from './vector-stores/store.js';
import { type KbSettings, kbSettings } from '../core/kb-settings.js';
import { type VectorStoreType, storeOf } from '../core/vector-stores.js';
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
  /** The tenant gateway's role, which Pod Identity tenants' roles trust (config gatewayRoleArn). */
  gatewayRoleArn?: string;
  /**
   * The inference profiles a tenant's ModelAccess objects grant and do not throttle: on a tier
   * with `tenantRoles: Shared` they are in the session policy of the tenant's association.
   */
  grantedProfiles?: (tenant: string) => string[];
  knowledgeBase: KnowledgeBaseDeps;
  /** One module per vector store a tier can choose. */
  stores: Record<VectorStoreType, VectorStore>;
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

/** What a store needs to know of the owner it builds for. */
function storeInput(
  n: NamingContext,
  owner: OwnerRef,
  what: string,
  operator: string,
  settings: KbSettings,
  kmsKeyArn: (o: Outputs) => string | undefined,
  tier: TenantTier,
): StoreInput {
  const kbRoleArn = roleArn(n, roleName(n, { kind: owner.kind, name: owner.name }, 'kb'));
  return { n, owner, what, operator, kbRoleArn, settings, kmsKeyArn, vectorStore: { ...tier.spec.vectorStore } };
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
  const pattern = tier.spec.isolation;
  if (pattern === 'silo') return out;
  const bucket = bucketName(n, { kind: 'TenantTier', name });
  const keyArn = (o: Outputs): string | undefined => o.kmsKeyArn;
  out.push(bind(deps.buckets, (o: Outputs) => ({ name: bucket, region: n.region, owner, kmsKeyArn: o.kmsKeyArn })));
  if (sharesRole(tier)) out.push(sharedRole(deps, n, owner, tier, bucket));
  const settings = kbSettings(tier);
  const store = deps.stores[storeOf(tier)].tier(pattern, storeInput(n, owner, `tier ${name}`, operator, settings, keyArn, tier));
  out.push(...store.container);
  if (pattern === 'bridge') return out;
  // Pool: one knowledge base serves every tenant, so its role reads every tenant's prefix.
  const scope = (o: Outputs): DataScope => ({
    region: n.region,
    accountId: n.accountId,
    bucket,
    prefix: 'tenants/',
    kmsKeyArn: o.kmsKeyArn,
    ...store.scope(o),
    // Once the shared knowledge base exists its role trusts it alone.
    knowledgeBaseId: o.knowledgeBaseId ?? shared.knowledgeBaseId,
  });
  out.push(kbRole(deps, n, owner, scope, settings.embeddingModel, `pool tier ${name}`));
  out.push(...store.access, ...store.index);
  out.push(
    ...knowledgeBaseResources(deps.knowledgeBase, n, owner, settings, { bucket, prefix: 'tenants/', kmsKeyArn: keyArn }, store, {
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
  const tierKeyArn = tier.spec.storage?.encryption === 'TierKey' ? tier.status?.shared?.kmsKeyArn : undefined;
  // The tenant's key if it has one (published earlier in this pass), else the tier's.
  const keyArn = (o: Outputs): string | undefined => o.kmsKeyArn ?? tierKeyArn;
  const out: BoundResource[] = [bind(deps.namingGuard, { recorded: recordedNames(mine), prefix: namePrefix(n) })];
  const operator = await deps.operatorPrincipal();
  const settings = kbSettings(tier, tenant);
  const store =
    iso === 'pool'
      ? undefined
      : deps.stores[storeOf(tier)].tenant(iso, {
          ...storeInput(n, owner, `tenant ${name}`, operator, settings, keyArn, tier),
          tierOwner: ownerRef(n, 'TenantTier', tier, tier.metadata.name),
          tierShared: { ...tier.status?.shared },
        });
  const scope = (o: Outputs): DataScope => ({
    ...base,
    kmsKeyArn: keyArn(o),
    ...store?.scope(o),
    knowledgeBaseId: iso === 'pool' ? undefined : o.knowledgeBaseId,
    pool: iso === 'pool',
  });
  // A key of its own: silo tenants' buckets and stores; bridge tenants' index or knowledge base
  // (admission allows it on bridge only where that needs no collection per tenant).
  if (iso !== 'pool' && tier.spec.storage?.encryption === 'TenantKey') out.push(key(deps, n, owner, `tenant ${name}`, mine, operator));
  if (iso === 'silo') {
    out.push(bind(deps.buckets, (o: Outputs) => ({ name: base.bucket, region: n.region, owner, kmsKeyArn: keyArn(o) })));
  } else {
    // Its documents in the tier bucket: nothing to create, emptied when a Delete tenant goes.
    out.push(bind(deps.prefixes, { bucket: base.bucket, prefix: base.prefix ?? '' }));
  }
  if (store) {
    out.push(...store.container);
    out.push(kbRole(deps, n, owner, scope, settings.embeddingModel, `tenant ${name}`));
    out.push(...store.access, ...store.index);
    out.push(
      ...knowledgeBaseResources(
        deps.knowledgeBase,
        n,
        owner,
        settings,
        { bucket: base.bucket, prefix: base.prefix, kmsKeyArn: keyArn },
        store,
        {
          knowledgeBaseId: mine.knowledgeBaseId,
          dataSourceId: mine.dataSourceId,
        },
      ),
    );
  }
  const pod = tenant.spec.access && 'podIdentity' in tenant.spec.access ? tenant.spec.access.podIdentity : undefined;
  const cluster = deps.eksClusterArn ? /:cluster\/(.+)$/.exec(deps.eksClusterArn)?.[1] : undefined;
  const association = (roleArnOf: (o: Outputs) => string, policyOf?: (o: Outputs) => string): BoundResource[] =>
    // The association gives the application its role; made after the role, gone before it.
    pod && cluster
      ? [
          bind(
            deps.podIdentities,
            (o: Outputs): PodIdentitySpec => ({
              clusterName: cluster,
              namespace: pod.namespace,
              serviceAccount: pod.serviceAccount,
              roleArn: roleArnOf(o),
              owner,
              ...(policyOf ? { policy: policyOf(o) } : {}),
            }),
            mine,
          ),
        ]
      : [];
  if (sharesRole(tier)) {
    // No role of its own: the tier's, narrowed to the tenant by its association's session policy.
    const shared = tier.status?.shared?.roleArn ?? roleArn(n, roleName(n, { kind: 'TenantTier', name: tier.metadata.name }, 'app'));
    out.push(
      ...association(
        () => shared,
        (o) => sessionPolicyText(name, scope(o), deps.grantedProfiles?.(name) ?? []),
      ),
    );
    return out;
  }
  out.push(
    bind(deps.tenantRoles, (o: Outputs): RoleSpec => ({
      name: roleName(n, { kind: 'Tenant', name }, 'app'),
      path: ROLE_PATH,
      description: `Role of tenant ${name}'s application`,
      owner,
      // The gateway serves callers it knows by their service account: Pod Identity tenants.
      trust: withGatewayTrust(
        tenantTrust(base, tenant.spec.access as Parameters<typeof tenantTrust>[1], deps.eksClusterArn),
        pod ? deps.gatewayRoleArn : undefined,
        name,
      ),
      inline: { 'tenant-access': tenantPermissions(scope(o)) },
      boundaryArn: deps.permissionsBoundaryArn,
    })),
  );
  out.push(...association((o) => o.roleArn ?? ''));
  return out;
}

/** The role a Shared pool tier's tenants' applications get, narrowed per tenant by a session policy. */
function sharedRole(deps: StackDeps, n: NamingContext, owner: OwnerRef, tier: TenantTier, bucket: string): BoundResource {
  const name = tier.metadata.name;
  return bind(deps.tenantRoles, (o: Outputs): RoleSpec => {
    const scope = {
      region: n.region,
      accountId: n.accountId,
      bucket,
      prefix: 'tenants/',
      kmsKeyArn: o.kmsKeyArn,
      cluster: n.cluster,
      tier: name,
    };
    return {
      name: roleName(n, { kind: 'TenantTier', name }, 'app'),
      path: ROLE_PATH,
      description: `Role the applications of pool tier ${name}'s tenants share, each narrowed to its own tenant`,
      owner,
      trust: sharedRoleTrust(scope),
      inline: { 'pool-tenants': sharedRolePermissions(scope) },
      boundaryArn: deps.permissionsBoundaryArn,
    };
  });
}

/** A tenant's session policy as EKS takes it, refused when it would not fit. */
function sessionPolicyText(tenant: string, scope: DataScope, profiles: string[]): string {
  const text = JSON.stringify(tenantSessionPolicy(scope, profiles));
  if (text.length > SESSION_POLICY_MAX_CHARS)
    throw new TerminalError(
      REASON.SessionPolicyTooLarge,
      `tenant ${tenant}'s session policy is ${text.length} characters with ${profiles.length} model grants, over the ${SESSION_POLICY_MAX_CHARS} EKS Pod Identity allows: remove a ModelAccess, or move the tenant to a tier with tenantRoles PerTenant`,
    );
  return text;
}
