/**
 * The gateway role's policy, evaluated like an attacker would try it (a compromised gateway or a
 * tenant able to drive it): each denied request sits beside the legitimate one it imitates, which
 * is Allowed, so the denial proves the scoping and not a broken grant. Clusters with overlapping
 * names (`prod`, `prod-eu-1`) and tenants with overlapping names (`a`, `a-b`).
 */
import { describe, expect, it } from 'vitest';
import { type Evaluation, describeEvaluation, evaluate } from '../../../test/support/iam-eval.js';
import { type NamingContext, roleArn, roleName } from '../naming.js';
import { TAG } from '../tags.js';
import { GATEWAY_SESSION_TAGS, GATEWAY_VIA, gatewayPolicy } from './gateway.js';

const account = '111122223333';
const region = 'us-east-1';
const naming = (cluster: string, accountId = account): NamingContext => ({ prefix: 'rag', cluster, accountId, region });
const prod = naming('prod');
const gateway = `arn:aws:iam::${account}:role/rag-gateway-prod`;
const identity = [gatewayPolicy(prod)];
const tenantRole = (n: NamingContext, t: string, purpose: 'kb' | 'app' = 'app'): string =>
  roleArn(n, roleName(n, { kind: 'Tenant', name: t }, purpose));
const tierRole = (n: NamingContext, t: string): string => roleArn(n, roleName(n, { kind: 'TenantTier', name: t }, 'kb'));
const kb = (id: string, acct = account, rgn = region): string => `arn:aws:bedrock:${rgn}:${acct}:knowledge-base/${id}`;
const profile = (id: string): string => `arn:aws:bedrock:${region}:${account}:application-inference-profile/${id}`;
const sessionTags = (tenant: string): Record<string, string | string[]> => ({
  [`aws:RequestTag/${GATEWAY_SESSION_TAGS.tenant}`]: tenant,
  [`aws:RequestTag/${GATEWAY_SESSION_TAGS.via}`]: GATEWAY_VIA,
  'aws:TagKeys': [GATEWAY_SESSION_TAGS.tenant, GATEWAY_SESSION_TAGS.via],
});
const owned = (cluster: string, kind: 'Tenant' | 'TenantTier'): Record<string, string> => ({
  [`aws:ResourceTag/${TAG.cluster}`]: cluster,
  [`aws:ResourceTag/${TAG.kind}`]: kind,
});
const as = (e: Omit<Evaluation, 'principal' | 'identity'>): Evaluation => ({ principal: gateway, identity, ...e });

const allowed: [string, Evaluation][] = [
  [
    'assume a tenant app role of its cluster with its session tags',
    as({ action: 'sts:AssumeRole', resource: tenantRole(prod, 'acme'), context: sessionTags('acme') }),
  ],
  ['tag that session', as({ action: 'sts:TagSession', resource: tenantRole(prod, 'a-b'), context: sessionTags('a-b') })],
  [
    'retrieve from a pool knowledge base of its cluster',
    as({ action: 'bedrock:Retrieve', resource: kb('POOLKB0001'), context: owned('prod', 'TenantTier') }),
  ],
  ['retrieve-and-generate (no resource type)', as({ action: 'bedrock:RetrieveAndGenerate', resource: '*' })],
  [
    'invoke a tenant profile of its cluster',
    as({ action: 'bedrock:InvokeModel', resource: profile('p1'), context: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' } }),
  ],
  [
    'invoke a foundation model through a profile',
    as({
      action: 'bedrock:InvokeModel',
      resource: `arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0`,
      context: { 'bedrock:InferenceProfileArn': profile('p1') },
    }),
  ],
];

const denied: [string, Evaluation][] = [
  [
    "assume a tenant's knowledge base role",
    as({ action: 'sts:AssumeRole', resource: tenantRole(prod, 'acme', 'kb'), context: sessionTags('acme') }),
  ],
  ["assume a tier's role", as({ action: 'sts:AssumeRole', resource: tierRole(prod, 'gold'), context: sessionTags('gold') })],
  [
    'assume a tenant role of the cluster prod-eu-1 (its name extends prod)',
    as({ action: 'sts:AssumeRole', resource: tenantRole(naming('prod-eu-1'), 'acme'), context: sessionTags('acme') }),
  ],
  [
    'assume a tenant role in another account',
    as({ action: 'sts:AssumeRole', resource: tenantRole(naming('prod', '444455556666'), 'acme'), context: sessionTags('acme') }),
  ],
  [
    'assume a tenant role without the via tag',
    as({
      action: 'sts:AssumeRole',
      resource: tenantRole(prod, 'acme'),
      context: { 'aws:TagKeys': ['tenant'], 'aws:RequestTag/tenant': 'acme' },
    }),
  ],
  [
    'assume a tenant role with extra session tags (crafted tags for another trust)',
    as({
      action: 'sts:AssumeRole',
      resource: tenantRole(prod, 'acme'),
      context: { ...sessionTags('acme'), 'aws:TagKeys': ['tenant', 'rag.tenancy.dev/via', 'kubernetes-namespace'] },
    }),
  ],
  [
    'assume the operator role (outside the role path)',
    as({ action: 'sts:AssumeRole', resource: `arn:aws:iam::${account}:role/rag-operator-prod`, context: sessionTags('acme') }),
  ],
  [
    "retrieve from a bridge or silo tenant's knowledge base",
    as({ action: 'bedrock:Retrieve', resource: kb('TENANTKB01'), context: owned('prod', 'Tenant') }),
  ],
  [
    'retrieve from a pool knowledge base of another cluster',
    as({ action: 'bedrock:Retrieve', resource: kb('OTHERKB001'), context: owned('prod-eu-1', 'TenantTier') }),
  ],
  ['retrieve from an untagged knowledge base', as({ action: 'bedrock:Retrieve', resource: kb('UNTAGGED01') })],
  [
    'retrieve in another Region',
    as({ action: 'bedrock:Retrieve', resource: kb('POOLKB0001', account, 'us-west-2'), context: owned('prod', 'TenantTier') }),
  ],
  [
    'change a knowledge base',
    as({ action: 'bedrock:UpdateKnowledgeBase', resource: kb('POOLKB0001'), context: owned('prod', 'TenantTier') }),
  ],
  ['start an ingestion', as({ action: 'bedrock:StartIngestionJob', resource: kb('POOLKB0001'), context: owned('prod', 'TenantTier') })],
  [
    "invoke another cluster's profile",
    as({ action: 'bedrock:InvokeModel', resource: profile('p2'), context: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod-eu-1' } }),
  ],
  [
    'invoke a foundation model directly',
    as({ action: 'bedrock:InvokeModel', resource: `arn:aws:bedrock:${region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0` }),
  ],
  ['read documents', as({ action: 's3:GetObject', resource: 'arn:aws:s3:::rag-prod-t-acme-111122223333-us-east-1/docs/a.txt' })],
];

describe('the gateway policy', () => {
  it.each(allowed)('allows: %s', async (_why, e) => {
    expect(await evaluate(e, account), describeEvaluation(e)).toBe('Allowed');
  });
  it.each(denied)('denies: %s', async (_why, e) => {
    expect(await evaluate(e, account), describeEvaluation(e)).not.toBe('Allowed');
  });
});
