/**
 * The ministack AWS emulator (PyPI `ministack`, installed into a venv by scripts/setup.sh), started
 * on a free loopback port. Only the OpenSearch Serverless control plane is routed to it; moto
 * serves everything else.
 */
import { homedir } from 'node:os';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { join } from 'node:path';
import { eventually, freePort, type Proc, startProcess, stopProcess } from './processes.js';

/** Pinned ministack version; scripts/setup.sh installs the same. */
export const MINISTACK_VERSION = process.env.MINISTACK_VERSION ?? '1.5.33';

/** A running ministack server. */
export interface Ministack {
  endpoint: string;
  /** Environment that points the SDK's OpenSearch Serverless client at this server. */
  env: Record<string, string>;
  /** Forgets every resource (POST /_ministack/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Path of the ministack entry point. */
export function ministackBinary(): string {
  const cache = process.env.TRO_CACHE ?? join(homedir(), '.cache/tenant-rag-operator');
  return join(cache, `ministack-${MINISTACK_VERSION}`, 'bin', 'ministack');
}

/** The EKS cluster every ministack gets (Pod Identity associations need one), as operators name it. */
export const EKS_CLUSTER_ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/operator-test';

/** Creates the EKS cluster of {@link EKS_CLUSTER_ARN} (ministack serves EKS without nodes). */
async function createEksCluster(endpoint: string): Promise<void> {
  const eks = new EKSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    await eks.send(
      new CreateClusterCommand({
        name: EKS_CLUSTER_ARN.split('/').pop() ?? '',
        roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
        resourcesVpcConfig: { subnetIds: [] },
      }),
    );
  } finally {
    eks.destroy();
  }
}

/** Starts ministack in the account moto uses, with an EKS cluster; resolves when it answers. */
export async function startMinistack(logFile: string, account = '123456789012'): Promise<Ministack> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    GATEWAY_PORT: String(port),
    BIND_HOST: '127.0.0.1',
    MINISTACK_ACCOUNT_ID: account,
    MINISTACK_REGION: 'us-east-1',
    // Keep its state in memory and its OpenSearch data plane (Docker) off.
    PERSIST_STATE: '0',
    OPENSEARCH_DATAPLANE: '0',
    LOG_LEVEL: 'WARNING',
  };
  const proc: Proc = startProcess(ministackBinary(), [], logFile, env);
  await eventually(
    async () => ((await fetch(`${endpoint}/_ministack/health`).catch(() => undefined))?.ok ? true : undefined),
    30_000,
    `ministack on ${endpoint} (log: ${logFile})`,
    200,
  );
  await createEksCluster(endpoint);
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_OPENSEARCHSERVERLESS: endpoint, AWS_ENDPOINT_URL_EKS: endpoint },
    async reset() {
      const res = await fetch(`${endpoint}/_ministack/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`ministack reset failed: ${res.status}`);
      await createEksCluster(endpoint);
    },
    stop: () => stopProcess(proc),
  };
}
