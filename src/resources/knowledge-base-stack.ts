/**
 * The knowledge base and its S3 data source of one owner (a pool tier or a bridge or silo
 * tenant), on the index its vector store made (or in Bedrock's own store, for a managed
 * knowledge base): the same for every store, which says how its data source reads the documents.
 */
import { chunkingConfiguration, embeddingModelArn, type KbSettings } from '../core/kb-settings.js';
import { type NamingContext, knowledgeBaseName } from '../core/naming.js';
import type { OwnerRef } from '../core/tags.js';
import type { DataSourceDriver, DataSourceSpec } from './data-source/driver.js';
import type { KnowledgeBaseDriver, KnowledgeBaseSpec } from './knowledge-base/driver.js';
import type { BoundResource } from './managed-resource.js';
import { bind } from './vector-stores/bind.js';
import type { Outputs, StoreSlots } from './vector-stores/store.js';

/** The knowledge base and data source drivers. */
export interface KnowledgeBaseDeps {
  knowledgeBases: KnowledgeBaseDriver;
  dataSources: DataSourceDriver;
}

/** The knowledge base of `owner` on the storage its store gives, and its data source. */
export function knowledgeBaseResources(
  d: KnowledgeBaseDeps,
  n: NamingContext,
  owner: OwnerRef,
  s: KbSettings,
  source: { bucket: string; prefix?: string; kmsKeyArn: (o: Outputs) => string | undefined },
  store: Pick<StoreSlots, 'storage' | 'dataSource'>,
  ids: { knowledgeBaseId?: string; dataSourceId?: string },
): BoundResource[] {
  const kbName = knowledgeBaseName(n, { kind: owner.kind, name: owner.name });
  const connector = store.dataSource ?? 'S3';
  return [
    bind(
      d.knowledgeBases,
      (o: Outputs): KnowledgeBaseSpec => ({
        name: kbName,
        description: `knowledge base of ${owner.kind} ${owner.name}`,
        owner,
        roleArn: o.knowledgeBaseRoleArn ?? '',
        embeddingModelArn: embeddingModelArn('aws', n.region, s.embeddingModel),
        dimensions: s.dimensions,
        storage: store.storage(o),
      }),
      { knowledgeBaseId: ids.knowledgeBaseId },
    ),
    bind(
      d.dataSources,
      (o: Outputs): DataSourceSpec => ({
        knowledgeBaseId: o.knowledgeBaseId ?? '',
        name: kbName,
        owner,
        bucketArn: `arn:aws:s3:::${source.bucket}`,
        // Bedrock reads the documents only from a bucket of this account.
        bucketOwnerAccountId: n.accountId,
        inclusionPrefix: source.prefix,
        connector,
        // A managed knowledge base's connector takes no chunking and deletes its vectors with it.
        ...(connector === 'MANAGED_S3'
          ? { dataDeletionPolicy: 'DELETE' as const }
          : { chunking: chunkingConfiguration(s.chunking), dataDeletionPolicy: s.dataDeletionPolicy, kmsKeyArn: source.kmsKeyArn(o) }),
      }),
      { dataSourceId: ids.dataSourceId },
    ),
  ];
}
