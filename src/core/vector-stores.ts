/**
 * The vector stores a tier can choose, as data: which one a tier uses, and which of the tier's
 * shared ids (published on its status) its pool and bridge tenants read. What each store creates
 * is its module's business (src/resources/vector-stores/<store>/).
 */
import type { TenantTier } from '../api/v1alpha1/types.js';

/** The stores `TenantTier.spec.vectorStore.type` can name. */
export const VECTOR_STORE_TYPES = ['OpenSearchServerless', 'S3Vectors', 'Managed'] as const;

/** A vector store type. */
export type VectorStoreType = (typeof VECTOR_STORE_TYPES)[number];

/** The store a tier's vectors live in (OpenSearch Serverless unless the tier names another). */
export function storeOf(tier: TenantTier): VectorStoreType {
  return tier.spec.vectorStore?.type ?? 'OpenSearchServerless';
}

/** The tier's shared ids of each store that its tenants use, per pattern. */
export const STORE_SHARED_KEYS: Readonly<Record<VectorStoreType, { pool: readonly string[]; bridge: readonly string[] }>> = {
  OpenSearchServerless: {
    pool: ['collectionArn', 'collectionEndpoint', 'collectionId', 'indexName'],
    bridge: ['collectionArn', 'collectionEndpoint', 'collectionId'],
  },
  S3Vectors: {
    pool: ['vectorBucketArn', 'vectorBucketName', 'vectorIndexArn', 'vectorIndexName'],
    bridge: ['vectorBucketArn', 'vectorBucketName'],
  },
  // Bedrock keeps a managed knowledge base's vectors: nothing of a store to share.
  Managed: { pool: [], bridge: [] },
};
