/**
 * An Amazon S3 Vectors bucket. Its name is unique per account and Region, so it is found by name
 * after a crash (CreateVectorBucket takes no client token); CreateVectorBucket sets its tags and
 * its encryption, so an untagged bucket of that name is someone else's and never adopted. The
 * encryption is fixed at creation: a bucket found with another one fails with
 * VectorBucketMismatch, never recreated on its own. Deleting needs the bucket empty: the engine
 * deletes its indexes first (reverse order).
 */
import {
  CreateVectorBucketCommand,
  DeleteVectorBucketCommand,
  GetVectorBucketCommand,
  ListTagsForResourceCommand,
  type S3VectorsClient,
  TagResourceCommand,
} from '@aws-sdk/client-s3vectors';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError, WaitError } from '../../core/errors.js';
import { ownerTags } from '../../core/tags.js';
import { classifyAwsError, isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';
import {
  type S3VectorBucketObserved,
  type S3VectorBucketSpec,
  bucketEncryption,
  compareVectorBucket,
  vectorBucketMismatch,
} from './compare.js';

export type { S3VectorBucketObserved, S3VectorBucketSpec } from './compare.js';

/** How soon to try again to delete a bucket that still held indexes. */
export const BUCKET_NOT_EMPTY_RETRY_MS = 30_000;

/** The S3 Vectors bucket driver. */
export class S3VectorBucketDriver implements ManagedResource<S3VectorBucketSpec, S3VectorBucketObserved> {
  readonly kind = 'VectorBucket';
  readonly conditionType = CONDITION.VectorStoreReady;
  constructor(private readonly s3vectors: S3VectorsClient) {}

  async observe(ctx: DriverContext, spec: S3VectorBucketSpec): Promise<Observation<S3VectorBucketObserved>> {
    const opts = { abortSignal: ctx.signal };
    let bucket;
    try {
      bucket = (await this.s3vectors.send(new GetVectorBucketCommand({ vectorBucketName: spec.name }), opts)).vectorBucket;
    } catch (e) {
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
    if (!bucket?.vectorBucketArn) return { state: 'absent' };
    const tags = (await this.s3vectors.send(new ListTagsForResourceCommand({ resourceArn: bucket.vectorBucketArn }), opts)).tags ?? {};
    const observed: S3VectorBucketObserved = {
      name: spec.name,
      arn: bucket.vectorBucketArn,
      // Without an encryption configuration S3 Vectors encrypts with SSE-S3 (its API model).
      sseType: bucket.encryptionConfiguration?.sseType ?? 'AES256',
      ...(bucket.encryptionConfiguration?.kmsKeyArn ? { kmsKeyArn: bucket.encryptionConfiguration.kmsKeyArn } : {}),
      tags,
    };
    const owned = readyIfOwned(observed, tags, spec.owner, `vector bucket ${spec.name}`, { taggedAtCreate: true });
    if (owned.state !== 'ready') return owned;
    const mismatch = vectorBucketMismatch(spec, observed);
    if (mismatch.length > 0) {
      return {
        state: 'failed',
        observed,
        reason: REASON.VectorBucketMismatch,
        message: `vector bucket ${spec.name} differs in what S3 Vectors fixes at creation (${mismatch.join('; ')}); it cannot be changed in place: delete the bucket's indexes and the bucket in AWS to let the operator recreate it (their vectors are lost: re-ingest), or set the key back`,
      };
    }
    return owned;
  }

  compare(spec: S3VectorBucketSpec, o: S3VectorBucketObserved): string[] {
    return compareVectorBucket(spec, o);
  }

  async create(ctx: DriverContext, spec: S3VectorBucketSpec): Promise<ExternalIds> {
    try {
      await this.s3vectors.send(
        new CreateVectorBucketCommand({
          vectorBucketName: spec.name,
          encryptionConfiguration: bucketEncryption(spec),
          // Tagged by the create itself (needs s3vectors:TagResource too): no untagged window.
          tags: ownerTags(spec.owner),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      // Made by an earlier pass whose observe had not seen it yet (or someone else's): observe decides.
      if (classifyAwsError(e) === 'Conflict') return {};
      if (classifyAwsError(e) === 'QuotaExceeded')
        throw new TerminalError(
          'VectorBucketQuotaExceeded',
          `S3 Vectors refused vector bucket ${spec.name}: ${(e as Error).name} (vector buckets per account and Region are limited); free one or raise the quota`,
          { cause: e },
        );
      throw e;
    }
    // The name finds it again; the ARN is published from observe.
    return {};
  }

  async update(ctx: DriverContext, spec: S3VectorBucketSpec, o: S3VectorBucketObserved, diff: string[]): Promise<void> {
    // observe fails on an immutable difference; this guards a caller that planned one anyway.
    const mismatch = vectorBucketMismatch(spec, o);
    if (mismatch.length > 0) throw new TerminalError(REASON.VectorBucketMismatch, `vector bucket ${spec.name}: ${mismatch.join('; ')}`);
    if (diff.includes('tags'))
      await this.s3vectors.send(new TagResourceCommand({ resourceArn: o.arn, tags: ownerTags(spec.owner) }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: S3VectorBucketObserved): Promise<void> {
    try {
      await this.s3vectors.send(new DeleteVectorBucketCommand({ vectorBucketName: o.name }), { abortSignal: ctx.signal });
    } catch (e) {
      if (isNotFound(e)) return;
      // S3 Vectors deletes only an empty bucket. The engine deletes the operator's indexes first,
      // so what is left is an index of someone else's (or a retained tenant's): say so and retry.
      if (classifyAwsError(e) === 'Conflict')
        throw new WaitError(
          REASON.VectorBucketNotEmpty,
          `vector bucket ${o.name} still holds vector indexes the operator did not delete (a retained tenant's, or made outside the operator): delete them in AWS, or delete this object with deletionPolicy Retain`,
          BUCKET_NOT_EMPTY_RETRY_MS,
          { cause: e },
        );
      throw e;
    }
  }

  outputs(o: S3VectorBucketObserved): Record<string, string> {
    return { vectorBucketArn: o.arn, vectorBucketName: o.name };
  }
}
