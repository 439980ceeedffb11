/**
 * The Helm chart against the real API server: it lints; it renders with default and non-default
 * values into manifests the server accepts (server-side dry run); a wrong value is refused by the
 * values schema with a message naming it; and its RBAC is sufficient and no more: the operator,
 * run with the chart's own rendered settings as the chart's ServiceAccount, reconciles the
 * samples, while actions outside its ClusterRole are forbidden.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { EKS_CLUSTER_ARN } from '../support/ministack.js';
import { TestKube } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { run } from '../support/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'charts/tenant-rag-operator');
const samples = join(root, 'config/samples');
const ns = 'tenant-rag-system';
let c: TestCluster;
let helm: string;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  helm = (await run('bash', [join(root, 'scripts/build-helm.sh')])).trim();
  c = await startTestCluster();
  await c.kube.kubectl('create', 'namespace', ns);
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

async function template(...args: string[]): Promise<string> {
  // Offline rendering needs the cluster's version (a source-built helm defaults to an old one).
  return run(helm, ['template', 'tro', chart, '--namespace', ns, '--kube-version', 'v1.34.4', ...args]);
}

async function dryRun(manifests: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tro-chart-'));
  await writeFile(join(dir, 'all.yaml'), manifests);
  return c.kube.kubectl('apply', '--dry-run=server', '-f', join(dir, 'all.yaml'));
}

describe('helm chart', () => {
  it('lints', async () => {
    const out = await run(helm, ['lint', chart]);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  const boundary = ['--set', 'config.permissionsBoundaryArn=arn:aws:iam::111122223333:policy/RagTenantBoundary'];

  it('refuses to install without a permissions boundary, saying how to make one, unless told it is unsafe', async () => {
    await expect(template()).rejects.toThrow(
      /config.permissionsBoundaryArn is required.*aws iam create-policy.*permissionsBoundaryOptional=true/s,
    );
    const unsafe = await template('--set', 'config.permissionsBoundaryOptional=true');
    expect(unsafe).toContain('permissionsBoundaryOptional: true');
    expect(unsafe).not.toContain('permissionsBoundaryArn');
  });

  it('renders with default values and a boundary into manifests the API server accepts', async () => {
    const out = await dryRun(await template(...boundary));
    expect(out).toMatch(/deployment.apps\/tro-tenant-rag-operator created \(server dry run\)/);
    expect(out).toMatch(/clusterrole.rbac.authorization.k8s.io\/tro-tenant-rag-operator created \(server dry run\)/);
  });

  it('renders with non-default values too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tro-values-'));
    await writeFile(
      join(dir, 'values.yaml'),
      [
        'replicaCount: 3',
        'serviceAccount: { annotations: { eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/rag-operator" } }',
        'networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } } }] }',
        'config:',
        '  clusterName: prod-eu-1',
        '  region: eu-central-1',
        '  permissionsBoundaryArn: arn:aws:iam::111122223333:policy/RagTenantBoundary',
        '  approvedModels: [{ id: "amazon.nova-lite-v1:0", inputPricePer1k: 0.00006, outputPricePer1k: 0.00024 }]',
        'extraEnv: [{ name: AWS_ENDPOINT_URL_S3, value: "https://s3.example.internal" }]',
      ].join('\n'),
    );
    const rendered = await template('-f', join(dir, 'values.yaml'));
    expect(rendered).toContain('permissionsBoundaryArn: "arn:aws:iam::111122223333:policy/RagTenantBoundary"');
    const out = await dryRun(rendered);
    expect(out).toMatch(/networkpolicy.networking.k8s.io\/tro-tenant-rag-operator created \(server dry run\)/);
  });

  it('config/default (the kustomize base) is the chart rendered with default values, and applies', async () => {
    const rendered = await run('bash', [join(root, 'scripts/render-install.sh')]);
    expect(await readFile(join(root, 'config/default/install.yaml'), 'utf8'), 'run `npm run gen:install`').toBe(rendered);
    const built = await c.kube.kubectl('kustomize', join(root, 'config/default'));
    const out = await dryRun(built);
    expect(out).toMatch(/deployment.apps\/tenant-rag-operator created \(server dry run\)/);
  });

  it('renders a Pod Security restricted pod', async () => {
    const docs = parseAllDocuments(await template(...boundary)).map(
      (d) => d.toJS() as { kind: string; spec?: { template?: { spec?: Record<string, unknown> } } },
    );
    const pod = docs.find((d) => d.kind === 'Deployment')?.spec?.template?.spec as {
      securityContext: Record<string, unknown>;
      containers: { securityContext: Record<string, unknown> }[];
    };
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it.each([
    {
      name: 'a cluster name that is not a DNS label',
      set: 'config.clusterName=Prod_EU',
      want: /at '\/config\/clusterName': 'Prod_EU' does not match pattern/,
    },
    { name: 'an unknown log level', set: 'config.logLevel=verbose', want: /at '\/config\/logLevel'/ },
    { name: 'a misspelt setting', set: 'config.clustrName=x', want: /clustrName/ },
  ])('refuses $name with a message naming it', async ({ set, want }) => {
    await expect(template(...boundary, '--set', set)).rejects.toThrow(want);
  });

  it('its RBAC is enough for the operator to reconcile the samples, and nothing more', async () => {
    const valuesDir = await mkdtemp(join(tmpdir(), 'tro-values-'));
    await writeFile(
      join(valuesDir, 'values.yaml'),
      [
        'config:',
        '  clusterName: test',
        '  permissionsBoundaryOptional: true',
        `  aws: { s3ForcePathStyle: true, keyPendingWindowDays: 7, openSearchDataPlaneUrl: "${c.dataPlaneUrl}" }`,
        '  operatorRoleArn: arn:aws:iam::123456789012:role/rag-operator',
        `  eksClusterArn: ${EKS_CLUSTER_ARN}`,
        '  approvedModels:',
        '    - { id: "anthropic.claude-3-5-sonnet-20241022-v2:0", inputPricePer1k: 0.003, outputPricePer1k: 0.015 }',
        '    - { id: "amazon.nova-lite-v1:0", inputPricePer1k: 0.00006, outputPricePer1k: 0.00024 }',
      ].join('\n'),
    );
    const rendered = await template('-f', join(valuesDir, 'values.yaml'));
    const docs = parseAllDocuments(rendered).map((d) => d.toJS() as { kind: string; data?: Record<string, string> });
    const rbac = docs.filter((d) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(d.kind));
    const dir = await mkdtemp(join(tmpdir(), 'tro-rbac-'));
    await writeFile(join(dir, 'rbac.yaml'), rbac.map((d) => stringify(d)).join('---\n'));
    await c.kube.kubectl('apply', '-f', join(dir, 'rbac.yaml'));
    // The operator reads exactly the settings the chart renders.
    const config = docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '';
    expect(config).toContain('leaseName: tro-tenant-rag-operator');
    const token = (await c.kube.kubectl('create', 'token', 'tro-tenant-rag-operator', '-n', ns, '--duration=1h')).trim();
    const saKubeconfig = await c.cp.kubeconfigForToken('operator-sa', token);
    const sa = new TestKube(saKubeconfig);

    op = await startOperatorProcess(saKubeconfig, { env: c.awsEnv, rawConfig: config, identity: 'chart-sa' });
    await c.kube.kubectl('apply', '-f', samples);
    for (const t of ['acme', 'globex', 'initech', 'hooli'])
      await c.kube.waitForCondition('Tenant', t, 'Ready', { status: 'True' }, 120_000);
    await c.kube.waitForCondition('ModelAccess', 'acme-claude', 'Ready', { status: 'True' }, 120_000);
    expect(await op.metric('tenant_rag_operator_leader')).toBe(1);

    // Outside the ClusterRole: refused.
    await expect(sa.kubectl('get', 'secrets', '-n', ns)).rejects.toThrow(/forbidden/);
    await expect(sa.kubectl('delete', 'tenant', 'acme', '--wait=false')).rejects.toThrow(/forbidden/);
    await expect(sa.kubectl('create', 'secret', 'generic', 'x', '-n', 'default')).rejects.toThrow(/forbidden/);
    await expect(sa.kubectl('get', 'configmaps', '-n', 'default')).rejects.toThrow(/forbidden/);
    await expect(sa.kubectl('get', 'leases', '-n', 'default')).rejects.toThrow(/forbidden/);
  });
});
