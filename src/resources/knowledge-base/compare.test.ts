import { describe, expect, it } from 'vitest';
import { TAG, ownerTags } from '../../core/tags.js';
import { type KnowledgeBaseObserved, type KnowledgeBaseSpec, compareKnowledgeBase, immutableDrift, wantedFieldMapping } from './compare.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const collection = 'arn:aws:aoss:us-east-1:111122223333:collection/abc123';
const spec: KnowledgeBaseSpec = {
  name: 'rag-prod-t-acme',
  description: 'knowledge base of Tenant acme',
  owner,
  roleArn: 'arn:aws:iam::111122223333:role/rag-tenant/rag-prod-t-acme-kb',
  embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0',
  dimensions: 1024,
  storage: { type: 'OPENSEARCH_SERVERLESS', collectionArn: collection, indexName: 'rag-prod-t-acme' },
};
const inSync: KnowledgeBaseObserved = {
  id: 'KB12345678',
  arn: 'arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB12345678',
  status: 'ACTIVE',
  tags: ownerTags(owner),
  name: spec.name,
  description: spec.description,
  roleArn: spec.roleArn,
  embeddingModelArn: spec.embeddingModelArn,
  dimensions: 1024,
  storageType: 'OPENSEARCH_SERVERLESS',
  collectionArn: collection,
  indexName: 'rag-prod-t-acme',
  fieldMapping: wantedFieldMapping(),
};

