/**
 * What the per-pattern stack tests share: one test cluster and one operator process for the file
 * (started before its tests, stopped after), the tier and tenant manifests they apply, and waits
 * for Ready and for an on-demand sync.
 */
import { afterAll, beforeAll } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { clientsFor } from './aws.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import { type OperatorProcess, startOperatorProcess } from './operator-process.js';
import { eventually } from './processes.js';

/** The file's cluster, operator and AWS clients, set once its `beforeAll` has run. */
export interface Stack {
  c: TestCluster;
  op: OperatorProcess;
  aws: AwsClients;
}

/** Registers the file's hooks: a cluster and an operator (resync an hour: tests ask for passes). */
export function useStack(): Stack {
  const s = {} as Stack;
  beforeAll(async () => {
    s.c = await startTestCluster();
    s.aws = clientsFor(s.c.moto, s.c.ministack, s.c.fakes);
    s.op = await startOperatorProcess(s.c.cp.kubeconfig, { cluster: s.c, settings: { resyncSeconds: 3600 } });
  });
  afterAll(async () => {
    await s.op?.stop();
    await s.c?.stop();
  });
  return s;
}

/** A TenantTier; `extra` continues its spec (`, vectorStore: { type: S3Vectors }`). */
export const tierYaml = (name: string, isolation: string, extra = ''): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation}${extra} }\n`;

/** A Tenant whose application is its namespace's `app` service account; `extra` continues its spec. */
export const tenantYaml = (name: string, tier: string, policy = 'Delete', extra = ''): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: ${policy}, access: { podIdentity: { namespace: ${name}, serviceAccount: app } }${extra} }\n`;

/** Waits for `kind` `name` to be Ready. */
export const readyIn =
  (s: Stack) =>
  <T extends Tenant | TenantTier>(kind: 'Tenant' | 'TenantTier', name: string, timeoutMs = 120_000): Promise<T> =>
    s.c.kube.waitForCondition<T>(kind, name, 'Ready', { status: 'True' }, timeoutMs);

/** Asks for an on-demand sync of a tenant's data source and waits for it to complete. */
export async function syncTenant(s: Stack, name: string, at: string): Promise<Tenant> {
  await s.c.kube.kubectl('annotate', '--overwrite', 'tenant', name, `rag.tenancy.dev/sync-requested-at=${at}`);
  return eventually(
    async () => {
      const x = await s.c.kube.get<Tenant>('Tenant', name);
      return x?.status?.ingestion?.lastRequestedAt === at && x.status.ingestion.lastStatus === 'COMPLETE' ? x : undefined;
    },
    90_000,
    `the on-demand sync of ${name} to complete`,
  );
}
