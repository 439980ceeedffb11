/**
 * Isolation of a Shared pool tier's tenants: one role, narrowed per tenant by the session policy
 * of its EKS Pod Identity association. Every attack a tenant's application (or whoever holds its
 * session) would try is evaluated by an IAM policy simulator with the role's policy, the tenants'
 * permissions boundary and the session policy together, next to the legitimate request it imitates,
 * so a denial proves the scoping and not a broken grant. Names come from the code's own functions.
 */
import { describe, expect, it } from 'vitest';
import type { Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { type Evaluation, describeEvaluation, evaluate } from '../../../test/support/iam-eval.js';
import { tenantScope } from '../../resources/stacks.js';
import { type NamingContext, bucketName, roleName, tenantPrefix } from '../naming.js';
import { TAG } from '../tags.js';
import type { PolicyDocument } from './document.js';
import { INFERENCE_PROFILE_CONDITION_KEY } from './model-access.js';
import { tenantBoundaryPolicy } from './operator.js';
import type { DataScope } from './roles.js';
import { SESSION_POLICY_MAX_CHARS, sharedRolePermissions, sharedRoleTrust, tenantSessionPolicy } from './shared-role.js';

const account = '111122223333';
const otherAccount = '444455556666';
const region = 'us-east-1';
const naming: NamingContext = { prefix: 'rag', cluster: 'prod', accountId: account, region };
const keyArn = `arn:aws:kms:${region}:${account}:key/1111aaaa-0000-4000-8000-000000000001`;
const profile = (id: string): string => `arn:aws:bedrock:${region}:${account}:application-inference-profile/${id}`;
const model = `arn:aws:bedrock:${region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0`;

const tierObject = (name: string): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name },
  spec: { isolation: 'pool', tenantRoles: 'Shared' },
});
const tenantObject = (name: string, tier = 'basic'): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name },
  spec: { tier },
});

const bucket = bucketName(naming, { kind: 'TenantTier', name: 'basic' });
const sharedRoleName = roleName(naming, { kind: 'TenantTier', name: 'basic' }, 'app');
const rolePolicy = sharedRolePermissions({
  region,
  accountId: account,
  bucket,
  prefix: 'tenants/',
  kmsKeyArn: keyArn,
  cluster: 'prod',
  tier: 'basic',
});
const boundary = tenantBoundaryPolicy(naming);
/** The tenant's data scope exactly as the stack builds it. */
const scopeOf = (tenant: string): DataScope => ({ ...tenantScope(naming, tenantObject(tenant), tierObject('basic')), kmsKeyArn: keyArn });
/** The Pod Identity session of `tenant`'s application on the shared role. */
const sessionArn = (tenant: string): string => `arn:aws:sts::${account}:assumed-role/${sharedRoleName}/eks-prod-${tenant}`;
const object = (key: string): string => `arn:aws:s3:::${bucket}/${key}`;
/** The tags the operator puts on a tenant's inference profile. */
const profileTags = (tenant: string, tier = 'basic', cluster = 'prod'): Record<string, string> => ({
  [`aws:ResourceTag/${TAG.cluster}`]: cluster,
  [`aws:ResourceTag/${TAG.tier}`]: tier,
  [`aws:ResourceTag/${TAG.name}`]: tenant,
});

/** A request of `tenant`'s session, with the session policy given (undefined: an association without one). */
function as(tenant: string, session: PolicyDocument | undefined, e: Pick<Evaluation, 'action' | 'resource' | 'context'>): Evaluation {
  return { principal: sessionArn(tenant), identity: [rolePolicy], boundary, ...(session ? { session } : {}), ...e };
}
const sessionOf = (tenant: string, profiles: string[] = []): PolicyDocument => tenantSessionPolicy(scopeOf(tenant), profiles);
const get = (key: string): Pick<Evaluation, 'action' | 'resource'> => ({ action: 's3:GetObject', resource: object(key) });
const put = (key: string): Pick<Evaluation, 'action' | 'resource'> => ({ action: 's3:PutObject', resource: object(key) });
const list = (prefix: string): Pick<Evaluation, 'action' | 'resource' | 'context'> => ({
  action: 's3:ListBucket',
  resource: `arn:aws:s3:::${bucket}`,
  context: { 's3:prefix': prefix },
});
const invoke = (arn: string, tags: Record<string, string>): Pick<Evaluation, 'action' | 'resource' | 'context'> => ({
  action: 'bedrock:InvokeModel',
  resource: arn,
  context: tags,
});
const throughProfile = (arn: string): Pick<Evaluation, 'action' | 'resource' | 'context'> => ({
  action: 'bedrock:InvokeModel',
  resource: model,
  context: { [INFERENCE_PROFILE_CONDITION_KEY]: arn },
});

