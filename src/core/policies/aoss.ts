/**
 * OpenSearch Serverless policy documents (encryption, network, data access) and the vector index
 * body Bedrock needs, as pure functions. AOSS policies have no Deny and are additive, so every
 * rule names one collection and, for data access, one index or the owner's index pattern.
 */

/** Field names Bedrock writes into the index; the knowledge base's field mapping names the same. */
export const INDEX_FIELDS = {
  vector: 'bedrock-knowledge-base-default-vector',
  text: 'AMAZON_BEDROCK_TEXT_CHUNK',
  metadata: 'AMAZON_BEDROCK_METADATA',
} as const;

/** Encryption policy for one collection: an AWS-owned key, or the given KMS key ARN. */
export function encryptionPolicy(collection: string, kmsKeyArn?: string): Record<string, unknown> {
  return {
    Rules: [{ ResourceType: 'collection', Resource: [`collection/${collection}`] }],
    // A collection's key is fixed at creation; the policy only matters before CreateCollection.
    ...(kmsKeyArn ? { AWSOwnedKey: false, KmsARN: kmsKeyArn } : { AWSOwnedKey: true }),
  };
}

/**
 * Network policy for one collection. With VPC endpoints configured the collection is private:
 * reachable from those endpoints (where the operator runs) and from Bedrock only. Without them it
 * is reachable over the internet, still gated by IAM and the data access policy.
 */
export function networkPolicy(collection: string, vpcEndpointIds: readonly string[]): Record<string, unknown>[] {
  const rules = [{ ResourceType: 'collection', Resource: [`collection/${collection}`] }];
  if (vpcEndpointIds.length === 0) return [{ Rules: rules, AllowFromPublic: true }];
  return [
    {
      Rules: rules,
      AllowFromPublic: false,
      SourceVPCEs: [...vpcEndpointIds].sort(),
      SourceServices: ['bedrock.amazonaws.com'],
    },
  ];
}

/** What a principal may do on the data plane of one collection. */
export interface DataGrant {
  description: string;
  principals: readonly string[];
  collection: string;
  /** Index name or pattern within the collection (`*` for every index). */
  index: string;
  /** Collection-level permission to list and describe items (the operator, a dedicated KB). */
  collectionItems: boolean;
}

/** Permissions the knowledge base role needs on its index (and the operator, to create it). */
const INDEX_PERMISSIONS = [
  'aoss:CreateIndex',
  'aoss:DeleteIndex',
  'aoss:DescribeIndex',
  'aoss:ReadDocument',
  'aoss:UpdateIndex',
  'aoss:WriteDocument',
];

/** Data access policy: one statement per grant. */
export function dataAccessPolicy(grants: readonly DataGrant[]): Record<string, unknown>[] {
  return grants.map((g) => ({
    Description: g.description,
    Rules: [
      ...(g.collectionItems
        ? [
            {
              ResourceType: 'collection',
              Resource: [`collection/${g.collection}`],
              Permission: ['aoss:CreateCollectionItems', 'aoss:DescribeCollectionItems', 'aoss:UpdateCollectionItems'],
            },
          ]
        : []),
      { ResourceType: 'index', Resource: [`index/${g.collection}/${g.index}`], Permission: INDEX_PERMISSIONS },
    ],
    Principal: [...new Set(g.principals)].sort(),
  }));
}

/** Parameters of the HNSW graph of a vector index. */
export interface VectorIndexParams {
  dimension: number;
  spaceType: string;
  m: number;
  efConstruction: number;
}

/** The mapping Bedrock requires: faiss HNSW vector field plus its text and metadata fields. */
export function vectorIndexBody(p: VectorIndexParams): Record<string, unknown> {
  return {
    settings: { index: { knn: true, 'knn.algo_param.ef_search': 512 } },
    mappings: {
      properties: {
        [INDEX_FIELDS.vector]: {
          type: 'knn_vector',
          dimension: p.dimension,
          // Bedrock rejects nmslib and ignores metadata with it; faiss is the only valid engine.
          method: { name: 'hnsw', engine: 'faiss', space_type: p.spaceType, parameters: { m: p.m, ef_construction: p.efConstruction } },
        },
        [INDEX_FIELDS.text]: { type: 'text', index: true },
        [INDEX_FIELDS.metadata]: { type: 'text', index: false },
      },
    },
  };
}
