/**
 * An S3 bucket with public access blocked, default encryption (SSE-S3, or SSE-KMS with a bucket
 * key), versioning, a bucket policy that denies requests not made over TLS, and ownership tags.
 * Deleting empties it one page of versions per pass, so a large bucket never holds a reconcile
 * for long.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import { parsePolicy } from '../../core/policies/document.js';
import { ownerTags, tagMap } from '../../core/tags.js';
import { classifyAwsError, isNotFound, deletedOrGone, httpStatus } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';
import { type BucketObserved, type BucketSpec, compareBucket, tlsOnlyPolicy, wantedAlgorithm } from './compare.js';

/** The bucket as wanted and as found (see compare.ts). */
export type { BucketObserved, BucketSpec } from './compare.js';

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    const kind = classifyAwsError(e);
    // S3 answers "not configured" with names of its own (NoSuchTagSet, NoSuchBucketPolicy, ...);
    // they mean absent.
    if (
      kind === 'NotFound' ||
      (e as { name?: string }).name?.startsWith('NoSuch') ||
      (e as { name?: string }).name === 'ServerSideEncryptionConfigurationNotFoundError'
    )
      return undefined;
    throw e;
  }
}

function emptyBucket(name: string): BucketObserved {
  return { name, tags: {}, publicAccessBlocked: false };
}

/** Why a bucket with our name is not used: it is another account's (or refused to this one). */
function ownedElsewhere(name: string): { reason: string; message: string } {
  return {
    reason: REASON.BucketOwnedElsewhere,
    message:
      `bucket ${name} exists and S3 refuses it to this account: it belongs to another AWS account (bucket names are global), ` +
      'or an SCP or permissions boundary denies the operator. Nothing is written to it. ' +
      'Choose names no one else holds (--config resourcePrefix or clusterName), or grant the operator s3:ListBucket on its own bucket',
  };
}

/** The S3 bucket driver. */
export class S3BucketDriver implements ManagedResource<BucketSpec, BucketObserved> {
  readonly kind = 'S3Bucket';
  readonly conditionType = CONDITION.StorageReady;
  /** Buckets this process created (not adopted) whose create has not been taken up yet. */
  private readonly made = new Set<string>();

  constructor(private readonly s3: S3Client) {}

