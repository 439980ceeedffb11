/** OpenAPI schema of TenantTier: what a tier means (isolation pattern and defaults). */
import { BEDROCK_NON_FILTERABLE, DEFAULT_EMBEDDING_MODEL } from '../constants.js';
import { ingestion } from './tenant.js';
import { type Schema, conditions, inSync, observedGeneration, duration, immutable, knowledgeBaseSettings, vectorIndex } from './common.js';

const tierKb = knowledgeBaseSettings(
  "Knowledge base defaults for the tier's tenants. Bridge and silo tenants may override embeddingModel, dimensions, chunking and vectorIndex. Fixed once the tier exists: its tenants' indexes, knowledge bases and data sources were made with them.",
  true,
);
const fixed = (field: string, why: string): string =>
  `knowledgeBase.${field} of a tier is immutable: ${why}; create a new tier with the settings you want and move tenants to it`;
// The tier's settings are its tenants' settings (pool: its own knowledge base's), which AWS
// cannot change in place, so they cannot change once the tier exists.
const tierKnowledgeBase: Schema = {
  ...tierKb,
  properties: {
    ...tierKb.properties,
    embeddingModel: immutable(tierKb.properties?.embeddingModel ?? {}, fixed('embeddingModel', 'existing vectors were made with it')),
    dimensions: immutable(tierKb.properties?.dimensions ?? {}, fixed('dimensions', 'vector indexes were built with it')),
    chunking: immutable(tierKb.properties?.chunking ?? {}, fixed('chunking', "AWS cannot change a data source's chunking")),
    vectorIndex: immutable(tierKb.properties?.vectorIndex ?? {}, fixed('vectorIndex', 'index mappings cannot change in place')),
  },
};

const vectorStoreFixed = (field: string): string =>
  `vectorStore.${field} is immutable: the tier's indexes were made with it; create a new tier with the store you want and move tenants to it`;

const vectorStore: Schema = {
  type: 'object',
  default: {},
  description:
    "Where the tier's vectors live. `OpenSearchServerless` (the default): collections billed by the hour, hybrid search. `S3Vectors`: Amazon S3 Vectors buckets and indexes, billed by storage and queries, semantic search only. `Managed`: Bedrock-managed knowledge bases, which keep the vectors themselves and embed with Bedrock's service-managed model (no embedding model, dimensions, chunking or index settings; query with Retrieve, not RetrieveAndGenerate).",
  properties: {
    type: immutable(
      {
        type: 'string',
        enum: ['OpenSearchServerless', 'S3Vectors', 'Managed'],
        default: 'OpenSearchServerless',
        description: 'The vector store. Immutable.',
      },
      vectorStoreFixed('type'),
    ),
    s3Vectors: immutable(
      {
        type: 'object',
        description: 'Settings of the S3 Vectors indexes (type S3Vectors only); fixed once the tier exists.',
        properties: {
          distanceMetric: {
            type: 'string',
            enum: ['cosine', 'euclidean'],
            default: 'cosine',
            description: 'Distance metric of the indexes: `cosine` or `euclidean`.',
          },
          nonFilterableMetadataKeys: {
            type: 'array',
            maxItems: 8,
            'x-kubernetes-list-type': 'set',
            items: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9_.:-]+$' },
            description: `Metadata keys stored but not filterable, besides Bedrock's own (${BEDROCK_NON_FILTERABLE.join(', ')}), which are always non-filterable. At most 8 (S3 Vectors allows 10 per index). \`tenantId\` must stay filterable.`,
          },
        },
        'x-kubernetes-validations': [
          {
            rule: "!has(self.nonFilterableMetadataKeys) || !self.nonFilterableMetadataKeys.exists(k, k == 'tenantId')",
            message: 'tenantId must stay filterable: pool tenants are told apart by it; remove it from nonFilterableMetadataKeys',
          },
        ],
      },
      vectorStoreFixed('s3Vectors'),
    ),
    openSearchServerless: {
      type: 'object',
      description: 'Settings of the OpenSearch Serverless indexes (type OpenSearchServerless only).',
      properties: {
        vectorIndex: immutable(
          vectorIndex,
          vectorStoreFixed('openSearchServerless.vectorIndex').replace('made with it', 'mappings cannot change in place'),
        ),
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "!has(self.s3Vectors) || self.type == 'S3Vectors'",
      message: 'vectorStore.s3Vectors applies to type S3Vectors only: remove it or set type S3Vectors',
    },
    {
      rule: "!has(self.openSearchServerless) || self.type == 'OpenSearchServerless'",
      message: 'vectorStore.openSearchServerless applies to type OpenSearchServerless only: remove it or set type OpenSearchServerless',
    },
  ],
};

