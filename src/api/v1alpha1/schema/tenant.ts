/** OpenAPI schema of Tenant: one customer's RAG stack. */
import { type Schema, conditions, inSync, observedGeneration, dnsLabel, immutable, knowledgeBaseSettings } from './common.js';

const kbOverrides = knowledgeBaseSettings(
  "Overrides of the tier's knowledge base defaults; allowed for bridge and silo tiers only. embeddingModel, dimensions and chunking cannot change once set.",
  false,
);
const kbProps = kbOverrides.properties ?? {};
const kbImmutable: Schema = {
  ...kbOverrides,
  properties: {
    ...kbProps,
    embeddingModel: immutable(
      kbProps.embeddingModel ?? {},
      'knowledgeBase.embeddingModel is immutable: existing vectors were made with it; create a new tenant to change it',
    ),
    dimensions: immutable(
      kbProps.dimensions ?? {},
      'knowledgeBase.dimensions is immutable: the vector index was built with it; create a new tenant to change it',
    ),
    chunking: immutable(
      kbProps.chunking ?? {},
      "knowledgeBase.chunking is immutable: AWS cannot change a data source's chunking; create a new tenant to change it",
    ),
  },
  'x-kubernetes-validations': [
    ...(kbOverrides['x-kubernetes-validations'] ?? []),
    {
      rule: 'has(self.embeddingModel) == has(oldSelf.embeddingModel) && has(self.dimensions) == has(oldSelf.dimensions) && has(self.chunking) == has(oldSelf.chunking)',
      message: 'knowledgeBase.embeddingModel, dimensions and chunking cannot be added or removed after creation',
    },
  ],
};

