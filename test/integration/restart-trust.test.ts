/**
 * A restarted operator and what status records of the last pass in sync (`status.inSync`): with
 * a record it trusts, each AWS resource is read once, and a resource deleted while the operator
 * was down is still found and made again; with a forged digest, or a record too old, every
 * resource is observed in full, so drift the one read would not see is repaired in the first pass.
 * Resyncs are an hour apart: what is repaired is repaired by the start-up pass.
 */
import { DeleteRoleCommand, DeleteRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { DeletePublicAccessBlockCommand, GetPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { FULL_OBSERVATION_MS } from '../../src/controllers/in-sync.js';
import { rfc3339 } from '../../src/core/conditions.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

let c: TestCluster;
let aws: AwsClients;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto, c.ministack, c.fakes);
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

/** The operator, as a pod restarted in place; resyncs an hour apart, so only its start-up pass acts. */
const restart = async (): Promise<OperatorProcess> => {
  await op?.stop();
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, identity: 'restart-op', settings: { resyncSeconds: 3600 } });
  return op;
};

const tenantYaml = (name: string, tier: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${name}, serviceAccount: app } } }\n`;
const get = async (name: string): Promise<Tenant> => {
  const t = await c.kube.get<Tenant>('Tenant', name);
  if (!t) throw new Error(`tenant ${name} not found`);
  return t;
};
const bucketOf = async (name: string): Promise<string> => (await get(name)).status?.resources?.bucket ?? '';
const publicAccessBlocked = async (bucket: string): Promise<boolean> => {
  try {
    const b = (await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
    return !!(b?.BlockPublicAcls && b.BlockPublicPolicy && b.IgnorePublicAcls && b.RestrictPublicBuckets);
  } catch {
    return false;
  }
};
const forgeInSync = (name: string, inSync: { digest: string; at: string }): Promise<string> =>
  c.kube.kubectl('patch', 'tenant', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { inSync } }));
const reads = (o: OperatorProcess, operation: string): Promise<number> => o.metric('tenant_rag_operator_aws_calls_total', { operation });

describe('a restart that trusts status.inSync', () => {
  let a = '';
  let b = '';

  beforeAll(async () => {
    const tier = uniq('restart');
    [a, b] = [uniq('ra'), uniq('rb')];
    await restart();
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: silo, vectorStore: { type: S3Vectors } }\n---\n` +
        tenantYaml(a, tier) +
        '---\n' +
        tenantYaml(b, tier),
    );
    for (const t of [a, b]) {
      await c.kube.waitForCondition<Tenant>('Tenant', t, 'Ready', { status: 'True' }, 120_000);
      await eventually(async () => ((await get(t)).status?.inSync ? true : undefined), 30_000, `${t}'s status.inSync`);
    }
  }, 240_000);

  it('reads each bucket once, and makes again a role deleted while the operator was down', async () => {
    await op?.stop();
    const role = (await get(a)).status?.resources?.roleArn?.split('/').pop() ?? '';
    expect(role).not.toBe('');
    for (const PolicyName of (await aws.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [])
      await aws.iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName }));
    await aws.iam.send(new DeleteRoleCommand({ RoleName: role }));
    const o = await restart();
    // With its inline policy (the full observation that found it gone created all of it; the
    // policy is put after CreateRole returns, so wait for it, not for the role alone).
    await eventually(
      async () =>
        (await aws.iam.send(new ListRolePoliciesCommand({ RoleName: role })).catch(() => undefined))?.PolicyNames?.includes('tenant-access')
          ? true
          : undefined,
      60_000,
      `role ${role} made again with its policy`,
    );
    await c.kube.waitForCondition<Tenant>('Tenant', a, 'Ready', { status: 'True' }, 60_000);
    // The tier, whose tenants were listed as adds before any worker ran: one pass, on all of them.
    expect(await o.metric('tenant_rag_operator_reconcile_total', { controller: 'tenanttiers' })).toBe(1);
    // Both buckets were checked by one read (their tags) and not observed in full.
    expect(await reads(o, 'GetBucketTagging')).toBeGreaterThanOrEqual(2);
    expect(await reads(o, 'GetBucketVersioning')).toBe(0);
    expect(await reads(o, 'HeadBucket')).toBe(0);
    // Both knowledge bases too (their tags, at the ARN their ids give): neither observed in full.
    expect(await reads(o, 'GetKnowledgeBase')).toBe(0);
  }, 120_000);

  it('with a forged digest, observes in full and repairs drift the one read would not see', async () => {
    await op?.stop();
    const bucket = await bucketOf(b);
    await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const forged = { digest: '0'.repeat(64), at: rfc3339(new Date()) };
    await forgeInSync(b, forged);
    await restart();
    await eventually(
      async () => ((await publicAccessBlocked(bucket)) ? true : undefined),
      60_000,
      `${bucket}'s public access block restored`,
    );
    // The pass that found everything in sync records the digest of what it found.
    await eventually(
      async () => {
        const digest = (await get(b)).status?.inSync?.digest;
        return digest && digest !== forged.digest ? true : undefined;
      },
      30_000,
      `${b}'s digest recorded afresh`,
    );
  }, 120_000);

  it('with a record older than FULL_OBSERVATION_MS, observes in full and repairs drift the one read would not see', async () => {
    await op?.stop();
    const bucket = await bucketOf(a);
    await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const recorded = (await get(a)).status?.inSync;
    expect(recorded).toBeDefined();
    await forgeInSync(a, { digest: recorded?.digest ?? '', at: rfc3339(new Date(Date.now() - FULL_OBSERVATION_MS - 60_000)) });
    await restart();
    await eventually(
      async () => ((await publicAccessBlocked(bucket)) ? true : undefined),
      60_000,
      `${bucket}'s public access block restored`,
    );
  }, 120_000);
});
