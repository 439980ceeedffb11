/**
 * The operator keeps working through what real clusters do to it: an API server restart, watches
 * cut mid-stream, and a watch that goes silent without an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let c: TestCluster;
let proxy: TcpProxy;
let op: OperatorProcess;

beforeAll(async () => {
  c = await startTestCluster();
  proxy = await startTcpProxy('127.0.0.1', c.cp.port);
  const viaProxy = await c.cp.kubeconfigVia('proxy', proxy.port);
  // Leader election off: this file is about watches; a long resync so only watches can deliver changes.
  op = await startOperatorProcess(viaProxy, {
    cluster: c,
    settings: { resyncSeconds: 3600, watchdogSeconds: 5, leaderElection: { enabled: false } },
  });
});
afterAll(async () => {
  await op?.stop();
  await proxy?.close();
  await c?.stop();
});

const manifest = (tier: string, tenant: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: silo }\n---\n` +
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${tenant} }\nspec: { tier: ${tier} }\n`;

async function onboard(): Promise<string> {
  const tenant = uniq('t');
  await c.kube.apply(manifest(uniq('tier'), tenant));
  await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 45_000);
  return tenant;
}

describe('resilience', () => {
  it('picks up changes after every watch is cut mid-stream', async () => {
    await onboard();
    const restarts = await op.metric('tenant_rag_operator_informer_restarts_total');
    proxy.cut();
    await eventually(
      async () => ((await op.metric('tenant_rag_operator_informer_restarts_total')) >= restarts + 3 ? true : undefined),
      30_000,
      'three informers to restart',
    );
    await onboard();
  });

  it('restarts a watch that went silent without an error (watchdog)', async () => {
    await onboard();
    proxy.silence();
    // A change made while the watches are silent is not seen until the watchdog restarts them.
    const tenant = await onboard();
    expect(await op.metric('tenant_rag_operator_informer_restarts_total', { reason: 'watchdog' })).toBeGreaterThanOrEqual(1);
    expect(tenant).toBeTruthy();
  });

  it('recovers from watches that hang while connecting, once the network heals', async () => {
    await onboard();
    // Every connection, open or new, goes dead: restarted watches hang before any response.
    proxy.silenceAll();
    const before = await op.metric('tenant_rag_operator_informer_restarts_total', { reason: 'watchdog' });
    await eventually(
      async () =>
        (await op.metric('tenant_rag_operator_informer_restarts_total', { reason: 'watchdog' })) >= before + 6 ? true : undefined,
      60_000,
      'the watchdog to retire hung watches more than once',
    );
    proxy.resume();
    // The hung connections stay hung; only a watchdog restart on a new connection can recover.
    await onboard();
  });

  it('recovers when the API server restarts', async () => {
    await onboard();
    await c.cp.restartApiServer(2_000);
    await onboard();
    expect(op.proc.child.exitCode).toBeNull();
  });
});