const quota: Schema = {
  type: 'object',
  description: 'Token quota per window; at least one of tokensPerDay and tokensPerMonth.',
  properties: {
    tokensPerDay: { type: 'integer', format: 'int64', minimum: 1, description: 'Input plus output tokens allowed per UTC day.' },
    tokensPerMonth: {
      type: 'integer',
      format: 'int64',
      minimum: 1,
      description: 'Input plus output tokens allowed per UTC calendar month.',
    },
  },
  'x-kubernetes-validations': [
    { rule: 'has(self.tokensPerDay) || has(self.tokensPerMonth)', message: 'set tokensPerDay, tokensPerMonth or both' },
  ],
};

/** The quota shape, shared with ModelAccess. */
export const quotaSchema = quota;

const sharedStatus: Schema = {
  type: 'object',
  description: 'AWS resources the tier shares among its tenants (pool: all of them; bridge: bucket and collection).',
  properties: {
    bucket: { type: 'string', description: 'Name of the tier bucket.' },
    kmsKeyArn: { type: 'string', description: 'ARN of the tier KMS key (storage.encryption TierKey).' },
    knowledgeBaseRoleArn: { type: 'string', description: 'ARN of the shared knowledge base service role (pool).' },
    roleArn: { type: 'string', description: "ARN of the role the tier's tenants share (pool with tenantRoles: Shared)." },
    collectionArn: { type: 'string', description: 'ARN of the tier OpenSearch Serverless collection.' },
    collectionEndpoint: { type: 'string', description: 'Data-plane endpoint of the tier collection.' },
    collectionId: { type: 'string', description: 'Id of the tier collection (the last part of its ARN).' },
    indexName: { type: 'string', description: 'Vector index shared by the tier (pool).' },
    knowledgeBaseId: { type: 'string', description: 'Id of the shared knowledge base (pool).' },
    dataSourceId: { type: 'string', description: 'Id of the shared data source (pool).' },
    vectorBucketArn: { type: 'string', description: 'ARN of the tier S3 Vectors vector bucket (vectorStore S3Vectors).' },
    vectorBucketName: { type: 'string', description: 'Name of the tier vector bucket.' },
    vectorIndexArn: { type: 'string', description: 'ARN of the S3 Vectors index shared by the tier (pool).' },
    vectorIndexName: { type: 'string', description: 'Name of the S3 Vectors index shared by the tier (pool).' },
  },
};

