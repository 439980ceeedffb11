/**
 * The generated IAM policies, evaluated by an IAM policy simulator (@cloud-copilot/iam-simulate):
 * the operator may do exactly what its drivers send, only on its own names, cannot create or
 * change a role without the boundary or outside its path, and cannot loosen a boundary; and each
 * tenant role the operator writes, under that boundary, reaches its own data and no other
 * tenant's, in every isolation pattern.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { TAG } from '../tags.js';
import type { PolicyDocument } from './document.js';
import { COMMAND_ACTIONS, operatorPolicy, tenantBoundaryPolicy } from './operator.js';
import { tenantPermissions, type DataScope } from './roles.js';

const account = '111122223333';
const scope = {
  accountId: account,
  region: 'us-east-1',
  prefix: 'rag',
  cluster: 'prod',
  boundaryArn: `arn:aws:iam::${account}:policy/RagTenantBoundary`,
  eksClusterArn: `arn:aws:eks:us-east-1:${account}:cluster/prod`,
};
const op = operatorPolicy(scope);
const defaultKeyPolicy = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};
const boundary = tenantBoundaryPolicy(scope);

async function decide(
  identity: PolicyDocument[],
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
  withBoundary?: PolicyDocument,
): Promise<string> {
  const r = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/rag-tenant/someone`,
        action,
        resource: { resource, accountId: account },
        // S3 sets s3:ResourceAccount to the account owning the bucket: here the operator's own.
        contextVariables: action.startsWith('s3:') ? { 's3:ResourceAccount': account, ...context } : context,
      },
      identityPolicies: identity.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(withBoundary ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: withBoundary }] } : {}),
      // KMS consults the key policy first; the operator's keys keep the default one, which
      // delegates to IAM policies in the account.
      ...(resource.includes(':key/') ? { resourcePolicy: defaultKeyPolicy } : {}),
    },
    {},
  );
  if (r.resultType === 'error') throw new Error(`simulation refused ${action} on ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

const sample: Record<string, string> = {
  bucket: 'arn:aws:s3:::rag-prod-t-acme-111122223333-us-east-1',
  object: 'arn:aws:s3:::rag-prod-t-acme-111122223333-us-east-1/docs/a.pdf',
  sidecar: 'arn:aws:s3:::rag-prod-tier-basic-111122223333-us-east-1/tenants/acme/docs/a.pdf.metadata.json',
  role: `arn:aws:iam::${account}:role/rag-tenant/rag-prod-t-acme-app`,
  roleWithBoundary: `arn:aws:iam::${account}:role/rag-tenant/rag-prod-t-acme-app`,
  key: `arn:aws:kms:us-east-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  anyKey: `arn:aws:kms:us-east-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  alias: `arn:aws:kms:us-east-1:${account}:alias/rag-prod-t-acme`,
  newKey: '*',
  passKbRole: `arn:aws:iam::${account}:role/rag-tenant/rag-prod-t-acme-kb`,
  collection: `arn:aws:aoss:us-east-1:${account}:collection/07tjusf2h91cunochc`,
  knowledgeBase: `arn:aws:bedrock:us-east-1:${account}:knowledge-base/ABCDEFGHIJ`,
  newKnowledgeBase: '*',
  inferenceProfile: `arn:aws:bedrock:us-east-1:${account}:application-inference-profile/abc123xyz`,
  newInferenceProfile: `arn:aws:bedrock:us-east-1:${account}:application-inference-profile/abc123xyz`,
  ownCollection: `arn:aws:aoss:us-east-1:${account}:collection/07tjusf2h91cunochc`,
  vectorPolicy: '*',
  newCollection: '*',
  ownTagged: '*',
  eksCluster: scope.eksClusterArn,
  podIdentity: `arn:aws:eks:us-east-1:${account}:podidentityassociation/prod/a-1a2b3c4d5e6f7g8h9`,
  ownPodIdentity: `arn:aws:eks:us-east-1:${account}:podidentityassociation/prod/a-1a2b3c4d5e6f7g8h9`,
  newPodIdentity: scope.eksClusterArn,
  newPodIdentityTags: `arn:aws:eks:us-east-1:${account}:podidentityassociation/prod/a-1a2b3c4d5e6f7g8h9`,
  newKnowledgeBaseTags: `arn:aws:bedrock:us-east-1:${account}:knowledge-base/ABCDEFGHIJ`,
  newInferenceProfileTags: `arn:aws:bedrock:us-east-1:${account}:application-inference-profile/abc123xyz`,
  passAppRole: `arn:aws:iam::${account}:role/rag-tenant/rag-prod-t-acme-app`,
  any: '*',
};
const contextFor: Record<string, Record<string, string>> = {
  roleWithBoundary: { 'iam:PermissionsBoundary': scope.boundaryArn },
  key: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  newKey: {
    'kms:KeySpec': 'SYMMETRIC_DEFAULT',
    'kms:KeyUsage': 'ENCRYPT_DECRYPT',
    'kms:KeyOrigin': 'AWS_KMS',
    'kms:BypassPolicyLockoutSafetyCheck': 'false',
    'kms:MultiRegion': 'false',
  },
  passKbRole: { 'iam:PassedToService': 'bedrock.amazonaws.com' },
  collection: { 'aoss:collection': 'rag-prod-t-acme' },
  vectorPolicy: { 'aoss:collection': 'rag-prod-t-acme' },
  ownCollection: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  knowledgeBase: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  newKnowledgeBase: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  inferenceProfile: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  newInferenceProfile: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  newCollection: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  ownTagged: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  ownPodIdentity: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
  newPodIdentity: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  newPodIdentityTags: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  newKnowledgeBaseTags: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  newInferenceProfileTags: { [`aws:RequestTag/${TAG.cluster}`]: 'prod' },
  passAppRole: { 'iam:PassedToService': 'pods.eks.amazonaws.com' },
};

describe('operator policy', () => {
  it('covers every AWS command the drivers send', async () => {
    const dir = fileURLToPath(new URL('../../', import.meta.url));
    const files = [
      ...(await readdir(`${dir}resources`, { recursive: true })).filter((f) => f.endsWith('driver.ts')).map((f) => `${dir}resources/${f}`),
      `${dir}adapters/aws/clients.ts`,
      // Commands sent outside the drivers: model lifecycles and token usage.
      `${dir}adapters/aws/model-lifecycle.ts`,
      `${dir}usage/poller.ts`,
      // Pool tenants' metadata sidecars.
      `${dir}ingestion/sidecars.ts`,
    ];
    // A command several services share is keyed by the client the file imports.
    const clientOf: Record<string, string> = {
      opensearchserverless: 'aoss',
      'bedrock-agent': 'bedrockAgent',
      bedrock: 'bedrock',
      eks: 'eks',
      s3vectors: 's3vectors',
    };
    const sent = new Set<string>();
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      const client = clientOf[/@aws-sdk\/client-([a-z0-9-]+)'/.exec(text)?.[1] ?? ''];
      for (const m of text.matchAll(/new (\w+)Command\(/g)) {
        const qualified = `${client ?? ''}:${m[1] ?? ''}`;
        sent.add(qualified in COMMAND_ACTIONS ? qualified : (m[1] ?? ''));
      }
    }
    expect([...sent].filter((c) => !(c in COMMAND_ACTIONS))).toEqual([]);
    expect(sent.size).toBeGreaterThan(30);
  });

  const allowed = Object.entries(COMMAND_ACTIONS).flatMap(([command, { actions, on }]) =>
    actions.flatMap((action) => on.map((kind) => ({ command, action, kind }))),
  );
  it.each(allowed)("allows $action ($command) on the operator's own $kind", async ({ action, kind }) => {
    expect(await decide([op], action, sample[kind] ?? '*', contextFor[kind] ?? {})).toBe('Allowed');
  });

  it.each([
    { name: 'create a role without the boundary', action: 'iam:CreateRole', resource: sample.role ?? '', context: {} },
    {
      name: 'create a role with another boundary',
      action: 'iam:CreateRole',
      resource: sample.role ?? '',
      context: { 'iam:PermissionsBoundary': `arn:aws:iam::${account}:policy/AdminAccess` },
    },
    {
      name: 'create a role outside its path',
      action: 'iam:CreateRole',
      resource: `arn:aws:iam::${account}:role/admin/rag-prod-x`,
      context: { 'iam:PermissionsBoundary': scope.boundaryArn },
    },
    { name: 'give a role an inline policy without the boundary', action: 'iam:PutRolePolicy', resource: sample.role ?? '', context: {} },
    {
      name: "remove a role's boundary",
      action: 'iam:DeleteRolePermissionsBoundary',
      resource: sample.role ?? '',
      context: { 'iam:PermissionsBoundary': scope.boundaryArn },
    },
    { name: 'edit the boundary policy', action: 'iam:CreatePolicyVersion', resource: scope.boundaryArn, context: {} },
    { name: 'delete a role it does not own', action: 'iam:DeleteRole', resource: `arn:aws:iam::${account}:role/ops/admin`, context: {} },
    {
      name: 'create a bucket of another cluster',
      action: 's3:CreateBucket',
      resource: 'arn:aws:s3:::rag-staging-t-acme-111122223333-us-east-1',
      context: {},
    },
    { name: 'read documents', action: 's3:GetObject', resource: sample.object ?? '', context: {} },
    { name: 'overwrite a document (only sidecars are written)', action: 's3:PutObject', resource: sample.object ?? '', context: {} },
    {
      name: 'schedule deletion of a key of another cluster',
      action: 'kms:ScheduleKeyDeletion',
      resource: sample.key ?? '',
      context: { [`aws:ResourceTag/${TAG.cluster}`]: 'staging' },
    },
    {
      name: 'decrypt with a key',
      action: 'kms:Decrypt',
      resource: sample.key ?? '',
      context: { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' },
    },
    { name: 'create an untagged key', action: 'kms:CreateKey', resource: '*', context: {} },
    {
      name: 'create an inference profile without the cluster tag',
      action: 'bedrock:CreateInferenceProfile',
      resource: sample.newInferenceProfile ?? '',
      context: { [`aws:RequestTag/${TAG.cluster}`]: 'staging' },
    },
    {
      name: 'delete an inference profile of another cluster',
      action: 'bedrock:DeleteInferenceProfile',
      resource: sample.inferenceProfile ?? '',
      context: { [`aws:ResourceTag/${TAG.cluster}`]: 'staging' },
    },
    {
      name: 'invoke a model',
      action: 'bedrock:InvokeModel',
      resource: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      context: {},
    },
  ])('denies: $name', async ({ action, resource, context }) => {
    expect(await decide([op], action, resource, context)).not.toBe('Allowed');
  });
});

describe('tenant roles under the boundary', () => {
  const base = { region: 'us-east-1', accountId: account };
  const keyA = `arn:aws:kms:us-east-1:${account}:key/aaaaaaaa-0000-0000-0000-000000000000`;
  const keyB = `arn:aws:kms:us-east-1:${account}:key/bbbbbbbb-0000-0000-0000-000000000000`;
  const patterns: { name: string; a: DataScope; b: DataScope }[] = [
    {
      name: 'pool',
      a: { ...base, bucket: 'rag-prod-tier-basic-111122223333-us-east-1', prefix: 'tenants/a/', knowledgeBaseId: 'POOLKB0001', pool: true },
      b: { ...base, bucket: 'rag-prod-tier-basic-111122223333-us-east-1', prefix: 'tenants/b/', knowledgeBaseId: 'POOLKB0001', pool: true },
    },
    {
      name: 'bridge',
      a: {
        ...base,
        bucket: 'rag-prod-tier-std-111122223333-us-east-1',
        prefix: 'tenants/a/',
        knowledgeBaseId: 'KBAAAAAAAA',
        kmsKeyArn: keyA,
      },
      b: {
        ...base,
        bucket: 'rag-prod-tier-std-111122223333-us-east-1',
        prefix: 'tenants/b/',
        knowledgeBaseId: 'KBBBBBBBBB',
        kmsKeyArn: keyA,
      },
    },
    {
      name: 'silo',
      a: { ...base, bucket: 'rag-prod-t-a-111122223333-us-east-1', knowledgeBaseId: 'KBAAAAAAAA', kmsKeyArn: keyA },
      b: { ...base, bucket: 'rag-prod-t-b-111122223333-us-east-1', knowledgeBaseId: 'KBBBBBBBBB', kmsKeyArn: keyB },
    },
  ];
  const tagged = { [`aws:ResourceTag/${TAG.cluster}`]: 'prod', 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
  const obj = (s: DataScope): string => `arn:aws:s3:::${s.bucket}/${s.prefix ?? ''}report.pdf`;
  const kb = (s: DataScope): string => `arn:aws:bedrock:us-east-1:${account}:knowledge-base/${s.knowledgeBaseId ?? ''}`;

  it.each(patterns)('$name: tenant a reaches its own documents, key and knowledge base', async ({ a }) => {
    const role = tenantPermissions(a);
    expect(await decide([role], 's3:GetObject', obj(a), {}, boundary)).toBe('Allowed');
    expect(await decide([role], 's3:PutObject', obj(a), {}, boundary)).toBe('Allowed');
    expect(
      await decide([role], 's3:ListBucket', `arn:aws:s3:::${a.bucket}`, a.prefix ? { 's3:prefix': `${a.prefix}x` } : {}, boundary),
    ).toBe('Allowed');
    // A pool's shared knowledge base is queried through the platform, which applies the tenant filter.
    expect(await decide([role], 'bedrock:Retrieve', kb(a), tagged, boundary)).toBe(a.pool ? 'ImplicitlyDenied' : 'Allowed');
    if (a.kmsKeyArn) expect(await decide([role], 'kms:Decrypt', a.kmsKeyArn, tagged, boundary)).toBe('Allowed');
  });

  it.each(patterns)('$name: tenant a is denied everything of tenant b', async ({ a, b }) => {
    const role = tenantPermissions(a);
    expect(await decide([role], 's3:GetObject', obj(b), {}, boundary)).not.toBe('Allowed');
    expect(await decide([role], 's3:PutObject', obj(b), {}, boundary)).not.toBe('Allowed');
    expect(
      await decide([role], 's3:ListBucket', `arn:aws:s3:::${b.bucket}`, b.prefix ? { 's3:prefix': `${b.prefix}x` } : {}, boundary),
    ).not.toBe('Allowed');
    if (b.knowledgeBaseId !== a.knowledgeBaseId)
      expect(await decide([role], 'bedrock:Retrieve', kb(b), tagged, boundary)).not.toBe('Allowed');
    if (b.kmsKeyArn && b.kmsKeyArn !== a.kmsKeyArn)
      expect(await decide([role], 'kms:Decrypt', b.kmsKeyArn, tagged, boundary)).not.toBe('Allowed');
  });

  it('pool: a tenant cannot write or delete the sidecars that say whose its documents are', async () => {
    const a = patterns[0]?.a ?? base;
    const role = tenantPermissions(a as DataScope);
    const sidecar = `arn:aws:s3:::${(a as DataScope).bucket}/tenants/a/report.pdf.metadata.json`;
    expect(await decide([role], 's3:PutObject', sidecar, {}, boundary)).toBe('ExplicitlyDenied');
    expect(await decide([role], 's3:DeleteObject', sidecar, {}, boundary)).toBe('ExplicitlyDenied');
    expect(await decide([role], 's3:GetObject', sidecar, {}, boundary)).toBe('Allowed');
  });

  it('the boundary caps even an over-broad role policy', async () => {
    const tooBroad: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    expect(await decide([tooBroad], 'iam:CreateUser', `arn:aws:iam::${account}:user/x`, {}, boundary)).not.toBe('Allowed');
    expect(await decide([tooBroad], 's3:GetObject', 'arn:aws:s3:::someone-elses-bucket/x', {}, boundary)).not.toBe('Allowed');
  });
});
