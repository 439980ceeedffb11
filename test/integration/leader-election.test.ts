/**
 * Two operator processes elect one leader through a Lease; only the leader reconciles. On SIGTERM
 * the leader finishes, releases the lease and the standby takes over at once; after SIGKILL the
 * standby takes over once the lease expires.
 */
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

let c: TestCluster;
let leases: CoordinationV1Api;
const running: OperatorProcess[] = [];

beforeAll(async () => {
  c = await startTestCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(c.cp.kubeconfig);
  leases = kc.makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await c?.stop();
});

async function holder(): Promise<string | undefined> {
  const l = await leases.readNamespacedLease({ name: 'tenant-rag-operator', namespace: 'default' });
  return l.spec?.holderIdentity;
}

async function start(identity: string): Promise<OperatorProcess> {
  const p = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, identity });
  running.push(p);
  return p;
}

async function leaderOf(ops: OperatorProcess[]): Promise<[OperatorProcess, OperatorProcess]> {
  return eventually(
    async () => {
      const h = await holder().catch(() => undefined);
      const leader = ops.find((o) => o.identity === h);
      const other = ops.find((o) => o.identity !== h);
      if (!leader || !other || (await leader.metric('tenant_rag_operator_leader')) !== 1) return undefined;
      return [leader, other] as [OperatorProcess, OperatorProcess];
    },
    30_000,
    'a leader',
  );
}

const manifest = (tier: string, tenant: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: pool }\n---\n` +
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${tenant} }\nspec: { tier: ${tier} }\n`;

describe('leader election', () => {
  it('elects one leader; only it reconciles; on SIGTERM it releases the lease and the other takes over', async () => {
    const [a, b] = [await start('alpha'), await start('beta')];
    const [leader, standby] = await leaderOf([a, b]);
    expect(await standby.metric('tenant_rag_operator_leader')).toBe(0);
    const first = uniq('t');
    await c.kube.apply(manifest(uniq('tier'), first));
    await c.kube.waitForCondition('Tenant', first, 'Ready', { status: 'True' });
    expect(await leader.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' })).toBeGreaterThan(0);
    expect(await standby.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' })).toBe(0);

    await leader.stop('SIGTERM');
    expect(leader.proc.child.exitCode).toBe(0);
    // The lease was released on the way out, so the standby need not wait for it to expire.
    await eventually(async () => ((await holder()) === standby.identity ? true : undefined), 10_000, 'standby to take the lease');
    const second = uniq('t');
    await c.kube.apply(manifest(uniq('tier'), second));
    await c.kube.waitForCondition('Tenant', second, 'Ready', { status: 'True' });
    expect(await standby.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' })).toBeGreaterThan(0);
    await standby.stop();
  });

  it('after the leader is killed, the other takes over when the lease expires', async () => {
    const [a, b] = [await start('gamma'), await start('delta')];
    const [leader, standby] = await leaderOf([a, b]);
    await leader.stop('SIGKILL');
    await eventually(async () => ((await holder()) === standby.identity ? true : undefined), 45_000, 'standby to take the expired lease');
    const tenant = uniq('t');
    await c.kube.apply(manifest(uniq('tier'), tenant));
    await c.kube.waitForCondition('Tenant', tenant, 'Ready', { status: 'True' });
    const l = await leases.readNamespacedLease({ name: 'tenant-rag-operator', namespace: 'default' });
    expect(l.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
  });
});