/** spec and status of TenantTier. */
export const tenantTierSchema: Schema = {
  type: 'object',
  description:
    'A TenantTier defines what a tier of tenants gets: the isolation pattern (pool, bridge or silo), knowledge base defaults, encryption, ingestion schedule and default quota.',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      description: 'What the tier means: isolation pattern and the defaults its tenants get.',
      required: ['isolation'],
      properties: {
        isolation: immutable(
          {
            type: 'string',
            enum: ['pool', 'bridge', 'silo'],
            description:
              'Isolation pattern. `pool`: one bucket, collection, index and knowledge base per tier, tenants separated by prefix and metadata filter. `bridge`: tier bucket and collection, a knowledge base and index per tenant. `silo`: everything per tenant. Immutable.',
          },
          'isolation is immutable: create a new tier with the pattern you want and move tenants to it',
        ),
        tenantRoles: immutable(
          {
            type: 'string',
            enum: ['PerTenant', 'Shared'],
            description:
              "Who a tenant's application is in IAM. `PerTenant` (the default): a role per tenant. `Shared` (pool only): one role for the tier, narrowed to each tenant by the session policy of the tenant's EKS Pod Identity association, so onboarding a tenant writes nothing to IAM and the account's role quota does not cap the tier; tenants then need spec.access.podIdentity (or no access: the gateway only). Immutable.",
          },
          'tenantRoles is immutable: create a new tier with the value you want and move tenants to it',
        ),
        knowledgeBase: { ...tierKnowledgeBase, default: {} },
        vectorStore,
        dataDeletionPolicy: {
          type: 'string',
          enum: ['Delete', 'Retain'],
          default: 'Delete',
          description: 'What Bedrock does with vectors when a data source is deleted: `Delete` (Bedrock DELETE) or `Retain` (RETAIN).',
        },
        storage: {
          type: 'object',
          default: {},
          description: 'Document storage settings.',
          properties: {
            encryption: {
              type: 'string',
              enum: ['AwsOwned', 'TierKey', 'TenantKey'],
              default: 'AwsOwned',
              description:
                "Encryption at rest: `AwsOwned` keys, one `TierKey` (KMS) for the tier, or a `TenantKey` (KMS) per tenant (silo; bridge on S3Vectors or Managed, where it encrypts the tenant's index or knowledge base).",
            },
          },
        },
        ingestion: {
          type: 'object',
          default: {},
          description: 'When new documents are synced into the knowledge base.',
          properties: {
            interval: {
              ...duration({ value: '5m', why: 'AWS starts at most one ingestion job per 10 s per account; use 15m, 1h or longer' }),
              default: '1h',
              description:
                "How often each tenant's documents are synced: hours, minutes and seconds such as `15m`, `1h` or `24h` (no days). At least 5m; AWS starts at most one ingestion job per 10 s per account.",
            },
          },
        },
        defaultQuota: { ...quota, description: "Quota applied to a ModelAccess of this tier's tenants that sets none." },
        maxTenants: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          description: 'Most tenants the tier admits; further tenants get Ready=False, reason TierFull. Unset: no limit beyond AWS quotas.',
        },
      },
      'x-kubernetes-validations': [
        {
          rule: "!has(self.tenantRoles) || self.tenantRoles != 'Shared' || self.isolation == 'pool'",
          message:
            'tenantRoles Shared needs isolation pool: bridge and silo tenants each have a knowledge base of their own, which their own role is granted; use PerTenant',
        },
        {
          rule: "!has(self.vectorStore) || self.vectorStore.type != 'S3Vectors' || !has(self.knowledgeBase) || !has(self.knowledgeBase.vectorIndex)",
          message:
            'knowledgeBase.vectorIndex sets OpenSearch Serverless index parameters, which an S3 Vectors tier does not have: remove it (use vectorStore.s3Vectors.distanceMetric)',
          fieldPath: '.knowledgeBase.vectorIndex',
        },
        // A managed knowledge base keeps its vectors in Bedrock's own store and embeds with
        // Bedrock's model: what the other stores take is refused on a Managed tier. The tier's
        // knowledge base fields have defaults, so those are allowed (and ignored); anything else is not.
        {
          rule: "!has(self.vectorStore) || self.vectorStore.type != 'Managed' || !has(self.knowledgeBase) || !has(self.knowledgeBase.vectorIndex)",
          message:
            'knowledgeBase.vectorIndex sets OpenSearch Serverless index parameters, which a Managed tier does not have (Bedrock keeps its vectors): remove it',
          fieldPath: '.knowledgeBase.vectorIndex',
        },
        {
          rule: "!has(self.vectorStore) || self.vectorStore.type != 'Managed' || !has(self.knowledgeBase) || !has(self.knowledgeBase.chunking) || (self.knowledgeBase.chunking.strategy == 'FixedSize' && (!has(self.knowledgeBase.chunking.maxTokens) || self.knowledgeBase.chunking.maxTokens == 300) && (!has(self.knowledgeBase.chunking.overlapPercentage) || self.knowledgeBase.chunking.overlapPercentage == 20))",
          message:
            'knowledgeBase.chunking cannot be set on a Managed tier: Bedrock refuses a chunking strategy with its service-managed embedding model and chunks by its own default; remove it',
          fieldPath: '.knowledgeBase.chunking',
        },
        {
          rule: `!has(self.vectorStore) || self.vectorStore.type != 'Managed' || !has(self.knowledgeBase) || ((!has(self.knowledgeBase.embeddingModel) || self.knowledgeBase.embeddingModel == '${DEFAULT_EMBEDDING_MODEL}') && (!has(self.knowledgeBase.dimensions) || self.knowledgeBase.dimensions == 1024))`,
          message:
            "knowledgeBase.embeddingModel and dimensions cannot be set on a Managed tier: it embeds with Bedrock's service-managed model; remove them",
          fieldPath: '.knowledgeBase',
        },
        {
          rule: "!has(self.vectorStore) || self.vectorStore.type != 'Managed' || !has(self.dataDeletionPolicy) || self.dataDeletionPolicy == 'Delete'",
          message:
            'dataDeletionPolicy Retain is not available on a Managed tier: a managed knowledge base deletes its vectors with its data source (DELETE only); set Delete, or keep documents with the tenant deletionPolicy Retain',
          fieldPath: '.dataDeletionPolicy',
        },
        {
          rule: '!has(self.vectorStore) || !has(self.vectorStore.openSearchServerless) || !has(self.vectorStore.openSearchServerless.vectorIndex) || !has(self.knowledgeBase) || !has(self.knowledgeBase.vectorIndex)',
          message:
            'set the index parameters in one place: vectorStore.openSearchServerless.vectorIndex (knowledgeBase.vectorIndex is its older spelling); remove one of them',
          fieldPath: '.knowledgeBase.vectorIndex',
        },
        {
          rule: "!has(self.storage) || !has(self.storage.encryption) || self.storage.encryption != 'TenantKey' || self.isolation == 'silo' || (self.isolation == 'bridge' && has(self.vectorStore) && self.vectorStore.type != 'OpenSearchServerless')",
          message:
            'storage.encryption TenantKey needs isolation silo, or bridge on S3Vectors or Managed (a key per tenant index or knowledge base; on OpenSearch Serverless it would take a collection per tenant): use TierKey or AwsOwned otherwise',
          fieldPath: '.storage.encryption',
        },
      ],
    },
    status: {
      type: 'object',
      description: 'Observed state of the tier, written by the operator.',
      properties: {
        observedGeneration,
        conditions,
        tenantCount: { type: 'integer', description: 'Tenants that name this tier.' },
        shared: sharedStatus,
        inSync,
        ingestion: { ...ingestion, description: 'The last ingestion job of the shared data source (pool tiers).' },
      },
    },
  },
};