  async observe(ctx: DriverContext, spec: BucketSpec): Promise<Observation<BucketObserved>> {
    const opts = { abortSignal: ctx.signal };
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: spec.name }), opts);
    } catch (e) {
      if (isNotFound(e)) return { state: 'absent' };
      // Every S3 call names the operator's account as the expected owner (bucket-owner.ts): S3
      // answers 403 for a bucket of another account. The operator's policy allows HeadBucket on
      // its names, so a 403 here is that, or an SCP or boundary refusing this account.
      if (httpStatus(e) === 403) return { state: 'failed', observed: emptyBucket(spec.name), ...ownedElsewhere(spec.name) };
      throw e;
    }
    const parts = await Promise.all(this.aspects(spec.name).map((read) => read(ctx)));
    const observed = parts.reduce<BucketObserved>((o, part) => ({ ...o, ...part }), emptyBucket(spec.name));
    return readyIfOwned(observed, observed.tags, spec.owner, `bucket ${spec.name}`);
  }

  /** One read per aspect `compare` looks at: tags, encryption, public access block, versioning, policy. */
  private aspects(Bucket: string): ((ctx: DriverContext) => Promise<Partial<BucketObserved>>)[] {
    const opts = (ctx: DriverContext): { abortSignal: AbortSignal } => ({ abortSignal: ctx.signal });
    return [
      async (ctx) => ({ tags: tagMap((await orUndefined(this.s3.send(new GetBucketTaggingCommand({ Bucket }), opts(ctx))))?.TagSet) }),
      async (ctx) => {
        const out = await orUndefined(this.s3.send(new GetBucketEncryptionCommand({ Bucket }), opts(ctx)));
        const rule = out?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        return { sseAlgorithm: rule?.SSEAlgorithm, kmsKeyArn: rule?.KMSMasterKeyID };
      },
      async (ctx) => {
        const out = await orUndefined(this.s3.send(new GetPublicAccessBlockCommand({ Bucket }), opts(ctx)));
        const b = out?.PublicAccessBlockConfiguration;
        return { publicAccessBlocked: !!(b?.BlockPublicAcls && b.BlockPublicPolicy && b.IgnorePublicAcls && b.RestrictPublicBuckets) };
      },
      async (ctx) => ({ versioning: (await this.s3.send(new GetBucketVersioningCommand({ Bucket }), opts(ctx))).Status }),
      async (ctx) => ({
        policy: parsePolicy((await orUndefined(this.s3.send(new GetBucketPolicyCommand({ Bucket }), opts(ctx))))?.Policy),
      }),
    ];
  }

  spotChecks(spec: BucketSpec, last: BucketObserved): SpotCheck<BucketObserved>[] {
    return this.aspects(spec.name).map((read) => spotCheck(async (_opts, ctx) => ({ ...last, ...(await read(ctx)) })));
  }

  compare(spec: BucketSpec, o: BucketObserved): string[] {
    return compareBucket(spec, o);
  }

  async create(ctx: DriverContext, spec: BucketSpec): Promise<ExternalIds> {
    this.made.delete(spec.name);
    let adopted = false;
    try {
      await this.s3.send(
        new CreateBucketCommand({
          Bucket: spec.name,
          ...(spec.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: spec.region as never } }),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      const kind = classifyAwsError(e);
      if (kind === 'NameTaken') {
        const { reason, message } = ownedElsewhere(spec.name);
        throw new TerminalError(reason, message, { cause: e });
      }
      // Ours already (a create that crashed before its status write): adopt it.
      if (kind !== 'Conflict') throw e;
      adopted = true;
    }
    await this.update(ctx, spec, emptyBucket(spec.name), ['publicAccessBlock', 'encryption', 'versioning', 'bucketPolicy', 'tags']);
    if (!adopted) this.made.add(spec.name);
    // The name is the id: nothing AWS-assigned to persist before the next observe.
    return {};
  }

  createdAs(spec: BucketSpec): BucketObserved | undefined {
    return this.made.delete(spec.name) ? this.inSyncAs(spec) : undefined;
  }

  inSyncAs(spec: BucketSpec): BucketObserved {
    return {
      name: spec.name,
      tags: ownerTags(spec.owner),
      sseAlgorithm: wantedAlgorithm(spec),
      kmsKeyArn: spec.kmsKeyArn,
      publicAccessBlocked: true,
      versioning: 'Enabled',
      policy: tlsOnlyPolicy(spec),
    };
  }

  async update(ctx: DriverContext, spec: BucketSpec, _o: BucketObserved, diff: string[]): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const Bucket = spec.name;
    if (diff.includes('publicAccessBlock')) {
      await this.s3.send(
        new PutPublicAccessBlockCommand({
          Bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        }),
        opts,
      );
    }
    if (diff.includes('encryption')) {
      const rule = spec.kmsKeyArn
        ? {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: spec.kmsKeyArn },
            BucketKeyEnabled: true,
          }
        : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };
      await this.s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [rule] } }), opts);
    }
    if (diff.includes('versioning')) {
      await this.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }), opts);
    }
    if (diff.includes('bucketPolicy')) {
      // Replaces the whole policy: a statement someone added beside the TLS-only one is drift too
      // (it could grant another account the tenant's documents).
      await this.s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(tlsOnlyPolicy(spec)) }), opts);
    }
    if (diff.includes('tags')) {
      const TagSet = Object.entries(ownerTags(spec.owner)).map(([Key, Value]) => ({ Key, Value }));
      await this.s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet } }), opts);
    }
  }

  async delete(ctx: DriverContext, o: BucketObserved): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: o.name, MaxKeys: 1000 }), opts);
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .filter((v) => v.Key)
      .map((v) => ({ Key: v.Key ?? '', VersionId: v.VersionId }));
    if (objects.length > 0) {
      // One page per pass; the bucket is still there, so the next pass continues.
      await this.s3.send(new DeleteObjectsCommand({ Bucket: o.name, Delete: { Objects: objects, Quiet: true } }), opts);
      return;
    }
    await deletedOrGone(this.s3.send(new DeleteBucketCommand({ Bucket: o.name }), opts));
  }

  outputs(o: BucketObserved): Record<string, string> {
    return { bucket: o.name };
  }
}
