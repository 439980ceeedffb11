/**
 * The attack suite: every request an adversary would try against the generated policies (a
 * compromised or misconfigured operator of one cluster, a tenant's application, a confused
 * service), evaluated by an IAM policy simulator (test/support/iam-eval.ts). Each attack is
 * denied, and beside it the legitimate request it imitates is Allowed, so a denial proves the
 * scoping and not a broken grant.
 *
 * Every name and ARN comes from the code's own functions (naming.ts, stacks.ts `tenantScope`,
 * the policy generators), for clusters whose names overlap (`prod` and `prod-eu-1`, `prod-eu1` and
 * `prodeu-1`) and tenants whose names overlap (`a` and `a-b`, `acme` and `acme-evil`).
 *
 * One section per row of the threat table (docs/operations.md, "Attacks and what denies them"),
 * then the residual risks: what the policies still allow because AWS's policy language cannot
 * deny it, each asserted Allowed exactly, beside the nearest variants that are denied.
 */
import { describe, expect, it } from 'vitest';
import type { Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import {
  type Evaluation,
  type ResourcePolicy,
  defaultKeyPolicy,
  describeEvaluation,
  evaluate,
  openBucketPolicy,
} from '../../../test/support/iam-eval.js';
import { tenantScope } from '../../resources/stacks.js';
import { managed } from '../../resources/vector-stores/managed/index.js';
import { type S3VectorsDeps, s3Vectors } from '../../resources/vector-stores/s3-vectors/index.js';
import type { StoreInput } from '../../resources/vector-stores/store.js';
import { kbSettings } from '../kb-settings.js';
import {
  type NamingContext,
  type Owner,
  bucketName,
  collectionName,
  keyAlias,
  roleArn,
  roleName,
  tenantPrefix,
  vectorBucketName,
  vectorIndexName,
} from '../naming.js';
import { TAG } from '../tags.js';
import { type PolicyDocument, policy } from './document.js';
import { keyPolicy } from './kms.js';
import { modelAccessPolicy } from './model-access.js';
import { COMMAND_ACTIONS, type OperatorScope, operatorPolicy, tenantBoundaryPolicy } from './operator.js';
import {
  type DataScope,
  KB_S3VECTORS_ACTIONS,
  type TenantAccess,
  knowledgeBasePermissions,
  knowledgeBaseTrust,
  tenantPermissions,
  tenantTrust,
} from './roles.js';

const account = '111122223333';
const otherAccount = '444455556666';
const region = 'us-east-1';
const otherRegion = 'us-west-2';
const boundaryArn = `arn:aws:iam::${account}:policy/RagTenantBoundary`;
const embeddingModelId = 'amazon.titan-embed-text-v2:0';

const requestTag = (cluster: string): Record<string, string> => ({ [`aws:RequestTag/${TAG.cluster}`]: cluster });
const resourceTag = (cluster: string): Record<string, string> => ({ [`aws:ResourceTag/${TAG.cluster}`]: cluster });
const passedTo = (service: string): Record<string, string> => ({ 'iam:PassedToService': service });
const viaS3 = { 'kms:ViaService': `s3.${region}.amazonaws.com` };
/** The service principal of EKS Pod Identity. */
const pods = 'pods.eks.amazonaws.com';

const keyArn = (id: string, acct = account, rgn = region): string => `arn:aws:kms:${rgn}:${acct}:key/${id}`;
const kbArn = (id: string, acct = account, rgn = region): string => `arn:aws:bedrock:${rgn}:${acct}:knowledge-base/${id}`;
const profileArn = (id: string): string => `arn:aws:bedrock:${region}:${account}:application-inference-profile/${id}`;
const collectionArn = (id: string, rgn = region): string => `arn:aws:aoss:${rgn}:${account}:collection/${id}`;
const modelArn = (id: string, rgn = region): string => `arn:aws:bedrock:${rgn}::foundation-model/${id}`;
/** An EKS cluster of the account; each operator installation runs in the one named like it. */
const eksCluster = (name: string, acct = account, rgn = region): string => `arn:aws:eks:${rgn}:${acct}:cluster/${name}`;
/** A Pod Identity association of the EKS cluster `eks` (its ARN carries the cluster's name). */
const associationArn = (eks: string, id: string): string => `${eks.replace(':cluster/', ':podidentityassociation/')}/${id}`;

/** Keys, knowledge bases, profiles and collections are named by id: these ids stand for them. */
const ID = {
  ownKey: '1111aaaa-0000-4000-8000-000000000001',
  foreignKey: '2222bbbb-0000-4000-8000-000000000002',
  otherClusterKey: '3333cccc-0000-4000-8000-000000000003',
  ownKb: 'OWNKB00001',
  foreignKb: 'FOREIGN001',
  otherClusterKb: 'OTHERKB001',
  ownProfile: 'ownprofile01',
  foreignProfile: 'foreignprof1',
  otherClusterProfile: 'otherprofile',
  ownCollection: 'owncollection0001',
  foreignCollection: 'foreigncoll000001',
  otherClusterCollection: 'othercoll00000001',
  ownAssociation: 'a-ownassociation01',
  foreignAssociation: 'a-foreignassoc0001',
  otherClusterAssociation: 'a-otherassoc000001',
};

const tenant = (name: string): Owner => ({ kind: 'Tenant', name });
const tier = (name: string): Owner => ({ kind: 'TenantTier', name });

/** One operator installation: its names, its policies, its principal. */
function cluster(name: string): {
  name: string;
  naming: NamingContext;
  scope: OperatorScope;
  operator: string;
  policy: PolicyDocument;
  boundary: PolicyDocument;
  keyPolicy: PolicyDocument;
  eks: string;
  association: (id: string) => string;
  bucket: (o: Owner) => string;
  object: (o: Owner, key: string) => string;
  role: (o: Owner, purpose: 'kb' | 'app') => string;
  alias: (o: Owner) => string;
  collection: (o: Owner) => string;
  as: (e: Omit<Evaluation, 'principal' | 'identity'>) => Evaluation;
} {
  const naming: NamingContext = { prefix: 'rag', cluster: name, accountId: account, region };
  // Pod Identity: the operator of cluster `prod` runs in the EKS cluster `prod` (eksClusterArn).
  const eks = eksCluster(name);
  const scope: OperatorScope = { ...naming, boundaryArn, eksClusterArn: eks };
  // The operator's own role is the installer's (not named by naming.ts) and outside ROLE_PATH.
  const operator = `arn:aws:iam::${account}:role/rag-operator-${name}`;
  const policy = operatorPolicy(scope);
  return {
    name,
    naming,
    scope,
    operator,
    policy,
    boundary: tenantBoundaryPolicy(scope),
    keyPolicy: keyPolicy({ accountId: account, operatorPrincipal: operator }),
    eks,
    association: (id) => associationArn(eks, id),
    bucket: (o) => `arn:aws:s3:::${bucketName(naming, o)}`,
    object: (o, key) => `arn:aws:s3:::${bucketName(naming, o)}/${key}`,
    role: (o, purpose) => roleArn(naming, roleName(naming, o, purpose)),
    alias: (o) => `arn:aws:kms:${region}:${account}:${keyAlias(naming, o)}`,
    collection: (o) => collectionName(naming, o),
    as: (e) => ({ principal: operator, identity: [policy], ...e }),
  };
}

const prod = cluster('prod');
const prodEu1 = cluster('prod-eu-1');
const prodEu1NoDash = cluster('prod-eu1');
const prodeu1 = cluster('prodeu-1');

// Tenants' data scopes (as the code builds them) and roles under the boundary, for every row.

/** Minimal objects for stacks.ts `tenantScope`, so tenants' names and prefixes are the code's. */
const tierObject = (name: string, isolation: 'pool' | 'bridge' | 'silo'): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name },
  spec: { isolation },
});
const tenantObject = (name: string, tierName: string): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name },
  spec: { tier: tierName },
});

/** A tenant's data scope as tenantResources builds it (ids stand for what AWS returns). */
function dataScope(c: ReturnType<typeof cluster>, name: string, isolation: 'pool' | 'bridge' | 'silo'): DataScope {
  const tierName = `std-${isolation}`;
  const base = tenantScope(c.naming, tenantObject(name, tierName), tierObject(tierName, isolation));
  const id = name.replace(/[^a-z0-9]/g, '').toUpperCase();
  return {
    ...base,
    kmsKeyArn: keyArn(isolation === 'silo' ? `key-${name}` : `key-${tierName}`),
    collectionArn: collectionArn(isolation === 'silo' ? `coll${id.toLowerCase()}` : `coll${tierName.replace(/-/g, '')}`),
    knowledgeBaseId: isolation === 'pool' ? undefined : `KB${id}`,
    pool: isolation === 'pool',
  };
}

const objectOf = (s: DataScope, key: string): string => `arn:aws:s3:::${s.bucket}/${s.prefix ?? ''}${key}`;
const tenantPrincipal = (c: ReturnType<typeof cluster>, name: string, purpose: 'app' | 'kb'): string => c.role(tenant(name), purpose);

/** A role under the boundary whose inline policy grants far more than the operator writes. */
const overBroad = (actions: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
});
const underBoundary = (
  c: ReturnType<typeof cluster>,
  inline: PolicyDocument,
  e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>,
): Evaluation => ({
  principal: tenantPrincipal(c, 'a', 'kb'),
  identity: [inline],
  boundary: c.boundary,
  ...e,
});

type Denied = 'ImplicitlyDenied' | 'ExplicitlyDenied';
/** An attack, how it must be denied, and the legitimate request it imitates. */
interface Case {
  name: string;
  attack: Evaluation;
  denied: Denied;
  legit: Evaluation;
}

async function check({ attack, denied, legit }: Case): Promise<void> {
  expect(await evaluate(attack, account), `attack: ${describeEvaluation(attack)}`).toBe(denied);
  expect(await evaluate(legit, account), `legitimate: ${describeEvaluation(legit)}`).toBe('Allowed');
}

/** Rows for it.each: the attack's full name (vitest shortens a `$name` to 40 characters), then the case. */
const named = (cases: Case[]): [string, Case][] => cases.map((c) => [c.name, c]);

// ---------------------------------------------------------------------------------------------
// Row 1: tag-then-act. The operator of `prod` gives a resource it never created its cluster's
// tag, then acts on it; or hands one of its own to another cluster; or creates one untagged.
// ---------------------------------------------------------------------------------------------

