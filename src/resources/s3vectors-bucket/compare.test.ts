import { describe, expect, it } from 'vitest';
import { TAG, ownerTags } from '../../core/tags.js';
import {
  type S3VectorBucketObserved,
  type S3VectorBucketSpec,
  bucketEncryption,
  compareVectorBucket,
  vectorBucketMismatch,
} from './compare.js';

const owner = { cluster: 'prod', kind: 'TenantTier' as const, name: 'premium', uid: 'uid-1', tier: 'premium' };
const key = 'arn:aws:kms:us-east-1:111122223333:key/1111aaaa-0000-4000-8000-000000000001';
const other = 'arn:aws:kms:us-east-1:111122223333:key/2222bbbb-0000-4000-8000-000000000002';
const spec: S3VectorBucketSpec = { name: 'rag-prod-v-premium', owner };
const found = (o: Partial<S3VectorBucketObserved> = {}): S3VectorBucketObserved => ({
  name: spec.name,
  arn: `arn:aws:s3vectors:us-east-1:111122223333:bucket/${spec.name}`,
  sseType: 'AES256',
  tags: ownerTags(owner),
  ...o,
});

describe('bucketEncryption', () => {
  it('is SSE-KMS with the given key, else SSE-S3', () => {
    expect(bucketEncryption({ ...spec, kmsKeyArn: key })).toEqual({ sseType: 'aws:kms', kmsKeyArn: key });
    expect(bucketEncryption(spec)).toEqual({ sseType: 'AES256' });
  });
});

describe('compareVectorBucket', () => {
  it.each([
    { why: 'in sync', o: found(), diff: [] },
    { why: 'a tag changed', o: found({ tags: { ...ownerTags(owner), [TAG.tier]: 'basic' } }), diff: ['tags'] },
    { why: 'a tag removed', o: found({ tags: { [TAG.cluster]: 'prod' } }), diff: ['tags'] },
    { why: 'extra tags are kept, not drift', o: found({ tags: { ...ownerTags(owner), team: 'x' } }), diff: [] },
    { why: 'encryption is no repairable diff (see vectorBucketMismatch)', o: found({ sseType: 'aws:kms', kmsKeyArn: key }), diff: [] },
  ])('$why', ({ o, diff }) => {
    expect(compareVectorBucket(spec, o)).toEqual(diff);
  });
});

describe('vectorBucketMismatch', () => {
  it.each([
    { why: 'SSE-S3 wanted and found', spec, o: found(), n: 0 },
    { why: 'the key wanted and found', spec: { ...spec, kmsKeyArn: key }, o: found({ sseType: 'aws:kms', kmsKeyArn: key }), n: 0 },
    { why: 'another key found', spec: { ...spec, kmsKeyArn: key }, o: found({ sseType: 'aws:kms', kmsKeyArn: other }), n: 1 },
    { why: 'SSE-S3 found where a key is wanted', spec: { ...spec, kmsKeyArn: key }, o: found(), n: 1 },
    { why: 'a key found where SSE-S3 is wanted', spec, o: found({ sseType: 'aws:kms', kmsKeyArn: key }), n: 1 },
  ])('$why', ({ spec: s, o, n }) => {
    expect(vectorBucketMismatch(s, o)).toHaveLength(n);
  });

  it('says what was found and what is wanted', () => {
    expect(vectorBucketMismatch({ ...spec, kmsKeyArn: key }, found({ sseType: 'aws:kms', kmsKeyArn: other }))).toEqual([
      `encryption: found SSE-KMS with ${other}, wanted SSE-KMS with ${key}`,
    ]);
  });
});
