/**
 * Deterministic AWS names. Every name is `<prefix>-<cluster segment>-<owner>` plus a role suffix,
 * where the owner is `t-<tenant>` or `tier-<tier>` (so a tenant and a tier can never share a
 * name), trimmed to the service's limit with a short hash of the untrimmed name when too long:
 * the same object always maps to the same names and two objects never collide.
 *
 * The security scope: the prefix and the cluster segment never contain the delimiter `-`, so
 * `<prefix>-<segment>-` is never a prefix of another cluster's names, and every ARN pattern the
 * policies grant (`<prefix>-<segment>-*`) reaches this cluster's names only. A cluster name
 * without hyphens is its own segment (names of existing installations stay as they were); one
 * with hyphens loses them and gains 4 characters of its hash (`prod-eu-1` -> `prodeu1` + hash),
 * so `prod` and `prod-eu-1`, or `prod-eu1` and `prodeu-1`, never share a segment.
 */
import { createHash } from 'node:crypto';

/** What every name is derived from (from the operator's config and the account it runs in). */
export interface NamingContext {
  prefix: string;
  cluster: string;
  accountId: string;
  region: string;
}

/** Who owns a resource: a tenant, or a tier's shared resources. */
export type Owner = { kind: 'Tenant'; name: string } | { kind: 'TenantTier'; name: string };

/** An 8-character base-36 digest of `s`. */
export function shortHash(s: string): string {
  const n = BigInt(`0x${createHash('sha256').update(s).digest('hex').slice(0, 16)}`);
  return n.toString(36).padStart(8, '0').slice(-8);
}

/** Fits `name` into `max` characters, replacing the tail with `-<hash>` when it is too long. */
export function fit(name: string, max: number, separator = '-'): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  const head = name.slice(0, max - hash.length - separator.length).replace(/[-_.]+$/, '');
  return `${head}${separator}${hash}`;
}

function ownerPart(owner: Owner): string {
  return owner.kind === 'Tenant' ? `t-${owner.name}` : `tier-${owner.name}`;
}

/** The cluster's part of every name: hyphen-free, so no other cluster's segment can extend it. */
export function clusterSegment(cluster: string): string {
  return /^[a-z0-9]+$/.test(cluster) ? cluster : `${cluster.replace(/[^a-z0-9]/g, '')}${shortHash(cluster).slice(0, 4)}`;
}

/** What every name of this cluster starts with; ARN patterns append `*` to it. */
export function namePrefix(ctx: Pick<NamingContext, 'prefix' | 'cluster'>): string {
  return `${ctx.prefix}-${clusterSegment(ctx.cluster)}-`;
}

function base(ctx: NamingContext, owner: Owner): string {
  return `${namePrefix(ctx)}${ownerPart(owner)}`;
}

/** S3 bucket: 3-63, lowercase, globally unique, so the account and Region are part of it. */
export function bucketName(ctx: NamingContext, owner: Owner): string {
  const suffix = `-${ctx.accountId}-${ctx.region}`;
  return fit(base(ctx, owner), 63 - suffix.length) + suffix;
}

/** What a role is for; the name ends with it, so policies can tell the two kinds apart. */
export type RolePurpose = 'kb' | 'app';

/**
 * IAM role names (1-64, `[\w+=,.@-]+`); roles live under the path {@link ROLE_PATH}. The
 * purpose stays the suffix even when the rest is trimmed: `iam:PassRole` is granted on
 * `*-kb` roles (to Bedrock) and `*-app` roles (to EKS Pod Identity) separately.
 */
export function roleName(ctx: NamingContext, owner: Owner, purpose: RolePurpose): string {
  return `${fit(base(ctx, owner), 64 - purpose.length - 1)}-${purpose}`;
}

/** The IAM path of every role the operator creates; its own policy only allows this path. */
export const ROLE_PATH = '/rag-tenant/';

/** OpenSearch Serverless collection and policy names: 3-32, `[a-z][a-z0-9-]+`. */
export function collectionName(ctx: NamingContext, owner: Owner): string {
  return fit(base(ctx, owner), 32);
}

/** KMS alias: `alias/` + `[a-zA-Z0-9:/_-]`, up to 256. */
export function keyAlias(ctx: NamingContext, owner: Owner): string {
  return `alias/${fit(base(ctx, owner), 240)}`;
}

/** Bedrock knowledge base and data source names: `([0-9a-zA-Z][_-]?){1,100}`. */
export function knowledgeBaseName(ctx: NamingContext, owner: Owner): string {
  return fit(base(ctx, owner).replace(/-{2,}/g, '-'), 100);
}

/** The key prefix of a tenant's documents in a shared tier bucket. */
export function tenantPrefix(tenant: string): string {
  return `tenants/${tenant}/`;
}

/**
 * An idempotency token for one create step of one object (bedrock-agent wants 33-256 characters
 * of `[a-zA-Z0-9-]`): a retried create sends the same token and AWS returns the same resource.
 */
export function idempotencyToken(uid: string, step: string): string {
  return `tro-${createHash('sha256').update(`${uid}/${step}`).digest('hex').slice(0, 40)}`;
}

/** Vector index names: lowercase, not starting with `_` or `-`. */
export function indexName(ctx: NamingContext, owner: Owner): string {
  return fit(base(ctx, owner), 80);
}

/** S3 Vectors vector bucket: 3-63, lowercase letters, numbers and hyphens, unique per account and Region. */
export function vectorBucketName(ctx: NamingContext, owner: Owner): string {
  return fit(base(ctx, owner), 63);
}

/** S3 Vectors index: 3-63, lowercase letters, numbers, hyphens and dots, unique in its vector bucket. */
export function vectorIndexName(ctx: NamingContext, owner: Owner): string {
  return fit(base(ctx, owner), 63);
}

/** The ARN of a role the operator names (it lives under {@link ROLE_PATH}). */
export function roleArn(ctx: NamingContext, name: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${ctx.accountId}:role${ROLE_PATH}${name}`;
}
