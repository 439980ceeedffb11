/**
 * The RetainedData port over S3 and KMS: which tenants' documents are still in a shared tier
 * bucket, and the tags on a tier's key that name the retained buckets it still encrypts.
 */
import { TagResourceCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { TAG } from '../../core/tags.js';
import type { RetainedData } from '../../ports/retained.js';
import { isNotFound } from './errors.js';

/**
 * The tenants with documents in a shared tier bucket (their `tenants/<name>/` prefixes holding
 * objects), at most the first 1,000; none when the bucket is gone.
 */
export async function tenantsWithDocuments(s3: S3Client, bucket: string, signal: AbortSignal): Promise<string[]> {
  try {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tenants/', Delimiter: '/', MaxKeys: 1000 }), {
      abortSignal: signal,
    });
    const names: string[] = [];
    for (const p of page.CommonPrefixes ?? []) {
      // A prefix holding only delete markers is no tenant's documents (S3 omits it; moto does
      // not): confirm each one has a current object.
      const one = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p.Prefix, MaxKeys: 1 }), { abortSignal: signal });
      const name = (p.Prefix ?? '').slice('tenants/'.length).replace(/\/$/, '');
      if ((one.KeyCount ?? 0) > 0 && name) names.push(name);
    }
    return names;
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/** Tags a tier's key with a tenant deleted with Retain whose bucket it encrypts (see TAG.retainedPrefix). */
export async function markKeyRetained(kms: KMSClient, keyArn: string, tenant: string, bucket: string, signal: AbortSignal): Promise<void> {
  await kms.send(new TagResourceCommand({ KeyId: keyArn, Tags: [{ TagKey: `${TAG.retainedPrefix}${tenant}`, TagValue: bucket }] }), {
    abortSignal: signal,
  });
}

/** The port over the given clients. */
export function awsRetainedData(s3: S3Client, kms: KMSClient): RetainedData {
  return {
    tenantsWithDocuments: (bucket, signal) => tenantsWithDocuments(s3, bucket, signal),
    markKeyRetained: (keyArn, tenant, bucket, signal) => markKeyRetained(kms, keyArn, tenant, bucket, signal),
  };
}
