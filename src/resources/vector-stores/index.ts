/** The vector stores a tier can choose, by type: one module per folder. */
import type { VectorStoreType } from '../../core/vector-stores.js';
import { managed } from './managed/index.js';
import { type OpenSearchServerlessDeps, openSearchServerless } from './opensearch-serverless/index.js';
import { type S3VectorsDeps, s3Vectors } from './s3-vectors/index.js';
import type { VectorStore } from './store.js';

export type { VectorStore } from './store.js';

/** Every store's drivers and settings. */
export interface VectorStoreDeps {
  openSearchServerless: OpenSearchServerlessDeps;
  s3Vectors: S3VectorsDeps;
}

/** One instance of each store. */
export function vectorStores(d: VectorStoreDeps): Record<VectorStoreType, VectorStore> {
  return {
    OpenSearchServerless: openSearchServerless(d.openSearchServerless),
    S3Vectors: s3Vectors(d.s3Vectors),
    Managed: managed(),
  };
}
