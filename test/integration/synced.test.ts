/**
 * The Synced condition and visible deletion over the wire: the real operator process, moto
 * reached through the fault-injecting AWS proxy. An AccessDenied on the tenant role's creation
 * (as an SCP would answer) shows as `Synced=False, AccessDenied` naming `iam:CreateRole` and the
 * role within one pass, and `Synced=True` once AWS allows it again; a deletion shows
 * `Ready=False, Deleting` naming the component, and an AccessDenied on `iam:DeleteRole` shows on
 * Synced while the tenant waits, until it is allowed and the tenant goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, Tenant } from '../../src/api/v1alpha1/types.js';
import { type AwsProxy, startAwsProxy } from '../support/aws-proxy.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

let c: TestCluster;
let proxy: AwsProxy;
let op: OperatorProcess;

beforeAll(async () => {
  c = await startTestCluster();
  proxy = await startAwsProxy(c.moto.endpoint);
  // Every moto service (IAM, S3, KMS, STS) through the proxy; the rest as the cluster serves it.
  op = await startOperatorProcess(c.cp.kubeconfig, {
    cluster: c,
    settings: { resyncSeconds: 3600 },
    env: { AWS_ENDPOINT_URL: proxy.endpoint },
  });
});
afterAll(async () => {
  await op?.stop();
  await proxy?.stop();
  await c?.stop();
});

const tierYaml = (name: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: pool }\n`;
const tenantYaml = (name: string, tier: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: Delete }\n`;
const cond = (t: Tenant | undefined, type: string): Condition | undefined => t?.status?.conditions?.find((x) => x.type === type);

/** A Ready pool tier, made once for the tests. */
let tier: string;
async function readyTier(): Promise<string> {
  if (tier) return tier;
  tier = uniq('pool');
  await c.kube.apply(tierYaml(tier));
  await c.kube.waitForCondition('TenantTier', tier, 'Ready', { status: 'True' }, 120_000);
  return tier;
}

describe('Synced', () => {
  it('a refused role creation shows as Synced=False AccessDenied naming iam:CreateRole and the role at once, and Synced=True once it is allowed', async () => {
    const t = await readyTier();
    const tenant = uniq('denied');
    const role = `rag-test-t-${tenant}-app`;
    // Three refusals: three passes (AccessDenied is not retried by the SDK), with backoff in between.
    proxy.failNext({ match: 'iam:CreateRole', kind: 'AccessDenied', times: 3 });
    await c.kube.apply(tenantYaml(tenant, t));
    const denied = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Synced', { status: 'False', reason: 'AccessDenied' }, 60_000);
    const message = cond(denied, 'Synced')?.message ?? '';
    expect(message).toContain(`iam:CreateRole on TenantRole "${role}" failed: AccessDenied: User: `);
    expect(message).toContain(`allow iam:CreateRole on ${role}`);
    // Reported on its first failure, not as a retryable error that persisted.
    expect(message).not.toContain('passes in a row');
    const healed = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      tenant,
      'Synced',
      { status: 'True', reason: 'ReconcileSuccess' },
      60_000,
    );
    expect(proxy.faulted.filter((f) => f === 'iam:CreateRole')).toHaveLength(3);
    await c.kube.waitForCondition('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    expect(cond(healed, 'Synced')?.message).toBe('the last pass ran without errors');
  });

  it('a deleting tenant says Deleting with the component; a refused DeleteRole shows on Synced until allowed, then the tenant goes', async () => {
    const t = await readyTier();
    const tenant = uniq('leaving');
    await c.kube.apply(tenantYaml(tenant, t));
    await c.kube.waitForCondition('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    proxy.failNext({ match: 'iam:DeleteRole', kind: 'AccessDenied', times: 3 });
    await c.kube.delete('Tenant', tenant);
    const seen = await eventually(
      async () => {
        const x = await c.kube.get<Tenant>('Tenant', tenant);
        return cond(x, 'Synced')?.status === 'False' ? x : undefined;
      },
      60_000,
      'Synced=False while deleting',
      50,
    );
    expect(cond(seen, 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(cond(seen, 'Ready')?.message).toContain('TenantRole is being deleted');
    expect(cond(seen, 'Synced')).toMatchObject({ status: 'False', reason: 'AccessDenied' });
    expect(cond(seen, 'Synced')?.message).toContain(`iam:DeleteRole on TenantRole "rag-test-t-${tenant}-app" failed`);
    await c.kube.waitForGone('Tenant', tenant, 60_000);
    expect(proxy.faulted.filter((f) => f === 'iam:DeleteRole')).toHaveLength(3);
  });
});
