/**
 * A tenant's prefix in a shared tier bucket. Nothing is created for it (S3 prefixes exist by
 * having objects); on deletion with `deletionPolicy: Delete` every object version under the prefix
 * is removed, one page per pass, so a pool or bridge tenant leaves nothing behind in the bucket.
 */
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';

/** The prefix as wanted. */
export interface PrefixSpec {
  bucket: string;
  prefix: string;
}

/** The prefix as found: how many object versions the first page holds. */
export interface PrefixObserved {
  bucket: string;
  prefix: string;
  versions: { Key: string; VersionId?: string }[];
}

/** The tenant prefix driver. */
export class S3PrefixDriver implements ManagedResource<PrefixSpec, PrefixObserved> {
  readonly kind = 'TenantPrefix';
  readonly conditionType = CONDITION.StorageReady;
  readonly implicit = true;
  readonly observedForDeletionOnly = true;
  constructor(private readonly s3: S3Client) {}

  async observe(ctx: DriverContext, spec: PrefixSpec): Promise<Observation<PrefixObserved>> {
    try {
      const page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: spec.bucket, Prefix: spec.prefix, MaxKeys: 1000 }), {
        abortSignal: ctx.signal,
      });
      const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].flatMap((v) =>
        v.Key ? [{ Key: v.Key, VersionId: v.VersionId }] : [],
      );
      // An empty prefix is "absent": there is nothing to delete, and nothing needs creating.
      return versions.length === 0 ? { state: 'absent' } : { state: 'ready', observed: { ...spec, versions } };
    } catch (e) {
      // The tier bucket itself is gone: so is the prefix.
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
  }

  compare(): string[] {
    return [];
  }

  create(): Promise<ExternalIds> {
    // Never called (implicit): the prefix comes into being with the tenant's first document.
    return Promise.resolve({});
  }

  update(): Promise<void> {
    return Promise.resolve();
  }

  async delete(ctx: DriverContext, o: PrefixObserved): Promise<void> {
    await this.s3.send(new DeleteObjectsCommand({ Bucket: o.bucket, Delete: { Objects: o.versions, Quiet: true } }), {
      abortSignal: ctx.signal,
    });
  }

  outputs(o: PrefixObserved): Record<string, string> {
    return { bucket: o.bucket, prefix: o.prefix };
  }
}