const iamRoleArn: Schema = { type: 'string', pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$', maxLength: 2048 };

const resources: Schema = {
  type: 'object',
  description: "Identifiers of the AWS resources that serve this tenant (its own or the tier's).",
  properties: {
    bucket: { type: 'string', description: "S3 bucket holding the tenant's documents." },
    prefix: { type: 'string', description: "Key prefix of the tenant's documents in the bucket." },
    kmsKeyArn: { type: 'string', description: "KMS key encrypting the tenant's data, when the tier uses one." },
    roleArn: { type: 'string', description: "IAM role the tenant's application assumes." },
    knowledgeBaseRoleArn: { type: 'string', description: 'Service role Bedrock uses for the knowledge base.' },
    collectionArn: { type: 'string', description: 'OpenSearch Serverless collection holding the vectors.' },
    collectionEndpoint: { type: 'string', description: 'Data-plane endpoint of the collection.' },
    collectionId: { type: 'string', description: 'Id of the collection (the last part of its ARN).' },
    indexName: { type: 'string', description: "Vector index holding the tenant's vectors." },
    vectorBucketArn: { type: 'string', description: 'S3 Vectors vector bucket holding the vectors (vectorStore S3Vectors).' },
    vectorBucketName: { type: 'string', description: 'Name of the vector bucket.' },
    vectorIndexArn: { type: 'string', description: "S3 Vectors index holding the tenant's vectors." },
    vectorIndexName: { type: 'string', description: 'Name of the S3 Vectors index.' },
    knowledgeBaseId: { type: 'string', description: 'Bedrock knowledge base id to query.' },
    dataSourceId: { type: 'string', description: 'Bedrock data source id.' },
    podIdentityAssociationId: {
      type: 'string',
      description: "EKS Pod Identity association giving spec.access.podIdentity's service account the tenant role.",
    },
  },
};

/** The last ingestion job of a data source; shared with TenantTier (pool). */
export const ingestion: Schema = {
  type: 'object',
  description: 'The last ingestion job.',
  properties: {
    lastJobId: { type: 'string', description: 'Id of the last ingestion job.' },
    lastStatus: { type: 'string', description: 'Its status as Bedrock reports it.' },
    lastStartedAt: { type: 'string', format: 'date-time', description: 'When it started.' },
    lastCompletedAt: { type: 'string', format: 'date-time', description: 'When it finished.' },
    lastRequestedAt: { type: 'string', description: 'The last `rag.tenancy.dev/sync-requested-at` value acted on.' },
    documentsScanned: { type: 'integer', format: 'int64', description: 'Documents scanned by the last job.' },
    documentsIndexed: { type: 'integer', format: 'int64', description: 'New and modified documents indexed by the last job.' },
    documentsFailed: { type: 'integer', format: 'int64', description: 'Documents that failed in the last job.' },
  },
};

/** What one source of usage saw this window; shared by `gateway` and `cloudWatch` of usage. */
const sourceUsage = (description: string): Schema => ({
  type: 'object',
  description,
  properties: {
    totalTokens: { type: 'integer', format: 'int64', description: 'Input plus output tokens this window, as this source counts them.' },
    updatedAt: { type: 'string', format: 'date-time', description: 'When this source was read.' },
  },
});

/** Token and cost usage in the current window; shared with ModelAccess. */
export const usageSchema: Schema = {
  type: 'object',
  description: 'Usage in the current UTC calendar month.',
  properties: {
    window: { type: 'string', description: 'The window, e.g. `2026-11`.' },
    inputTokens: { type: 'integer', format: 'int64', description: 'Input tokens this window, as CloudWatch reports them.' },
    outputTokens: { type: 'integer', format: 'int64', description: 'Output tokens this window, as CloudWatch reports them.' },
    totalTokens: {
      type: 'integer',
      format: 'int64',
      description:
        "Input plus output tokens this window, each counted once: without the tenant gateway, CloudWatch's count; with it, the gateway's real-time count plus what CloudWatch saw beyond it (calls that bypassed the gateway), so it may run ahead of inputTokens plus outputTokens.",
    },
    costUSD: {
      type: 'string',
      description: "Cost this window in US dollars of the tokens CloudWatch reports, from the operator's price table, as a decimal string.",
    },
    updatedAt: { type: 'string', format: 'date-time', description: 'When the numbers were read.' },
    gateway: sourceUsage(
      "What the tenant gateway's Redis counters say, in real time: calls through the gateway only, a call in flight at its reservation. Present when the operator reads the gateway's counters.",
    ),
    cloudWatch: sourceUsage(
      "What CloudWatch says: every call, through the gateway or not, a minute or more late. Present with `gateway`; otherwise the fields above are CloudWatch's.",
    ),
  },
};

/** spec and status of Tenant. */
export const tenantSchema: Schema = {
  type: 'object',
  description:
    'A Tenant is one customer of the platform. The operator builds its RAG stack in AWS as its tier prescribes and reports what exists on status.',
  required: ['spec'],
  'x-kubernetes-validations': [
    {
      rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",
      message:
        'metadata.name must be a DNS-1123 label (lowercase letters, digits and dashes, starting with a letter, at most 63 characters): AWS resource names are derived from it',
      // A rule on the root object is reported at `<nil>` unless it names its field.
      fieldPath: '.metadata.name',
    },
  ],
  properties: {
    // Declared only so the name rule above can report at metadata.name (fieldPath must exist).
    metadata: {
      type: 'object',
      properties: {
        name: {
          type: 'string',
          description: 'A DNS-1123 label starting with a letter, at most 63 characters: AWS resource names are derived from it.',
        },
      },
    },
    spec: {
      type: 'object',
      description:
        "The tenant's tier, overrides, who may use its role, where to publish connection details, and what to do in AWS on deletion.",
      required: ['tier'],
      properties: {
        tier: immutable(
          {
            ...dnsLabel,
            description: 'Name of the TenantTier. Immutable: moving a tenant between tiers is a migration the operator does not do yet.',
          },
          'spec.tier is immutable: moving a tenant to another tier is not supported yet; create a new Tenant in the other tier',
        ),
        displayName: { type: 'string', maxLength: 200, description: 'Human-readable name, used in AWS descriptions.' },
        knowledgeBase: kbImmutable,
        access: {
          type: 'object',
          description: "Who may assume the tenant's IAM role: an EKS Pod Identity service account, or IAM principals. Exactly one.",
          properties: {
            podIdentity: {
              type: 'object',
              description: "The Kubernetes service account of the tenant's application (EKS Pod Identity).",
              required: ['namespace', 'serviceAccount'],
              'x-kubernetes-validations': [
                {
                  rule: "!(self.namespace in ['kube-system', 'kube-public', 'kube-node-lease'])",
                  fieldPath: '.namespace',
                  message:
                    "spec.access.podIdentity.namespace cannot be kube-system, kube-public or kube-node-lease: a tenant role is never given to a system service account; use the application's own namespace",
                },
              ],
              properties: {
                namespace: { ...dnsLabel, description: 'Namespace of the service account.' },
                serviceAccount: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 253,
                  pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
                  description: 'Name of the service account.',
                },
              },
            },
            principals: {
              type: 'array',
              description: 'IAM role ARNs allowed to assume the tenant role.',
              minItems: 1,
              maxItems: 10,
              'x-kubernetes-list-type': 'set',
              items: {
                ...iamRoleArn,
                description:
                  "An exact IAM role ARN, e.g. arn:aws:iam::111122223333:role/acme-app, in the operator's account or one the operator trusts (trustedAccountIds).",
                'x-kubernetes-validations': [
                  {
                    rule: "self.matches('^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$')",
                    message:
                      'must be one exact IAM role ARN such as arn:aws:iam::111122223333:role/acme-app (optionally with a path, role/team/acme-app); wildcards and other principal types are not allowed',
                  },
                ],
              },
            },
          },
          'x-kubernetes-validations': [
            {
              rule: 'has(self.podIdentity) != has(self.principals)',
              message: 'set exactly one of access.podIdentity and access.principals',
            },
          ],
        },
        connection: {
          type: 'object',
          description:
            "Where to write a ConfigMap with the ids and endpoints the tenant's application needs. The operator creates it and never takes over a ConfigMap it did not create for this tenant.",
          required: ['namespace'],
          properties: {
            namespace: {
              ...dnsLabel,
              description:
                "Namespace of the ConfigMap: the tenant's own Pod Identity namespace, or one the operator's connectionNamespaces setting allows. Never a system namespace or the operator's own.",
            },
            configMapName: {
              type: 'string',
              default: 'rag-connection',
              minLength: 1,
              maxLength: 253,
              pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
              description: 'Name of the ConfigMap.',
            },
          },
          'x-kubernetes-validations': [
            {
              // Refused here so no pass ever reads there; the operator checks the rest (its own
              // namespace, the allowlist), which needs its configuration.
              rule: "!(self.namespace in ['kube-system', 'kube-public', 'kube-node-lease'])",
              fieldPath: '.namespace',
              message:
                "spec.connection.namespace cannot be kube-system, kube-public or kube-node-lease: the operator never writes ConfigMaps in system namespaces; set it to the application's namespace (normally spec.access.podIdentity.namespace)",
            },
          ],
        },
        deletionPolicy: {
          type: 'string',
          enum: ['Delete', 'Retain'],
          default: 'Retain',
          description:
            'What happens in AWS when the Tenant is deleted: `Delete` removes everything the tenant owns, `Retain` leaves AWS untouched. Defaults to Retain so an accidental delete or GitOps prune never destroys data.',
        },
        suspend: {
          type: 'boolean',
          default: false,
          description: 'Stop reconciling the tenant in AWS; model access is denied while suspended.',
        },
      },
    },
    status: {
      type: 'object',
      description: 'Observed state of the tenant, written by the operator.',
      properties: {
        observedGeneration,
        conditions,
        isolation: { type: 'string', description: "Isolation pattern of the tenant's tier." },
        vectorStore: { type: 'string', description: "Vector store of the tenant's tier (OpenSearchServerless or S3Vectors)." },
        tenantRoles: {
          type: 'string',
          description:
            "The tier's tenantRoles: `Shared` when the application's role (resources.roleArn) is the tier's, narrowed to this tenant by its Pod Identity association.",
        },
        resources,
        ingestion,
        inSync,
        usage: {
          ...usageSchema,
          properties: {
            ...usageSchema.properties,
            storageBytes: { type: 'integer', format: 'int64', description: "Bytes stored under the tenant's bucket or prefix." },
          },
        },
      },
    },
  },
};
