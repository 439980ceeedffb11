/**
 * Pins every S3 bucket and object call to the operator's own account. Bucket names are global:
 * another account may create a bucket with a name the operator will use (they are predictable)
 * and open it to the world. S3's `ExpectedBucketOwner` (the `x-amz-expected-bucket-owner`
 * header) makes S3 refuse the call with 403 when the bucket belongs to another account (S3 user
 * guide, "Verifying bucket ownership with bucket owner condition"), so a document, sidecar or
 * purge can never land in, or be read from, someone else's bucket.
 *
 * It is set once here, on the client, rather than at each call site, so no call can forget it.
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** Commands that take no bucket owner: creating a bucket, listing the caller's buckets. */
const OWNERLESS = new Set(['CreateBucketCommand', 'ListBucketsCommand']);

/** Adds `ExpectedBucketOwner` (the account `accountId` resolves to) to every other S3 command. */
export function pinBucketOwner(s3: S3Client, accountId: () => Promise<string>): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (OWNERLESS.has(context.commandName ?? '')) return next(args);
      const input = { ...args.input, ExpectedBucketOwner: await accountId() };
      return next({ ...args, input });
    },
    { step: 'initialize', name: 'tenantRagExpectedBucketOwner' },
  );
}
