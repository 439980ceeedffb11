/**
 * The chart's gateway against the real API server: with `gateway.enabled` it renders a
 * Deployment, Service, ServiceAccount, PodDisruptionBudget, optional HPA and a read-only
 * ClusterRole the server accepts (server-side dry run); it refuses to render without a Redis URL;
 * and its RBAC is enough for a gateway process run as the chart's ServiceAccount (informers sync,
 * TokenReviews are made) and nothing more.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { type GatewayProcess, startGatewayProcess } from '../support/gateway-env.js';
import { TestKube } from '../support/kube.js';
import { run } from '../support/processes.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'charts/tenant-rag-operator');
const ns = 'tenant-rag-system';
let c: TestCluster;
let helm: string;
let redis: TestRedis;
let gw: GatewayProcess | undefined;

beforeAll(async () => {
  helm = (await run('bash', [join(root, 'scripts/build-helm.sh')])).trim();
  [c, redis] = await Promise.all([startTestCluster(), startRedis()]);
  await c.kube.kubectl('create', 'namespace', ns);
});
afterAll(async () => {
  await gw?.stop();
  await redis?.close();
  await c?.stop();
});

const boundary = ['--set', 'config.permissionsBoundaryArn=arn:aws:iam::123456789012:policy/RagTenantBoundary'];
const gatewayOn = ['--set', 'gateway.enabled=true', '--set', 'gateway.redis.url=rediss://redis.example:6380'];
const template = (...args: string[]): Promise<string> =>
  run(helm, ['template', 'tro', chart, '--namespace', ns, '--kube-version', 'v1.34.4', ...boundary, ...args]);
type Doc = { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; rules?: unknown[] };
const docs = (yaml: string): Doc[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);

describe('the chart with the gateway', () => {
  it('renders nothing of the gateway by default', async () => {
    expect((await template()).includes('gateway')).toBe(false);
  });

  it('refuses to render the gateway without a Redis URL, naming the value', async () => {
    await expect(template('--set', 'gateway.enabled=true')).rejects.toThrow(/gateway\.redis\.url is required/);
    await expect(template(...gatewayOn, '--set', 'gateway.redis.url=http://x')).rejects.toThrow(/gateway\.redis\.url/);
  });

  it('renders manifests the API server accepts, with a read-only ClusterRole and separate selectors', async () => {
    const out = await template(
      ...gatewayOn,
      '--set',
      'gateway.autoscaling.enabled=true',
      '--set',
      'gateway.redis.passwordSecret.name=redis-auth',
    );
    const all = docs(out);
    const kinds = all
      .filter((d) => d.metadata.name.endsWith('-gateway'))
      .map((d) => d.kind)
      .sort();
    expect(kinds).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    const role = all.find((d) => d.kind === 'ClusterRole' && d.metadata.name.endsWith('-gateway'));
    expect(role?.rules).toEqual([
      { apiGroups: ['rag.tenancy.dev'], resources: ['tenanttiers', 'tenants', 'modelaccesses'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    ]);
    const selector = (name: string): unknown =>
      (all.find((d) => d.kind === 'Deployment' && d.metadata.name === name)?.spec?.selector as { matchLabels: unknown }).matchLabels;
    expect(selector('tro-tenant-rag-operator-gateway')).not.toEqual(selector('tro-tenant-rag-operator'));
    // Each process its own Node flags: the operator's small young generation is not the gateway's.
    const nodeOptions = (name: string): unknown => {
      const pod = (
        all.find((d) => d.kind === 'Deployment' && d.metadata.name === name)?.spec?.template as {
          spec: { containers: { env?: { name: string; value?: string }[] }[] };
        }
      ).spec;
      return pod.containers[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
    };
    expect(nodeOptions('tro-tenant-rag-operator-gateway')).toBe('--max-old-space-size=160');
    expect(nodeOptions('tro-tenant-rag-operator')).toBe('--max-old-space-size=160 --max-semi-space-size=2');
    const dir = await mkdtemp(join(tmpdir(), 'tro-gwchart-'));
    await writeFile(join(dir, 'all.yaml'), out);
    await c.kube.kubectl('apply', '--dry-run=server', '-f', join(dir, 'all.yaml'));
  });

  it('its RBAC is enough for a gateway run as its ServiceAccount, and nothing more', async () => {
    const rbac = docs(await template(...gatewayOn)).filter(
      (d) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(d.kind) && d.metadata.name.endsWith('-gateway'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'tro-gwrbac-'));
    await writeFile(join(dir, 'rbac.yaml'), rbac.map((d) => stringify(d)).join('---\n'));
    await c.kube.kubectl('apply', '-f', join(dir, 'rbac.yaml'));
    const token = (await c.kube.kubectl('create', 'token', 'tro-tenant-rag-operator-gateway', '-n', ns, '--duration=1h')).trim();
    const kubeconfig = await c.cp.kubeconfigForToken('gateway-sa', token);
    // Ready means its three informers listed and watch as the ServiceAccount.
    gw = await startGatewayProcess(kubeconfig, c.cp.dir, { GATEWAY_REDIS_URL: redis.url });
    // A caller's token is reviewed (a forbidden TokenReview would be a 503): a ServiceAccount no
    // Tenant names is a 401.
    await c.kube.kubectl('create', 'serviceaccount', 'stranger', '-n', ns);
    const caller = (await c.kube.kubectl('create', 'token', 'stranger', '-n', ns, '--audience', 'tenant-rag-gateway')).trim();
    const res = await fetch(`${gw.url}/v1/retrieve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' },
      body: '{"query":"x"}',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain(`system:serviceaccount:${ns}:stranger is not the podIdentity of any Tenant`);
    const sa = new TestKube(kubeconfig);
    const can = (...args: string[]): Promise<boolean> =>
      sa.kubectl('auth', 'can-i', ...args).then(
        () => true,
        () => false,
      );
    for (const ok of [
      ['watch', 'tenants'],
      ['list', 'modelaccesses'],
      ['get', 'tenanttiers'],
      ['create', 'tokenreviews.authentication.k8s.io'],
    ]) {
      expect(await can(...ok), ok.join(' ')).toBe(true);
    }
    const no = [
      ['patch', 'tenants'],
      ['patch', 'tenants', '--subresource=status'],
      ['delete', 'modelaccesses'],
      ['create', 'tenanttiers'],
      ['get', 'secrets', '-n', ns],
      ['get', 'configmaps', '-n', ns],
      ['create', 'serviceaccounts/token', '-n', ns],
      ['create', 'subjectaccessreviews.authorization.k8s.io'],
    ];
    for (const n of no) expect(await can(...n), n.join(' ')).toBe(false);
  });
});
