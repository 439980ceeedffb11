import { describe, expect, it } from 'vitest';
import { INDEX_FIELDS, dataAccessPolicy, encryptionPolicy, networkPolicy, vectorIndexBody } from './aoss.js';

describe('OpenSearch Serverless policy documents', () => {
  it.each([
    { name: 'AWS-owned key when none is given', key: undefined, want: { AWSOwnedKey: true } },
    {
      name: 'the KMS key when given',
      key: 'arn:aws:kms:us-east-1:1:key/k',
      want: { AWSOwnedKey: false, KmsARN: 'arn:aws:kms:us-east-1:1:key/k' },
    },
  ])('encryption: $name, for exactly one collection', ({ key, want }) => {
    const doc = encryptionPolicy('rag-c-t-acme', key);
    expect(doc).toMatchObject(want);
    expect(doc.Rules).toEqual([{ ResourceType: 'collection', Resource: ['collection/rag-c-t-acme'] }]);
  });

  it('network: private to the VPC endpoints and Bedrock when endpoints are given, public otherwise', () => {
    expect(networkPolicy('c', ['vpce-b', 'vpce-a'])).toEqual([
      {
        Rules: [{ ResourceType: 'collection', Resource: ['collection/c'] }],
        AllowFromPublic: false,
        SourceVPCEs: ['vpce-a', 'vpce-b'],
        SourceServices: ['bedrock.amazonaws.com'],
      },
    ]);
    expect(networkPolicy('c', [])).toEqual([
      { Rules: [{ ResourceType: 'collection', Resource: ['collection/c'] }], AllowFromPublic: true },
    ]);
  });

  it('data access: a bridge tenant reaches its own index only, without collection-wide rights', () => {
    const [stmt] = dataAccessPolicy([
      { description: 'tenant a', principals: ['arn:aws:iam::1:role/kb-a'], collection: 'tier', index: 'idx-a', collectionItems: false },
    ]);
    expect(stmt?.Rules).toEqual([expect.objectContaining({ ResourceType: 'index', Resource: ['index/tier/idx-a'] })]);
    expect(JSON.stringify(stmt)).not.toContain('collection/tier');
    expect(stmt?.Principal).toEqual(['arn:aws:iam::1:role/kb-a']);
  });

  it('data access: principals are deduplicated and sorted so the document is stable', () => {
    const [stmt] = dataAccessPolicy([
      { description: 'd', principals: ['b', 'a', 'b'], collection: 'c', index: '*', collectionItems: true },
    ]);
    expect(stmt?.Principal).toEqual(['a', 'b']);
  });
});

describe('vector index body', () => {
  it('uses faiss HNSW with the given dimension and the fields Bedrock writes', () => {
    const body = vectorIndexBody({ dimension: 512, spaceType: 'l2', m: 16, efConstruction: 512 }) as {
      mappings: { properties: Record<string, { type: string; dimension?: number; method?: { engine: string; name: string } }> };
    };
    const vector = body.mappings.properties[INDEX_FIELDS.vector];
    expect(vector).toMatchObject({ type: 'knn_vector', dimension: 512, method: { engine: 'faiss', name: 'hnsw' } });
    expect(body.mappings.properties[INDEX_FIELDS.text]?.type).toBe('text');
    expect(body.mappings.properties[INDEX_FIELDS.metadata]?.type).toBe('text');
  });
});
