/**
 * Names and ARNs of what a ModelAccess grants: the tenant's application inference profile for the
 * model, the inline policy on the tenant's role, and the model's foundation-model ARN. All pure
 * and deterministic, so the same ModelAccess always maps to the same AWS names.
 */
import { type NamingContext, shortHash } from '../naming.js';

/** Every inline policy a ModelAccess writes starts with this; the tenant role driver leaves them alone. */
export const MODEL_POLICY_PREFIX = 'model-';

/** Geography prefixes of system-defined (cross-Region) inference profile ids, e.g. `us.` in `us.anthropic...`. */
const GEO_PREFIX = /^(us|us-gov|eu|apac|jp|au|ca|global)\./;

/** Letters and digits with single `-` between them (Bedrock's `([0-9a-zA-Z][ _-]?)+`). */
function slug(s: string): string {
  return s
    .replace(/[^0-9a-zA-Z]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-');
}

/**
 * The application inference profile of a tenant and model: `<prefix>-<cluster>-t-<tenant>-<model>`
 * with the model id made name-safe, at most 64 characters of `([0-9a-zA-Z][ _-]?)+`. When it is
 * too long the tail becomes a hash of the tenant and the exact model id, so two models never share
 * a name even where their name-safe forms would.
 */
export function inferenceProfileName(ctx: NamingContext, tenant: string, model: string): string {
  const base = slug(`${ctx.prefix}-${ctx.cluster}-t-${tenant}`);
  const full = `${base}-${slug(model)}`;
  if (full.length <= 64) return full;
  const hash = shortHash(`${ctx.prefix}/${ctx.cluster}/${tenant}/${model}`);
  return `${full.slice(0, 64 - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** A profile description Bedrock accepts (`([0-9a-zA-Z:.][ _-]?)+`, at most 200). */
export function inferenceProfileDescription(tenant: string, model: string): string {
  const safe = (s: string): string =>
    s
      .replace(/[^0-9a-zA-Z:. _-]+/g, '-')
      .replace(/[ _-]{2,}/g, '-')
      .replace(/^[ _-]+/, '');
  return safe(`tenant ${tenant} model ${model}`)
    .slice(0, 200)
    .replace(/[ _-]+$/, '');
}

/** The inline policy a ModelAccess puts on its tenant's role: `model-<name>`, at most 128 characters. */
export function modelPolicyName(accessName: string): string {
  const full = `${MODEL_POLICY_PREFIX}${accessName}`;
  if (full.length <= 128) return full;
  const hash = shortHash(full);
  return `${full.slice(0, 128 - hash.length - 1)}-${hash}`;
}

/** The foundation model behind a model id or a system inference profile id (`us.x` -> `x`). */
export function foundationModelId(model: string, copyFrom?: string): string {
  const fromArn = copyFrom ? /:(?:foundation-model|inference-profile)\/(.+)$/.exec(copyFrom)?.[1] : undefined;
  return (fromArn ?? model).replace(GEO_PREFIX, '');
}

/** ARN of a foundation model in the operator's Region. */
export function foundationModelArn(ctx: NamingContext, modelId: string, partition = 'aws'): string {
  return `arn:${partition}:bedrock:${ctx.region}::foundation-model/${modelId}`;
}

/**
 * What the profile copies: the approved model's `copyFrom` when configured; otherwise the system
 * inference profile for a geography-prefixed id (cross-Region), else the foundation model.
 */
export function modelSourceArn(ctx: NamingContext, model: string, copyFrom?: string, partition = 'aws'): string {
  if (copyFrom) return copyFrom;
  if (GEO_PREFIX.test(model)) return `arn:${partition}:bedrock:${ctx.region}:${ctx.accountId}:inference-profile/${model}`;
  return foundationModelArn(ctx, model, partition);
}