/** Requests of prod's operator on its own resources, as the drivers send them. */
const own = {
  tagNewKey: prod.as({
    action: 'kms:TagResource',
    resource: keyArn(ID.ownKey),
    context: requestTag('prod'),
    resourcePolicy: prod.keyPolicy,
  }),
  retagKey: prod.as({
    action: 'kms:TagResource',
    resource: keyArn(ID.ownKey),
    context: { ...resourceTag('prod'), ...requestTag('prod') },
    resourcePolicy: prod.keyPolicy,
  }),
  deleteKey: prod.as({
    action: 'kms:ScheduleKeyDeletion',
    resource: keyArn(ID.ownKey),
    context: resourceTag('prod'),
    resourcePolicy: prod.keyPolicy,
  }),
  // A key tagged by the operator but whose policy was reset to the default: IAM alone decides.
  deleteKeyDefaultPolicy: prod.as({
    action: 'kms:ScheduleKeyDeletion',
    resource: keyArn(ID.ownKey),
    context: resourceTag('prod'),
    resourcePolicy: defaultKeyPolicy(account),
  }),
  describeKey: prod.as({
    action: 'kms:DescribeKey',
    resource: keyArn(ID.ownKey),
    context: resourceTag('prod'),
    resourcePolicy: prod.keyPolicy,
  }),
  putKeyPolicy: prod.as({ action: 'kms:PutKeyPolicy', resource: keyArn(ID.ownKey), context: {}, resourcePolicy: prod.keyPolicy }),
  aliasOnKey: prod.as({
    action: 'kms:CreateAlias',
    resource: keyArn(ID.ownKey),
    context: resourceTag('prod'),
    resourcePolicy: prod.keyPolicy,
  }),
  createKey: prod.as({
    action: 'kms:CreateKey',
    resource: '*',
    context: {
      'kms:KeySpec': 'SYMMETRIC_DEFAULT',
      'kms:KeyUsage': 'ENCRYPT_DECRYPT',
      'kms:KeyOrigin': 'AWS_KMS',
      'kms:BypassPolicyLockoutSafetyCheck': 'false',
      'kms:MultiRegion': 'false',
    },
  }),
  retagKb: prod.as({
    action: 'bedrock:TagResource',
    resource: kbArn(ID.ownKb),
    context: { ...resourceTag('prod'), ...requestTag('prod') },
  }),
  deleteKb: prod.as({ action: 'bedrock:DeleteKnowledgeBase', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  ingest: prod.as({ action: 'bedrock:StartIngestionJob', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  updateDataSource: prod.as({ action: 'bedrock:UpdateDataSource', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  createKb: prod.as({ action: 'bedrock:CreateKnowledgeBase', resource: '*', context: requestTag('prod') }),
  retagProfile: prod.as({
    action: 'bedrock:TagResource',
    resource: profileArn(ID.ownProfile),
    context: { ...resourceTag('prod'), ...requestTag('prod') },
  }),
  deleteProfile: prod.as({ action: 'bedrock:DeleteInferenceProfile', resource: profileArn(ID.ownProfile), context: resourceTag('prod') }),
  createProfile: prod.as({ action: 'bedrock:CreateInferenceProfile', resource: profileArn(ID.ownProfile), context: requestTag('prod') }),
  // aoss:TagResource takes no resource (Service Authorization Reference): `*`, told apart by tags.
  retagCollection: prod.as({ action: 'aoss:TagResource', resource: '*', context: { ...resourceTag('prod'), ...requestTag('prod') } }),
  deleteCollection: prod.as({ action: 'aoss:DeleteCollection', resource: collectionArn(ID.ownCollection), context: resourceTag('prod') }),
  createCollection: prod.as({ action: 'aoss:CreateCollection', resource: '*', context: requestTag('prod') }),
  tagRole: prod.as({ action: 'iam:TagRole', resource: prod.role(tenant('a'), 'app'), context: requestTag('prod') }),
  putRolePolicy: prod.as({
    action: 'iam:PutRolePolicy',
    resource: prod.role(tenant('a'), 'app'),
    context: { 'iam:PermissionsBoundary': boundaryArn },
  }),
  // Tag-on-create: Bedrock authorizes the tags of CreateKnowledgeBase and CreateInferenceProfile
  // as bedrock:TagResource on the new resource's ARN, which carries no tag yet.
  tagNewKb: prod.as({ action: 'bedrock:TagResource', resource: kbArn(ID.ownKb), context: requestTag('prod') }),
  tagNewProfile: prod.as({ action: 'bedrock:TagResource', resource: profileArn(ID.ownProfile), context: requestTag('prod') }),
  // EKS Pod Identity: the create is authorized on the EKS cluster, its tags on the new association.
  createAssociation: prod.as({ action: 'eks:CreatePodIdentityAssociation', resource: prod.eks, context: requestTag('prod') }),
  tagNewAssociation: prod.as({ action: 'eks:TagResource', resource: prod.association(ID.ownAssociation), context: requestTag('prod') }),
  retagAssociation: prod.as({
    action: 'eks:TagResource',
    resource: prod.association(ID.ownAssociation),
    context: { ...resourceTag('prod'), ...requestTag('prod') },
  }),
  updateAssociation: prod.as({
    action: 'eks:UpdatePodIdentityAssociation',
    resource: prod.association(ID.ownAssociation),
    context: resourceTag('prod'),
  }),
  deleteAssociation: prod.as({
    action: 'eks:DeletePodIdentityAssociation',
    resource: prod.association(ID.ownAssociation),
    context: resourceTag('prod'),
  }),
  listAssociations: prod.as({ action: 'eks:ListPodIdentityAssociations', resource: prod.eks }),
  describeAssociation: prod.as({ action: 'eks:DescribePodIdentityAssociation', resource: prod.association(ID.ownAssociation) }),
};

/** Another EKS cluster of the account, with a name extending ours (prod-eu-1) or not (prod2). */
const otherEksClusters = [eksCluster('prod-eu-1'), eksCluster('prod2')];

const tagThenAct: Case[] = [
  // KMS: a foreign key keeps the default key policy; the operator has only its IAM policy.
  {
    name: 'kms:TagResource with our tag on a foreign untagged key (default key policy)',
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.foreignKey),
      context: requestTag('prod'),
      resourcePolicy: defaultKeyPolicy(account),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewKey,
  },
  {
    name: "kms:TagResource with our tag on another cluster's untagged key (its create crashed before tagging; its key policy names its operator)",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.otherClusterKey),
      context: requestTag('prod'),
      resourcePolicy: prodEu1.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewKey,
  },
  {
    name: "kms:TagResource with our tag on a key carrying another cluster's tag (default key policy)",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.otherClusterKey),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
      resourcePolicy: defaultKeyPolicy(account),
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagKey,
  },
  {
    name: "kms:TagResource with our tag on a key carrying another cluster's tag whose key policy names our operator",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.otherClusterKey),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagKey,
  },
  {
    name: "kms:TagResource giving our own new key another cluster's tag (aws:RequestTag)",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.ownKey),
      context: requestTag('prod-eu-1'),
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ExplicitlyDenied',
    legit: own.tagNewKey,
  },
  {
    name: "kms:TagResource re-tagging our own tagged key with another cluster's tag",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.ownKey),
      context: { ...resourceTag('prod'), ...requestTag('prod-eu-1') },
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagKey,
  },
  {
    name: 'kms:ScheduleKeyDeletion of a foreign untagged key (default key policy)',
    attack: prod.as({ action: 'kms:ScheduleKeyDeletion', resource: keyArn(ID.foreignKey), resourcePolicy: defaultKeyPolicy(account) }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKeyDefaultPolicy,
  },
  {
    name: "kms:ScheduleKeyDeletion of a key carrying another cluster's tag (its key policy names its operator)",
    attack: prod.as({
      action: 'kms:ScheduleKeyDeletion',
      resource: keyArn(ID.otherClusterKey),
      context: resourceTag('prod-eu-1'),
      resourcePolicy: prodEu1.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKey,
  },
  {
    name: 'kms:PutKeyPolicy on a foreign key carrying our tag (tagged by hand), to name our operator in it',
    attack: prod.as({
      action: 'kms:PutKeyPolicy',
      resource: keyArn(ID.foreignKey),
      context: resourceTag('prod'),
      resourcePolicy: defaultKeyPolicy(account),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.putKeyPolicy,
  },
  {
    name: 'kms:CreateAlias pointing our alias at a foreign untagged key',
    attack: prod.as({ action: 'kms:CreateAlias', resource: keyArn(ID.foreignKey), resourcePolicy: defaultKeyPolicy(account) }),
    denied: 'ImplicitlyDenied',
    legit: own.aliasOnKey,
  },
  {
    name: 'kms:CreateGrant on our own key (to decrypt through a grant)',
    attack: prod.as({
      action: 'kms:CreateGrant',
      resource: keyArn(ID.ownKey),
      context: resourceTag('prod'),
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: own.describeKey,
  },
  {
    name: 'kms:Decrypt with our own key (the operator never reads documents)',
    attack: prod.as({
      action: 'kms:Decrypt',
      resource: keyArn(ID.ownKey),
      context: { ...resourceTag('prod'), ...viaS3 },
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: own.describeKey,
  },
  {
    name: 'kms:DisableKey on our own key',
    attack: prod.as({
      action: 'kms:DisableKey',
      resource: keyArn(ID.ownKey),
      context: resourceTag('prod'),
      resourcePolicy: prod.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: own.describeKey,
  },
  {
    name: 'kms:CreateKey bypassing the policy lockout safety check',
    attack: prod.as({ ...own.createKey, context: { ...own.createKey.context, 'kms:BypassPolicyLockoutSafetyCheck': 'true' } }),
    denied: 'ImplicitlyDenied',
    legit: own.createKey,
  },
  {
    name: 'kms:CreateKey multi-Region (replicable out of the Region)',
    attack: prod.as({ ...own.createKey, context: { ...own.createKey.context, 'kms:MultiRegion': 'true' } }),
    denied: 'ImplicitlyDenied',
    legit: own.createKey,
  },
  {
    name: 'kms:CreateKey with imported key material (EXTERNAL origin)',
    attack: prod.as({ ...own.createKey, context: { ...own.createKey.context, 'kms:KeyOrigin': 'EXTERNAL' } }),
    denied: 'ImplicitlyDenied',
    legit: own.createKey,
  },
  // Bedrock knowledge bases. Tag-on-create grants bedrock:TagResource with our tag only on
  // knowledge bases (and, below, application inference profiles) of this account and Region. On
  // an untagged one of them it is Allowed: see `residual risks` at the end.
  ...[
    { what: 'an agent', arn: `arn:aws:bedrock:${region}:${account}:agent/AGENT00001` },
    { what: 'a guardrail', arn: `arn:aws:bedrock:${region}:${account}:guardrail/guard0000001` },
    { what: 'a custom model', arn: `arn:aws:bedrock:${region}:${account}:custom-model/amazon.titan-text-express-v1:0:8k/custom000001` },
    { what: 'a provisioned model', arn: `arn:aws:bedrock:${region}:${account}:provisioned-model/prov00000001` },
    { what: "another Region's knowledge base", arn: kbArn(ID.foreignKb, account, otherRegion) },
  ].map(({ what, arn }) => ({
    name: `bedrock:TagResource (tag-on-create) with our tag on ${what}`,
    attack: prod.as({ action: 'bedrock:TagResource', resource: arn, context: requestTag('prod') }),
    denied: 'ImplicitlyDenied' as const,
    legit: own.tagNewKb,
  })),
  {
    name: "bedrock:TagResource (tag-on-create) with our tag on another account's knowledge base",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: kbArn(ID.foreignKb, otherAccount),
      resourceAccount: otherAccount,
      context: requestTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewKb,
  },
  {
    name: 'bedrock:TagResource on an untagged knowledge base without our cluster tag (only an owner uid tag)',
    attack: prod.as({ action: 'bedrock:TagResource', resource: kbArn(ID.foreignKb), context: { [`aws:RequestTag/${TAG.uid}`]: 'uid-1' } }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewKb,
  },
  {
    name: "bedrock:TagResource with our tag on a knowledge base carrying another cluster's tag",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: kbArn(ID.otherClusterKb),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagKb,
  },
  {
    name: "bedrock:TagResource giving our own knowledge base another cluster's tag",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: kbArn(ID.ownKb),
      context: { ...resourceTag('prod'), ...requestTag('prod-eu-1') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagKb,
  },
  {
    name: 'bedrock:DeleteKnowledgeBase of a foreign untagged knowledge base',
    attack: prod.as({ action: 'bedrock:DeleteKnowledgeBase', resource: kbArn(ID.foreignKb) }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKb,
  },
  {
    name: "bedrock:DeleteKnowledgeBase of a knowledge base carrying another cluster's tag",
    attack: prod.as({ action: 'bedrock:DeleteKnowledgeBase', resource: kbArn(ID.otherClusterKb), context: resourceTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKb,
  },
  {
    name: 'bedrock:StartIngestionJob on a foreign untagged knowledge base',
    attack: prod.as({ action: 'bedrock:StartIngestionJob', resource: kbArn(ID.foreignKb) }),
    denied: 'ImplicitlyDenied',
    legit: own.ingest,
  },
  {
    name: "bedrock:StartIngestionJob on a knowledge base carrying another cluster's tag",
    attack: prod.as({ action: 'bedrock:StartIngestionJob', resource: kbArn(ID.otherClusterKb), context: resourceTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.ingest,
  },
  {
    name: "bedrock:UpdateDataSource pointing another cluster's knowledge base at our bucket",
    attack: prod.as({ action: 'bedrock:UpdateDataSource', resource: kbArn(ID.otherClusterKb), context: resourceTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.updateDataSource,
  },
  {
    name: 'bedrock:CreateKnowledgeBase without the cluster request tag',
    attack: prod.as({ action: 'bedrock:CreateKnowledgeBase', resource: '*' }),
    denied: 'ImplicitlyDenied',
    legit: own.createKb,
  },
  {
    name: "bedrock:CreateKnowledgeBase with another cluster's tag",
    attack: prod.as({ action: 'bedrock:CreateKnowledgeBase', resource: '*', context: requestTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.createKb,
  },
  // Bedrock application inference profiles (tag-on-create as for knowledge bases).
  {
    name: "bedrock:TagResource (tag-on-create) with our tag on another Region's inference profile",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: profileArn(ID.foreignProfile).replace(`:${region}:`, `:${otherRegion}:`),
      context: requestTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewProfile,
  },
  {
    name: "bedrock:TagResource (tag-on-create) with our tag on another account's inference profile",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: profileArn(ID.foreignProfile).replace(`:${account}:`, `:${otherAccount}:`),
      resourceAccount: otherAccount,
      context: requestTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewProfile,
  },
  {
    name: "bedrock:TagResource with our tag on an inference profile carrying another cluster's tag",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: profileArn(ID.otherClusterProfile),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagProfile,
  },
  {
    name: "bedrock:TagResource giving our own inference profile another cluster's tag",
    attack: prod.as({
      action: 'bedrock:TagResource',
      resource: profileArn(ID.ownProfile),
      context: { ...resourceTag('prod'), ...requestTag('prod-eu-1') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagProfile,
  },
  {
    name: 'bedrock:DeleteInferenceProfile of a foreign untagged profile',
    attack: prod.as({ action: 'bedrock:DeleteInferenceProfile', resource: profileArn(ID.foreignProfile) }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteProfile,
  },
  {
    name: "bedrock:DeleteInferenceProfile of a profile carrying another cluster's tag",
    attack: prod.as({
      action: 'bedrock:DeleteInferenceProfile',
      resource: profileArn(ID.otherClusterProfile),
      context: resourceTag('prod-eu-1'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteProfile,
  },
  {
    name: 'bedrock:CreateInferenceProfile without the cluster request tag',
    attack: prod.as({ action: 'bedrock:CreateInferenceProfile', resource: profileArn(ID.ownProfile) }),
    denied: 'ImplicitlyDenied',
    legit: own.createProfile,
  },
  {
    name: "bedrock:CreateInferenceProfile with another cluster's tag",
    attack: prod.as({ action: 'bedrock:CreateInferenceProfile', resource: profileArn(ID.ownProfile), context: requestTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.createProfile,
  },
  // OpenSearch Serverless collections. aoss:TagResource takes no resource, so the create's grant
  // is `*` with our request tag: on an untagged collection it is Allowed (`residual risks`).
  {
    name: "aoss:TagResource with our tag on a collection carrying another cluster's tag",
    attack: prod.as({ action: 'aoss:TagResource', resource: '*', context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') } }),
    denied: 'ExplicitlyDenied',
    legit: own.retagCollection,
  },
  {
    name: "aoss:TagResource giving our own collection another cluster's tag",
    attack: prod.as({ action: 'aoss:TagResource', resource: '*', context: { ...resourceTag('prod'), ...requestTag('prod-eu-1') } }),
    denied: 'ExplicitlyDenied',
    legit: own.retagCollection,
  },
  {
    name: 'aoss:DeleteCollection of a foreign untagged collection',
    attack: prod.as({ action: 'aoss:DeleteCollection', resource: collectionArn(ID.foreignCollection) }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteCollection,
  },
  {
    name: "aoss:DeleteCollection of a collection carrying another cluster's tag",
    attack: prod.as({
      action: 'aoss:DeleteCollection',
      resource: collectionArn(ID.otherClusterCollection),
      context: resourceTag('prod-eu-1'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteCollection,
  },
  {
    name: 'aoss:CreateCollection without the cluster request tag',
    attack: prod.as({ action: 'aoss:CreateCollection', resource: '*' }),
    denied: 'ImplicitlyDenied',
    legit: own.createCollection,
  },
  {
    name: "aoss:CreateCollection with another cluster's tag",
    attack: prod.as({ action: 'aoss:CreateCollection', resource: '*', context: requestTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.createCollection,
  },
  // IAM roles: reached by name and path; the tag is only ever ours.
  {
    name: 'iam:TagRole with our tag on a role outside the path (role/ops/admin)',
    attack: prod.as({ action: 'iam:TagRole', resource: `arn:aws:iam::${account}:role/ops/admin`, context: requestTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: own.tagRole,
  },
  {
    name: 'iam:TagRole with our tag on a role with our name at the root path',
    attack: prod.as({
      action: 'iam:TagRole',
      resource: `arn:aws:iam::${account}:role/${roleName(prod.naming, tenant('a'), 'app')}`,
      context: requestTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagRole,
  },
  {
    name: "iam:TagRole with our tag on another cluster's role",
    attack: prod.as({ action: 'iam:TagRole', resource: prodEu1.role(tenant('a'), 'app'), context: requestTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: own.tagRole,
  },
  {
    name: "iam:TagRole giving our own role another cluster's tag",
    attack: prod.as({ action: 'iam:TagRole', resource: prod.role(tenant('a'), 'app'), context: requestTag('prod-eu-1') }),
    denied: 'ExplicitlyDenied',
    legit: own.tagRole,
  },
  {
    name: "iam:TagRole with our tag on a role named ours but carrying another cluster's tag",
    attack: prod.as({
      action: 'iam:TagRole',
      resource: prod.role(tenant('a'), 'app'),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.tagRole,
  },
  // EKS Pod Identity associations: created with our tag in the operator's own EKS cluster only,
  // changed and deleted only when they carry it. (Tagging an untagged association of our own EKS
  // cluster is Allowed: `residual risks`.)
  {
    name: 'eks:TagResource with our tag on the EKS cluster itself',
    attack: prod.as({ action: 'eks:TagResource', resource: prod.eks, context: requestTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewAssociation,
  },
  {
    name: 'eks:TagResource with our tag on a node group of our EKS cluster',
    attack: prod.as({
      action: 'eks:TagResource',
      resource: `arn:aws:eks:${region}:${account}:nodegroup/prod/workers/0ac6e7b0-0000-4000-8000-000000000001`,
      context: requestTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewAssociation,
  },
  ...[...otherEksClusters, eksCluster('prod', account, otherRegion)].flatMap((eks): Case[] => {
    const where = `another EKS cluster (${eks.split(':cluster/')[1] ?? ''}${eks.includes(otherRegion) ? ` in ${otherRegion}` : ''})`;
    const theirs = associationArn(eks, ID.foreignAssociation);
    return [
      {
        name: `eks:TagResource with our tag on an untagged association of ${where}`,
        attack: prod.as({ action: 'eks:TagResource', resource: theirs, context: requestTag('prod') }),
        denied: 'ImplicitlyDenied',
        legit: own.tagNewAssociation,
      },
      {
        name: `eks:CreatePodIdentityAssociation with our tag in ${where}`,
        attack: prod.as({ action: 'eks:CreatePodIdentityAssociation', resource: eks, context: requestTag('prod') }),
        denied: 'ImplicitlyDenied',
        legit: own.createAssociation,
      },
      {
        name: `eks:DeletePodIdentityAssociation of an association of ${where} carrying our tag`,
        attack: prod.as({ action: 'eks:DeletePodIdentityAssociation', resource: theirs, context: resourceTag('prod') }),
        denied: 'ImplicitlyDenied',
        legit: own.deleteAssociation,
      },
      {
        name: `eks:UpdatePodIdentityAssociation of an association of ${where} carrying our tag`,
        attack: prod.as({ action: 'eks:UpdatePodIdentityAssociation', resource: theirs, context: resourceTag('prod') }),
        denied: 'ImplicitlyDenied',
        legit: own.updateAssociation,
      },
      {
        name: `eks:ListPodIdentityAssociations of ${where}`,
        attack: prod.as({ action: 'eks:ListPodIdentityAssociations', resource: eks }),
        denied: 'ImplicitlyDenied',
        legit: own.listAssociations,
      },
      {
        name: `eks:DescribePodIdentityAssociation of an association of ${where}`,
        attack: prod.as({ action: 'eks:DescribePodIdentityAssociation', resource: theirs }),
        denied: 'ImplicitlyDenied',
        legit: own.describeAssociation,
      },
    ];
  }),
  {
    name: "eks:TagResource with our tag on an association of our EKS cluster carrying another cluster's tag",
    attack: prod.as({
      action: 'eks:TagResource',
      resource: prod.association(ID.otherClusterAssociation),
      context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagAssociation,
  },
  {
    name: "eks:TagResource giving our own association another cluster's tag",
    attack: prod.as({
      action: 'eks:TagResource',
      resource: prod.association(ID.ownAssociation),
      context: { ...resourceTag('prod'), ...requestTag('prod-eu-1') },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.retagAssociation,
  },
  {
    name: "eks:TagResource (tag-on-create) giving a new association another cluster's tag",
    attack: prod.as({ action: 'eks:TagResource', resource: prod.association(ID.ownAssociation), context: requestTag('prod-eu-1') }),
    denied: 'ExplicitlyDenied',
    legit: own.tagNewAssociation,
  },
  ...(['eks:UpdatePodIdentityAssociation', 'eks:DeletePodIdentityAssociation'] as const).flatMap((action): Case[] => [
    {
      name: `${action} of an untagged association of our EKS cluster (someone else's)`,
      attack: prod.as({ action, resource: prod.association(ID.foreignAssociation) }),
      denied: 'ImplicitlyDenied',
      legit: action === 'eks:DeletePodIdentityAssociation' ? own.deleteAssociation : own.updateAssociation,
    },
    {
      name: `${action} of an association of our EKS cluster carrying another cluster's tag`,
      attack: prod.as({ action, resource: prod.association(ID.otherClusterAssociation), context: resourceTag('prod-eu-1') }),
      denied: 'ImplicitlyDenied',
      legit: action === 'eks:DeletePodIdentityAssociation' ? own.deleteAssociation : own.updateAssociation,
    },
  ]),
  {
    name: 'eks:CreatePodIdentityAssociation without the cluster request tag',
    attack: prod.as({ action: 'eks:CreatePodIdentityAssociation', resource: prod.eks }),
    denied: 'ImplicitlyDenied',
    legit: own.createAssociation,
  },
  {
    name: "eks:CreatePodIdentityAssociation with another cluster's tag",
    attack: prod.as({ action: 'eks:CreatePodIdentityAssociation', resource: prod.eks, context: requestTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: own.createAssociation,
  },
  {
    name: "prod-eu-1 -> prod: eks:DeletePodIdentityAssociation of prod's association (carrying prod's tag)",
    attack: prodEu1.as({
      action: 'eks:DeletePodIdentityAssociation',
      resource: prod.association(ID.ownAssociation),
      context: resourceTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: prodEu1.as({
      action: 'eks:DeletePodIdentityAssociation',
      resource: prodEu1.association(ID.otherClusterAssociation),
      context: resourceTag('prod-eu-1'),
    }),
  },
  {
    name: "prod-eu-1 -> prod: eks:CreatePodIdentityAssociation in prod's EKS cluster with its own tag",
    attack: prodEu1.as({ action: 'eks:CreatePodIdentityAssociation', resource: prod.eks, context: requestTag('prod-eu-1') }),
    denied: 'ImplicitlyDenied',
    legit: prodEu1.as({ action: 'eks:CreatePodIdentityAssociation', resource: prodEu1.eks, context: requestTag('prod-eu-1') }),
  },
];

/** Whether an IAM pattern (`*`, `?`) matches a value; actions compare case-insensitively. */
const iamMatch = (pattern: string, value: string, ignoreCase = false): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    ignoreCase ? 'i' : '',
  ).test(value);

describe('row 1: tag-then-act', () => {
  it.each(named(tagThenAct))('%s', (_name, c) => check(c));

  // A foundation model is no taggable resource (bedrock:TagResource has no such resource type in
  // the Service Authorization Reference), so the simulator refuses the request rather than deny it;
  // what proves the grant does not reach one is that none of its resources matches one.
  it('bedrock:TagResource (tag-on-create) with our tag on a foundation model: no request AWS has, and no grant covers one', async () => {
    const model = modelArn(embeddingModelId);
    await expect(
      evaluate(prod.as({ action: 'bedrock:TagResource', resource: model, context: requestTag('prod') }), account),
    ).rejects.toThrow(/no\.resource\.types/);
    const grants = prod.policy.Statement.filter(
      (st) => st.Effect === 'Allow' && [st.Action].flat().some((a) => iamMatch(a, 'bedrock:TagResource', true)),
    );
    expect(grants.map((st) => st.Sid).sort()).toEqual([
      'OperatorInferenceProfile',
      'OperatorKnowledgeBase',
      'OperatorNewInferenceProfileTags',
      'OperatorNewKnowledgeBaseTags',
    ]);
    for (const st of grants) for (const r of [st.Resource ?? []].flat()) expect(iamMatch(r, model), `${st.Sid ?? ''}: ${r}`).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Row 2: another account's resources (s3:ResourceAccount, ExpectedBucketOwner).
// ---------------------------------------------------------------------------------------------

/**
 * Bucket names are global: another account can create a bucket with our exact name (it carries
 * our account id and Region, but names are first come, first served) before we do, or after we
 * deleted ours, and open it to anyone. Every S3 action of the operator, of a tenant role and of a
 * knowledge base role is then denied on it, however open its bucket policy (passed as the
 * resource policy; `resourceAccount` is also what evaluate() sends as s3:ResourceAccount), and
 * Allowed on the bucket of our account (without any bucket policy: the identity grant alone).
 */
function anotherAccountsBucket(what: string, legit: Evaluation): Case {
  const bucket = /^arn:aws:s3:::([^/]+)/.exec(legit.resource)?.[1] ?? '';
  return {
    name: `${what} ${legit.action} on ${legit.resource.includes('/') ? 'an object of ' : ''}a bucket with our name owned by another account (bucket policy: anyone, s3:*)`,
    attack: { ...legit, resourceAccount: otherAccount, resourcePolicy: openBucketPolicy(bucket) },
    denied: 'ImplicitlyDenied',
    legit,
  };
}
/** The operator's S3 actions, from the commands its drivers send, on what each applies to. */
const operatorS3 = [
  ...new Set(
    Object.values(COMMAND_ACTIONS).flatMap(({ actions, on }) =>
      actions
        .filter((a) => a.startsWith('s3:'))
        .map((a) => `${a} ${on.includes('object') || on.includes('sidecar') ? 'object' : 'bucket'}`),
    ),
  ),
]
  .sort()
  .map((x) => x.split(' ') as [string, 'object' | 'bucket'])
  // CreateBucket makes a bucket of the caller's own account; a name taken by another account is
  // refused by S3 (BucketAlreadyExists) whatever IAM says.
  .filter(([action]) => action !== 's3:CreateBucket');
const s3Sidecar = `${tenantPrefix('a')}report.pdf.metadata.json`;
const appIn = (s: DataScope, e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
  principal: tenantPrincipal(prod, 'a', 'app'),
  identity: [tenantPermissions(s)],
  boundary: prod.boundary,
  ...e,
});
const kbIn = (s: DataScope, e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
  principal: tenantPrincipal(prod, 'a', 'kb'),
  identity: [knowledgeBasePermissions({ ...s, embeddingModelId })],
  boundary: prod.boundary,
  ...e,
});
const listIn = (s: DataScope): Omit<Evaluation, 'principal'> => ({
  action: 's3:ListBucket',
  resource: `arn:aws:s3:::${s.bucket}`,
  ...(s.prefix !== undefined ? { context: { 's3:prefix': s.prefix } } : {}),
});
const otherAccountBuckets: Case[] = [
  ...operatorS3.map(([action, on]) =>
    anotherAccountsBucket(
      'operator',
      prod.as({ action, resource: on === 'object' ? prod.object(tier('basic'), s3Sidecar) : prod.bucket(tier('basic')) }),
    ),
  ),
  ...(['silo', 'pool'] as const).flatMap((isolation) => {
    const s = dataScope(prod, 'a', isolation);
    return [
      ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].map((action) =>
        anotherAccountsBucket(`${isolation} tenant role`, appIn(s, { action, resource: objectOf(s, 'report.pdf') })),
      ),
      anotherAccountsBucket(`${isolation} tenant role`, appIn(s, listIn(s))),
    ];
  }),
  ...(['silo', 'bridge'] as const).flatMap((isolation) => {
    const s = dataScope(prod, 'a', isolation);
    return [
      anotherAccountsBucket(`${isolation} knowledge base role`, kbIn(s, { action: 's3:GetObject', resource: objectOf(s, 'report.pdf') })),
      anotherAccountsBucket(`${isolation} knowledge base role`, kbIn(s, listIn(s))),
    ];
  }),
  // The boundary alone, whatever a role's own policy grants.
  ...['s3:GetObject', 's3:PutObject'].map((action) =>
    anotherAccountsBucket(
      'boundary caps inline s3:* on *:',
      underBoundary(prod, overBroad('s3:*'), { action, resource: objectOf(dataScope(prod, 'a', 'silo'), 'report.pdf') }),
    ),
  ),
];

const otherAccountCases: Case[] = [
  ...otherAccountBuckets,
  {
    name: "kms:ScheduleKeyDeletion of another account's key carrying our tag",
    attack: prod.as({
      action: 'kms:ScheduleKeyDeletion',
      resource: keyArn(ID.ownKey, otherAccount),
      resourceAccount: otherAccount,
      context: resourceTag('prod'),
      resourcePolicy: defaultKeyPolicy(otherAccount),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKey,
  },
  {
    name: "kms:TagResource with our tag on another account's key whose policy names our operator",
    attack: prod.as({
      action: 'kms:TagResource',
      resource: keyArn(ID.ownKey, otherAccount),
      resourceAccount: otherAccount,
      context: requestTag('prod'),
      resourcePolicy: keyPolicy({ accountId: otherAccount, operatorPrincipal: prod.operator }),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.tagNewKey,
  },
  {
    name: "bedrock:DeleteKnowledgeBase of another account's knowledge base carrying our tag",
    attack: prod.as({
      action: 'bedrock:DeleteKnowledgeBase',
      resource: kbArn(ID.ownKb, otherAccount),
      resourceAccount: otherAccount,
      context: resourceTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKb,
  },
  {
    name: 'kms:ScheduleKeyDeletion of a key in another Region carrying our tag',
    attack: prod.as({
      action: 'kms:ScheduleKeyDeletion',
      resource: keyArn(ID.ownKey, account, otherRegion),
      context: resourceTag('prod'),
      resourcePolicy: defaultKeyPolicy(account),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteKeyDefaultPolicy,
  },
  {
    name: 'aoss:DeleteCollection of a collection in another Region carrying our tag',
    attack: prod.as({
      action: 'aoss:DeleteCollection',
      resource: collectionArn(ID.ownCollection, otherRegion),
      context: resourceTag('prod'),
    }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteCollection,
  },
];

describe('row 2: another account or Region', () => {
  it.each(named(otherAccountCases))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Row 3: another cluster (names that overlap), both ways; and tenants whose names overlap.
// ---------------------------------------------------------------------------------------------

function crossCluster(me: ReturnType<typeof cluster>, victim: ReturnType<typeof cluster>): Case[] {
  const t = tenant('a');
  const basic = tier('basic');
  const sidecar = `${tenantPrefix('a')}report.pdf.metadata.json`;
  const cases: (Omit<Case, 'name'> & { what: string })[] = [];
  const add = (what: string, action: string, attack: Omit<Evaluation, 'principal' | 'identity' | 'action'>, legit: typeof attack): void => {
    cases.push({ what, attack: me.as({ action, ...attack }), denied: 'ImplicitlyDenied', legit: me.as({ action, ...legit }) });
  };
  const boundary = { 'iam:PermissionsBoundary': boundaryArn };
  add(
    "s3:DeleteBucket on the other cluster's tenant bucket",
    's3:DeleteBucket',
    { resource: victim.bucket(t) },
    { resource: me.bucket(t) },
  );
  add(
    "s3:CreateBucket with the other cluster's bucket name",
    's3:CreateBucket',
    { resource: victim.bucket(t) },
    { resource: me.bucket(t) },
  );
  add(
    "s3:PutBucketEncryption (swap the key) on the other cluster's bucket",
    's3:PutEncryptionConfiguration',
    { resource: victim.bucket(basic) },
    { resource: me.bucket(basic) },
  );
  add(
    "s3:PutBucketTagging on the other cluster's bucket",
    's3:PutBucketTagging',
    { resource: victim.bucket(basic) },
    { resource: me.bucket(basic) },
  );
  add(
    "s3:PutObject (a sidecar) into the other cluster's tier bucket",
    's3:PutObject',
    { resource: victim.object(basic, sidecar) },
    { resource: me.object(basic, sidecar) },
  );
  add(
    "s3:DeleteObject in the other cluster's tier bucket",
    's3:DeleteObject',
    { resource: victim.object(basic, sidecar) },
    { resource: me.object(basic, sidecar) },
  );
  add(
    "s3:DeleteObjectVersion in the other cluster's silo bucket",
    's3:DeleteObjectVersion',
    { resource: victim.object(t, 'doc.pdf') },
    { resource: me.object(t, 'doc.pdf') },
  );
  add(
    "iam:UpdateAssumeRolePolicy on the other cluster's tenant role",
    'iam:UpdateAssumeRolePolicy',
    { resource: victim.role(t, 'app') },
    { resource: me.role(t, 'app') },
  );
  add(
    "iam:DeleteRole of the other cluster's knowledge base role",
    'iam:DeleteRole',
    { resource: victim.role(t, 'kb') },
    { resource: me.role(t, 'kb') },
  );
  add(
    "iam:PutRolePolicy on the other cluster's role (boundary attached)",
    'iam:PutRolePolicy',
    { resource: victim.role(t, 'app'), context: boundary },
    { resource: me.role(t, 'app'), context: boundary },
  );
  add(
    "iam:CreateRole with the other cluster's role name (boundary attached)",
    'iam:CreateRole',
    { resource: victim.role(t, 'kb'), context: boundary },
    { resource: me.role(t, 'kb'), context: boundary },
  );
  add("iam:TagRole on the other cluster's role", 'iam:TagRole', { resource: victim.role(t, 'kb') }, { resource: me.role(t, 'kb') });
  add(
    "iam:PassRole of the other cluster's knowledge base role to Bedrock",
    'iam:PassRole',
    { resource: victim.role(t, 'kb'), context: passedTo('bedrock.amazonaws.com') },
    { resource: me.role(t, 'kb'), context: passedTo('bedrock.amazonaws.com') },
  );
  add("kms:DeleteAlias of the other cluster's alias", 'kms:DeleteAlias', { resource: victim.alias(t) }, { resource: me.alias(t) });
  add(
    "kms:CreateAlias with the other cluster's alias name",
    'kms:CreateAlias',
    { resource: victim.alias(basic) },
    { resource: me.alias(basic) },
  );
  add(
    "kms:ScheduleKeyDeletion of the other cluster's key",
    'kms:ScheduleKeyDeletion',
    { resource: keyArn(ID.otherClusterKey), context: resourceTag(victim.name), resourcePolicy: victim.keyPolicy },
    { resource: keyArn(ID.ownKey), context: resourceTag(me.name), resourcePolicy: me.keyPolicy },
  );
  for (const action of [
    'aoss:CreateAccessPolicy',
    'aoss:UpdateAccessPolicy',
    'aoss:DeleteAccessPolicy',
    'aoss:GetAccessPolicy',
    'aoss:CreateSecurityPolicy',
    'aoss:UpdateSecurityPolicy',
    'aoss:DeleteSecurityPolicy',
    'aoss:BatchGetCollection',
  ]) {
    add(
      `${action} with aoss:collection of the other cluster`,
      action,
      { resource: '*', context: { 'aoss:collection': victim.collection(t) } },
      { resource: '*', context: { 'aoss:collection': me.collection(t) } },
    );
  }
  add(
    "aoss:DeleteCollection of the other cluster's collection",
    'aoss:DeleteCollection',
    { resource: collectionArn(ID.otherClusterCollection), context: resourceTag(victim.name) },
    { resource: collectionArn(ID.ownCollection), context: resourceTag(me.name) },
  );
  add(
    "aoss:APIAccessAll (data plane) on the other cluster's collection",
    'aoss:APIAccessAll',
    { resource: collectionArn(ID.otherClusterCollection), context: { 'aoss:collection': victim.collection(basic) } },
    { resource: collectionArn(ID.ownCollection), context: { 'aoss:collection': me.collection(basic) } },
  );
  add(
    "bedrock:DeleteKnowledgeBase of the other cluster's knowledge base",
    'bedrock:DeleteKnowledgeBase',
    { resource: kbArn(ID.otherClusterKb), context: resourceTag(victim.name) },
    { resource: kbArn(ID.ownKb), context: resourceTag(me.name) },
  );
  add(
    "bedrock:DeleteInferenceProfile of the other cluster's profile",
    'bedrock:DeleteInferenceProfile',
    { resource: profileArn(ID.otherClusterProfile), context: resourceTag(victim.name) },
    { resource: profileArn(ID.ownProfile), context: resourceTag(me.name) },
  );
  return cases.map(({ what, ...c }) => ({ name: `${me.name} -> ${victim.name}: ${what}`, ...c }));
}

const clusterPairs = [
  [prod, prodEu1],
  [prodEu1, prod],
  [prodEu1NoDash, prodeu1],
  [prodeu1, prodEu1NoDash],
] as const;

describe('row 3: another cluster', () => {
  it('the overlapping cluster names have distinct name prefixes', () => {
    const prefixes = [prod, prodEu1, prodEu1NoDash, prodeu1].map((c) => bucketName(c.naming, tenant('a')));
    expect(new Set(prefixes).size).toBe(4);
  });
  it.each(named(clusterPairs.flatMap(([me, victim]) => crossCluster(me, victim))))('%s', (_name, c) => check(c));
});

function crossTenant(c: ReturnType<typeof cluster>, me: string, victim: string, isolation: 'pool' | 'bridge' | 'silo'): Case[] {
  const mine = dataScope(c, me, isolation);
  const theirs = dataScope(c, victim, isolation);
  const app = (e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
    principal: tenantPrincipal(c, me, 'app'),
    identity: [tenantPermissions(mine)],
    boundary: c.boundary,
    ...e,
  });
  const kb = (e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
    principal: tenantPrincipal(c, me, 'kb'),
    identity: [knowledgeBasePermissions({ ...mine, embeddingModelId })],
    boundary: c.boundary,
    ...e,
  });
  const list = (s: DataScope, prefix = s.prefix): Omit<Evaluation, 'principal'> => ({
    action: 's3:ListBucket',
    resource: `arn:aws:s3:::${s.bucket}`,
    ...(prefix !== undefined ? { context: { 's3:prefix': prefix } } : {}),
  });
  const out: Case[] = [];
  const add = (what: string, attack: Evaluation, legit: Evaluation, denied: Denied = 'ImplicitlyDenied'): void => {
    out.push({ name: `${isolation}: ${me} -> ${victim}: ${what}`, attack, denied, legit });
  };
  for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
    add(
      `tenant role ${action} on the other tenant's document`,
      app({ action, resource: objectOf(theirs, 'report.pdf') }),
      app({ action, resource: objectOf(mine, 'report.pdf') }),
    );
  }
  add("tenant role s3:ListBucket of the other tenant's documents", app(list(theirs)), app(list(mine)));
  if (mine.prefix) {
    // `tenants/a` without the delimiter would list `tenants/a-b/...` too.
    add('tenant role s3:ListBucket with its prefix minus the delimiter', app(list(mine, mine.prefix.replace(/\/$/, ''))), app(list(mine)));
    add(
      'tenant role s3:ListBucket of the whole tier bucket',
      app({ action: 's3:ListBucket', resource: `arn:aws:s3:::${mine.bucket}` }),
      app(list(mine)),
    );
  }
  if (theirs.knowledgeBaseId) {
    add(
      "tenant role bedrock:Retrieve on the other tenant's knowledge base",
      app({ action: 'bedrock:Retrieve', resource: kbArn(theirs.knowledgeBaseId), context: resourceTag(c.name) }),
      app({ action: 'bedrock:Retrieve', resource: kbArn(mine.knowledgeBaseId ?? ''), context: resourceTag(c.name) }),
    );
  }
  if (theirs.kmsKeyArn && theirs.kmsKeyArn !== mine.kmsKeyArn) {
    add(
      "tenant role kms:Decrypt with the other tenant's key through S3",
      app({
        action: 'kms:Decrypt',
        resource: theirs.kmsKeyArn,
        context: { ...resourceTag(c.name), ...viaS3 },
        resourcePolicy: c.keyPolicy,
      }),
      app({
        action: 'kms:Decrypt',
        resource: mine.kmsKeyArn ?? '',
        context: { ...resourceTag(c.name), ...viaS3 },
        resourcePolicy: c.keyPolicy,
      }),
    );
  }
  // Pool tenants have no knowledge base role of their own (the tier's reads every prefix).
  if (isolation !== 'pool') {
    add(
      "knowledge base role s3:GetObject on the other tenant's document",
      kb({ action: 's3:GetObject', resource: objectOf(theirs, 'report.pdf') }),
      kb({ action: 's3:GetObject', resource: objectOf(mine, 'report.pdf') }),
    );
    add(
      'knowledge base role s3:PutObject on its own documents (read-only)',
      kb({ action: 's3:PutObject', resource: objectOf(mine, 'report.pdf') }),
      kb({ action: 's3:GetObject', resource: objectOf(mine, 'report.pdf') }),
    );
  }
  if (theirs.collectionArn && theirs.collectionArn !== mine.collectionArn) {
    add(
      "knowledge base role aoss:APIAccessAll on the other tenant's collection",
      kb({ action: 'aoss:APIAccessAll', resource: theirs.collectionArn, context: { 'aoss:collection': c.collection(tenant(victim)) } }),
      kb({ action: 'aoss:APIAccessAll', resource: mine.collectionArn ?? '', context: { 'aoss:collection': c.collection(tenant(me)) } }),
    );
  }
  if (isolation === 'pool') {
    // The sidecars say whose a document is: only the operator writes them.
    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      add(
        `tenant role ${action} on its own metadata sidecar`,
        app({ action, resource: objectOf(mine, 'report.pdf.metadata.json') }),
        app({ action, resource: objectOf(mine, 'report.pdf') }),
        'ExplicitlyDenied',
      );
    }
    add(
      'tenant role bedrock:Retrieve on the shared pool knowledge base (only through the platform)',
      app({ action: 'bedrock:Retrieve', resource: kbArn('POOLKB0001'), context: resourceTag(c.name) }),
      app({ action: 's3:GetObject', resource: objectOf(mine, 'report.pdf') }),
    );
  }
  return out;
}

const tenantPairs = [
  ['a', 'a-b'],
  ['a-b', 'a'],
  ['acme', 'acme-evil'],
  ['acme-evil', 'acme'],
] as const;

describe('row 3: another tenant', () => {
  it.each(
    named(
      (['pool', 'bridge', 'silo'] as const).flatMap((isolation) =>
        tenantPairs.flatMap(([me, victim]) => crossTenant(prod, me, victim, isolation)),
      ),
    ),
  )('%s', (_name, c) => check(c));

  const sameNameOtherCluster: Case[] = (['pool', 'silo'] as const).flatMap((isolation) => {
    const mine = dataScope(prod, 'a', isolation);
    const theirs = dataScope(prodEu1, 'a', isolation);
    const app = (action: string, resource: string): Evaluation => ({
      principal: tenantPrincipal(prod, 'a', 'app'),
      identity: [tenantPermissions(mine)],
      boundary: prod.boundary,
      action,
      resource,
    });
    return ['s3:GetObject', 's3:PutObject'].map((action) => ({
      name: `${isolation}: tenant a of prod ${action} on tenant a of prod-eu-1's document`,
      attack: app(action, objectOf(theirs, 'report.pdf')),
      denied: 'ImplicitlyDenied' as const,
      legit: app(action, objectOf(mine, 'report.pdf')),
    }));
  });
  it.each(named(sameNameOtherCluster))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Row 4: the eks-cluster-arn of the Pod Identity trust.
// ---------------------------------------------------------------------------------------------
// Its cases are in the table of tenant role trust below (marked `Row 4`): pods of another EKS
// cluster of the account with the same namespace and service account, crafted session tags. The
// operator's EKS grants are in rows 1 (associations: tag-then-act), 8 (iam:PassRole to
// pods.eks.amazonaws.com) and 9 (none without eksClusterArn).

// ---------------------------------------------------------------------------------------------
// Row 5: a new Tenant reusing the name of a tenant deleted with Retain. Its resources have the
// same names and the same cluster tag, so IAM cannot tell the two apart; the drivers do, by the
// owner's UID in the ownership tags (test/integration/tenant-isolation.test.ts).
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Row 6: OpenSearch Serverless policies and collections, scoped by name and tag.
// ---------------------------------------------------------------------------------------------
const aossPolicyActions = [
  'aoss:CreateSecurityPolicy',
  'aoss:GetSecurityPolicy',
  'aoss:UpdateSecurityPolicy',
  'aoss:DeleteSecurityPolicy',
  'aoss:CreateAccessPolicy',
  'aoss:GetAccessPolicy',
  'aoss:UpdateAccessPolicy',
  'aoss:DeleteAccessPolicy',
  'aoss:BatchGetCollection',
];
/** Collection names that are not prod's, each a way to reach past its prefix. */
const notOurCollections = [
  { what: 'a collection of another application', collection: 'search-prod' },
  { what: 'our prefix without the delimiter (rag-prod)', collection: 'rag-prod' },
  { what: 'a name extending our cluster segment (rag-production-x)', collection: 'rag-production-x' },
  { what: "prod-eu-1's tier collection", collection: prodEu1.collection(tier('basic')) },
  { what: 'a wildcard over every collection (*)', collection: '*' },
  { what: "a wildcard over every cluster's collections (rag-*)", collection: 'rag-*' },
];
const openSearch: Case[] = [
  ...aossPolicyActions.flatMap((action) =>
    notOurCollections.map(({ what, collection }) => ({
      name: `${action} with aoss:collection of ${what}`,
      attack: prod.as({ action, resource: '*', context: { 'aoss:collection': collection } }),
      denied: 'ImplicitlyDenied' as const,
      legit: prod.as({ action, resource: '*', context: { 'aoss:collection': prod.collection(tier('basic')) } }),
    })),
  ),
  ...aossPolicyActions.map((action) => ({
    name: `${action} without aoss:collection`,
    attack: prod.as({ action, resource: '*' }),
    denied: 'ImplicitlyDenied' as const,
    legit: prod.as({ action, resource: '*', context: { 'aoss:collection': prod.collection(tenant('acme')) } }),
  })),
  {
    name: 'aoss:DeleteCollection of an untagged collection, even one named with our prefix (no aoss:collection key: the tag decides)',
    attack: prod.as({ action: 'aoss:DeleteCollection', resource: collectionArn(ID.foreignCollection) }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteCollection,
  },
  {
    name: 'aoss:UpdateCollection of our own collection (not granted)',
    attack: prod.as({ action: 'aoss:UpdateCollection', resource: collectionArn(ID.ownCollection), context: resourceTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: own.deleteCollection,
  },
  {
    name: 'operator aoss:APIAccessAll on a collection not named with the cluster prefix',
    attack: prod.as({
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.foreignCollection),
      context: { 'aoss:collection': 'search-prod' },
    }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.ownCollection),
      context: { 'aoss:collection': prod.collection(tier('basic')) },
    }),
  },
];

const boundaryAoss: Case[] = [
  {
    name: "the boundary's aoss:APIAccessAll on another cluster's collection (inline aoss:* on *)",
    attack: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.otherClusterCollection),
      context: { 'aoss:collection': prodEu1.collection(tier('basic')) },
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.ownCollection),
      context: { 'aoss:collection': prod.collection(tier('basic')) },
    }),
  },
  {
    name: "the boundary's aoss:APIAccessAll, other way round: prod-eu-1's role on prod's collection",
    attack: underBoundary(prodEu1, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.ownCollection),
      context: { 'aoss:collection': prod.collection(tier('basic')) },
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prodEu1, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.otherClusterCollection),
      context: { 'aoss:collection': prodEu1.collection(tier('basic')) },
    }),
  },
  {
    name: "the boundary's aoss:APIAccessAll on a collection of another application",
    attack: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.foreignCollection),
      context: { 'aoss:collection': 'search-prod' },
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.ownCollection),
      context: { 'aoss:collection': prod.collection(tenant('a')) },
    }),
  },
  {
    name: 'the boundary keeps a role off the control plane (aoss:CreateAccessPolicy, inline aoss:* on *)',
    attack: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:CreateAccessPolicy',
      resource: '*',
      context: { 'aoss:collection': prod.collection(tier('basic')) },
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, overBroad('aoss:*'), {
      action: 'aoss:APIAccessAll',
      resource: collectionArn(ID.ownCollection),
      context: { 'aoss:collection': prod.collection(tier('basic')) },
    }),
  },
];

describe('row 6: OpenSearch Serverless', () => {
  it.each(named([...openSearch, ...boundaryAoss]))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Row 8: iam:PassRole, and the knowledge base role's trust (confused deputy).
// ---------------------------------------------------------------------------------------------
const passKb = prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'kb'), context: passedTo('bedrock.amazonaws.com') });
const passApp = prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'app'), context: passedTo(pods) });
const passRole: Case[] = [
  {
    name: "iam:PassRole of the tenant's -app role to Bedrock",
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'app'), context: passedTo('bedrock.amazonaws.com') }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  {
    name: 'iam:PassRole of a role outside the path (role/ops/admin) to Bedrock',
    attack: prod.as({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${account}:role/ops/admin`,
      context: passedTo('bedrock.amazonaws.com'),
    }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  {
    name: 'iam:PassRole of a role with our -kb name but outside the path to Bedrock',
    attack: prod.as({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${account}:role/admin/${roleName(prod.naming, tenant('a'), 'kb')}`,
      context: passedTo('bedrock.amazonaws.com'),
    }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  {
    name: "iam:PassRole of another cluster's -kb role to Bedrock (prod -> prod-eu-1)",
    attack: prod.as({ action: 'iam:PassRole', resource: prodEu1.role(tenant('a'), 'kb'), context: passedTo('bedrock.amazonaws.com') }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  {
    name: "iam:PassRole of another cluster's -kb role to Bedrock (prod-eu1 -> prodeu-1)",
    attack: prodEu1NoDash.as({
      action: 'iam:PassRole',
      resource: prodeu1.role(tier('basic'), 'kb'),
      context: passedTo('bedrock.amazonaws.com'),
    }),
    denied: 'ImplicitlyDenied',
    legit: prodEu1NoDash.as({
      action: 'iam:PassRole',
      resource: prodEu1NoDash.role(tier('basic'), 'kb'),
      context: passedTo('bedrock.amazonaws.com'),
    }),
  },
  // (To pods.eks.amazonaws.com: with the EKS cases below.)
  ...['ec2.amazonaws.com', 'lambda.amazonaws.com', 'sagemaker.amazonaws.com'].map((service) => ({
    name: `iam:PassRole of a -kb role to ${service}`,
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'kb'), context: passedTo(service) }),
    denied: 'ImplicitlyDenied' as const,
    legit: passKb,
  })),
  {
    name: 'iam:PassRole of a -kb role without iam:PassedToService',
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'kb') }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  {
    name: "iam:PassRole of the operator's own role to Bedrock",
    attack: prod.as({ action: 'iam:PassRole', resource: prod.operator, context: passedTo('bedrock.amazonaws.com') }),
    denied: 'ImplicitlyDenied',
    legit: passKb,
  },
  // EKS Pod Identity: a tenant's -app role is passed to pods.eks.amazonaws.com (creating or
  // repairing its association) and to nothing else; no other role is passed to EKS.
  {
    name: 'iam:PassRole of a -kb role to pods.eks.amazonaws.com (a pod with the knowledge base role)',
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'kb'), context: passedTo(pods) }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
  // (To Bedrock: above.)
  ...['ec2.amazonaws.com', 'eks.amazonaws.com', 'lambda.amazonaws.com'].map((service) => ({
    name: `iam:PassRole of a -app role to ${service}`,
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'app'), context: passedTo(service) }),
    denied: 'ImplicitlyDenied' as const,
    legit: passApp,
  })),
  {
    name: 'iam:PassRole of a -app role without iam:PassedToService',
    attack: prod.as({ action: 'iam:PassRole', resource: prod.role(tenant('a'), 'app') }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
  {
    name: "iam:PassRole of another cluster's -app role to pods.eks.amazonaws.com (prod -> prod-eu-1)",
    attack: prod.as({ action: 'iam:PassRole', resource: prodEu1.role(tenant('a'), 'app'), context: passedTo(pods) }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
  {
    name: "iam:PassRole of another cluster's -app role to pods.eks.amazonaws.com (prod-eu1 -> prodeu-1)",
    attack: prodEu1NoDash.as({ action: 'iam:PassRole', resource: prodeu1.role(tenant('a'), 'app'), context: passedTo(pods) }),
    denied: 'ImplicitlyDenied',
    legit: prodEu1NoDash.as({ action: 'iam:PassRole', resource: prodEu1NoDash.role(tenant('a'), 'app'), context: passedTo(pods) }),
  },
  {
    name: 'iam:PassRole of a role outside the path (role/ops/admin) to pods.eks.amazonaws.com',
    attack: prod.as({ action: 'iam:PassRole', resource: `arn:aws:iam::${account}:role/ops/admin`, context: passedTo(pods) }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
  {
    name: 'iam:PassRole of a role with our -app name but outside the path to pods.eks.amazonaws.com',
    attack: prod.as({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${account}:role/admin/${roleName(prod.naming, tenant('a'), 'app')}`,
      context: passedTo(pods),
    }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
  {
    name: "iam:PassRole of the operator's own role to pods.eks.amazonaws.com",
    attack: prod.as({ action: 'iam:PassRole', resource: prod.operator, context: passedTo(pods) }),
    denied: 'ImplicitlyDenied',
    legit: passApp,
  },
];

/** Bedrock assuming a knowledge base role, as it does for the knowledge base `id`. */
const kbRole = prod.role(tenant('a'), 'kb');
const kbScope = dataScope(prod, 'a', 'silo');
const ownTrust = knowledgeBaseTrust({ ...kbScope, knowledgeBaseId: ID.ownKb });
const creatingTrust = knowledgeBaseTrust({ ...kbScope, knowledgeBaseId: undefined });
const assumeKbRole = (
  trust: PolicyDocument,
  context: Record<string, string>,
  principal = 'bedrock.amazonaws.com',
  identity?: PolicyDocument[],
): Evaluation => ({
  principal,
  action: 'sts:AssumeRole',
  resource: kbRole,
  context,
  resourcePolicy: trust,
  ...(identity ? { identity } : {}),
});
const asBedrock = (kb: string, sourceAccount = account): Record<string, string> => ({
  'aws:SourceAccount': sourceAccount,
  'aws:SourceArn': kb,
});
const kbTrust: Case[] = [
  {
    name: 'knowledge base trust: Bedrock on behalf of another knowledge base of the account',
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(ID.foreignKb))),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: "knowledge base trust: Bedrock on behalf of the other tenant's (a-b) knowledge base",
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(dataScope(prod, 'a-b', 'silo').knowledgeBaseId ?? ''))),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust: Bedrock on behalf of another account (aws:SourceAccount)',
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb), otherAccount)),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: "knowledge base trust: Bedrock on behalf of another account's knowledge base with our id",
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb, otherAccount), otherAccount)),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust: Bedrock on behalf of a knowledge base with our id in another Region',
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb, account, otherRegion))),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust: Bedrock without aws:SourceArn and aws:SourceAccount',
    attack: assumeKbRole(ownTrust, {}),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust: another service (ec2.amazonaws.com) with our knowledge base as source',
    attack: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb)), 'ec2.amazonaws.com'),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust: a role of the account allowed sts:AssumeRole on * (the operator, widened)',
    attack: assumeKbRole(ownTrust, {}, prod.operator, [overBroad('sts:AssumeRole')]),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(ownTrust, asBedrock(kbArn(ID.ownKb))),
  },
  {
    name: 'knowledge base trust before the knowledge base exists: Bedrock on behalf of another account',
    attack: assumeKbRole(creatingTrust, asBedrock(kbArn(ID.ownKb, otherAccount), otherAccount)),
    denied: 'ImplicitlyDenied',
    legit: assumeKbRole(creatingTrust, asBedrock(kbArn(ID.foreignKb))),
  },
];

describe('row 8: iam:PassRole and the knowledge base trust', () => {
  it.each(named([...passRole, ...kbTrust]))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Row 9: safe defaults. Tenant keys only through S3; the boundary caps what a role is given.
// ---------------------------------------------------------------------------------------------
const silo = dataScope(prod, 'acme', 'silo');
const siloApp = (e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
  principal: tenantPrincipal(prod, 'acme', 'app'),
  identity: [tenantPermissions(silo)],
  boundary: prod.boundary,
  ...e,
});
const siloKb = (e: Omit<Evaluation, 'principal' | 'identity' | 'boundary'>): Evaluation => ({
  principal: tenantPrincipal(prod, 'acme', 'kb'),
  identity: [knowledgeBasePermissions({ ...silo, embeddingModelId })],
  boundary: prod.boundary,
  ...e,
});
const useKey = (action: string, context: Record<string, string>): Omit<Evaluation, 'principal'> => ({
  action,
  resource: silo.kmsKeyArn ?? '',
  context: { ...resourceTag('prod'), ...context },
  resourcePolicy: prod.keyPolicy,
});
const ownObject = objectOf(silo, 'report.pdf');

const keyDefaults: Case[] = [
  ...(['kms:Decrypt', 'kms:GenerateDataKey'] as const).flatMap((action) => [
    {
      name: `tenant role ${action} directly (no kms:ViaService)`,
      attack: siloApp(useKey(action, {})),
      denied: 'ImplicitlyDenied' as const,
      legit: siloApp(useKey(action, viaS3)),
    },
    {
      name: `knowledge base role ${action} directly (no kms:ViaService)`,
      attack: siloKb(useKey(action, {})),
      denied: 'ImplicitlyDenied' as const,
      legit: siloKb(useKey(action, viaS3)),
    },
  ]),
  {
    name: 'tenant role kms:Decrypt through another service (ssm)',
    attack: siloApp(useKey('kms:Decrypt', { 'kms:ViaService': `ssm.${region}.amazonaws.com` })),
    denied: 'ImplicitlyDenied',
    legit: siloApp(useKey('kms:Decrypt', viaS3)),
  },
  {
    name: 'tenant role kms:Decrypt through S3 of another Region',
    attack: siloApp(useKey('kms:Decrypt', { 'kms:ViaService': `s3.${otherRegion}.amazonaws.com` })),
    denied: 'ImplicitlyDenied',
    legit: siloApp(useKey('kms:Decrypt', viaS3)),
  },
  {
    name: 'tenant role kms:Decrypt through OpenSearch Serverless (the boundary allows it, the role does not)',
    attack: siloApp(useKey('kms:Decrypt', { 'kms:ViaService': `aoss.${region}.amazonaws.com` })),
    denied: 'ImplicitlyDenied',
    legit: siloApp(useKey('kms:Decrypt', viaS3)),
  },
  {
    name: 'tenant role kms:CreateGrant on its own key',
    attack: siloApp(useKey('kms:CreateGrant', viaS3)),
    denied: 'ImplicitlyDenied',
    legit: siloApp(useKey('kms:Decrypt', viaS3)),
  },
];

const wide = overBroad('*');
const s3Wide = overBroad('s3:*');
const boundaryCaps: Case[] = [
  {
    name: 'boundary caps inline s3:* on *: s3:DeleteBucket of its own bucket',
    attack: underBoundary(prod, s3Wide, { action: 's3:DeleteBucket', resource: `arn:aws:s3:::${silo.bucket}` }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, s3Wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline s3:* on *: s3:PutBucketPolicy on its own bucket (make it public)',
    attack: underBoundary(prod, s3Wide, { action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::${silo.bucket}` }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, s3Wide, { action: 's3:PutObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline s3:* on *: s3:PutObjectAcl on its own document',
    attack: underBoundary(prod, s3Wide, { action: 's3:PutObjectAcl', resource: ownObject }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, s3Wide, { action: 's3:PutObject', resource: ownObject }),
  },
  {
    name: "boundary caps inline s3:* on *: s3:GetObject in another cluster's bucket",
    attack: underBoundary(prod, s3Wide, { action: 's3:GetObject', resource: prodEu1.object(tenant('acme'), 'report.pdf') }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, s3Wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline s3:* on *: s3:GetObject in a bucket of another application',
    attack: underBoundary(prod, s3Wide, { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll-exports/2026.csv' }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, s3Wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline * on *: iam:CreateUser',
    attack: underBoundary(prod, wide, { action: 'iam:CreateUser', resource: `arn:aws:iam::${account}:user/backdoor` }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline * on *: iam:PassRole of its own role',
    attack: underBoundary(prod, wide, {
      action: 'iam:PassRole',
      resource: prod.role(tenant('acme'), 'kb'),
      context: passedTo('bedrock.amazonaws.com'),
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: 'boundary caps inline * on *: sts:AssumeRole of the operator',
    attack: underBoundary(prod, wide, { action: 'sts:AssumeRole', resource: prod.operator }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 's3:GetObject', resource: ownObject }),
  },
  {
    name: "boundary caps inline * on *: kms:Decrypt through S3 with another cluster's key",
    attack: underBoundary(prod, wide, {
      action: 'kms:Decrypt',
      resource: keyArn(ID.otherClusterKey),
      context: { ...resourceTag('prod-eu-1'), ...viaS3 },
      resourcePolicy: prodEu1.keyPolicy,
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, {
      action: 'kms:Decrypt',
      resource: silo.kmsKeyArn ?? '',
      context: { ...resourceTag('prod'), ...viaS3 },
      resourcePolicy: prod.keyPolicy,
    }),
  },
  {
    name: 'boundary caps inline * on *: kms:Decrypt through S3 with an untagged key',
    attack: underBoundary(prod, wide, {
      action: 'kms:Decrypt',
      resource: keyArn(ID.foreignKey),
      context: viaS3,
      resourcePolicy: defaultKeyPolicy(account),
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, {
      action: 'kms:Decrypt',
      resource: silo.kmsKeyArn ?? '',
      context: { ...resourceTag('prod'), ...viaS3 },
      resourcePolicy: prod.keyPolicy,
    }),
  },
  {
    name: "boundary caps inline * on *: bedrock:Retrieve on another cluster's knowledge base",
    attack: underBoundary(prod, wide, {
      action: 'bedrock:Retrieve',
      resource: kbArn(ID.otherClusterKb),
      context: resourceTag('prod-eu-1'),
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 'bedrock:Retrieve', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  },
  {
    name: 'boundary caps inline * on *: bedrock:Retrieve on an untagged knowledge base',
    attack: underBoundary(prod, wide, { action: 'bedrock:Retrieve', resource: kbArn(ID.foreignKb) }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 'bedrock:Retrieve', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  },
  {
    name: "boundary caps inline * on *: bedrock:InvokeModel through another cluster's inference profile",
    attack: underBoundary(prod, wide, {
      action: 'bedrock:InvokeModel',
      resource: profileArn(ID.otherClusterProfile),
      context: resourceTag('prod-eu-1'),
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 'bedrock:InvokeModel', resource: profileArn(ID.ownProfile), context: resourceTag('prod') }),
  },
  {
    name: 'boundary caps inline * on *: bedrock:InvokeModelWithResponseStream on a model directly (not through a profile)',
    attack: underBoundary(prod, wide, {
      action: 'bedrock:InvokeModelWithResponseStream',
      resource: modelArn('anthropic.claude-3-haiku-20240307-v1:0'),
    }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, {
      action: 'bedrock:InvokeModelWithResponseStream',
      resource: modelArn('anthropic.claude-3-haiku-20240307-v1:0'),
      context: { 'bedrock:InferenceProfileArn': profileArn(ID.ownProfile) },
    }),
  },
  {
    name: 'boundary caps inline * on *: bedrock:CreateKnowledgeBase',
    attack: underBoundary(prod, wide, { action: 'bedrock:CreateKnowledgeBase', resource: '*', context: requestTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: underBoundary(prod, wide, { action: 'bedrock:Retrieve', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  },
];

// An operator installed without eksClusterArn has no EKS grant at all, and passes no -app role.
const withoutEks = operatorPolicy({ ...prod.scope, eksClusterArn: undefined });
const eksDefaults: Case[] = [
  own.createAssociation,
  own.tagNewAssociation,
  own.updateAssociation,
  own.deleteAssociation,
  own.listAssociations,
  own.describeAssociation,
  passApp,
].map((legit) => ({
  name: `operator without eksClusterArn: ${legit.action} on ${legit.resource}`,
  attack: { ...legit, identity: [withoutEks] },
  denied: 'ImplicitlyDenied',
  legit,
}));

describe('row 9: safe defaults', () => {
  it.each(named([...keyDefaults, ...boundaryCaps, ...eksDefaults]))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Tenant roles' trust: EKS Pod Identity pinned to the tenant's namespace and service account, or
// the listed roles; nobody without spec.access.
// ---------------------------------------------------------------------------------------------
const appRole = prod.role(tenant('a'), 'app');
// Pod Identity trust pins the operator's own EKS cluster (eksClusterArn) through the
// eks-cluster-arn session tag EKS sets, besides the namespace and the service account.
const eksClusterArn = prod.eks;
const trustOf = (access: TenantAccess): PolicyDocument => tenantTrust(dataScope(prod, 'a', 'silo'), access, eksClusterArn);
const podAccess = { podIdentity: { namespace: 'a', serviceAccount: 'rag-app' } };
const podTrust = trustOf(podAccess);
/** The session tags EKS Pod Identity sets for a pod of `clusterArn` (and its account). */
const podSession = (
  namespace: string,
  serviceAccount: string,
  sourceAccount = account,
  clusterArn: string = eksClusterArn,
): Record<string, string> => ({
  'aws:SourceAccount': sourceAccount,
  'aws:RequestTag/eks-cluster-arn': clusterArn,
  'aws:RequestTag/kubernetes-namespace': namespace,
  'aws:RequestTag/kubernetes-service-account': serviceAccount,
});
const assumeApp = (
  trust: PolicyDocument,
  principal: string,
  context: Record<string, string> = {},
  action = 'sts:AssumeRole',
): Evaluation => ({
  principal,
  action,
  resource: appRole,
  context,
  resourcePolicy: trust,
});
const listedRole = `arn:aws:iam::${account}:role/acme/app-a`;
const principalsTrust = trustOf({ principals: [listedRole] });

const tenantTrustCases: Case[] = [
  {
    name: "pod identity: a pod of the other tenant's namespace (a-b)",
    attack: assumeApp(podTrust, pods, podSession('a-b', 'rag-app')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: another service account of the namespace',
    attack: assumeApp(podTrust, pods, podSession('a', 'default')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: sts:TagSession for another namespace',
    attack: assumeApp(podTrust, pods, podSession('a-b', 'rag-app'), 'sts:TagSession'),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app'), 'sts:TagSession'),
  },
  {
    name: 'pod identity: on behalf of another account (aws:SourceAccount)',
    attack: assumeApp(podTrust, pods, podSession('a', 'rag-app', otherAccount)),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: without session tags',
    attack: assumeApp(podTrust, pods, { 'aws:SourceAccount': account }),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: another service (ec2.amazonaws.com) with the right tags',
    attack: assumeApp(podTrust, 'ec2.amazonaws.com', podSession('a', 'rag-app')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: a role of the account (allowed sts:AssumeRole on *) with the right tags',
    attack: { ...assumeApp(podTrust, prod.operator, podSession('a', 'rag-app')), identity: [overBroad('sts:AssumeRole')] },
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  // Row 4: another EKS cluster of the account whose pods use the same namespace and service
  // account (a shared service account name), and crafted session tags.
  ...otherEksClusters.flatMap((eks): Case[] =>
    (['sts:AssumeRole', 'sts:TagSession'] as const).map((action) => ({
      name: `pod identity: ${action} by a pod of another EKS cluster of the account (${eks.split(':cluster/')[1] ?? ''}), same namespace and service account`,
      attack: assumeApp(podTrust, pods, podSession('a', 'rag-app', account, eks), action),
      denied: 'ImplicitlyDenied',
      legit: assumeApp(podTrust, pods, podSession('a', 'rag-app'), action),
    })),
  ),
  {
    name: `pod identity: a pod of an EKS cluster with our cluster's name in ${otherRegion}`,
    attack: assumeApp(podTrust, pods, podSession('a', 'rag-app', account, eksCluster('prod', account, otherRegion))),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: "pod identity: a pod of another account's EKS cluster with our cluster's name",
    attack: assumeApp(podTrust, pods, podSession('a', 'rag-app', otherAccount, eksCluster('prod', otherAccount))),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: a pod of another EKS cluster and another namespace (a-b)',
    attack: assumeApp(podTrust, pods, podSession('a-b', 'rag-app', account, eksCluster('prod-eu-1'))),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  ...[
    { what: 'empty', value: '' },
    { what: '*', value: '*' },
    { what: 'a prefix of our ARN (cluster/)', value: eksClusterArn.replace(/prod$/, '') },
    { what: 'a prefix of our ARN (cluster/pro)', value: eksClusterArn.replace(/d$/, '') },
    { what: 'our ARN and a wildcard (cluster/prod*)', value: `${eksClusterArn}*` },
    { what: 'our cluster name only', value: 'prod' },
    { what: 'our ARN in another case (cluster/Prod)', value: eksClusterArn.replace(/prod$/, 'Prod') },
  ].map(({ what, value }) => ({
    name: `pod identity: eks-cluster-arn session tag ${what}`,
    attack: assumeApp(podTrust, pods, podSession('a', 'rag-app', account, value)),
    denied: 'ImplicitlyDenied' as const,
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  })),
  {
    name: 'pod identity: without the eks-cluster-arn session tag (namespace and service account only)',
    attack: assumeApp(podTrust, pods, {
      'aws:SourceAccount': account,
      'aws:RequestTag/kubernetes-namespace': 'a',
      'aws:RequestTag/kubernetes-service-account': 'rag-app',
    }),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: empty namespace and service account session tags',
    attack: assumeApp(podTrust, pods, podSession('', '')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'pod identity: trust generated without eksClusterArn refuses even our own pods',
    attack: assumeApp(tenantTrust(dataScope(prod, 'a', 'silo'), podAccess), pods, podSession('a', 'rag-app')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(podTrust, pods, podSession('a', 'rag-app')),
  },
  {
    name: 'principals: a role not listed',
    attack: assumeApp(principalsTrust, `arn:aws:iam::${account}:role/acme/app-b`),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
  {
    name: 'principals: the listed role name in another account',
    attack: assumeApp(principalsTrust, `arn:aws:iam::${otherAccount}:role/acme/app-a`),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
  {
    name: 'principals: a user of the account with the role name',
    attack: assumeApp(principalsTrust, `arn:aws:iam::${account}:user/app-a`),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
  {
    name: 'principals: the operator, allowed sts:AssumeRole on *',
    attack: { ...assumeApp(principalsTrust, prod.operator), identity: [overBroad('sts:AssumeRole')] },
    denied: 'ImplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
  {
    name: 'principals: pods.eks.amazonaws.com (pod identity not configured)',
    attack: assumeApp(principalsTrust, pods, podSession('a', 'rag-app')),
    denied: 'ImplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
  {
    name: 'no access: the role once listed, allowed sts:AssumeRole on *',
    attack: { ...assumeApp(trustOf(undefined), listedRole), identity: [overBroad('sts:AssumeRole')] },
    denied: 'ExplicitlyDenied',
    legit: assumeApp(principalsTrust, listedRole),
  },
];

describe('tenant role trust', () => {
  it.each(named(tenantTrustCases))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// More: the operator's IAM power, and model access through inference profiles.
// ---------------------------------------------------------------------------------------------
const operatorIam: Case[] = [
  {
    name: 'iam:AttachRolePolicy (a managed policy, e.g. AdministratorAccess) on our own role',
    attack: prod.as({
      action: 'iam:AttachRolePolicy',
      resource: prod.role(tenant('a'), 'app'),
      context: { 'iam:PermissionsBoundary': boundaryArn },
    }),
    denied: 'ImplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: 'iam:PutRolePolicy on our own role without the boundary',
    attack: prod.as({ action: 'iam:PutRolePolicy', resource: prod.role(tenant('a'), 'app') }),
    denied: 'ImplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: 'iam:PutRolePermissionsBoundary with another boundary',
    attack: prod.as({
      action: 'iam:PutRolePermissionsBoundary',
      resource: prod.role(tenant('a'), 'app'),
      context: { 'iam:PermissionsBoundary': `arn:aws:iam::${account}:policy/AdministratorAccess` },
    }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({
      action: 'iam:PutRolePermissionsBoundary',
      resource: prod.role(tenant('a'), 'app'),
      context: { 'iam:PermissionsBoundary': boundaryArn },
    }),
  },
  {
    name: 'iam:DeleteRolePermissionsBoundary of our own role',
    attack: prod.as({
      action: 'iam:DeleteRolePermissionsBoundary',
      resource: prod.role(tenant('a'), 'app'),
      context: { 'iam:PermissionsBoundary': boundaryArn },
    }),
    denied: 'ExplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: 'iam:CreatePolicyVersion of the boundary (loosen it for every role)',
    attack: prod.as({ action: 'iam:CreatePolicyVersion', resource: boundaryArn }),
    denied: 'ExplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: 'iam:SetDefaultPolicyVersion of the boundary',
    attack: prod.as({ action: 'iam:SetDefaultPolicyVersion', resource: boundaryArn }),
    denied: 'ExplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: "iam:PutRolePolicy on the operator's own role",
    attack: prod.as({ action: 'iam:PutRolePolicy', resource: prod.operator, context: { 'iam:PermissionsBoundary': boundaryArn } }),
    denied: 'ImplicitlyDenied',
    legit: own.putRolePolicy,
  },
  {
    name: "iam:UpdateAssumeRolePolicy on the operator's own role",
    attack: prod.as({ action: 'iam:UpdateAssumeRolePolicy', resource: prod.operator }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 'iam:UpdateAssumeRolePolicy', resource: prod.role(tenant('a'), 'app') }),
  },
  {
    name: 'iam:UpdateRole (session duration) of our own role',
    attack: prod.as({ action: 'iam:UpdateRole', resource: prod.role(tenant('a'), 'app') }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 'iam:GetRole', resource: prod.role(tenant('a'), 'app') }),
  },
  {
    name: 'iam:CreateRole under our path without the boundary',
    attack: prod.as({ action: 'iam:CreateRole', resource: prod.role(tenant('a'), 'app') }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({
      action: 'iam:CreateRole',
      resource: prod.role(tenant('a'), 'app'),
      context: { 'iam:PermissionsBoundary': boundaryArn },
    }),
  },
  {
    name: 's3:GetObject of a tenant document by the operator',
    attack: prod.as({ action: 's3:GetObject', resource: prod.object(tier('basic'), `${tenantPrefix('a')}report.pdf`) }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 's3:PutObject', resource: prod.object(tier('basic'), `${tenantPrefix('a')}report.pdf.metadata.json`) }),
  },
  // s3:PutBucketPolicy on our own bucket is a residual risk since the operator sets a TLS-only
  // bucket policy: see `residual risks` at the end.
  {
    name: 's3:PutBucketAcl on our own bucket',
    attack: prod.as({ action: 's3:PutBucketAcl', resource: prod.bucket(tenant('a')) }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 's3:PutBucketVersioning', resource: prod.bucket(tenant('a')) }),
  },
  {
    name: 'bedrock:InvokeModel by the operator',
    attack: prod.as({ action: 'bedrock:InvokeModel', resource: modelArn(embeddingModelId) }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 'bedrock:GetFoundationModel', resource: '*' }),
  },
  {
    name: "bedrock:Retrieve on our own knowledge base by the operator (tenants' vectors)",
    attack: prod.as({ action: 'bedrock:Retrieve', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
    denied: 'ImplicitlyDenied',
    legit: prod.as({ action: 'bedrock:GetKnowledgeBase', resource: kbArn(ID.ownKb), context: resourceTag('prod') }),
  },
];

const profileOf = (name: string): string => profileArn(`profile${name.replace(/[^a-z0-9]/g, '')}`);
const haiku = modelArn('anthropic.claude-3-haiku-20240307-v1:0');
const withModels = (name: string, deny = false): PolicyDocument[] => [
  tenantPermissions(dataScope(prod, name, 'silo')),
  modelAccessPolicy({ profileArn: profileOf(name), modelArns: [haiku], deny }),
];
const invoke = (name: string, resource: string, context: Record<string, string> = {}, deny = false): Evaluation => ({
  principal: tenantPrincipal(prod, name, 'app'),
  identity: withModels(name, deny),
  boundary: prod.boundary,
  action: 'bedrock:InvokeModel',
  resource,
  context,
});
const modelAccess: Case[] = [
  ...tenantPairs.map(([me, victim]) => ({
    name: `model access: tenant ${me} invokes tenant ${victim}'s inference profile`,
    attack: invoke(me, profileOf(victim), resourceTag('prod')),
    denied: 'ImplicitlyDenied' as const,
    legit: invoke(me, profileOf(me), resourceTag('prod')),
  })),
  {
    name: 'model access: the model directly, around the profile (and its quota)',
    attack: invoke('a', haiku),
    denied: 'ImplicitlyDenied',
    legit: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a') }),
  },
  {
    name: "model access: the model through the other tenant's (a-b) profile",
    attack: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a-b') }),
    denied: 'ImplicitlyDenied',
    legit: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a') }),
  },
  {
    name: 'model access: another model through its own profile',
    attack: invoke('a', modelArn('anthropic.claude-3-opus-20240229-v1:0'), { 'bedrock:InferenceProfileArn': profileOf('a') }),
    denied: 'ImplicitlyDenied',
    legit: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a') }),
  },
  {
    name: 'model access: its own profile once throttled',
    attack: invoke('a', profileOf('a'), resourceTag('prod'), true),
    denied: 'ExplicitlyDenied',
    legit: invoke('a', profileOf('a'), resourceTag('prod')),
  },
  {
    name: 'model access: the model through its own profile once throttled',
    attack: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a') }, true),
    denied: 'ImplicitlyDenied',
    legit: invoke('a', haiku, { 'bedrock:InferenceProfileArn': profileOf('a') }),
  },
];

describe('more: operator IAM and data, model access', () => {
  it.each(named([...operatorIam, ...modelAccess]))('%s', (_name, c) => check(c));
});

// ---------------------------------------------------------------------------------------------
// Residual risks: requests the operator's policy still allows because AWS's policy language
// cannot tell them apart from requests the operator needs (docs/operations.md, "Residual
// risks"). Each is asserted Allowed exactly as it stands, and beside it the nearest variants that
// are denied, so any widening (another Region, account, EKS cluster, tag or resource) fails here.
// ---------------------------------------------------------------------------------------------
interface Residual {
  name: string;
  allowed: Evaluation;
  nearest: { what: string; evaluation: Evaluation; denied: Denied }[];
}

const rewrittenTrust = (principal: string): PolicyDocument =>
  policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' });

const residuals: Residual[] = [
  {
    // Bedrock authorizes the tags of CreateKnowledgeBase as bedrock:TagResource on the new
    // knowledge base's ARN, which has no tag yet: indistinguishable from an existing untagged one.
    name: 'bedrock:TagResource with our tag on an untagged knowledge base of this account and Region (tag-on-create)',
    allowed: prod.as({ action: 'bedrock:TagResource', resource: kbArn(ID.foreignKb), context: requestTag('prod') }),
    nearest: [
      {
        what: "the same on a knowledge base carrying another cluster's tag",
        evaluation: prod.as({
          action: 'bedrock:TagResource',
          resource: kbArn(ID.otherClusterKb),
          context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
        }),
        denied: 'ExplicitlyDenied',
      },
      {
        what: 'the same on an untagged knowledge base of another Region',
        evaluation: prod.as({
          action: 'bedrock:TagResource',
          resource: kbArn(ID.foreignKb, account, otherRegion),
          context: requestTag('prod'),
        }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: 'the same on an untagged agent',
        evaluation: prod.as({
          action: 'bedrock:TagResource',
          resource: `arn:aws:bedrock:${region}:${account}:agent/AGENT00001`,
          context: requestTag('prod'),
        }),
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  {
    // The same for CreateInferenceProfile and the new profile's ARN.
    name: 'bedrock:TagResource with our tag on an untagged application inference profile of this account and Region (tag-on-create)',
    allowed: prod.as({ action: 'bedrock:TagResource', resource: profileArn(ID.foreignProfile), context: requestTag('prod') }),
    nearest: [
      {
        what: "the same on a profile carrying another cluster's tag",
        evaluation: prod.as({
          action: 'bedrock:TagResource',
          resource: profileArn(ID.otherClusterProfile),
          context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
        }),
        denied: 'ExplicitlyDenied',
      },
      {
        what: "the same on another account's profile",
        evaluation: prod.as({
          action: 'bedrock:TagResource',
          resource: profileArn(ID.foreignProfile).replace(`:${account}:`, `:${otherAccount}:`),
          resourceAccount: otherAccount,
          context: requestTag('prod'),
        }),
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  {
    // aoss:TagResource takes no resource (Service Authorization Reference): the tag-on-create
    // grant of CreateCollection is `*` with our request tag, which an untagged collection passes.
    name: 'aoss:TagResource on * with our tag and no resource tag (any untagged collection of the account)',
    allowed: prod.as({ action: 'aoss:TagResource', resource: '*', context: requestTag('prod') }),
    nearest: [
      {
        what: "the same on a collection carrying another cluster's tag",
        evaluation: prod.as({ action: 'aoss:TagResource', resource: '*', context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') } }),
        denied: 'ExplicitlyDenied',
      },
      {
        what: 'the same without our cluster tag in the request (only an owner uid tag)',
        evaluation: prod.as({ action: 'aoss:TagResource', resource: '*', context: { [`aws:RequestTag/${TAG.uid}`]: 'uid-1' } }),
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  {
    // EKS authorizes the tags of CreatePodIdentityAssociation as eks:TagResource on the new
    // association, untagged until then.
    name: "eks:TagResource with our tag on an untagged association of the operator's own EKS cluster (tag-on-create)",
    allowed: prod.as({ action: 'eks:TagResource', resource: prod.association(ID.foreignAssociation), context: requestTag('prod') }),
    nearest: [
      {
        what: "the same on an association carrying another cluster's tag",
        evaluation: prod.as({
          action: 'eks:TagResource',
          resource: prod.association(ID.otherClusterAssociation),
          context: { ...resourceTag('prod-eu-1'), ...requestTag('prod') },
        }),
        denied: 'ExplicitlyDenied',
      },
      ...otherEksClusters.map((eks) => ({
        what: `the same on an untagged association of another EKS cluster (${eks.split(':cluster/')[1] ?? ''})`,
        evaluation: prod.as({
          action: 'eks:TagResource',
          resource: associationArn(eks, ID.foreignAssociation),
          context: requestTag('prod'),
        }),
        denied: 'ImplicitlyDenied' as const,
      })),
      {
        what: 'the same on the EKS cluster itself',
        evaluation: prod.as({ action: 'eks:TagResource', resource: prod.eks, context: requestTag('prod') }),
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  {
    // The operator sets a TLS-only bucket policy on its buckets (s3-bucket driver); S3 has no
    // condition key on a policy's content, so any policy may be written on them. It reaches the
    // same documents a rewritten trust does (below), and only this cluster's buckets of its account.
    name: "s3:PutBucketPolicy on the operator's own bucket (any bucket policy)",
    allowed: prod.as({ action: 's3:PutBucketPolicy', resource: prod.bucket(tenant('a')) }),
    nearest: [
      {
        what: "the same on another cluster's bucket (prod-eu-1)",
        evaluation: prod.as({ action: 's3:PutBucketPolicy', resource: prodEu1.bucket(tenant('a')) }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: 'the same on a bucket with our name owned by another account',
        evaluation: prod.as({ action: 's3:PutBucketPolicy', resource: prod.bucket(tenant('a')), resourceAccount: otherAccount }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: 'the same on a bucket not named with the cluster prefix',
        evaluation: prod.as({ action: 's3:PutBucketPolicy', resource: 'arn:aws:s3:::company-data' }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: 's3:PutBucketAcl on our own bucket',
        evaluation: prod.as({ action: 's3:PutBucketAcl', resource: prod.bucket(tenant('a')) }),
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  ...(['app', 'kb'] as const).map((purpose): Residual => ({
    // The operator writes its roles' trust policies; IAM cannot constrain a document's content.
    name: `iam:UpdateAssumeRolePolicy on the operator's own -${purpose} role (any trust policy)`,
    allowed: prod.as({ action: 'iam:UpdateAssumeRolePolicy', resource: prod.role(tenant('a'), purpose) }),
    nearest: [
      {
        what: `the same on another cluster's -${purpose} role (prod-eu-1)`,
        evaluation: prod.as({ action: 'iam:UpdateAssumeRolePolicy', resource: prodEu1.role(tenant('a'), purpose) }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: `the same on a role with our -${purpose} name outside the path`,
        evaluation: prod.as({
          action: 'iam:UpdateAssumeRolePolicy',
          resource: `arn:aws:iam::${account}:role/admin/${roleName(prod.naming, tenant('a'), purpose)}`,
        }),
        denied: 'ImplicitlyDenied',
      },
      {
        what: "the same on the operator's own role",
        evaluation: prod.as({ action: 'iam:UpdateAssumeRolePolicy', resource: prod.operator }),
        denied: 'ImplicitlyDenied',
      },
    ],
  })),
  {
    // What a rewritten trust buys: a trust policy naming the operator's role lets it in without any
    // sts:AssumeRole grant of its own (same account). The session is still capped by the boundary.
    name: "sts:AssumeRole by the operator of its own -app role whose trust it rewrote to name the operator's role",
    allowed: { ...prod.as({ action: 'sts:AssumeRole', resource: appRole }), resourcePolicy: rewrittenTrust(prod.operator) },
    nearest: [
      {
        what: 'the same with the trust the operator generates (Pod Identity)',
        evaluation: { ...prod.as({ action: 'sts:AssumeRole', resource: appRole }), resourcePolicy: podTrust },
        denied: 'ImplicitlyDenied',
      },
      {
        what: 'the same with a trust naming the account (the operator has no sts:AssumeRole grant)',
        evaluation: {
          ...prod.as({ action: 'sts:AssumeRole', resource: appRole }),
          resourcePolicy: rewrittenTrust(`arn:aws:iam::${account}:root`),
        },
        denied: 'ImplicitlyDenied',
      },
    ],
  },
  {
    // A rewritten trust may name anyone, another account too; the session is capped by the
    // boundary (this cluster's resources only), but those are the tenants' documents.
    name: "sts:AssumeRole by another account's role of our -app role whose trust the operator rewrote to name that account",
    allowed: {
      principal: `arn:aws:iam::${otherAccount}:role/outsider`,
      identity: [overBroad('sts:AssumeRole')],
      action: 'sts:AssumeRole',
      resource: appRole,
      resourcePolicy: rewrittenTrust(`arn:aws:iam::${otherAccount}:root`),
    },
    nearest: [
      {
        what: 'the same with the trust the operator generates (Pod Identity)',
        evaluation: {
          principal: `arn:aws:iam::${otherAccount}:role/outsider`,
          identity: [overBroad('sts:AssumeRole')],
          action: 'sts:AssumeRole',
          resource: appRole,
          resourcePolicy: podTrust,
        },
        denied: 'ImplicitlyDenied',
      },
    ],
  },
];

describe('residual risks (AWS policy language cannot deny them; docs/operations.md)', () => {
  it.each(residuals.map((r): [string, Residual] => [r.name, r]))('%s', async (_name, { allowed, nearest }) => {
    expect(await evaluate(allowed, account), `residual, Allowed: ${describeEvaluation(allowed)}`).toBe('Allowed');
    for (const { what, evaluation, denied } of nearest) {
      expect(await evaluate(evaluation, account), `${what}: ${describeEvaluation(evaluation)}`).toBe(denied);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Amazon S3 Vectors (TenantTier spec.vectorStore.type S3Vectors). A vector bucket holds indexes;
// a bridge tier's tenants each have an index in the tier's vector bucket, a silo tenant a vector
// bucket and index of its own, a pool tier one index for all. Who may touch them: each knowledge
// base role its own index and only the index actions Bedrock uses (KB_S3VECTORS_ACTIONS); no
// tenant role at all; the operator the control plane of this cluster's vector buckets and
// indexes (named `<prefix>-<segment>-...`, unique per account and Region), never their vectors;
// and whatever a role's inline policy says, the boundary caps it at the index actions on this
// cluster's indexes. Every ARN is the one the store module builds (vector-stores/s3-vectors).
// ---------------------------------------------------------------------------------------------

/** The S3 Vectors store module; its scope() and ARNs read no driver, so the drivers are stand-ins. */
const s3VectorsStore = s3Vectors({ buckets: { kind: 'VectorBucket' }, indexes: { kind: 'VectorIndex' } } as unknown as S3VectorsDeps);

/** A tier on S3 Vectors. */
const vectorsTier = (name: string, isolation: 'pool' | 'bridge' | 'silo'): TenantTier => ({
  ...tierObject(name, isolation),
  spec: { isolation, vectorStore: { type: 'S3Vectors' } },
});

/** What stacks.ts tells the store about an owner (storeInput). */
function vectorsInput(c: ReturnType<typeof cluster>, owner: Owner, t: TenantTier): StoreInput {
  return {
    n: c.naming,
    owner: { cluster: c.naming.cluster, kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, tier: t.metadata.name },
    what: `${owner.kind} ${owner.name}`,
    operator: c.operator,
    kbRoleArn: c.role(owner, 'kb'),
    settings: kbSettings(t),
    kmsKeyArn: () => undefined,
    vectorStore: { ...t.spec.vectorStore },
  };
}

/** A bridge or silo tenant's data scope on S3 Vectors, as tenantResources builds it. */
function vectorsScope(c: ReturnType<typeof cluster>, name: string, isolation: 'bridge' | 'silo'): DataScope {
  const t = vectorsTier(`vec-${isolation}`, isolation);
  const store = s3VectorsStore.tenant(isolation, {
    ...vectorsInput(c, tenant(name), t),
    tierOwner: { cluster: c.naming.cluster, kind: 'TenantTier', name: t.metadata.name, uid: 'uid-tier', tier: t.metadata.name },
    // What the tier's pass published: the name of its vector bucket.
    tierShared: { vectorBucketName: vectorBucketName(c.naming, tier(t.metadata.name)) },
  });
  return {
    ...tenantScope(c.naming, tenantObject(name, t.metadata.name), t),
    ...store.scope({}),
    knowledgeBaseId: `KB${name.replace(/[^a-z0-9]/g, '').toUpperCase()}`,
    pool: false,
  };
}

/** The pool tier's shared data scope on S3 Vectors, as tierResources builds it. */
function vectorsPoolScope(c: ReturnType<typeof cluster>): DataScope {
  const t = vectorsTier('vec-pool', 'pool');
  const store = s3VectorsStore.tier('pool', vectorsInput(c, tier(t.metadata.name), t));
  return {
    region,
    accountId: account,
    bucket: bucketName(c.naming, tier(t.metadata.name)),
    prefix: 'tenants/',
    ...store.scope({}),
    knowledgeBaseId: 'POOLKB0001',
  };
}

/** A vector bucket's ARN (the bucket named after `bucketOwner` in cluster `c`). */
const vBucketArn = (c: ReturnType<typeof cluster>, bucketOwner: Owner, acct = account, rgn = region): string =>
  `arn:aws:s3vectors:${rgn}:${acct}:bucket/${vectorBucketName(c.naming, bucketOwner)}`;
/** An index's ARN: the index named after `indexOwner` in the vector bucket named after `bucketOwner`. */
const vIndexArn = (c: ReturnType<typeof cluster>, bucketOwner: Owner, indexOwner: Owner, acct = account, rgn = region): string =>
  `${vBucketArn(c, bucketOwner, acct, rgn)}/index/${vectorIndexName(c.naming, indexOwner)}`;
/** Where the index of tenant `name` lives: the tier's vector bucket (bridge) or its own (silo). */
const tenantIndexArn = (c: ReturnType<typeof cluster>, name: string, isolation: 'bridge' | 'silo'): string =>
  vIndexArn(c, isolation === 'bridge' ? tier(`vec-${isolation}`) : tenant(name), tenant(name));
const poolIndexArn = (c: ReturnType<typeof cluster>): string => vIndexArn(c, tier('vec-pool'), tier('vec-pool'));

/** A vector bucket policy letting anyone do anything: another account's bait. */
const openVectorBucketPolicy = (bucketArn: string): ResourcePolicy => ({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'AnyoneAnything', Effect: 'Allow', Principal: '*', Action: 's3vectors:*', Resource: [bucketArn, `${bucketArn}/index/*`] },
  ],
});

/** The S3 Vectors actions Bedrock never needs on a knowledge base's index, and no tenant's role may have. */
const VECTOR_BUCKET_ADMIN = ['s3vectors:DeleteVectorBucket', 's3vectors:PutVectorBucketPolicy', 's3vectors:ListIndexes'];
const VECTOR_INDEX_ADMIN = ['s3vectors:CreateIndex', 's3vectors:DeleteIndex', 's3vectors:ListVectors'];
/** The data plane: vectors in, vectors out. */
const VECTOR_DATA = ['s3vectors:PutVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors', 's3vectors:QueryVectors'];

/** (a) A bridge or silo tenant's knowledge base role, as Bedrock assumes it (inline policy under the boundary). */
function vectorsKbRole(c: ReturnType<typeof cluster>, name: string, isolation: 'bridge' | 'silo'): Case[] {
  const s = vectorsScope(c, name, isolation);
  const as = (action: string, resource: string, extra: Partial<Evaluation> = {}): Evaluation => ({
    principal: c.role(tenant(name), 'kb'),
    identity: [knowledgeBasePermissions({ ...s, embeddingModelId })],
    boundary: c.boundary,
    action,
    resource,
    ...extra,
  });
  const own = tenantIndexArn(c, name, isolation);
  const where = isolation === 'bridge' ? tier(`vec-${isolation}`) : tenant(name);
  const other = c === prod ? prodEu1 : prod;
  const victims: { what: string; resource: string; extra?: Partial<Evaluation> }[] = [
    {
      what: `tenant b's index (${isolation === 'bridge' ? "in the tier's shared vector bucket" : 'in its own vector bucket'})`,
      resource: tenantIndexArn(c, 'b', isolation),
    },
    {
      what: `an index whose name extends ours (${vectorIndexName(c.naming, tenant(`${name}-b`))}) in our vector bucket`,
      resource: vIndexArn(c, where, tenant(`${name}-b`)),
    },
    // Bridge: the same ARN as the one above; silo: tenant a-b's own vector bucket.
    ...(isolation === 'silo' ? [{ what: `tenant ${name}-b's own index`, resource: tenantIndexArn(c, `${name}-b`, isolation) }] : []),
    { what: `${other.name}'s tenant ${name}, same tier and tenant names`, resource: tenantIndexArn(other, name, isolation) },
    { what: "our index's name in another Region", resource: vIndexArn(c, where, tenant(name), account, otherRegion) },
    {
      what: "our index's name in another account whose vector bucket policy lets anyone in",
      resource: vIndexArn(c, where, tenant(name), otherAccount),
      extra: { resourceAccount: otherAccount, resourcePolicy: openVectorBucketPolicy(vBucketArn(c, where, otherAccount)) },
    },
  ];
  const label = `${isolation}: ${c.name}'s tenant ${name} knowledge base role`;
  return [
    ...KB_S3VECTORS_ACTIONS.flatMap((action) =>
      victims.map(({ what, resource, extra }) => ({
        name: `${label}: ${action} on ${what}`,
        attack: as(action, resource, extra),
        denied: 'ImplicitlyDenied' as const,
        legit: as(action, own),
      })),
    ),
    ...VECTOR_BUCKET_ADMIN.map((action) => ({
      name: `${label}: ${action} on the vector bucket holding its index`,
      attack: as(action, vBucketArn(c, where)),
      denied: 'ImplicitlyDenied' as const,
      legit: as('s3vectors:GetIndex', own),
    })),
    ...VECTOR_INDEX_ADMIN.map((action) => ({
      name: `${label}: ${action} on its own index`,
      attack: as(action, own),
      denied: 'ImplicitlyDenied' as const,
      legit: as('s3vectors:QueryVectors', own),
    })),
  ];
}

/** (b) The pool tier's shared knowledge base role reaches the pool index only; no tenant role reaches any index. */
function vectorsPool(c: ReturnType<typeof cluster>): Case[] {
  const s = vectorsPoolScope(c);
  const pool = poolIndexArn(c);
  const kb = (action: string, resource: string): Evaluation => ({
    principal: c.role(tier('vec-pool'), 'kb'),
    identity: [knowledgeBasePermissions({ ...s, embeddingModelId })],
    boundary: c.boundary,
    action,
    resource,
  });
  const app = (scope: DataScope, name: string, action: string, resource: string): Evaluation => ({
    principal: c.role(tenant(name), 'app'),
    identity: [tenantPermissions(scope)],
    boundary: c.boundary,
    action,
    resource,
  });
  const poolTenant: DataScope = { ...tenantScope(c.naming, tenantObject('a', 'vec-pool'), vectorsTier('vec-pool', 'pool')), pool: true };
  const other = c === prod ? prodEu1 : prod;
  return [
    ...KB_S3VECTORS_ACTIONS.flatMap((action) => [
      {
        name: `pool: ${c.name}'s shared knowledge base role ${action} on a tenant's index in the pool tier's vector bucket`,
        attack: kb(action, vIndexArn(c, tier('vec-pool'), tenant('a'))),
        denied: 'ImplicitlyDenied' as const,
        legit: kb(action, pool),
      },
      {
        name: `pool: ${c.name}'s shared knowledge base role ${action} on a bridge tenant's index`,
        attack: kb(action, tenantIndexArn(c, 'a', 'bridge')),
        denied: 'ImplicitlyDenied' as const,
        legit: kb(action, pool),
      },
      {
        name: `pool: ${c.name}'s shared knowledge base role ${action} on ${other.name}'s pool index of the same tier name`,
        attack: kb(action, poolIndexArn(other)),
        denied: 'ImplicitlyDenied' as const,
        legit: kb(action, pool),
      },
    ]),
    ...VECTOR_BUCKET_ADMIN.map((action) => ({
      name: `pool: ${c.name}'s shared knowledge base role ${action} on the pool tier's vector bucket`,
      attack: kb(action, vBucketArn(c, tier('vec-pool'))),
      denied: 'ImplicitlyDenied' as const,
      legit: kb('s3vectors:GetIndex', pool),
    })),
    // Tenant roles: no s3vectors grant at all, not on the pool index, not on their own index.
    ...[...VECTOR_DATA, 's3vectors:GetIndex', 's3vectors:ListVectors'].flatMap((action) => [
      {
        name: `pool: ${c.name}'s pool tenant a's role ${action} on the pool index (the tenantId filter is the platform's to apply)`,
        attack: app(poolTenant, 'a', action, pool),
        denied: 'ImplicitlyDenied' as const,
        legit: kb('s3vectors:QueryVectors', pool),
      },
      ...(['bridge', 'silo'] as const).map((isolation) => ({
        name: `${isolation}: ${c.name}'s tenant a's role ${action} on its own index (its knowledge base is what it may query)`,
        attack: app(vectorsScope(c, 'a', isolation), 'a', action, tenantIndexArn(c, 'a', isolation)),
        denied: 'ImplicitlyDenied' as const,
        legit: kb('s3vectors:QueryVectors', pool),
      })),
    ]),
  ];
}

/** The operator's S3 Vectors actions, from the commands its drivers send, and what each applies to. */
const operatorVectorActions = [
  ...new Set(Object.values(COMMAND_ACTIONS).flatMap(({ actions }) => actions.filter((a) => a.startsWith('s3vectors:')))),
].sort();
/** Index actions apply to an index; the rest to a vector bucket (TagResource and ListTagsForResource to both). */
const onIndex = (action: string): boolean => /Index$/.test(action);

/** (c) The operator of `me` on its own vector buckets and indexes, and on everything around them. */
function vectorsOperator(me: ReturnType<typeof cluster>): Case[] {
  const t = tier('basic');
  const ownResource = (action: string): string => (onIndex(action) ? vIndexArn(me, t, tenant('a')) : vBucketArn(me, t));
  const bait = (name: string, acct = account, rgn = region): { bucket: string; index: string } => {
    const bucket = `arn:aws:s3vectors:${rgn}:${acct}:bucket/${name}`;
    return { bucket, index: `${bucket}/index/${vectorIndexName(me.naming, tenant('a'))}` };
  };
  const places: { what: string; bucket: string; index: string; extra?: Partial<Evaluation> }[] = [
    ...clusterPairs
      .filter(([m]) => m === me)
      .map(([, victim]) => ({
        what: `${victim.name}'s vector bucket (its prefix ${vectorBucketName(victim.naming, t).replace(/tier-basic$/, '')}*)`,
        bucket: vBucketArn(victim, t),
        index: vIndexArn(victim, t, tenant('a')),
      })),
    { what: 'a vector bucket named without the cluster prefix', ...bait('company-vectors') },
    { what: 'a vector bucket named with the prefix but not the delimiter (rag-prod)', ...bait('rag-prod') },
    {
      what: `our tier's vector bucket name in another Region`,
      bucket: vBucketArn(me, t, account, otherRegion),
      index: vIndexArn(me, t, tenant('a'), account, otherRegion),
    },
    {
      what: "our tier's vector bucket name in another account whose bucket policy lets anyone in",
      bucket: vBucketArn(me, t, otherAccount),
      index: vIndexArn(me, t, tenant('a'), otherAccount),
      extra: { resourceAccount: otherAccount, resourcePolicy: openVectorBucketPolicy(vBucketArn(me, t, otherAccount)) },
    },
  ];
  return operatorVectorActions.flatMap((action) =>
    places.map(({ what, bucket, index, extra }) => ({
      name: `operator of ${me.name}: ${action} on ${onIndex(action) ? 'an index in ' : ''}${what}`,
      attack: { ...me.as({ action, resource: onIndex(action) ? index : bucket }), ...extra },
      denied: 'ImplicitlyDenied' as const,
      legit: me.as({ action, resource: ownResource(action) }),
    })),
  );
}

/** The operator never reads or writes vectors, nor sets a vector bucket policy: no driver sends these. */
const vectorsOperatorNever: Case[] = [
  ...VECTOR_DATA,
  's3vectors:ListVectors',
  's3vectors:PutVectorBucketPolicy',
  's3vectors:DeleteVectorBucketPolicy',
].map((action) => ({
  name: `operator of prod: ${action} on its own ${/Policy$/.test(action) ? 'vector bucket' : 'index'} (no driver sends it)`,
  attack: prod.as({
    action,
    resource: /Policy$/.test(action) ? vBucketArn(prod, tier('basic')) : vIndexArn(prod, tier('basic'), tenant('a')),
  }),
  denied: 'ImplicitlyDenied' as const,
  legit: prod.as({ action: 's3vectors:GetIndex', resource: vIndexArn(prod, tier('basic'), tenant('a')) }),
}));

/** (d) The boundary caps a role whose inline policy grants s3vectors:* (or *) on everything. */
function vectorsBoundary(me: ReturnType<typeof cluster>, victim: ReturnType<typeof cluster>): Case[] {
  const t = tier('vec-bridge');
  const own = vIndexArn(me, t, tenant('a'));
  const capped = (inline: PolicyDocument, action: string, resource: string, extra: Partial<Evaluation> = {}): Evaluation =>
    underBoundary(me, inline, { action, resource, ...extra });
  const vectorsWide = overBroad('s3vectors:*');
  const label = `boundary of ${me.name} caps inline s3vectors:* on *`;
  return [
    ...KB_S3VECTORS_ACTIONS.flatMap((action) => [
      {
        name: `${label}: ${action} on ${victim.name}'s index`,
        attack: capped(vectorsWide, action, vIndexArn(victim, t, tenant('a'))),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, action, own),
      },
      {
        name: `${label}: ${action} on an index named without the prefix in our vector bucket`,
        attack: capped(vectorsWide, action, `${vBucketArn(me, t)}/index/imported`),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, action, own),
      },
      {
        name: `${label}: ${action} on an index named like ours in a vector bucket named without the prefix`,
        attack: capped(
          vectorsWide,
          action,
          `arn:aws:s3vectors:${region}:${account}:bucket/company-vectors/index/${vectorIndexName(me.naming, tenant('a'))}`,
        ),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, action, own),
      },
      {
        name: `${label}: ${action} on our index's name in another Region`,
        attack: capped(vectorsWide, action, vIndexArn(me, t, tenant('a'), account, otherRegion)),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, action, own),
      },
      {
        name: `${label}: ${action} on our index's name in another account whose bucket policy lets anyone in`,
        attack: capped(vectorsWide, action, vIndexArn(me, t, tenant('a'), otherAccount), {
          resourceAccount: otherAccount,
          resourcePolicy: openVectorBucketPolicy(vBucketArn(me, t, otherAccount)),
        }),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, action, own),
      },
    ]),
    ...[...VECTOR_INDEX_ADMIN, 's3vectors:TagResource'].map((action) => ({
      name: `${label}: ${action} on our own index`,
      attack: capped(vectorsWide, action, own),
      denied: 'ImplicitlyDenied' as const,
      legit: capped(vectorsWide, 's3vectors:QueryVectors', own),
    })),
    ...[...VECTOR_BUCKET_ADMIN, 's3vectors:CreateVectorBucket', 's3vectors:GetVectorBucket', 's3vectors:DeleteVectorBucketPolicy'].map(
      (action) => ({
        name: `${label}: ${action} on our own vector bucket`,
        attack: capped(vectorsWide, action, vBucketArn(me, t)),
        denied: 'ImplicitlyDenied' as const,
        legit: capped(vectorsWide, 's3vectors:PutVectors', own),
      }),
    ),
    {
      name: `boundary of ${me.name} caps inline * on *: s3vectors:QueryVectors on ${victim.name}'s index`,
      attack: capped(wide, 's3vectors:QueryVectors', vIndexArn(victim, t, tenant('a'))),
      denied: 'ImplicitlyDenied',
      legit: capped(wide, 's3vectors:QueryVectors', own),
    },
  ];
}

describe('Amazon S3 Vectors', () => {
  it('the store module builds the index ARNs these evaluations use, and names differ across overlapping clusters and tenants', () => {
    for (const isolation of ['bridge', 'silo'] as const) {
      expect(vectorsScope(prod, 'a', isolation).vectorIndexArn).toBe(tenantIndexArn(prod, 'a', isolation));
    }
    expect(vectorsScope(prod, 'a', 'bridge').vectorIndexArn).toBe(
      `arn:aws:s3vectors:${region}:${account}:bucket/rag-prod-tier-vec-bridge/index/rag-prod-t-a`,
    );
    expect(vectorsPoolScope(prod).vectorIndexArn).toBe(poolIndexArn(prod));
    expect(vectorIndexName(prod.naming, tenant('a-b')).startsWith(vectorIndexName(prod.naming, tenant('a')))).toBe(true);
    const buckets = [prod, prodEu1, prodEu1NoDash, prodeu1].map((c) => vectorBucketName(c.naming, tier('basic')));
    expect(new Set(buckets).size).toBe(4);
    for (const b of buckets.slice(1)) expect(b.startsWith('rag-prod-')).toBe(false);
  });

  describe('(a) a tenant knowledge base role reaches its own index only', () => {
    it.each(
      named(
        (['bridge', 'silo'] as const).flatMap((isolation) => [
          ...vectorsKbRole(prod, 'a', isolation),
          ...vectorsKbRole(prodEu1, 'a', isolation),
        ]),
      ),
    )('%s', (_name, c) => check(c));
  });

  describe('(b) pool: the shared knowledge base role reaches the pool index only; tenant roles reach no index', () => {
    it('no tenant role is granted any s3vectors action, whatever its scope holds', () => {
      const scopes: DataScope[] = [
        vectorsScope(prod, 'a', 'bridge'),
        vectorsScope(prod, 'a', 'silo'),
        { ...vectorsPoolScope(prod), pool: true },
      ];
      for (const s of scopes) {
        const actions = tenantPermissions(s).Statement.flatMap((st) => [st.Action ?? []].flat());
        expect(
          actions.filter((a) => /^s3vectors:|^\*$/.test(a)),
          JSON.stringify(s),
        ).toEqual([]);
      }
    });
    it.each(named([...vectorsPool(prod), ...vectorsPool(prodEu1)]))('%s', (_name, c) => check(c));
  });

  describe("(c) the operator: this cluster's vector buckets and indexes, their control plane only", () => {
    it("every s3vectors grant of the operator names only this cluster's vector buckets and the indexes in them", () => {
      for (const c of [prod, prodEu1]) {
        const bucket = `arn:aws:s3vectors:${region}:${account}:bucket/${vectorBucketName(c.naming, tier('basic')).replace(/tier-basic$/, '')}*`;
        const grants = c.policy.Statement.filter(
          (st) => st.Effect === 'Allow' && [st.Action ?? []].flat().some((a) => a.toLowerCase().startsWith('s3vectors:')),
        );
        expect(grants.length).toBeGreaterThan(0);
        for (const st of grants) {
          for (const r of [st.Resource ?? []].flat()) {
            expect(r === bucket || r.startsWith(`${bucket}/index/`), `${c.name} ${st.Sid ?? ''}: ${r}`).toBe(true);
          }
        }
      }
    });
    it('no driver sends an s3vectors data-plane command, so none is in COMMAND_ACTIONS', () => {
      expect(operatorVectorActions.filter((a) => VECTOR_DATA.includes(a) || a === 's3vectors:ListVectors')).toEqual([]);
    });
    it.each(named([...clusterPairs.map(([me]) => me).flatMap((me) => vectorsOperator(me)), ...vectorsOperatorNever]))('%s', (_name, c) =>
      check(c),
    );
  });

  describe("(d) the boundary caps any created role at the index actions on this cluster's indexes", () => {
    it.each(named(clusterPairs.flatMap(([me, victim]) => vectorsBoundary(me, victim))))('%s', (_name, c) => check(c));
  });
});

// ---------------------------------------------------------------------------------------------
// Bedrock-managed knowledge bases: Bedrock keeps the vectors and embeds with its own model, so
// the knowledge base role only reads the owner's documents (and decrypts them with its key).
// ---------------------------------------------------------------------------------------------

const managedStore = managed();

/** A tier on Bedrock-managed knowledge bases. */
const managedTier = (name: string, isolation: 'pool' | 'bridge' | 'silo'): TenantTier => ({
  ...tierObject(name, isolation),
  spec: { isolation, vectorStore: { type: 'Managed' } },
});

/** The knowledge base role's scope of a tenant (bridge, silo) or of the pool tier on a Managed tier, as stacks.ts builds it. */
function managedScope(c: ReturnType<typeof cluster>, name: string, isolation: 'pool' | 'bridge' | 'silo'): DataScope {
  const t = managedTier(`man-${isolation}`, isolation);
  const key = keyArn(isolation === 'silo' ? `key-${name}` : `key-man-${isolation}`);
  if (isolation === 'pool') {
    const store = managedStore.tier('pool', { ...vectorsInput(c, tier(t.metadata.name), t), kmsKeyArn: () => key });
    return {
      region,
      accountId: account,
      bucket: bucketName(c.naming, tier(t.metadata.name)),
      prefix: 'tenants/',
      kmsKeyArn: key,
      ...store.scope({}),
      knowledgeBaseId: 'POOLKB0002',
    };
  }
  const store = managedStore.tenant(isolation, {
    ...vectorsInput(c, tenant(name), t),
    kmsKeyArn: () => key,
    tierOwner: { cluster: c.naming.cluster, kind: 'TenantTier', name: t.metadata.name, uid: 'uid-tier', tier: t.metadata.name },
    tierShared: {},
  });
  return {
    ...tenantScope(c.naming, tenantObject(name, t.metadata.name), t),
    kmsKeyArn: key,
    ...store.scope({}),
    knowledgeBaseId: `KB${name.replace(/[^a-z0-9]/g, '').toUpperCase()}`,
    pool: false,
  };
}

/** What a managed knowledge base role of `name` may read, beside what it must not. */
function managedKbRole(c: ReturnType<typeof cluster>, name: string, isolation: 'pool' | 'bridge' | 'silo'): Case[] {
  const s = managedScope(c, name, isolation);
  const principal = isolation === 'pool' ? c.role(tier(`man-${isolation}`), 'kb') : c.role(tenant(name), 'kb');
  const as = (action: string, resource: string, extra: Partial<Evaluation> = {}): Evaluation => ({
    principal,
    identity: [knowledgeBasePermissions({ ...s, embeddingModelId })],
    boundary: c.boundary,
    action,
    resource,
    ...extra,
  });
  const ownPrefix = isolation === 'pool' ? `tenants/${name}/` : (s.prefix ?? '');
  const ownObject = `arn:aws:s3:::${s.bucket}/${ownPrefix}report.pdf`;
  const read = as('s3:GetObject', ownObject);
  const list = as('s3:ListBucket', `arn:aws:s3:::${s.bucket}`, { context: { 's3:prefix': ownPrefix } });
  const label = `${c.name} ${isolation} managed knowledge base role`;
  const other = c === prod ? prodEu1 : prod;
  const otherBucket = isolation === 'silo' ? bucketName(c.naming, tenant('b')) : bucketName(other.naming, tier(`man-${isolation}`));
  const cases: Case[] = [
    {
      name: `${label}: s3:GetObject in another bucket (${otherBucket})`,
      attack: as('s3:GetObject', `arn:aws:s3:::${otherBucket}/${ownPrefix}report.pdf`),
      denied: 'ImplicitlyDenied',
      legit: read,
    },
    {
      name: `${label}: s3:ListBucket on another bucket (${otherBucket})`,
      attack: as('s3:ListBucket', `arn:aws:s3:::${otherBucket}`, { context: { 's3:prefix': ownPrefix } }),
      denied: 'ImplicitlyDenied',
      legit: list,
    },
    anotherAccountsBucket(label, read),
    anotherAccountsBucket(label, list),
    {
      name: `${label}: s3:PutObject on its own documents (it only reads them)`,
      attack: as('s3:PutObject', ownObject),
      denied: 'ImplicitlyDenied',
      legit: read,
    },
    {
      name: `${label}: bedrock:InvokeModel on the embedding model (the managed model needs no grant)`,
      attack: as('bedrock:InvokeModel', modelArn(embeddingModelId)),
      denied: 'ImplicitlyDenied',
      legit: read,
    },
    ...['aoss:APIAccessAll', 's3vectors:PutVectors'].map((action) => ({
      name: `${label}: ${action} (no vector store to reach)`,
      attack: as(action, action.startsWith('aoss') ? collectionArn(`coll${name}`) : vIndexArn(c, tier('vec-pool'), tier('vec-pool'))),
      denied: 'ImplicitlyDenied' as const,
      legit: read,
    })),
    {
      name: `${label}: kms:Decrypt with its key outside S3`,
      attack: as('kms:Decrypt', s.kmsKeyArn ?? '', { context: resourceTag(c.name), resourcePolicy: c.keyPolicy }),
      denied: 'ImplicitlyDenied',
      legit: as('kms:Decrypt', s.kmsKeyArn ?? '', { context: { ...resourceTag(c.name), ...viaS3 }, resourcePolicy: c.keyPolicy }),
    },
    {
      name: `${label}: kms:Decrypt with another key through S3`,
      attack: as('kms:Decrypt', keyArn('key-other'), { context: { ...resourceTag(c.name), ...viaS3 }, resourcePolicy: c.keyPolicy }),
      denied: 'ImplicitlyDenied',
      legit: as('kms:Decrypt', s.kmsKeyArn ?? '', { context: { ...resourceTag(c.name), ...viaS3 }, resourcePolicy: c.keyPolicy }),
    },
  ];
  if (isolation !== 'silo') {
    // Bridge: another tenant's prefix in the tier bucket; pool: the role reads every tenant's
    // prefix (one knowledge base for all), but nothing of the tier bucket outside tenants/.
    const beside = isolation === 'bridge' ? `${tenantPrefix('b')}report.pdf` : 'shared/report.pdf';
    cases.push(
      {
        name: `${label}: s3:GetObject on ${beside} in the tier bucket`,
        attack: as('s3:GetObject', `arn:aws:s3:::${s.bucket}/${beside}`),
        denied: 'ImplicitlyDenied',
        legit: read,
      },
      {
        name: `${label}: s3:ListBucket of ${beside.replace(/report.pdf$/, '')} in the tier bucket`,
        attack: as('s3:ListBucket', `arn:aws:s3:::${s.bucket}`, { context: { 's3:prefix': beside.replace(/report.pdf$/, '') } }),
        denied: 'ImplicitlyDenied',
        legit: list,
      },
    );
  }
  if (isolation === 'bridge') {
    cases.push({
      name: `${label}: s3:GetObject under a prefix that extends its own (${tenantPrefix(`${name}-b`)})`,
      attack: as('s3:GetObject', `arn:aws:s3:::${s.bucket}/${tenantPrefix(`${name}-b`)}report.pdf`),
      denied: 'ImplicitlyDenied',
      legit: read,
    });
  }
  return cases;
}

describe('Bedrock-managed knowledge bases', () => {
  it('the store gives the knowledge base role no vector store and the knowledge base no storage configuration', () => {
    for (const isolation of ['pool', 'bridge', 'silo'] as const) {
      const s = managedScope(prod, 'a', isolation);
      expect(s.collectionArn).toBeUndefined();
      expect(s.vectorIndexArn).toBeUndefined();
      expect(s.managedKnowledgeBase).toBe(true);
      const actions = knowledgeBasePermissions({ ...s, embeddingModelId }).Statement.flatMap((st) => [st.Action ?? []].flat());
      expect(actions.filter((a) => !a.startsWith('s3:') && !a.startsWith('kms:'))).toEqual([]);
    }
  });
  it.each(
    named(
      (['pool', 'bridge', 'silo'] as const).flatMap((isolation) => [
        ...managedKbRole(prod, 'a', isolation),
        ...managedKbRole(prodEu1, 'a', isolation),
      ]),
    ),
  )('%s', (_name, c) => check(c));
});