describe('compareKnowledgeBase: every field the driver sets', () => {
  it.each<{ name: string; found: Partial<KnowledgeBaseObserved>; diff: string[] }>([
    { name: 'in sync: nothing', found: {}, diff: [] },
    { name: 'renamed behind its back: name (updatable)', found: { name: 'renamed' }, diff: ['name'] },
    { name: 'description changed: description (updatable)', found: { description: 'mine now' }, diff: ['description'] },
    { name: 'description removed: description (updatable)', found: { description: undefined }, diff: ['description'] },
    { name: 'another role: roleArn (updatable)', found: { roleArn: 'arn:aws:iam::111122223333:role/other' }, diff: ['roleArn'] },
    {
      name: 'another embedding model: embeddingModel (fixed)',
      found: { embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3' },
      diff: ['embeddingModel'],
    },
    { name: 'other dimensions: dimensions (fixed)', found: { dimensions: 512 }, diff: ['dimensions'] },
    { name: 'dimensions not reported: the model default, not judged', found: { dimensions: undefined }, diff: [] },
    { name: 'another vector store type: storageType (fixed)', found: { storageType: 'PINECONE' }, diff: ['storageType'] },
    {
      name: 'another collection: collectionArn (fixed)',
      found: { collectionArn: 'arn:aws:aoss:us-east-1:111122223333:collection/zzz999' },
      diff: ['collectionArn'],
    },
    { name: 'another index: indexName (fixed)', found: { indexName: 'other' }, diff: ['indexName'] },
    {
      name: 'another vector field: fieldMapping (fixed)',
      found: { fieldMapping: { ...wantedFieldMapping(), vectorField: 'embedding' } },
      diff: ['fieldMapping'],
    },
    {
      name: 'another text field: fieldMapping (fixed)',
      found: { fieldMapping: { ...wantedFieldMapping(), textField: 'text' } },
      diff: ['fieldMapping'],
    },
    {
      name: 'another metadata field: fieldMapping (fixed)',
      found: { fieldMapping: { ...wantedFieldMapping(), metadataField: 'meta' } },
      diff: ['fieldMapping'],
    },
    { name: 'tags changed: tags', found: { tags: { ...ownerTags(owner), [TAG.name]: 'globex' } }, diff: ['tags'] },
    {
      name: 'role and collection both: both, updatable first',
      found: { roleArn: 'arn:aws:iam::111122223333:role/other', collectionArn: 'arn:aws:aoss:us-east-1:111122223333:collection/zzz999' },
      diff: ['roleArn', 'collectionArn'],
    },
  ])('$name', ({ found, diff }) => {
    expect(compareKnowledgeBase(spec, { ...inSync, ...found })).toEqual(diff);
  });

  it('an S3 Vectors knowledge base: its index is fixed, and a knowledge base on another store is told apart', () => {
    const indexArn = 'arn:aws:s3vectors:us-east-1:111122223333:bucket/rag-prod-t-acme/index/rag-prod-t-acme';
    const s3v: KnowledgeBaseSpec = { ...spec, storage: { type: 'S3_VECTORS', indexArn } };
    const found: KnowledgeBaseObserved = {
      ...inSync,
      storageType: 'S3_VECTORS',
      collectionArn: undefined,
      indexName: undefined,
      fieldMapping: undefined,
      indexArn,
    };
    expect(compareKnowledgeBase(s3v, found)).toEqual([]);
    expect(compareKnowledgeBase(s3v, { ...found, indexArn: `${indexArn}x` })).toEqual(['indexArn']);
    // The same knowledge base on OpenSearch Serverless: only the store type is named.
    expect(immutableDrift(s3v, inSync)).toEqual([{ field: 'storageType', found: '"OPENSEARCH_SERVERLESS"', wanted: '"S3_VECTORS"' }]);
    expect(compareKnowledgeBase(spec, found)).toEqual(['storageType']);
  });

  it('a managed knowledge base: its embedding model type and key are fixed; its model ARN and dimensions are not judged; a vector one is told apart', () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';
    const managed: KnowledgeBaseSpec = { ...spec, storage: { type: 'MANAGED', kmsKeyArn: key } };
    const found: KnowledgeBaseObserved = {
      ...inSync,
      storageType: 'MANAGED',
      embeddingModelArn: undefined,
      dimensions: undefined,
      collectionArn: undefined,
      indexName: undefined,
      fieldMapping: undefined,
      embeddingModelType: 'MANAGED',
      managedKmsKeyArn: key,
    };
    expect(compareKnowledgeBase(managed, found)).toEqual([]);
    expect(compareKnowledgeBase(managed, { ...found, roleArn: 'arn:aws:iam::111122223333:role/other' })).toEqual(['roleArn']);
    expect(compareKnowledgeBase(managed, { ...found, embeddingModelType: 'CUSTOM' })).toEqual(['embeddingModelType']);
    expect(immutableDrift(managed, { ...found, managedKmsKeyArn: undefined })).toEqual([
      { field: 'managedKmsKeyArn', found: 'null', wanted: JSON.stringify(key) },
    ]);
    // Without a key: none found is in sync, one found is drift.
    const plain: KnowledgeBaseSpec = { ...spec, storage: { type: 'MANAGED' } };
    expect(compareKnowledgeBase(plain, { ...found, managedKmsKeyArn: undefined })).toEqual([]);
    expect(compareKnowledgeBase(plain, found)).toEqual(['managedKmsKeyArn']);
    // A vector knowledge base where a managed one is wanted, and the other way round: the store type.
    expect(immutableDrift(managed, inSync)).toEqual([{ field: 'storageType', found: '"OPENSEARCH_SERVERLESS"', wanted: '"MANAGED"' }]);
    expect(compareKnowledgeBase(spec, found)).toContain('storageType');
  });

  it('immutableDrift says what each fixed field is and should be, for the message', () => {
    expect(immutableDrift(spec, { ...inSync, indexName: 'other', dimensions: 512 })).toEqual([
      { field: 'dimensions', found: '512', wanted: '1024' },
      { field: 'indexName', found: '"other"', wanted: '"rag-prod-t-acme"' },
    ]);
    expect(immutableDrift(spec, { ...inSync, collectionArn: undefined })).toEqual([
      { field: 'collectionArn', found: 'null', wanted: JSON.stringify(collection) },
    ]);
  });
});
