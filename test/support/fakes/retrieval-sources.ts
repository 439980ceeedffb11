/**
 * What a Retrieve of the bedrock-agent-runtime fake searches, per vector store, read where the
 * bedrock-agent fake's ingestion put it: an OpenSearch Serverless index of the data-plane fake, an
 * S3 Vectors index in moto (read back with ListVectors), or a managed knowledge base's own store
 * (bedrock-managed.ts). Each chunk comes with its text, its source URI, the metadata Retrieve
 * returns, and the metadata a filter sees.
 *
 * On S3 Vectors a filter sees the filterable metadata only: the index's non-filterable keys (at
 * least Bedrock's AMAZON_BEDROCK_TEXT and AMAZON_BEDROCK_METADATA) cannot be filtered on, as S3
 * Vectors documents for QueryVectors, so a filter on such a key matches as if the key were absent.
 */
import { GetIndexCommand, ListVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { IndexStore } from './aoss-data-plane.js';
import type { VectorTarget } from './bedrock-ingestion.js';
import { BEDROCK_METADATA, BEDROCK_TEXT, type S3VectorsTarget } from './bedrock-s3vectors.js';
import { AwsError } from './http.js';

/** The vector store a knowledge base's target is in, as TenantTier.spec.vectorStore.type names them. */
export type FakeStore = 'OpenSearchServerless' | 'S3Vectors' | 'Managed';

/** One searchable chunk. */
export interface Chunk {
  id: string;
  text: string;
  uri: string;
  /** What Retrieve returns as the result's metadata. */
  metadata: Record<string, unknown>;
  /** What a retrieval filter is evaluated against. */
  filterable: Record<string, unknown>;
}

const SOURCE = 'x-amz-bedrock-kb-source-uri';
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The store a knowledge base keeps its vectors in. */
export function storeOfTarget(t: VectorTarget): FakeStore {
  if (t.managed) return 'Managed';
  if (t.s3vectors) return 'S3Vectors';
  return 'OpenSearchServerless';
}

/** Every chunk of an S3 Vectors index, read from moto; a missing index is Bedrock's dependency failure. */
async function s3VectorsChunks(t: S3VectorsTarget): Promise<Chunk[]> {
  const ref = { vectorBucketName: t.vectorBucketName, indexName: t.indexName };
  const missing = (e: unknown): never => {
    if ((e as { name?: string }).name === 'NotFoundException')
      throw new AwsError(424, 'DependencyFailedException', `The S3 vector index ${t.indexArn} of the knowledge base does not exist.`);
    throw e;
  };
  const index = await t.clients.s3vectors.send(new GetIndexCommand(ref)).catch(missing);
  const nonFilterable = new Set(index.index?.metadataConfiguration?.nonFilterableMetadataKeys ?? []);
  const out: Chunk[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.clients.s3vectors.send(new ListVectorsCommand({ ...ref, returnMetadata: true, nextToken })).catch(missing);
    for (const v of page.vectors ?? []) {
      const all = (v.metadata ?? {}) as Record<string, unknown>;
      out.push({
        id: v.key ?? '',
        text: str(all[BEDROCK_TEXT]),
        uri: str(all[SOURCE]),
        metadata: Object.fromEntries(Object.entries(all).filter(([k]) => k !== BEDROCK_TEXT && k !== BEDROCK_METADATA)),
        filterable: Object.fromEntries(Object.entries(all).filter(([k]) => !nonFilterable.has(k))),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Every chunk of a knowledge base, from the store its ingestion wrote to. */
export async function chunksOf(store: IndexStore, t: VectorTarget): Promise<Chunk[]> {
  if (t.managed)
    return [...t.managed.entries()].map(([id, v]) => ({
      id,
      text: v.text,
      uri: v.sourceUri,
      metadata: v.metadata,
      filterable: v.metadata,
    }));
  if (t.s3vectors) return s3VectorsChunks(t.s3vectors);
  const ix = store.get(t.collectionId, t.index);
  const reserved = new Set([t.vectorField, t.textField, t.metadataField]);
  return [...(ix?.docs ?? [])].map(([id, doc]) => {
    const metadata = Object.fromEntries(Object.entries(doc).filter(([k]) => !reserved.has(k)));
    return { id, text: str(doc[t.textField]), uri: str(doc[SOURCE]), metadata, filterable: metadata };
  });
}
