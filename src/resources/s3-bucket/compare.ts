/**
 * What an S3 bucket should be and how it differs from what was found: pure, so every field the
 * driver sets is compared in one place and tested case by case.
 */
import { samePolicy } from '../../core/policies/document.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';

/** The bucket as wanted. */
export interface BucketSpec {
  name: string;
  region: string;
  owner: OwnerRef;
  kmsKeyArn?: string;
  /** The ARN partition (default `aws`). */
  partition?: string;
}

/** The bucket as found. */
export interface BucketObserved {
  name: string;
  tags: Record<string, string>;
  sseAlgorithm?: string;
  kmsKeyArn?: string;
  publicAccessBlocked: boolean;
  versioning?: string;
  /** The bucket policy, parsed; undefined when the bucket has none. */
  policy?: unknown;
}

/** A bucket policy statement; S3 takes `"Principal": "*"` for everyone, which IAM policies cannot. */
interface BucketStatement {
  Sid: string;
  Effect: 'Deny';
  Principal: '*';
  Action: string;
  Resource: string[];
  Condition: Record<string, Record<string, string>>;
}

/** The bucket policy the operator sets. */
export interface BucketPolicy {
  Version: '2012-10-17';
  Statement: BucketStatement[];
}

/**
 * The only bucket policy the operator sets: any request to the bucket or its objects not made over
 * TLS is denied, whoever makes it. It grants nothing, so the public access block does not refuse it.
 */
export function tlsOnlyPolicy(spec: Pick<BucketSpec, 'name' | 'partition'>): BucketPolicy {
  const arn = `arn:${spec.partition ?? 'aws'}:s3:::${spec.name}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [arn, `${arn}/*`],
        // A string, not a JSON boolean: IAM condition values are strings.
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/** The server-side encryption algorithm a bucket should default to. */
export function wantedAlgorithm(spec: BucketSpec): 'aws:kms' | 'AES256' {
  return spec.kmsKeyArn ? 'aws:kms' : 'AES256';
}

/**
 * The aspects in which the bucket differs from the spec: `tags`, `encryption`,
 * `publicAccessBlock`, `versioning`, `bucketPolicy` (missing, changed, or holding anything besides
 * the TLS-only statement: the operator owns the bucket's policy whole).
 */
export function compareBucket(spec: BucketSpec, o: BucketObserved): string[] {
  const diff: string[] = [];
  if (tagDrift(o.tags, ownerTags(spec.owner)).length) diff.push('tags');
  if (o.sseAlgorithm !== wantedAlgorithm(spec) || (spec.kmsKeyArn && o.kmsKeyArn !== spec.kmsKeyArn)) diff.push('encryption');
  if (!o.publicAccessBlocked) diff.push('publicAccessBlock');
  if (o.versioning !== 'Enabled') diff.push('versioning');
  if (!samePolicy(tlsOnlyPolicy(spec), o.policy)) diff.push('bucketPolicy');
  return diff;
}
