/**
 * The whole RAG stack per isolation pattern, over the wire: the operator process against the
 * local API server, moto (S3, IAM, KMS, STS), ministack (OpenSearch Serverless control plane) and
 * the fakes (data plane, bedrock-agent). Onboarding to Ready with every id on status, tenants
 * kept apart in policies, indexes and knowledge bases, ingestion with statistics, drift repair,
 * and deletion that leaves nothing behind.
 */
import {
  BatchGetCollectionCommand,
  DeleteAccessPolicyCommand,
  GetAccessPolicyCommand,
  ListAccessPoliciesCommand,
  ListCollectionsCommand,
  ListSecurityPoliciesCommand,
} from '@aws-sdk/client-opensearchserverless';
import { ListKnowledgeBasesCommand } from '@aws-sdk/client-bedrock-agent';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { eventually } from '../support/processes.js';
import { readyIn, tenantYaml, tierYaml, useStack } from '../support/stack.js';

let c: TestCluster;
let aws: AwsClients;
const stack = useStack();
beforeAll(() => ({ c, aws } = stack));

const ready = readyIn(stack);
const condition = (t: Tenant | TenantTier, type: string) => t.status?.conditions?.find((x) => x.type === type);

async function dataPolicy(name: string): Promise<{ Rules: { Resource: string[]; ResourceType: string }[]; Principal: string[] }[]> {
  const d = await aws.aoss.send(new GetAccessPolicyCommand({ name, type: 'data' }));
  const p = d.accessPolicyDetail?.policy;
  return (typeof p === 'string' ? JSON.parse(p) : p) as { Rules: { Resource: string[]; ResourceType: string }[]; Principal: string[] }[];
}

async function namesContaining(part: string): Promise<string[]> {
  const [cols, enc, net, data, kbs] = await Promise.all([
    aws.aoss.send(new ListCollectionsCommand({})),
    aws.aoss.send(new ListSecurityPoliciesCommand({ type: 'encryption' })),
    aws.aoss.send(new ListSecurityPoliciesCommand({ type: 'network' })),
    aws.aoss.send(new ListAccessPoliciesCommand({ type: 'data' })),
    aws.bedrockAgent.send(new ListKnowledgeBasesCommand({})),
  ]);
  return [
    ...(cols.collectionSummaries ?? []).map((x) => `collection:${x.name ?? ''}`),
    ...(enc.securityPolicySummaries ?? []).map((x) => `encryption:${x.name ?? ''}`),
    ...(net.securityPolicySummaries ?? []).map((x) => `network:${x.name ?? ''}`),
    ...(data.accessPolicySummaries ?? []).map((x) => `data:${x.name ?? ''}`),
    ...(kbs.knowledgeBaseSummaries ?? []).map((x) => `kb:${x.name ?? ''}`),
  ].filter((n) => n.includes(part));
}

