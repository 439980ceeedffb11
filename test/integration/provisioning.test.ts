/**
 * The operator provisions document storage and IAM in AWS (moto) for each isolation pattern,
 * publishes the ids on status, keeps tenants apart, repairs drift, and on deletion removes what a
 * `Delete` tenant owns and leaves a `Retain` tenant's resources alone.
 */
import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, UntagResourceCommand } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

let c: TestCluster;
let op: OperatorProcess;
let aws: AwsClients;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto);
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, settings: { resyncSeconds: 3600 } });
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

const tierYaml = (name: string, isolation: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation} }\n`;
const tenantYaml = (name: string, tier: string, policy = 'Delete'): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: ${policy}, access: { podIdentity: { namespace: ${name}, serviceAccount: app } } }\n`;

async function inlinePolicy(roleArn: string | undefined, name: string): Promise<string> {
  const roleName = roleArn?.split('/').pop() ?? '';
  const p = await aws.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
  return decodeURIComponent(p.PolicyDocument ?? '');
}

async function bucketExists(name: string | undefined): Promise<boolean> {
  try {
    await aws.s3.send(new HeadBucketCommand({ Bucket: name }));
    return true;
  } catch {
    return false;
  }
}

describe('provisioning storage and identity', () => {
  it('silo: a bucket and both roles of its own, ids on status, conditions per component', async () => {
    const tier = uniq('silo');
    const tenant = uniq('acme');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const r = t.status?.resources ?? {};
    expect(r.bucket).toMatch(new RegExp(`^rag-test-t-${tenant}-\\d{12}-us-east-1$`));
    expect(r.roleArn).toMatch(new RegExp(`:role/rag-tenant/rag-test-t-${tenant}-app$`));
    expect(r.knowledgeBaseRoleArn).toMatch(new RegExp(`:role/rag-tenant/rag-test-t-${tenant}-kb$`));
    expect(t.status?.conditions?.find((x) => x.type === 'StorageReady')?.status).toBe('True');
    expect(t.status?.conditions?.find((x) => x.type === 'IdentityReady')?.status).toBe('True');
    expect(await bucketExists(r.bucket)).toBe(true);
    const access = await inlinePolicy(r.roleArn, 'tenant-access');
    expect(access).toContain(`arn:aws:s3:::${r.bucket}/*`);
    const role = await aws.iam.send(new GetRoleCommand({ RoleName: r.roleArn?.split('/').pop() }));
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain(`"aws:RequestTag/kubernetes-namespace":"${tenant}"`);
  });

  it('pool: tenants share the tier bucket and knowledge base role; each role reaches only its own prefix', async () => {
    const tier = uniq('pool');
    const [a, b] = [uniq('a'), uniq('b')];
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(a, tier) + '---\n' + tenantYaml(b, tier));
    const tr = await c.kube.waitForCondition<TenantTier>('TenantTier', tier, 'Ready', { status: 'True' }, 60_000);
    const ta = await c.kube.waitForCondition<Tenant>('Tenant', a, 'Ready', { status: 'True' }, 60_000);
    const tb = await c.kube.waitForCondition<Tenant>('Tenant', b, 'Ready', { status: 'True' }, 60_000);
    expect(tr.status?.shared?.bucket).toBeTruthy();
    expect(ta.status?.resources?.bucket).toBe(tr.status?.shared?.bucket);
    expect(ta.status?.resources).toMatchObject({ prefix: `tenants/${a}/`, knowledgeBaseRoleArn: tr.status?.shared?.knowledgeBaseRoleArn });
    const pa = await inlinePolicy(ta.status?.resources?.roleArn, 'tenant-access');
    const pb = await inlinePolicy(tb.status?.resources?.roleArn, 'tenant-access');
    expect(pa).toContain(`/tenants/${a}/*`);
    expect(pa).not.toContain(`/tenants/${b}/`);
    expect(pb).toContain(`/tenants/${b}/*`);
    expect(pb).not.toContain(`/tenants/${a}/`);
  });

  it('bridge: the tier bucket is shared, each tenant has its own knowledge base role scoped to its prefix', async () => {
    const tier = uniq('bridge');
    const tenant = uniq('globex');
    await c.kube.apply(tierYaml(tier, 'bridge') + '---\n' + tenantYaml(tenant, tier));
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const kb = await inlinePolicy(t.status?.resources?.knowledgeBaseRoleArn, 'knowledge-base');
    expect(kb).toContain(`/tenants/${tenant}/*`);
    expect(kb).toContain('foundation-model/amazon.titan-embed-text-v2:0');
  });

  it('repairs a policy deleted behind its back on the next pass', async () => {
    const tier = uniq('drift');
    const tenant = uniq('d');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const roleName = t.status?.resources?.roleArn?.split('/').pop() ?? '';
    await aws.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: 'tenant-access' }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, 'rag.tenancy.dev/reconcile-requested-at=now');
    await eventually(
      async () =>
        (await inlinePolicy(t.status?.resources?.roleArn, 'tenant-access').catch(() => '')).includes('s3:GetObject') ? true : undefined,
      30_000,
      'the policy to be restored',
    );
  });

  it('deletes everything a Delete tenant owns and nothing of a Retain tenant', async () => {
    const tier = uniq('bye');
    const [gone, kept] = [uniq('gone'), uniq('kept')];
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(gone, tier, 'Delete') + '---\n' + tenantYaml(kept, tier, 'Retain'));
    const g = await c.kube.waitForCondition<Tenant>('Tenant', gone, 'Ready', { status: 'True' }, 60_000);
    const k = await c.kube.waitForCondition<Tenant>('Tenant', kept, 'Ready', { status: 'True' }, 60_000);
    await c.kube.delete('Tenant', gone);
    await c.kube.delete('Tenant', kept);
    await c.kube.waitForGone('Tenant', gone, 60_000);
    await c.kube.waitForGone('Tenant', kept, 60_000);
    expect(await bucketExists(g.status?.resources?.bucket)).toBe(false);
    expect(await bucketExists(k.status?.resources?.bucket)).toBe(true);
    const roles = ((await aws.iam.send(new ListRolesCommand({ PathPrefix: '/rag-tenant/' }))).Roles ?? []).map((r) => r.RoleName ?? '');
    expect(roles.filter((n) => n.includes(gone))).toEqual([]);
    expect(roles.filter((n) => n.includes(kept)).sort()).toEqual([`rag-test-t-${kept}-app`, `rag-test-t-${kept}-kb`]);
    const buckets = ((await aws.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
    expect(buckets.filter((n) => n.includes(gone))).toEqual([]);
  });

  it("a pool tenant deleted with Delete takes its documents out of the shared bucket and leaves its neighbour's", async () => {
    const tier = uniq('shared');
    const [gone, stays] = [uniq('gone'), uniq('stays')];
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(gone, tier) + '---\n' + tenantYaml(stays, tier));
    const g = await c.kube.waitForCondition<Tenant>('Tenant', gone, 'Ready', { status: 'True' }, 60_000);
    await c.kube.waitForCondition<Tenant>('Tenant', stays, 'Ready', { status: 'True' }, 60_000);
    const bucket = g.status?.resources?.bucket ?? '';
    for (const [t, n] of [
      [gone, 3],
      [stays, 2],
    ] as const) {
      for (let i = 0; i < n; i++) await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tenants/${t}/doc${i}.txt`, Body: 'x' }));
    }
    await c.kube.delete('Tenant', gone);
    await c.kube.waitForGone('Tenant', gone, 60_000);
    const left = ((await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();
    expect(left).toEqual([`tenants/${stays}/doc0.txt`, `tenants/${stays}/doc1.txt`]);
  });

  it("TenantKey: a silo tenant's own key encrypts its bucket, its roles may use it, and it is scheduled for deletion with the tenant", async () => {
    const tier = uniq('keyed');
    const tenant = uniq('vault');
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: silo, storage: { encryption: TenantKey } }\n---\n` +
        tenantYaml(tenant, tier),
    );
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const r = t.status?.resources ?? {};
    expect(r.kmsKeyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    const enc = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: r.bucket }));
    const rule = enc.ServerSideEncryptionConfiguration?.Rules?.[0];
    expect(rule?.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: r.kmsKeyArn });
    expect(await inlinePolicy(r.roleArn, 'tenant-access')).toContain(r.kmsKeyArn);
    expect(await inlinePolicy(r.knowledgeBaseRoleArn, 'knowledge-base')).toContain(r.kmsKeyArn);
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('Tenant', tenant, 60_000);
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: r.kmsKeyArn }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
  });

  it('TierKey: a silo tier keeps its key while a tenant deleted with Retain has a bucket it encrypts, and says so', async () => {
    const tier = uniq('silokey');
    const tenant = uniq('kept');
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: silo, storage: { encryption: TierKey } }\n---\n` +
        tenantYaml(tenant, tier, 'Retain'),
    );
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const keyArn = (await c.kube.get<TenantTier>('TenantTier', tier))?.status?.shared?.kmsKeyArn ?? '';
    const enc = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: t.status?.resources?.bucket }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(keyArn);
    await c.kube.deleteRetainedTenantThenTier(tenant, tier);
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    // Once the retained bucket no longer needs it (its tag removed), the tier and its key go.
    await aws.kms.send(new UntagResourceCommand({ KeyId: keyArn, TagKeys: [`rag.tenancy.dev/retained/${tenant}`] }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/reconcile-requested-at=now');
    await c.kube.waitForGone('TenantTier', tier, 60_000);
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
  });

  it("TierKey: one key for a bridge tier encrypts the tier bucket and reaches its tenants' roles", async () => {
    const tier = uniq('tierkey');
    const tenant = uniq('member');
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: bridge, storage: { encryption: TierKey } }\n---\n` +
        tenantYaml(tenant, tier),
    );
    const tr = await c.kube.waitForCondition<TenantTier>('TenantTier', tier, 'Ready', { status: 'True' }, 60_000);
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    const keyArn = tr.status?.shared?.kmsKeyArn ?? '';
    expect(keyArn).toMatch(/:key\//);
    const enc = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: tr.status?.shared?.bucket }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(keyArn);
    expect(await inlinePolicy(t.status?.resources?.roleArn, 'tenant-access')).toContain(keyArn);
  });
});
