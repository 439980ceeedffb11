/**
 * The outputs ConfigMap of `spec.connection` never takes over anything, against the real API
 * server and the real operator process: a ConfigMap already there (not the operator's, or another
 * tenant's) is left byte for byte as it was and survives the intruding Tenant's deletion; system
 * namespaces are refused at admission; a namespace that is neither the tenant's own nor allowed
 * by `connectionNamespaces` (or is the operator's own) gets no ConfigMap at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, TEST_OPERATOR_SETTINGS, startOperatorProcess } from '../support/operator-process.js';

/** The namespace the test operator's `connectionNamespaces` allows for every tenant. */
const shared = uniq('shared-apps');
/** The test operator's own namespace (its Lease's): never allowed. */
const operatorNamespace = TEST_OPERATOR_SETTINGS.leaderElection.namespace;
const tier = uniq('pool');

let c: TestCluster;
let op: OperatorProcess;

beforeAll(async () => {
  c = await startTestCluster();
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, settings: { resyncSeconds: 3600, connectionNamespaces: [shared] } });
  await c.kube.kubectl('create', 'namespace', shared);
  // Pool tenants are the cheapest to onboard once their tier's shared stack exists.
  await c.kube.apply(`apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: pool }\n`);
  await c.kube.waitForCondition('TenantTier', tier, 'Ready', { status: 'True' }, 180_000);
}, 240_000);
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

