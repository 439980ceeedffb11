/**
 * A vector index in an Amazon S3 Vectors bucket. Its name is unique in its bucket, so it is found
 * by name after a crash (CreateIndex takes no client token, and answers ConflictException for a
 * name taken); CreateIndex sets its tags, so an untagged index of that name is never adopted.
 * Every setting (dimension, metric, data type, non-filterable metadata keys, key) is fixed at
 * creation: a difference fails with IndexMismatch saying what to do, never recreated on its own.
 */
import {
  CreateIndexCommand,
  DeleteIndexCommand,
  GetIndexCommand,
  ListTagsForResourceCommand,
  type S3VectorsClient,
  TagResourceCommand,
} from '@aws-sdk/client-s3vectors';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import { ownerTags } from '../../core/tags.js';
import { classifyAwsError, isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';
import { type S3VectorIndexObserved, type S3VectorIndexSpec, compareVectorIndex, vectorIndexMismatch } from './compare.js';

export type { S3VectorIndexObserved, S3VectorIndexSpec } from './compare.js';

/** The S3 Vectors index driver. */
export class S3VectorIndexDriver implements ManagedResource<S3VectorIndexSpec, S3VectorIndexObserved> {
  readonly kind = 'S3VectorIndex';
  readonly conditionType = CONDITION.VectorStoreReady;
  constructor(private readonly s3vectors: S3VectorsClient) {}

  async observe(ctx: DriverContext, spec: S3VectorIndexSpec): Promise<Observation<S3VectorIndexObserved>> {
    // No bucket named yet, no index.
    if (!spec.vectorBucketName) return { state: 'absent' };
    const opts = { abortSignal: ctx.signal };
    let index;
    try {
      const input = { vectorBucketName: spec.vectorBucketName, indexName: spec.indexName };
      index = (await this.s3vectors.send(new GetIndexCommand(input), opts)).index;
    } catch (e) {
      // A missing bucket answers NotFound too: no bucket, no index.
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
    if (!index?.indexArn) return { state: 'absent' };
    const tags = (await this.s3vectors.send(new ListTagsForResourceCommand({ resourceArn: index.indexArn }), opts)).tags ?? {};
    const observed: S3VectorIndexObserved = {
      vectorBucketName: spec.vectorBucketName,
      indexName: spec.indexName,
      arn: index.indexArn,
      dimension: index.dimension,
      distanceMetric: index.distanceMetric,
      dataType: index.dataType,
      nonFilterableMetadataKeys: index.metadataConfiguration?.nonFilterableMetadataKeys ?? [],
      ...(index.encryptionConfiguration?.sseType ? { sseType: index.encryptionConfiguration.sseType } : {}),
      ...(index.encryptionConfiguration?.kmsKeyArn ? { kmsKeyArn: index.encryptionConfiguration.kmsKeyArn } : {}),
      tags,
    };
    const what = `vector index ${spec.indexName} in bucket ${spec.vectorBucketName}`;
    const owned = readyIfOwned(observed, tags, spec.owner, what, { taggedAtCreate: true });
    if (owned.state !== 'ready') return owned;
    const mismatch = vectorIndexMismatch(spec, observed);
    if (mismatch.length > 0) {
      return {
        state: 'failed',
        observed,
        reason: REASON.IndexMismatch,
        message: `${what} differs in settings S3 Vectors fixes at creation (${mismatch.join('; ')}); it cannot be changed in place: delete the index in AWS to let the operator recreate it (its vectors are lost: re-ingest), or create a new tier with the settings the index has`,
      };
    }
    return owned;
  }

  compare(spec: S3VectorIndexSpec, o: S3VectorIndexObserved): string[] {
    return compareVectorIndex(spec, o);
  }

  async create(ctx: DriverContext, spec: S3VectorIndexSpec): Promise<ExternalIds> {
    try {
      await this.s3vectors.send(
        new CreateIndexCommand({
          vectorBucketName: spec.vectorBucketName,
          indexName: spec.indexName,
          dataType: spec.dataType,
          dimension: spec.dimension,
          distanceMetric: spec.distanceMetric,
          // Bedrock's text and metadata blobs exceed the 2 KB of filterable metadata per vector.
          metadataConfiguration: { nonFilterableMetadataKeys: [...new Set(spec.nonFilterableMetadataKeys)].sort() },
          ...(spec.kmsKeyArn ? { encryptionConfiguration: { sseType: 'aws:kms' as const, kmsKeyArn: spec.kmsKeyArn } } : {}),
          // Tagged by the create itself (needs s3vectors:TagResource too): no untagged window.
          tags: ownerTags(spec.owner),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      // The name is taken: made by an earlier pass whose observe had not seen it yet, or someone
      // else's; observe decides which.
      if (classifyAwsError(e) === 'Conflict') return {};
      if (classifyAwsError(e) === 'QuotaExceeded')
        throw new TerminalError(
          'IndexQuotaExceeded',
          `S3 Vectors refused index ${spec.indexName} in bucket ${spec.vectorBucketName}: ${(e as Error).name} (10,000 indexes per bucket); free one or use another tier`,
          { cause: e },
        );
      throw e;
    }
    // The name finds it again; the ARN is published from observe.
    return {};
  }

  async update(ctx: DriverContext, spec: S3VectorIndexSpec, o: S3VectorIndexObserved, diff: string[]): Promise<void> {
    // observe fails on an immutable difference; this guards a caller that planned one anyway.
    const mismatch = vectorIndexMismatch(spec, o);
    if (mismatch.length > 0) throw new TerminalError(REASON.IndexMismatch, `vector index ${spec.indexName}: ${mismatch.join('; ')}`);
    if (diff.includes('tags'))
      await this.s3vectors.send(new TagResourceCommand({ resourceArn: o.arn, tags: ownerTags(spec.owner) }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: S3VectorIndexObserved): Promise<void> {
    try {
      const input = { vectorBucketName: o.vectorBucketName, indexName: o.indexName };
      await this.s3vectors.send(new DeleteIndexCommand(input), { abortSignal: ctx.signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  outputs(o: S3VectorIndexObserved): Record<string, string> {
    return { vectorIndexArn: o.arn, vectorIndexName: o.indexName };
  }
}
