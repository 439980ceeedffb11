/**
 * The policies of the two roles the operator creates per tenant (or per pool tier): the knowledge
 * base's service role, assumed by Bedrock, and the tenant's own role, assumed by its application.
 * Every statement names only the owner's own bucket or prefix, key, collection and knowledge base.
 */
import { type PolicyDocument, type Statement, policy } from './document.js';

/** Where the owner's documents and vectors live. */
export interface DataScope {
  partition?: string;
  region: string;
  accountId: string;
  bucket: string;
  /** Set for pool and bridge tenants: their prefix in the tier bucket. */
  prefix?: string;
  kmsKeyArn?: string;
  collectionArn?: string;
  /** S3 Vectors: the owner's index (its knowledge base's vectors). */
  vectorIndexArn?: string;
  knowledgeBaseId?: string;
  /**
   * A managed knowledge base: Bedrock keeps the vectors and embeds with its own model, so its role
   * gets no vector store and no model grants, and its callers use Retrieve (RetrieveAndGenerate
   * does not take a managed knowledge base).
   */
  managedKnowledgeBase?: boolean;
  /**
   * Pool: the knowledge base is shared and tenants are told apart only by the `tenantId` in
   * their documents' metadata sidecars, which the operator writes.
   */
  pool?: boolean;
}

const arn = (s: DataScope, service: string, resource: string, withRegion = true): string =>
  `arn:${s.partition ?? 'aws'}:${service}:${withRegion ? s.region : ''}:${withRegion || service !== 's3' ? s.accountId : ''}:${resource}`;
const bucketArn = (s: DataScope): string => `arn:${s.partition ?? 'aws'}:s3:::${s.bucket}`;
const objectsArn = (s: DataScope): string => `${bucketArn(s)}/${s.prefix ?? ''}*`;

/**
 * Trust policy of a knowledge base service role: only Bedrock, only on behalf of this account,
 * and only for the role's own knowledge base once it exists (its id is on status). Before, the
 * role must trust every knowledge base of the account: the knowledge base is created with it.
 */
export function knowledgeBaseTrust(s: DataScope): PolicyDocument {
  return policy({
    Effect: 'Allow',
    Principal: { Service: 'bedrock.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: {
      StringEquals: { 'aws:SourceAccount': s.accountId },
      ArnLike: { 'aws:SourceArn': arn(s, 'bedrock', `knowledge-base/${s.knowledgeBaseId ?? '*'}`) },
    },
  });
}

/** Decrypting and encrypting with the owner's key, only as S3 does for its documents. */
function useKey(s: DataScope, sid: string): Statement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: s.kmsKeyArn ?? '',
    Condition: { StringEquals: { 'kms:ViaService': `s3.${s.region}.amazonaws.com` } },
  };
}

/** Bucket names are global: every S3 grant holds only for the bucket of the owner's account. */
const inAccount = (s: DataScope): { StringEquals: Record<string, string> } => ({ StringEquals: { 's3:ResourceAccount': s.accountId } });

function listBucket(s: DataScope, sid: string): Statement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn(s),
    Condition: { ...inAccount(s), ...(s.prefix ? { StringLike: { 's3:prefix': [`${s.prefix}*`] } } : {}) },
  };
}

/**
 * What Bedrock does with a knowledge base's S3 Vectors index, as its service role: write and
 * delete vectors while ingesting, read and query them while retrieving (Bedrock user guide,
 * "Permissions to access your vector store in Amazon S3 Vectors").
 */
export const KB_S3VECTORS_ACTIONS = [
  's3vectors:GetIndex',
  's3vectors:PutVectors',
  's3vectors:GetVectors',
  's3vectors:DeleteVectors',
  's3vectors:QueryVectors',
];

/**
 * Permissions of a knowledge base service role: embed, read its documents, write its vectors. A
 * managed knowledge base's role only reads its documents (and decrypts them with the owner's key):
 * the service-managed embedding model needs no model access and Bedrock's store no grant (Bedrock
 * user guide, "Permissions for managed knowledge bases").
 */
