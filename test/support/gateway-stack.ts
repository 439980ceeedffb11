/**
 * What a gateway integration test runs on: a test cluster with the operator making tenants Ready,
 * real Redis and the runtime fakes, and the callers' identities (namespaces, ServiceAccounts and
 * their projected tokens for the gateway's audience).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { clientsFor } from './aws.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import { type GatewayFakes, startGatewayFakes } from './gateway-env.js';
import type { TestKube } from './kube.js';
import { type OperatorProcess, startOperatorProcess } from './operator-process.js';
import { startRedis, type TestRedis } from './redis.js';

/** The audience the gateway's callers' tokens are issued for (the chart's default). */
export const GATEWAY_AUDIENCE = 'tenant-rag-gateway';

/** The running parts; `stop` stops them all. */
export interface GatewayStack {
  c: TestCluster;
  aws: AwsClients;
  redis: TestRedis;
  fakes: GatewayFakes;
  op: OperatorProcess;
  /** Where the parts' logs go (and gateway processes' logs may). */
  logDir: string;
  stop(): Promise<void>;
}

/** Starts the stack (logs in a temporary directory named after `name`); what started is stopped if a part fails. */
export async function startGatewayStack(name: string): Promise<GatewayStack> {
  const logDir = await mkdtemp(join(tmpdir(), `tro-${name}-`));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const c = await startTestCluster();
    stops.push(() => c.stop());
    const [redis, fakes] = await Promise.all([startRedis(join(logDir, 'redis.log')), startGatewayFakes(c)]);
    stops.push(
      () => redis.close(),
      () => fakes.stop(),
    );
    const op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, settings: { resyncSeconds: 3600 } });
    stops.push(() => op.stop());
    return { c, aws: clientsFor(c.moto, c.ministack, c.fakes), redis, fakes, op, logDir, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** A namespace and a ServiceAccount `app` in it per tenant, named as the tenants' podIdentity names them. */
export async function createAppServiceAccounts(kube: TestKube, tenants: readonly string[]): Promise<void> {
  for (const t of tenants) {
    await kube.kubectl('create', 'namespace', t);
    await kube.kubectl('create', 'serviceaccount', 'app', '-n', t);
  }
}

/** A projected token of ServiceAccount `sa` in `ns`, for `audience`, valid an hour. */
export async function projectedToken(kube: TestKube, ns: string, sa = 'app', audience = GATEWAY_AUDIENCE): Promise<string> {
  return (await kube.kubectl('create', 'token', sa, '-n', ns, '--audience', audience, '--duration', '1h')).trim();
}
