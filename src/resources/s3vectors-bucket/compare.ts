/**
 * What an S3 Vectors bucket should be and how it differs from what was found: pure, so every
 * field the driver sets is compared in one place and tested case by case.
 */
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';

/** The vector bucket as wanted. Names are given by the caller (core/naming.ts). */
export interface S3VectorBucketSpec {
  name: string;
  owner: OwnerRef;
  /** SSE-KMS with this key when set, else SSE-S3 (AES256). Fixed at creation. */
  kmsKeyArn?: string | undefined;
}

/** The vector bucket as found. */
export interface S3VectorBucketObserved {
  name: string;
  arn: string;
  /** `AES256` or `aws:kms`; AWS's default (AES256) when GetVectorBucket names none. */
  sseType: string;
  kmsKeyArn?: string | undefined;
  tags: Record<string, string>;
}

/** The encryption a bucket gets for a spec, as CreateVectorBucket takes it. */
export function bucketEncryption(spec: S3VectorBucketSpec): { sseType: 'AES256' | 'aws:kms'; kmsKeyArn?: string } {
  return spec.kmsKeyArn ? { sseType: 'aws:kms', kmsKeyArn: spec.kmsKeyArn } : { sseType: 'AES256' };
}

/** Differences an update can repair: only the ownership tags. */
export function compareVectorBucket(spec: S3VectorBucketSpec, o: S3VectorBucketObserved): string[] {
  return tagDrift(o.tags, ownerTags(spec.owner)).length > 0 ? ['tags'] : [];
}

/**
 * Differences no update can repair (S3 Vectors fixes a bucket's encryption at creation), each
 * as `field: found X, wanted Y` for the condition message. Empty when in sync.
 */
export function vectorBucketMismatch(spec: S3VectorBucketSpec, o: S3VectorBucketObserved): string[] {
  const want = bucketEncryption(spec);
  const found = o.sseType === 'aws:kms' ? `SSE-KMS with ${o.kmsKeyArn ?? 'no key'}` : `SSE-S3 (${o.sseType})`;
  const wanted = want.kmsKeyArn ? `SSE-KMS with ${want.kmsKeyArn}` : 'SSE-S3 (AES256)';
  const same = o.sseType === want.sseType && (want.sseType !== 'aws:kms' || o.kmsKeyArn === want.kmsKeyArn);
  return same ? [] : [`encryption: found ${found}, wanted ${wanted}`];
}