export function knowledgeBasePermissions(s: DataScope & { embeddingModelId: string }): PolicyDocument {
  const embed: Statement[] = s.managedKnowledgeBase
    ? []
    : [
        {
          Sid: 'Embed',
          Effect: 'Allow',
          Action: 'bedrock:InvokeModel',
          Resource: `arn:${s.partition ?? 'aws'}:bedrock:${s.region}::foundation-model/${s.embeddingModelId}`,
        },
      ];
  const statements: Statement[] = [
    ...embed,
    listBucket(s, 'ListDocuments'),
    { Sid: 'ReadDocuments', Effect: 'Allow', Action: 's3:GetObject', Resource: objectsArn(s), Condition: inAccount(s) },
  ];
  if (s.collectionArn) statements.push({ Sid: 'VectorStore', Effect: 'Allow', Action: 'aoss:APIAccessAll', Resource: s.collectionArn });
  if (s.vectorIndexArn) statements.push({ Sid: 'VectorIndex', Effect: 'Allow', Action: KB_S3VECTORS_ACTIONS, Resource: s.vectorIndexArn });
  if (s.kmsKeyArn) statements.push(useKey(s, 'DecryptDocuments'));
  return policy(...statements);
}

/** Who may assume the tenant role. */
export type TenantAccess = { podIdentity: { namespace: string; serviceAccount: string } } | { principals: string[] } | undefined;

/**
 * Trust policy of the tenant role: EKS Pod Identity for the tenant's service account in the
 * operator's own EKS cluster (the association binds it; the session tags EKS sets pin the
 * cluster's ARN, the namespace and the service account, so a pod of the same namespace and
 * service account in another cluster of the account is refused), or the listed IAM roles.
 * Without access, or with Pod Identity but no cluster ARN, nobody may assume it.
 */
export function tenantTrust(s: DataScope, access: TenantAccess, eksClusterArn?: string): PolicyDocument {
  if (access && 'podIdentity' in access && eksClusterArn) {
    return policy({
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:SourceAccount': s.accountId,
          'aws:RequestTag/eks-cluster-arn': eksClusterArn,
          'aws:RequestTag/kubernetes-namespace': access.podIdentity.namespace,
          'aws:RequestTag/kubernetes-service-account': access.podIdentity.serviceAccount,
        },
      },
    });
  }
  if (access && 'principals' in access && access.principals.length > 0) {
    return policy({ Effect: 'Allow', Principal: { AWS: [...access.principals].sort() }, Action: 'sts:AssumeRole' });
  }
  // No principal may assume the role until spec.access (and, for Pod Identity, eksClusterArn) is set.
  return policy({ Effect: 'Deny', Principal: { AWS: `arn:${s.partition ?? 'aws'}:iam::${s.accountId}:root` }, Action: 'sts:AssumeRole' });
}

/** Permissions of the tenant role: its own documents, its own knowledge base. */
export function tenantPermissions(s: DataScope): PolicyDocument {
  const statements: Statement[] = [
    listBucket(s, 'ListOwnDocuments'),
    {
      Sid: 'OwnDocuments',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: objectsArn(s),
      Condition: inAccount(s),
    },
  ];
  if (s.pool) {
    // The sidecars say whose a document is; a tenant that could write them could pass its
    // documents off as another tenant's. Only the operator writes them.
    statements.push({
      Sid: 'NoOwnSidecars',
      Effect: 'Deny',
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: `${objectsArn(s)}.metadata.json`,
    });
  }
  // A shared (pool) knowledge base is not granted: IAM cannot make a caller apply the tenantId
  // filter, so pool queries go through the platform's own retrieval service, which does.
  if (s.knowledgeBaseId && !s.pool) {
    statements.push({
      Sid: 'QueryOwnKnowledgeBase',
      Effect: 'Allow',
      Action: 'bedrock:Retrieve',
      Resource: arn(s, 'bedrock', `knowledge-base/${s.knowledgeBaseId}`),
    });
    // RetrieveAndGenerate has no resource type in the IAM service reference, so a grant on the
    // knowledge base's ARN never matches; what it reads is still behind Retrieve above. A managed
    // knowledge base does not take it.
    if (!s.managedKnowledgeBase)
      statements.push({ Sid: 'GenerateFromOwnKnowledgeBase', Effect: 'Allow', Action: 'bedrock:RetrieveAndGenerate', Resource: '*' });
  }
  if (s.kmsKeyArn) statements.push(useKey(s, 'OwnKey'));
  return policy(...statements);
}
