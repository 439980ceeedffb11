/**
 * Pure parts of the pool-tenant metadata sidecars: the sidecar body, whether an existing sidecar
 * carries the right tenant, how to repair one that does not, and what to do with one listed page.
 *
 * Why sidecars: pool tenants share one knowledge base and are kept apart at query time by a
 * `tenantId` metadata filter. Bedrock reads a document's metadata from `<key>.metadata.json`
 * next to it (aws-facts §2.5), so every document needs one that names its tenant. The operator
 * owns the `tenantId` attribute: a sidecar a tenant wrote with another tenant's id would leak
 * its documents into that tenant's answers, so such a sidecar is rewritten (other attributes
 * the tenant set are kept).
 */
import { createHash } from 'node:crypto';

/** The suffix Bedrock looks for. */
export const SIDECAR_SUFFIX = '.metadata.json';

/** The metadata attribute that isolates pool tenants. */
export const TENANT_ATTRIBUTE = 'tenantId';

/** Sidecars larger than this are not read; they are replaced (Bedrock caps them near 10 KB). */
export const MAX_SIDECAR_BYTES = 64 * 1024;

/** True for a sidecar key. */
export function isSidecar(key: string): boolean {
  return key.endsWith(SIDECAR_SUFFIX);
}

/** The sidecar key of a document. */
export function sidecarKey(key: string): string {
  return key + SIDECAR_SUFFIX;
}

/** The document key of a sidecar. */
export function sourceKey(sidecar: string): string {
  return sidecar.slice(0, -SIDECAR_SUFFIX.length);
}

/** The body the operator writes for a tenant. */
export function sidecarBody(tenantId: string): string {
  return JSON.stringify({ metadataAttributes: { [TENANT_ATTRIBUTE]: tenantId } });
}

/** The ETag S3 gives `sidecarBody(tenantId)` on a single-part upload without SSE-KMS. */
export function sidecarEtag(tenantId: string): string {
  return createHash('md5').update(sidecarBody(tenantId)).digest('hex');
}

/** What an existing sidecar needs. */
export type SidecarCheck = { ok: true } | { ok: false; body: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The typed form of an attribute: `{ value: { type, stringValue }, includeForEmbedding }`. */
function isTyped(v: unknown): v is { value: Record<string, unknown> } {
  return isRecord(v) && isRecord(v.value);
}

/** Whether an existing sidecar names `tenantId`, and if not, the body to write instead. */
export function checkSidecar(text: string | undefined, tenantId: string): SidecarCheck {
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  // Unreadable or not a sidecar: replace it with ours.
  if (!isRecord(parsed) || !isRecord(parsed.metadataAttributes)) return { ok: false, body: sidecarBody(tenantId) };
  const attrs = parsed.metadataAttributes;
  const current = attrs[TENANT_ATTRIBUTE];
  const matches = current === tenantId || (isTyped(current) && current.value.type === 'STRING' && current.value.stringValue === tenantId);
  if (matches) return { ok: true };
  // Keep the tenant's own attributes, in the form the file already uses.
  const typed = Object.values(attrs).some(isTyped);
  const value = typed ? { value: { type: 'STRING', stringValue: tenantId }, includeForEmbedding: false } : tenantId;
  return { ok: false, body: JSON.stringify({ ...parsed, metadataAttributes: { ...attrs, [TENANT_ATTRIBUTE]: value } }) };
}

/** Whether a file found where a sidecar would be parses as one (only those are removed as orphans). */
export function looksLikeSidecar(text: string | undefined): boolean {
  try {
    const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
    return isRecord(parsed) && isRecord(parsed.metadataAttributes);
  } catch {
    return false;
  }
}

/** One listed object. */
export interface ListedObject {
  key: string;
  etag?: string;
  size?: number;
}

/** What to do about one listed page. */
export interface PagePlan {
  /** Documents without a sidecar: write one. */
  create: string[];
  /** Sidecars listed with their document: check their tenant. */
  verify: ListedObject[];
  /** Documents whose sidecar sorts after this page: look it up. */
  lookupSidecar: string[];
  /** Sidecars whose document sorts before this page: look it up. */
  lookupSource: string[];
  /** Sidecars whose document is gone. */
  orphans: string[];
}

/**
 * Plans one page of a listing in key order. The page covers keys in (`startAfter`, last key]
 * and, when `more` is false, every key after that too. A document's sidecar always sorts after
 * it, but other keys can sort between them (`a.pdf` < `a.pdf-2` < `a.pdf.metadata.json`), so the
 * pair may straddle pages; those few are looked up rather than guessed.
 */
export function planPage(objects: ListedObject[], startAfter: string | undefined, more: boolean): PagePlan {
  const plan: PagePlan = { create: [], verify: [], lookupSidecar: [], lookupSource: [], orphans: [] };
  const byKey = new Map(objects.map((o) => [o.key, o]));
  const lastKey = objects.at(-1)?.key;
  for (const o of objects) {
    // Folder markers are not documents.
    if (o.key.endsWith('/')) continue;
    if (isSidecar(o.key)) {
      const source = sourceKey(o.key);
      if (byKey.has(source)) plan.verify.push(o);
      else if (startAfter !== undefined && source <= startAfter) plan.lookupSource.push(o.key);
      else plan.orphans.push(o.key);
      continue;
    }
    const sidecar = sidecarKey(o.key);
    if (byKey.has(sidecar)) continue; // verified from the sidecar's side
    if (more && lastKey !== undefined && sidecar > lastKey) plan.lookupSidecar.push(o.key);
    else plan.create.push(o.key);
  }
  return plan;
}
