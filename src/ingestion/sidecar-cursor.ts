/**
 * Resumable sidecar writing for the controllers: each call writes a bounded batch of pages and
 * remembers where it stopped, so a tenant with many documents never holds a reconcile for long.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { writeSidecars } from './sidecars.js';

/** Pages of 1,000 objects written per call. */
const PAGES_PER_CALL = 5;

/** Returns a writer that resolves true once every object under the prefix has its sidecar. */
export function sidecarWriter(s3: S3Client): (bucket: string, prefix: string, tenantId: string, signal: AbortSignal) => Promise<boolean> {
  const cursors = new Map<string, string>();
  return async (bucket, prefix, tenantId, signal) => {
    const at = `${bucket}/${prefix}`;
    const r = await writeSidecars(s3, bucket, prefix, tenantId, signal, { startAfter: cursors.get(at), maxPages: PAGES_PER_CALL });
    if (r.startAfter) cursors.set(at, r.startAfter);
    else cursors.delete(at);
    return r.startAfter === undefined;
  };
}
