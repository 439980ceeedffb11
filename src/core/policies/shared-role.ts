/**
 * Pool tiers with `tenantRoles: Shared`: one application role for the whole tier, narrowed to
 * each tenant by the session policy of the tenant's EKS Pod Identity association. EKS applies an
 * association's `policy` "as the intersection of the role's policies and this policy ... while
 * still leveraging a shared IAM role across multiple applications" (EKS API reference,
 * CreatePodIdentityAssociation `policy`; it needs `disableSessionTags: true`). Onboarding a pool
 * tenant then writes nothing to IAM (one EKS call), and the account's role quota no longer caps
 * the tier.
 *
 * Why a session policy and not session tags (`${aws:PrincipalTag/...}` in the S3 prefix): the
 * tags EKS sets name the namespace and service account, not the tenant, so ABAC would tie a
 * tenant's prefix to its namespace's name; and a tag-built prefix is only as safe as every value
 * a tag can hold. The session policy names the tenant's own prefix and profiles literally: the
 * operator writes it from the Tenant's name (a DNS label), and no caller can add to it.
 *
 * What the role alone grants (the union of its tenants): the tier's `tenants/` prefix, the
 * tier's key through S3, and this cluster's application inference profiles of this tier. Without
 * a session policy (an association someone else made to this role) that is every tenant of the
 * tier: the role trusts EKS Pod Identity of this account only, and only a principal with
 * `iam:PassRole` on it (the operator's policy grants that for this cluster's `*-app` roles)
 * can make an association to it. Pure.
 */
import { TAG } from '../tags.js';
import { type PolicyDocument, type Statement, policy } from './document.js';
import { INFERENCE_PROFILE_CONDITION_KEY, INVOKE_ACTIONS } from './model-access.js';
import { type DataScope, tenantPermissions } from './roles.js';

/**
 * The most a session policy may hold: STS takes at most 2,048 characters of plaintext session
 * policy on AssumeRole, which EKS Pod Identity calls with it (the EKS reference gives no length
 * of its own; the packed-size limit is separate and disabling session tags keeps it small).
 */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** Where the tier's shared role is and what it may reach. */
export interface SharedRoleScope extends DataScope {
  /** The operator's cluster name (the tag every resource of this cluster carries). */
  cluster: string;
  /** The tier's name: its tenants' inference profiles carry it in the tier tag. */
  tier: string;
}

/**
 * Trust of the shared role: EKS Pod Identity of this account. With session tags disabled (which a
 * session policy requires) the trust cannot tell clusters, namespaces or service accounts apart;
 * what an association may do is its session policy, and who may make one is `iam:PassRole`.
 */
export function sharedRoleTrust(s: Pick<DataScope, 'accountId'>): PolicyDocument {
  return policy({
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: { StringEquals: { 'aws:SourceAccount': s.accountId } },
  });
}

const profilesArn = (s: DataScope): string =>
  `arn:${s.partition ?? 'aws'}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`;
const foundationModels = (s: DataScope): string => `arn:${s.partition ?? 'aws'}:bedrock:*::foundation-model/*`;

/**
 * Permissions of the shared role: every pool tenant's documents (`prefix` is the tier's
 * `tenants/`) with the sidecars left to the operator, and this tier's tenants' inference profiles
 * (the models only through one). A session policy narrows it to one tenant.
 */
export function sharedRolePermissions(s: SharedRoleScope): PolicyDocument {
  const documents = tenantPermissions({ ...s, pool: true, knowledgeBaseId: undefined });
  return policy(
    ...documents.Statement,
    {
      Sid: 'InvokeTierProfiles',
      Effect: 'Allow',
      Action: [...INVOKE_ACTIONS],
      Resource: profilesArn(s),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: s.cluster, [`aws:ResourceTag/${TAG.tier}`]: s.tier } },
    },
    {
      Sid: 'ModelsThroughProfiles',
      Effect: 'Allow',
      Action: [...INVOKE_ACTIONS],
      Resource: foundationModels(s),
      Condition: { ArnLike: { [INFERENCE_PROFILE_CONDITION_KEY]: profilesArn(s) } },
    },
  );
}

/**
 * The session policy of one tenant's association: its own prefix (`prefix` is `tenants/<name>/`)
 * and key, and the inference profiles its ModelAccess objects grant and do not throttle. A
 * throttled or revoked profile is left out: the intersection with the role then denies it. Kept
 * small (EKS takes at most {@link SESSION_POLICY_MAX_CHARS}): what the role already holds for every
 * tenant (the sidecar Deny, the bucket's account) is not repeated, and a model call is let through
 * any profile here because the call needs the profile itself too, which only the tenant's own are.
 */
export function tenantSessionPolicy(s: DataScope, profileArns: readonly string[]): PolicyDocument {
  const profiles = [...new Set(profileArns)].sort();
  const bucket = `arn:${s.partition ?? 'aws'}:s3:::${s.bucket}`;
  const statements: Statement[] = [
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket, Condition: { StringLike: { 's3:prefix': `${s.prefix ?? ''}*` } } },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucket}/${s.prefix ?? ''}*` },
  ];
  if (s.kmsKeyArn)
    statements.push({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: s.kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `s3.${s.region}.amazonaws.com` } },
    });
  if (profiles.length > 0) {
    statements.push(
      { Effect: 'Allow', Action: [...INVOKE_ACTIONS], Resource: profiles },
      {
        Effect: 'Allow',
        Action: [...INVOKE_ACTIONS],
        Resource: foundationModels(s),
        Condition: { ArnLike: { [INFERENCE_PROFILE_CONDITION_KEY]: profilesArn(s) } },
      },
    );
  }
  return policy(...statements);
}
