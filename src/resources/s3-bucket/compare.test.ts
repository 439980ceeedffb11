import { describe, expect, it } from 'vitest';
import { TAG, ownerTags } from '../../core/tags.js';
import { type BucketObserved, type BucketSpec, compareBucket, tlsOnlyPolicy } from './compare.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const spec: BucketSpec = { name: 'rag-prod-t-acme-111122223333-us-east-1', region: 'us-east-1', owner };
const key = 'arn:aws:kms:us-east-1:111122223333:key/1111aaaa-0000-4000-8000-000000000001';
const tls = tlsOnlyPolicy(spec);
const inSync: BucketObserved = {
  name: spec.name,
  tags: ownerTags(owner),
  sseAlgorithm: 'AES256',
  publicAccessBlocked: true,
  versioning: 'Enabled',
  policy: tls,
};
const [statement] = tls.Statement;

describe('tlsOnlyPolicy', () => {
  it('denies everyone any S3 action on the bucket and its objects when the request is not over TLS, and grants nothing', () => {
    expect(tls.Statement).toHaveLength(1);
    expect(statement).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${spec.name}`, `arn:aws:s3:::${spec.name}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(tlsOnlyPolicy({ ...spec, partition: 'aws-cn' }).Statement[0]?.Resource[0]).toBe(`arn:aws-cn:s3:::${spec.name}`);
  });
});

describe('compareBucket: every field the driver sets', () => {
  it.each<{ name: string; s?: Partial<BucketSpec>; found: Partial<BucketObserved>; diff: string[] }>([
    { name: 'in sync: nothing', found: {}, diff: [] },
    { name: 'tags changed: tags', found: { tags: { ...ownerTags(owner), [TAG.name]: 'globex' } }, diff: ['tags'] },
    { name: 'tags removed: tags', found: { tags: {} }, diff: ['tags'] },
    { name: 'encryption removed: encryption', found: { sseAlgorithm: undefined }, diff: ['encryption'] },
    { name: 'SSE-KMS where SSE-S3 is wanted: encryption', found: { sseAlgorithm: 'aws:kms', kmsKeyArn: key }, diff: ['encryption'] },
    { name: 'SSE-S3 where the tenant key is wanted: encryption', s: { kmsKeyArn: key }, found: {}, diff: ['encryption'] },
    {
      name: 'another key than the tenant key: encryption',
      s: { kmsKeyArn: key },
      found: { sseAlgorithm: 'aws:kms', kmsKeyArn: key.replace('0001', '0002') },
      diff: ['encryption'],
    },
    { name: 'the tenant key: nothing', s: { kmsKeyArn: key }, found: { sseAlgorithm: 'aws:kms', kmsKeyArn: key }, diff: [] },
    { name: 'public access block removed: publicAccessBlock', found: { publicAccessBlocked: false }, diff: ['publicAccessBlock'] },
    { name: 'versioning suspended: versioning', found: { versioning: 'Suspended' }, diff: ['versioning'] },
    { name: 'versioning never enabled: versioning', found: { versioning: undefined }, diff: ['versioning'] },
    { name: 'bucket policy deleted: bucketPolicy', found: { policy: undefined }, diff: ['bucketPolicy'] },
    {
      name: 'bucket policy as S3 may return it (single values, keys in another order): nothing',
      found: {
        policy: JSON.parse(
          JSON.stringify({ Statement: [{ ...statement, Resource: [...(statement?.Resource ?? [])].reverse() }], Version: '2012-10-17' }),
        ) as unknown,
      },
      diff: [],
    },
    {
      name: 'TLS condition weakened: bucketPolicy',
      found: { policy: { ...tls, Statement: [{ ...statement, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] } },
      diff: ['bucketPolicy'],
    },
    {
      name: 'a statement added beside ours (another account may read): bucketPolicy',
      found: {
        policy: {
          ...tls,
          Statement: [
            statement,
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::444455556666:root' },
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${spec.name}/*`,
            },
          ],
        },
      },
      diff: ['bucketPolicy'],
    },
    {
      name: 'everything drifted: every aspect, in a fixed order',
      found: { tags: {}, sseAlgorithm: undefined, publicAccessBlocked: false, versioning: undefined, policy: undefined },
      diff: ['tags', 'encryption', 'publicAccessBlock', 'versioning', 'bucketPolicy'],
    },
  ])('$name', ({ s, found, diff }) => {
    expect(compareBucket({ ...spec, ...s }, { ...inSync, ...found })).toEqual(diff);
  });
});
