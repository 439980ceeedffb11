import { describe, expect, it } from 'vitest';
import { TAG, ownerTags } from '../../core/tags.js';
import { type S3VectorIndexObserved, type S3VectorIndexSpec, compareVectorIndex, vectorIndexMismatch } from './compare.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const key = 'arn:aws:kms:us-east-1:111122223333:key/1111aaaa-0000-4000-8000-000000000001';
const other = 'arn:aws:kms:us-east-1:111122223333:key/2222bbbb-0000-4000-8000-000000000002';
const bedrockKeys = ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'];
const spec: S3VectorIndexSpec = {
  vectorBucketName: 'rag-prod-v-premium',
  indexName: 'rag-prod-t-acme',
  owner,
  dimension: 1024,
  distanceMetric: 'cosine',
  dataType: 'float32',
  nonFilterableMetadataKeys: bedrockKeys,
};
const found = (o: Partial<S3VectorIndexObserved> = {}): S3VectorIndexObserved => ({
  vectorBucketName: spec.vectorBucketName,
  indexName: spec.indexName,
  arn: `arn:aws:s3vectors:us-east-1:111122223333:bucket/${spec.vectorBucketName}/index/${spec.indexName}`,
  dimension: 1024,
  distanceMetric: 'cosine',
  dataType: 'float32',
  nonFilterableMetadataKeys: [...bedrockKeys].reverse(),
  tags: ownerTags(owner),
  ...o,
});

describe('compareVectorIndex', () => {
  it.each([
    { why: 'in sync', o: found(), diff: [] },
    { why: 'a tag changed', o: found({ tags: { ...ownerTags(owner), [TAG.name]: 'other' } }), diff: ['tags'] },
    { why: 'immutable settings are no repairable diff', o: found({ dimension: 256 }), diff: [] },
  ])('$why', ({ o, diff }) => {
    expect(compareVectorIndex(spec, o)).toEqual(diff);
  });
});

describe('vectorIndexMismatch', () => {
  it.each([
    { why: 'in sync (non-filterable keys in another order)', s: spec, o: found(), fields: [] },
    { why: 'another dimension', s: spec, o: found({ dimension: 256 }), fields: ['dimension'] },
    { why: 'no dimension reported', s: spec, o: found({ dimension: undefined }), fields: ['dimension'] },
    { why: 'another metric', s: spec, o: found({ distanceMetric: 'euclidean' }), fields: ['distanceMetric'] },
    { why: 'another data type', s: spec, o: found({ dataType: 'float16' }), fields: ['dataType'] },
    {
      why: "Bedrock's metadata filterable (missing from the non-filterable keys)",
      s: spec,
      o: found({ nonFilterableMetadataKeys: ['AMAZON_BEDROCK_TEXT'] }),
      fields: ['nonFilterableMetadataKeys'],
    },
    { why: 'no non-filterable keys at all', s: spec, o: found({ nonFilterableMetadataKeys: [] }), fields: ['nonFilterableMetadataKeys'] },
    {
      why: 'an extra non-filterable key (it could not be filtered on)',
      s: spec,
      o: found({ nonFilterableMetadataKeys: [...bedrockKeys, 'tenantId'] }),
      fields: ['nonFilterableMetadataKeys'],
    },
    {
      why: 'duplicates in the spec count once',
      s: { ...spec, nonFilterableMetadataKeys: [...bedrockKeys, ...bedrockKeys] },
      o: found(),
      fields: [],
    },
    {
      why: 'no key wanted: the bucket encryption applies, not compared',
      s: spec,
      o: found({ sseType: 'aws:kms', kmsKeyArn: other }),
      fields: [],
    },
    { why: 'the key wanted and found', s: { ...spec, kmsKeyArn: key }, o: found({ sseType: 'aws:kms', kmsKeyArn: key }), fields: [] },
    { why: 'another key', s: { ...spec, kmsKeyArn: key }, o: found({ sseType: 'aws:kms', kmsKeyArn: other }), fields: ['encryption'] },
    { why: 'no key of its own', s: { ...spec, kmsKeyArn: key }, o: found(), fields: ['encryption'] },
    {
      why: 'several at once, all named',
      s: spec,
      o: found({ dimension: 8, distanceMetric: 'euclidean' }),
      fields: ['dimension', 'distanceMetric'],
    },
  ])('$why', ({ s, o, fields }) => {
    expect(vectorIndexMismatch(s, o).map((m) => m.split(':')[0])).toEqual(fields);
  });

  it('says what was found and what is wanted', () => {
    expect(vectorIndexMismatch(spec, found({ dimension: 256, nonFilterableMetadataKeys: [] }))).toEqual([
      'dimension: found 256, wanted 1024',
      'nonFilterableMetadataKeys: found none, wanted [AMAZON_BEDROCK_METADATA, AMAZON_BEDROCK_TEXT]',
    ]);
  });
});
