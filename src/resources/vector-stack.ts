/**
 * Binds the vector store and knowledge base resources of one owner (a tier or a tenant): the
 * collection's encryption and network policies, the collection, the data access policy, the
 * index, the knowledge base and its S3 data source. Callers place them in AWS's order (policies
 * before the collection, the data access policy before the index, the index before the KB).
 */
import { chunkingConfiguration, embeddingModelArn, type KbSettings } from '../core/kb-settings.js';
import { type NamingContext, collectionName, indexName, knowledgeBaseName } from '../core/naming.js';
import { type DataGrant, dataAccessPolicy, encryptionPolicy, networkPolicy } from '../core/policies/aoss.js';
import type { OwnerRef } from '../core/tags.js';
import type { AossCollectionDriver, CollectionSpec } from './aoss-collection/driver.js';
import type { AossPolicyDriver, AossPolicySpec } from './aoss-policy/driver.js';
import type { DataSourceDriver, DataSourceSpec } from './data-source/driver.js';
import type { KnowledgeBaseDriver, KnowledgeBaseSpec } from './knowledge-base/driver.js';
import type { BoundResource } from './managed-resource.js';
import type { VectorIndexDriver, VectorIndexSpec } from './vector-index/driver.js';

/** The vector store drivers and settings. */
export interface VectorDeps {
  encryptionPolicies: AossPolicyDriver;
  networkPolicies: AossPolicyDriver;
  dataPolicies: AossPolicyDriver;
  collections: AossCollectionDriver;
  indexes: VectorIndexDriver;
  knowledgeBases: KnowledgeBaseDriver;
  dataSources: DataSourceDriver;
  /** VPC endpoints the collections accept (none: public endpoint, still IAM and policy gated). */
  vpcEndpointIds: readonly string[];
  standbyReplicas: 'ENABLED' | 'DISABLED';
}

/** Outputs published by resources earlier in the pass. */
export type Outputs = Record<string, string>;
type Spec<S> = S | undefined | ((o: Outputs) => S | undefined);

/** Binds a driver to its spec (or a function of earlier outputs) and the ids status recorded. */
export function bind<S>(driver: { kind: string }, spec: Spec<S>, ids: Record<string, string | undefined> = {}): BoundResource {
  const known = Object.fromEntries(Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { driver: driver as BoundResource['driver'], spec, ids: known };
}

/**
 * Encryption and network policies, the data access policy and the collection itself, named after
 * the owner. The data access policy comes before the collection (it names no ids) so that a
 * deletion removes it only after the collection: until then the operator may still read and
 * delete the collection's indexes.
 */
export function collectionResources(
  d: VectorDeps,
  n: NamingContext,
  owner: OwnerRef,
  kmsKeyArn: (o: Outputs) => string | undefined,
  what: string,
  access: BoundResource,
): BoundResource[] {
  const name = collectionName(n, { kind: owner.kind, name: owner.name });
  const policy = (driver: AossPolicyDriver, document: (o: Outputs) => unknown): BoundResource =>
    bind(driver, (o: Outputs): AossPolicySpec => ({ name, type: driver.type, owner, document: document(o) }));
  return [
    policy(d.encryptionPolicies, (o) => encryptionPolicy(name, kmsKeyArn(o))),
    policy(d.networkPolicies, () => networkPolicy(name, d.vpcEndpointIds)),
    access,
    bind(d.collections, { name, owner, description: `vectors of ${what}`, standbyReplicas: d.standbyReplicas } satisfies CollectionSpec),
  ];
}

/** A data access policy named after `owner`, granting on the collection named after `collectionOwner`. */
export function dataPolicy(
  d: VectorDeps,
  n: NamingContext,
  owner: OwnerRef,
  grants: (collection: string) => DataGrant[],
  collectionOwner: OwnerRef = owner,
): BoundResource {
  const collection = collectionName(n, { kind: collectionOwner.kind, name: collectionOwner.name });
  return bind(d.dataPolicies, {
    name: collectionName(n, { kind: owner.kind, name: owner.name }),
    type: 'data',
    owner,
    document: dataAccessPolicy(grants(collection)),
  } satisfies AossPolicySpec);
}

/** Where the collection is: published by this pass (own collection) or by the tier. */
export interface CollectionRef {
  collectionId?: string;
  collectionArn?: string;
  collectionEndpoint?: string;
}

/** The index, the knowledge base and the data source of `owner`. */
export function knowledgeBaseResources(
  d: VectorDeps,
  n: NamingContext,
  owner: OwnerRef,
  s: KbSettings,
  source: { bucket: string; prefix?: string; kmsKeyArn: (o: Outputs) => string | undefined },
  collection: (o: Outputs) => CollectionRef,
  ids: { knowledgeBaseId?: string; dataSourceId?: string },
): BoundResource[] {
  const o2 = { kind: owner.kind, name: owner.name };
  const index = indexName(n, o2);
  const kbName = knowledgeBaseName(n, o2);
  return [
    // Creating, the resources before these are ready, so their outputs are set; deleting, the
    // ids come from status, and a resource whose parent id is unknown observes as absent.
    bind(d.indexes, (o: Outputs): VectorIndexSpec => {
      const c = collection(o);
      return {
        collectionId: c.collectionId ?? '',
        collectionEndpoint: c.collectionEndpoint ?? '',
        indexName: index,
        dimension: s.dimensions,
        spaceType: s.spaceType,
        m: s.m,
        efConstruction: s.efConstruction,
      };
    }),
    bind(
      d.knowledgeBases,
      (o: Outputs): KnowledgeBaseSpec => ({
        name: kbName,
        description: `knowledge base of ${owner.kind} ${owner.name}`,
        owner,
        roleArn: o.knowledgeBaseRoleArn ?? '',
        embeddingModelArn: embeddingModelArn('aws', n.region, s.embeddingModel),
        dimensions: s.dimensions,
        collectionArn: collection(o).collectionArn ?? '',
        indexName: index,
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
        chunking: chunkingConfiguration(s.chunking),
        dataDeletionPolicy: s.dataDeletionPolicy,
        kmsKeyArn: source.kmsKeyArn(o),
      }),
      { dataSourceId: ids.dataSourceId },
    ),
  ];
}