type Case = [string, Evaluation, 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied'];

const a = sessionOf('a', [profile('aprofile0001')]);
const acme = sessionOf('acme');
const cases: Case[] = [
  // What the tenant's application needs.
  ['a reads its own document', as('a', a, get('tenants/a/report.pdf')), 'Allowed'],
  ['a writes its own document', as('a', a, put('tenants/a/new.pdf')), 'Allowed'],
  ['a lists its own prefix', as('a', a, list('tenants/a/')), 'Allowed'],
  ['a invokes its own profile', as('a', a, invoke(profile('aprofile0001'), profileTags('a'))), 'Allowed'],
  ['a invokes the model through its own profile', as('a', a, throughProfile(profile('aprofile0001'))), 'Allowed'],
  // Another tenant's documents, with names that overlap.
  ["a reads a-b's document (a's name is a prefix of a-b's)", as('a', a, get('tenants/a-b/report.pdf')), 'ImplicitlyDenied'],
  ["acme reads acme-evil's document", as('acme', acme, get('tenants/acme-evil/report.pdf')), 'ImplicitlyDenied'],
  ["a writes into b's prefix", as('a', a, put('tenants/b/planted.pdf')), 'ImplicitlyDenied'],
  ['a lists the whole pool', as('a', a, list('tenants/')), 'ImplicitlyDenied'],
  ["a lists without the slash (would list a-b's too)", as('a', a, list('tenants/a')), 'ImplicitlyDenied'],
  ['a lists the bucket root', as('a', a, list('')), 'ImplicitlyDenied'],
  ["a lists a-b's prefix", as('a', a, list('tenants/a-b/')), 'ImplicitlyDenied'],
  ['a reads outside the pool prefix', as('a', a, get('other/report.pdf')), 'ImplicitlyDenied'],
  // S3 keys are not paths: `tenants/a/../b/x` is an object inside a's own prefix, never b's `x`.
  ["a's own key spelled with ../ stays in a's prefix", as('a', a, get('tenants/a/../b/report.pdf')), 'Allowed'],
  ["b's real object is still out of reach", as('a', a, get('tenants/b/report.pdf')), 'ImplicitlyDenied'],
  // The sidecars that say whose a document is are the operator's to write.
  ['a writes its own sidecar', as('a', a, put('tenants/a/report.pdf.metadata.json')), 'ExplicitlyDenied'],
  // Crafted session tags: the policies name the tenant literally, so no tag value widens them.
  ...['b', '*', '', '../b', 'a-b', 'tenants/b'].map((value): Case => [
    `a's session carrying tenant tag "${value}" reads b's document`,
    as('a', a, {
      ...get('tenants/b/report.pdf'),
      context: { 'aws:PrincipalTag/tenant': value, 'aws:PrincipalTag/kubernetes-namespace': value },
    }),
    'ImplicitlyDenied',
  ]),
  // Models: another tenant's profile, and profiles outside the tier or the cluster.
  ["a invokes b's profile", as('a', a, invoke(profile('bprofile0001'), profileTags('b'))), 'ImplicitlyDenied'],
  // The model leg alone is let through any profile of the account's (the call needs the profile
  // too, denied above); never directly, nor through anything else.
  ["a invokes the model through b's profile (the model leg)", as('a', a, throughProfile(profile('bprofile0001'))), 'Allowed'],
  [
    'a invokes the model through a system profile',
    as('a', a, throughProfile(`arn:aws:bedrock:${region}:${account}:inference-profile/us.anthropic.claude`)),
    'ImplicitlyDenied',
  ],
  ['a invokes the model directly', as('a', a, { action: 'bedrock:InvokeModel', resource: model }), 'ImplicitlyDenied'],
  [
    "a's session policy naming another tier's profile is still bound by the role",
    as('a', sessionOf('a', [profile('goldprofile1')]), invoke(profile('goldprofile1'), profileTags('a', 'gold'))),
    'ImplicitlyDenied',
  ],
  [
    "a's session policy naming another cluster's profile is still bound by the role",
    as('a', sessionOf('a', [profile('otherclust01')]), invoke(profile('otherclust01'), profileTags('a', 'basic', 'prod-eu'))),
    'ImplicitlyDenied',
  ],
  // Throttled or revoked: the profile leaves the session policy.
  ['a throttled invokes its profile', as('a', sessionOf('a'), invoke(profile('aprofile0001'), profileTags('a'))), 'ImplicitlyDenied'],
  // Another tier's bucket, even at the same prefix.
  [
    "a reads a gold tier tenant's document",
    as('a', a, {
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${bucketName(naming, { kind: 'TenantTier', name: 'gold' })}/tenants/a/x`,
    }),
    'ImplicitlyDenied',
  ],
  // Residual risk, asserted exactly: an association to the shared role WITHOUT a session policy
  // (only a principal allowed iam:PassRole on it can make one) reaches every tenant of the tier.
  ['a session without a session policy reads b (residual: PassRole guards it)', as('a', undefined, get('tenants/b/x')), 'Allowed'],
  [
    'a session without a session policy still cannot write sidecars',
    as('a', undefined, put('tenants/b/x.metadata.json')),
    'ExplicitlyDenied',
  ],
];

describe('Shared pool role: a tenant session reaches only its own data and profiles', () => {
  it.each(cases)('%s', async (_name, e, want) => {
    expect(await evaluate(e, account), describeEvaluation(e)).toBe(want);
  });
});

describe('Shared pool role trust', () => {
  const trust = sharedRoleTrust({ accountId: account });
  const role = `arn:aws:iam::${account}:role/rag-tenant/${sharedRoleName}`;
  const assume = (principal: string, sourceAccount?: string): Evaluation => ({
    principal,
    action: 'sts:AssumeRole',
    resource: role,
    resourcePolicy: trust,
    ...(sourceAccount ? { context: { 'aws:SourceAccount': sourceAccount } } : {}),
  });
  it.each([
    ['EKS Pod Identity of this account', assume('pods.eks.amazonaws.com', account), 'Allowed'],
    ['EKS Pod Identity on behalf of another account', assume('pods.eks.amazonaws.com', otherAccount), 'ImplicitlyDenied'],
    ['an IAM role of this account', assume(`arn:aws:iam::${account}:role/someone`), 'ImplicitlyDenied'],
    ['Bedrock', assume('bedrock.amazonaws.com', account), 'ImplicitlyDenied'],
  ] as const)('%s', async (_n, e, want) => {
    expect(await evaluate(e, account), describeEvaluation(e)).toBe(want);
  });
});

describe('Shared pool session policies', () => {
  it('name the tenant literally: its prefix ends with a slash, with no variable or wildcard from outside', () => {
    const text = JSON.stringify(sessionOf('a', [profile('aprofile0001')]));
    expect(text).toContain(`arn:aws:s3:::${bucket}/${tenantPrefix('a')}*`);
    expect(text).not.toContain('${');
    expect(text).not.toContain('tenants/*');
  });

  it('fit EKS for the longest tenant name with eight model grants', () => {
    const longest = `a${'b'.repeat(61)}c`;
    const profiles = Array.from({ length: 8 }, (_, i) => profile(`p${String(i).padStart(11, '0')}`));
    const text = JSON.stringify(sessionOf(longest, profiles));
    expect(text.length).toBeLessThanOrEqual(SESSION_POLICY_MAX_CHARS);
  });
});
