/**
 * Writes the metadata sidecars of a pool tenant's documents (`tenants/<name>/...` in a shared
 * bucket), removes orphaned ones and repairs ones that name the wrong tenant. See sidecar-plan.ts
 * for why.
 *
 * A call handles one listed page (up to 1000 keys) by default and returns `startAfter` when more
 * remain, so a reconcile never runs long: the caller passes it back on its next pass (keeping it
 * in memory is enough; losing it only restarts the scan) and syncs the data source once a full
 * round has changed something. Writes are conditional (If-None-Match / If-Match), so a sidecar
 * a tenant uploads at the same moment is never clobbered; it is checked on the next round.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { httpStatus, isNotFound } from '../adapters/aws/errors.js';
import {
  MAX_SIDECAR_BYTES,
  checkSidecar,
  looksLikeSidecar,
  planPage,
  sidecarBody,
  sidecarEtag,
  sidecarKey,
  sourceKey,
  type ListedObject,
} from './sidecar-plan.js';

export { SIDECAR_SUFFIX, TENANT_ATTRIBUTE, sidecarBody } from './sidecar-plan.js';

/** Options of one call. */
export interface SidecarOptions {
  /** Resume after this key (the `startAfter` a previous call returned). */
  startAfter?: string;
  /** Pages to handle in this call (default 1). */
  maxPages?: number;
  /** Keys per page (default and S3 maximum 1000). */
  pageSize?: number;
  /** S3 calls in flight at once (default 8). */
  concurrency?: number;
}

/** What a call did. */
export interface SidecarResult {
  /** Objects listed (documents and sidecars). */
  scanned: number;
  /** Sidecars created for documents that had none. */
  written: number;
  /** Sidecars rewritten because they did not name the tenant. */
  repaired: number;
  /** Orphaned sidecars removed. */
  removed: number;
  /** Present when more objects remain: pass it back as `startAfter`. */
  startAfter?: string;
}

const JSON_TYPE = 'application/json';

/** A conditional write lost to a concurrent writer (S3: 412, or 409 while another write is in flight). */
function lostRace(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name;
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || httpStatus(e) === 412 || httpStatus(e) === 409;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

/**
 * Makes every document under `prefix` carry a sidecar naming `tenantId`, one page per call
 * unless `maxPages` says otherwise. Throws the AWS error of the first call that fails (the work
 * queue retries); what was written before stays written.
 */
export async function writeSidecars(
  s3: S3Client,
  bucket: string,
  prefix: string,
  tenantId: string,
  signal: AbortSignal,
  options: SidecarOptions = {},
): Promise<SidecarResult> {
  // An empty prefix would stamp one tenant on the whole bucket; a prefix without the slash
  // would reach into other tenants' folders (`tenants/acme` matches `tenants/acme2/`).
  if (prefix === '' || prefix === '/') throw new RangeError('writeSidecars needs a tenant prefix');
  if (tenantId === '' || tenantId.length > 2048) throw new RangeError('tenantId must be 1-2048 characters');
  const folder = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const opts = { abortSignal: signal };
  const concurrency = options.concurrency ?? 8;
  const result: SidecarResult = { scanned: 0, written: 0, repaired: 0, removed: 0 };
  let startAfter = options.startAfter;

  const get = async (key: string): Promise<string | undefined> => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), opts);
    return out.Body?.transformToString();
  };
  const put = async (key: string, body: string, condition: { IfNoneMatch: '*' } | { IfMatch: string } | undefined): Promise<boolean> => {
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: JSON_TYPE, ...condition }), opts);
      return true;
    } catch (e) {
      if (lostRace(e)) return false;
      throw e;
    }
  };
  /** Checks a sidecar that exists and rewrites it if it names another tenant. */
  const verify = async (o: ListedObject): Promise<void> => {
    const etag = o.etag?.replaceAll('"', '');
    // Ours, byte for byte (only when S3's ETag is the MD5, that is without SSE-KMS).
    if (etag === sidecarEtag(tenantId)) return;
    const text = o.size !== undefined && o.size > MAX_SIDECAR_BYTES ? undefined : await get(o.key);
    const check = checkSidecar(text, tenantId);
    if (check.ok) return;
    if (await put(o.key, check.body, o.etag ? { IfMatch: o.etag } : undefined)) result.repaired++;
  };
  /** HEADs a key; undefined when it does not exist. */
  const head = async (key: string): Promise<ListedObject | undefined> => {
    try {
      const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), opts);
      return { key, ...(out.ETag ? { etag: out.ETag } : {}), ...(out.ContentLength !== undefined ? { size: out.ContentLength } : {}) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const create = async (source: string): Promise<void> => {
    if (await put(sidecarKey(source), sidecarBody(tenantId), { IfNoneMatch: '*' })) result.written++;
  };
  const removeOrphan = async (key: string): Promise<void> => {
    let text: string | undefined;
    try {
      text = await get(key);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    // A tenant's own file that merely ends in .metadata.json is left alone.
    if (!looksLikeSidecar(text)) return;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), opts);
    result.removed++;
  };

  for (let page = 0; page < (options.maxPages ?? 1); page++) {
    const out = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: folder,
        MaxKeys: options.pageSize ?? 1000,
        ...(startAfter ? { StartAfter: startAfter } : {}),
      }),
      opts,
    );
    const objects: ListedObject[] = (out.Contents ?? []).flatMap((c) =>
      c.Key ? [{ key: c.Key, ...(c.ETag ? { etag: c.ETag } : {}), ...(c.Size !== undefined ? { size: c.Size } : {}) }] : [],
    );
    const more = out.IsTruncated === true && objects.length > 0;
    const plan = planPage(objects, startAfter, more);
    result.scanned += objects.length;

    const tasks: (() => Promise<void>)[] = [
      ...plan.create.map((k) => () => create(k)),
      ...plan.verify.map((o) => () => verify(o)),
      ...plan.orphans.map((k) => () => removeOrphan(k)),
      // Pairs split across pages: the document's sidecar may be on the next page ...
      ...plan.lookupSidecar.map((k) => async () => {
        const found = await head(sidecarKey(k));
        await (found ? verify(found) : create(k));
      }),
      // ... and a sidecar's document on the previous one (already handled from its side).
      ...plan.lookupSource.map((k) => async () => {
        if (!(await head(sourceKey(k)))) await removeOrphan(k);
      }),
    ];
    await eachLimit(tasks, concurrency, (t) => t());

    startAfter = objects.at(-1)?.key;
    if (!more) return result;
  }
  return startAfter === undefined ? result : { ...result, startAfter };
}