describe('the RAG stack per isolation pattern', () => {
  it('silo: its own collection, policies, index, knowledge base and data source, ids on status, documents synced', async () => {
    const tier = uniq('silo');
    const tenant = uniq('acme');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    let t = await ready<Tenant>('Tenant', tenant);
    const r = t.status?.resources ?? {};
    expect(r.collectionArn).toMatch(/^arn:aws:aoss:us-east-1:\d{12}:collection\/[a-z0-9]+$/);
    expect(r.knowledgeBaseId).toMatch(/^[0-9A-Z]{10}$/);
    expect(r.dataSourceId).toMatch(/^[0-9A-Z]{10}$/);
    expect(r.indexName).toBe(`rag-test-t-${tenant}`);
    for (const type of ['StorageReady', 'IdentityReady', 'VectorStoreReady', 'KnowledgeBaseReady', 'IngestionReady']) {
      expect(condition(t, type)?.status, type).toBe('True');
    }
    // The index Bedrock validated exists in the tenant's collection with the model's dimension.
    const index = c.fakes.indexes.get(r.collectionId ?? '', r.indexName ?? '');
    expect(index).toBeDefined();
    const kb = c.fakes.bedrockAgent.state.knowledgeBases.get(r.knowledgeBaseId ?? '');
    expect(JSON.stringify(kb)).toContain(r.collectionArn);
    // Only the tenant's knowledge base role and the operator reach the collection.
    const [stmt] = await dataPolicy(`rag-test-t-${tenant}`);
    expect(stmt?.Principal.sort()).toEqual([r.knowledgeBaseRoleArn, 'arn:aws:iam::123456789012:role/rag-operator'].sort());

    // Documents in, an on-demand sync, statistics on status.
    for (const k of ['a.txt', 'b.txt']) await aws.s3.send(new PutObjectCommand({ Bucket: r.bucket, Key: `docs/${k}`, Body: `text ${k}` }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, 'rag.tenancy.dev/sync-requested-at=2026-11-23T12:00:00Z');
    t = await eventually(
      async () => {
        const x = await c.kube.get<Tenant>('Tenant', tenant);
        return x?.status?.ingestion?.lastRequestedAt === '2026-11-23T12:00:00Z' && x.status.ingestion.lastStatus === 'COMPLETE'
          ? x
          : undefined;
      },
      90_000,
      'the on-demand sync to complete',
    );
    expect(t.status?.ingestion).toMatchObject({ documentsScanned: 2, documentsIndexed: 2, documentsFailed: 0 });
    expect(c.fakes.bedrockAgent.vectors(r.knowledgeBaseId ?? '')).toHaveLength(2);
  });

  it('bridge: one collection for the tier, an index and knowledge base per tenant, each policy naming only its own index', async () => {
    const tier = uniq('bridge');
    const [a, b] = [uniq('a'), uniq('b')];
    await c.kube.apply(tierYaml(tier, 'bridge') + '---\n' + tenantYaml(a, tier) + '---\n' + tenantYaml(b, tier));
    const tr = await ready<TenantTier>('TenantTier', tier);
    const ta = await ready<Tenant>('Tenant', a);
    const tb = await ready<Tenant>('Tenant', b);
    expect(ta.status?.resources?.collectionArn).toBe(tr.status?.shared?.collectionArn);
    expect(tb.status?.resources?.collectionArn).toBe(tr.status?.shared?.collectionArn);
    expect(ta.status?.resources?.knowledgeBaseId).not.toBe(tb.status?.resources?.knowledgeBaseId);
    const [pa] = await dataPolicy(`rag-test-t-${a}`);
    expect(pa?.Rules.flatMap((x) => x.Resource)).toEqual([`index/rag-test-tier-${tier}/rag-test-t-${a}`]);
    expect(pa?.Principal).toEqual([ta.status?.resources?.knowledgeBaseRoleArn]);
    expect(JSON.stringify(pa)).not.toContain(b);
    const collectionId = tr.status?.shared?.collectionId ?? '';
    expect([...c.fakes.indexes.of(collectionId).keys()].sort()).toEqual([`rag-test-t-${a}`, `rag-test-t-${b}`].sort());
  });

  it("pool: one shared knowledge base; tenants' documents carry their tenantId, and a deleted tenant's vectors leave the index", async () => {
    const tier = uniq('pool');
    const [gone, stays] = [uniq('gone'), uniq('stays')];
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(gone, tier) + '---\n' + tenantYaml(stays, tier));
    const tr = await ready<TenantTier>('TenantTier', tier);
    const g = await ready<Tenant>('Tenant', gone);
    await ready<Tenant>('Tenant', stays);
    const shared = tr.status?.shared ?? {};
    expect(g.status?.resources).toMatchObject({ knowledgeBaseId: shared.knowledgeBaseId, dataSourceId: shared.dataSourceId });
    for (const [t, n] of [
      [gone, 2],
      [stays, 1],
    ] as const)
      for (let i = 0; i < n; i++)
        await aws.s3.send(new PutObjectCommand({ Bucket: shared.bucket, Key: `tenants/${t}/doc${i}.txt`, Body: `doc ${i} of ${t}` }));
    // An on-demand sync asked by one tenant writes its sidecars first and syncs the shared source.
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/sync-requested-at=t1');
    const kb = shared.knowledgeBaseId ?? '';
    const byTenant = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const v of c.fakes.bedrockAgent.vectors(kb)) out[String(v.metadata.tenantId)] = (out[String(v.metadata.tenantId)] ?? 0) + 1;
      return out;
    };
    await eventually(() => (byTenant()[gone] === 2 && byTenant()[stays] === 1 ? true : undefined), 90_000, 'vectors of both tenants');
    await c.kube.delete('Tenant', gone);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    expect(byTenant()).toEqual({ [stays]: 1 });
  });

  it('repairs a data access policy and an index deleted behind its back', async () => {
    const tier = uniq('drift');
    const tenant = uniq('d');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    const t = await ready<Tenant>('Tenant', tenant);
    const r = t.status?.resources ?? {};
    await aws.aoss.send(new DeleteAccessPolicyCommand({ name: `rag-test-t-${tenant}`, type: 'data' }));
    c.fakes.indexes.of(r.collectionId ?? '').delete(r.indexName ?? '');
    await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, 'rag.tenancy.dev/reconcile-requested-at=now');
    await eventually(
      async () =>
        (await dataPolicy(`rag-test-t-${tenant}`).catch(() => undefined)) && c.fakes.indexes.get(r.collectionId ?? '', r.indexName ?? '')
          ? true
          : undefined,
      60_000,
      'the policy and the index to be restored',
    );
  });

  it('deletes every vector-store and knowledge base resource of a Delete tenant and none of a Retain tenant', async () => {
    const tier = uniq('bye');
    const [gone, kept] = [uniq('gone'), uniq('kept')];
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(gone, tier, 'Delete') + '---\n' + tenantYaml(kept, tier, 'Retain'));
    await ready<Tenant>('Tenant', gone);
    const k = await ready<Tenant>('Tenant', kept);
    const keptBefore = await namesContaining(kept);
    expect(keptBefore.sort()).toEqual(
      [
        `collection:rag-test-t-${kept}`,
        `encryption:rag-test-t-${kept}`,
        `network:rag-test-t-${kept}`,
        `data:rag-test-t-${kept}`,
        `kb:rag-test-t-${kept}`,
      ].sort(),
    );
    await c.kube.delete('Tenant', gone);
    await c.kube.delete('Tenant', kept);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    await c.kube.waitForGone('Tenant', kept, 60_000);
    expect(await namesContaining(gone)).toEqual([]);
    expect((await namesContaining(kept)).sort()).toEqual(keptBefore.sort());
    const col = await aws.aoss.send(new BatchGetCollectionCommand({ ids: [k.status?.resources?.collectionId ?? ''] }));
    expect(col.collectionDetails?.[0]?.status).toBe('ACTIVE');
  });

  it('a tier cannot go while tenants use it; it says so, and goes (with its shared stack) once they are gone', async () => {
    const tier = uniq('busy');
    const tenant = uniq('m');
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier));
    await ready<Tenant>('Tenant', tenant);
    await c.kube.delete('TenantTier', tier);
    await c.kube.waitForCondition('TenantTier', tier, 'Ready', { status: 'False', reason: 'TierInUse' }, 30_000);
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('TenantTier', tier, 180_000);
    expect(await namesContaining(`tier-${tier}`)).toEqual([]);
  });

  it("a tier whose bucket still holds a Retain tenant's documents is not deleted until they are gone", async () => {
    const tier = uniq('keep');
    const tenant = uniq('r');
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier, 'Retain'));
    const tr = await ready<TenantTier>('TenantTier', tier);
    await ready<Tenant>('Tenant', tenant);
    const bucket = tr.status?.shared?.bucket ?? '';
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tenants/${tenant}/contract.txt`, Body: 'keep me' }));
    await c.kube.deleteRetainedTenantThenTier(tenant, tier);
    expect(await namesContaining(`tier-${tier}`)).toContain(`kb:rag-test-tier-${tier}`);
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `tenants/${tenant}/contract.txt` }));
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `tenants/${tenant}/contract.txt.metadata.json` }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/reconcile-requested-at=now');
    await c.kube.waitForGone('TenantTier', tier, 180_000);
    expect(await namesContaining(`tier-${tier}`)).toEqual([]);
  }, 400_000);

  it('publishes the connection details in the namespace spec.connection names, once it exists, and removes them with the tenant', async () => {
    const tier = uniq('conn');
    const tenant = uniq('app');
    // Its own Pod Identity namespace (tenantYaml), the one it may publish to without configuration.
    const ns = tenant;
    await c.kube.apply(
      tierYaml(tier, 'bridge') +
        '---\n' +
        tenantYaml(tenant, tier).replace('deletionPolicy: Delete,', `deletionPolicy: Delete, connection: { namespace: ${ns} },`),
    );
    await c.kube.waitForCondition('Tenant', tenant, 'ConnectionReady', { status: 'False', reason: 'NamespaceNotFound' }, 120_000);
    await c.kube.kubectl('create', 'namespace', ns);
    await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, 'rag.tenancy.dev/reconcile-requested-at=ns');
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'ConnectionReady', { status: 'True' }, 60_000);
    const cm = JSON.parse(await c.kube.kubectl('get', 'configmap', 'rag-connection', '-n', ns, '-o', 'json')) as {
      data: Record<string, string>;
    };
    expect(cm.data).toMatchObject({
      TENANT: tenant,
      ISOLATION: 'bridge',
      KNOWLEDGE_BASE_ID: t.status?.resources?.knowledgeBaseId,
      ROLE_ARN: t.status?.resources?.roleArn,
      PREFIX: `tenants/${tenant}/`,
    });
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('Tenant', tenant, 120_000);
    await expect(c.kube.kubectl('get', 'configmap', 'rag-connection', '-n', ns)).rejects.toThrow(/NotFound|not found/);
  }, 300_000);

  it("a spec change reaches AWS: a new service account in spec.access rewrites the tenant role's trust, nothing else is recreated", async () => {
    const tier = uniq('chg');
    const tenant = uniq('c');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    const before = await ready<Tenant>('Tenant', tenant);
    await c.kube.apply(tenantYaml(tenant, tier).replace('serviceAccount: app', 'serviceAccount: app-v2'));
    const trust = async (): Promise<string> => {
      const role = await aws.iam.send(new GetRoleCommand({ RoleName: `rag-test-t-${tenant}-app` }));
      return decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '');
    };
    await eventually(async () => ((await trust()).includes('"app-v2"') ? true : undefined), 60_000, 'the trust policy to name app-v2');
    const after = await eventually(
      async () => {
        const x = await c.kube.get<Tenant>('Tenant', tenant);
        return x?.status?.observedGeneration === 2 && x.status.conditions?.some((k) => k.type === 'Ready' && k.status === 'True')
          ? x
          : undefined;
      },
      60_000,
      'the new generation to be Ready',
    );
    expect(after.status?.resources?.knowledgeBaseId).toBe(before.status?.resources?.knowledgeBaseId);
    expect(after.status?.resources?.collectionArn).toBe(before.status?.resources?.collectionArn);
  });
});