/** A Retain pool tenant (deleting it touches no AWS) whose app runs in `podNs`. */
const tenantYaml = (name: string, podNs: string, connNs: string, configMapName = 'rag-connection'): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\n` +
  `spec: { tier: ${tier}, deletionPolicy: Retain, access: { podIdentity: { namespace: ${podNs}, serviceAccount: app } }, ` +
  `connection: { namespace: ${connNs}, configMapName: ${configMapName} } }\n`;

/** What must not change about a ConfigMap the operator does not own. */
interface Snapshot {
  data?: Record<string, string>;
  labels?: Record<string, string>;
  ownerReferences?: { uid: string; name: string; kind: string }[];
  resourceVersion?: string;
}

async function snapshot(namespace: string, name: string): Promise<Snapshot | undefined> {
  let out: string;
  try {
    out = await c.kube.kubectl('get', 'configmap', name, '-n', namespace, '-o', 'json');
  } catch (e) {
    if (/NotFound|not found/.test(String(e))) return undefined;
    throw e;
  }
  const cm = JSON.parse(out) as { data?: Record<string, string>; metadata: Snapshot };
  const { labels, ownerReferences, resourceVersion } = cm.metadata;
  return { data: cm.data, labels, ownerReferences, resourceVersion };
}

const condition = (t: Tenant | undefined, type: string) => t?.status?.conditions?.find((x) => x.type === type);

describe('the outputs ConfigMap never takes over anything', () => {
  it('leaves a ConfigMap it did not create exactly as it was, says so, and does not delete it with the Tenant', async () => {
    const tenant = uniq('squat');
    await c.kube.kubectl('create', 'namespace', tenant);
    await c.kube.kubectl('create', 'configmap', 'rag-connection', '-n', tenant, '--from-literal=Corefile=.:53 { forward . 10.0.0.2 }');
    const before = await snapshot(tenant, 'rag-connection');
    expect(before?.labels).toBeUndefined();

    await c.kube.apply(tenantYaml(tenant, tenant, tenant));
    const t = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      tenant,
      'ConnectionReady',
      { status: 'False', reason: 'ConfigMapConflict' },
      120_000,
    );
    expect(condition(t, 'ConnectionReady')?.message).toMatch(
      new RegExp(
        `ConfigMap ${tenant}/rag-connection already exists and was not created by the operator for this tenant.*set spec.connection.configMapName`,
      ),
    );
    // A component condition: Ready follows it, as with NamespaceNotFound.
    expect(condition(t, 'Ready')).toMatchObject({ status: 'False', reason: 'ConfigMapConflict' });
    expect(await snapshot(tenant, 'rag-connection')).toEqual(before);

    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('Tenant', tenant, 60_000);
    // Unchanged, so no owner reference either: the garbage collector has no reason to take it.
    expect(await snapshot(tenant, 'rag-connection')).toEqual(before);
  }, 240_000);

  it.each(['kube-system', 'kube-public', 'kube-node-lease'])('refuses %s as the connection namespace at admission', async (ns) => {
    const tenant = uniq('sys');
    await expect(c.kube.apply(tenantYaml(tenant, tenant, ns, 'coredns'))).rejects.toThrow(
      /spec.connection.namespace cannot be kube-system, kube-public or kube-node-lease: .*set it to the application's namespace/,
    );
    expect(await c.kube.get('Tenant', tenant)).toBeUndefined();
  });

  it.each(['kube-system', 'kube-public', 'kube-node-lease'])(
    "refuses %s as a Pod Identity namespace at admission (no tenant role for a system service account, and no 'own' system namespace)",
    async (ns) => {
      const tenant = uniq('sys');
      await expect(c.kube.apply(tenantYaml(tenant, ns, uniq('conn')))).rejects.toThrow(
        /spec.access.podIdentity.namespace cannot be kube-system, kube-public or kube-node-lease/,
      );
      expect(await c.kube.get('Tenant', tenant)).toBeUndefined();
    },
  );

  it("a tenant naming another tenant's ConfigMap gets a conflict naming it; the owner keeps its ConfigMap, also after the intruder is deleted", async () => {
    const [owner, intruder] = [uniq('owner'), uniq('intruder')];
    const cmName = `${owner}-conn`;
    await c.kube.apply(tenantYaml(owner, owner, shared, cmName));
    await c.kube.waitForCondition<Tenant>('Tenant', owner, 'ConnectionReady', { status: 'True', reason: 'Published' }, 120_000);
    await c.kube.waitForCondition<Tenant>('Tenant', owner, 'Ready', { status: 'True' }, 60_000);
    const before = await snapshot(shared, cmName);
    expect(before?.data?.TENANT).toBe(owner);
    expect(before?.ownerReferences?.map((r) => r.name)).toEqual([owner]);

    await c.kube.apply(tenantYaml(intruder, intruder, shared, cmName));
    const t = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      intruder,
      'ConnectionReady',
      { status: 'False', reason: 'ConfigMapConflict' },
      120_000,
    );
    expect(condition(t, 'ConnectionReady')?.message).toContain(
      `ConfigMap ${shared}/${cmName} already exists and belongs to Tenant "${owner}"`,
    );
    expect(await snapshot(shared, cmName)).toEqual(before);
    const o = await c.kube.get<Tenant>('Tenant', owner);
    expect(condition(o, 'Ready')?.status).toBe('True');
    expect(condition(o, 'ConnectionReady')?.status).toBe('True');

    await c.kube.delete('Tenant', intruder);
    await c.kube.waitForGone('Tenant', intruder, 60_000);
    expect(await snapshot(shared, cmName)).toEqual(before);
  }, 240_000);

  it.each([
    {
      name: 'neither its own nor allowed',
      own: (t: string) => t,
      conn: () => uniq('elsewhere'),
      why: /is neither the tenant's own namespace/,
    },
    {
      name: "the operator's own, even as its own",
      own: () => operatorNamespace,
      conn: () => operatorNamespace,
      why: /is the operator's own namespace/,
    },
  ])(
    'refuses a namespace that is $name, and creates nothing there',
    async ({ own, conn, why }) => {
      const tenant = uniq('far');
      const [podNs, connNs] = [own(tenant), conn()];
      if (connNs !== operatorNamespace) await c.kube.kubectl('create', 'namespace', connNs);
      await c.kube.apply(tenantYaml(tenant, podNs, connNs, `${tenant}-conn`));
      const t = await c.kube.waitForCondition<Tenant>(
        'Tenant',
        tenant,
        'ConnectionReady',
        { status: 'False', reason: 'ConnectionNamespaceNotAllowed' },
        120_000,
      );
      const message = condition(t, 'ConnectionReady')?.message ?? '';
      expect(message).toMatch(why);
      expect(message).toContain(`"${shared}"`);
      expect(message).toContain('connectionNamespaces');
      expect(await snapshot(connNs, `${tenant}-conn`)).toBeUndefined();
    },
    240_000,
  );
});
