/**
 * Tiers on Bedrock-managed knowledge bases (`vectorStore.type: Managed`), per isolation pattern,
 * over the wire: the operator process against the local API server, moto (S3, IAM, KMS) and the
 * bedrock-agent fake, which checks a MANAGED knowledge base and its S3 connector data source as
 * Bedrock does (no storage configuration, the managed embedding model, DELETE only, no chunking,
 * the role allowed to read the bucket per its IAM policies in moto, CREATING then AVAILABLE) and
 * keeps the vectors it ingests in its own store. Onboarding to Ready with the ids on status,
 * documents synced (pool vectors with their tenantId), deletion that leaves nothing with Delete
 * and everything with Retain, and tenant overrides refused on a Managed tier.
 */
import {
  CreateDataSourceCommand,
  CreateKnowledgeBaseCommand,
  GetDataSourceCommand,
  GetKnowledgeBaseCommand,
} from '@aws-sdk/client-bedrock-agent';
import { GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { eventually } from '../support/processes.js';
import { readyIn, syncTenant as syncStack, tenantYaml, tierYaml as baseTierYaml, useStack } from '../support/stack.js';

let c: TestCluster;
let aws: AwsClients;
const stack = useStack();
beforeAll(() => ({ c, aws } = stack));

const tierYaml = (name: string, isolation: string, extra = ''): string =>
  baseTierYaml(name, isolation, `, vectorStore: { type: Managed }${extra}`);
const ready = readyIn(stack);
const syncTenant = (name: string, at: string): Promise<Tenant> => syncStack(stack, name, at);

/** The knowledge base as GetKnowledgeBase returns it. */
const kbOf = async (id: string | undefined) =>
  (await aws.bedrockAgent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: id ?? '' }))).knowledgeBase;

/** The connector parameters of a data source, as GetDataSource returns them (a JSON string or an object). */
async function connectorOf(kbId: string | undefined, dsId: string | undefined): Promise<Record<string, unknown>> {
  const ds = (await aws.bedrockAgent.send(new GetDataSourceCommand({ knowledgeBaseId: kbId ?? '', dataSourceId: dsId ?? '' }))).dataSource;
  expect(ds?.dataSourceConfiguration?.type).toBe('MANAGED_KNOWLEDGE_BASE_CONNECTOR');
  expect(ds?.dataDeletionPolicy).toBe('DELETE');
  expect(ds?.vectorIngestionConfiguration?.chunkingConfiguration).toBeUndefined();
  const raw: unknown = ds?.dataSourceConfiguration?.managedKnowledgeBaseConnectorConfiguration?.connectorParameters;
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
}

/** The actions of the knowledge base role's inline policy. */
async function kbRoleActions(roleArn: string | undefined): Promise<string[]> {
  const RoleName = (roleArn ?? '').split('/').pop();
  const doc = decodeURIComponent(
    (await aws.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName: 'knowledge-base' }))).PolicyDocument ?? '',
  );
  return (JSON.parse(doc) as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) => [s.Action].flat()).sort();
}

const exists = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => true,
    () => false,
  );

describe('tiers on Bedrock-managed knowledge bases', () => {
  it("silo: its own bucket and key, a MANAGED knowledge base under its key with no storage, the S3 connector on its bucket, and its documents' vectors", async () => {
    const tier = uniq('mgsilo');
    const tenant = uniq('acme');
    await c.kube.apply(tierYaml(tier, 'silo', ', storage: { encryption: TenantKey }') + '---\n' + tenantYaml(tenant, tier));
    const t = await ready<Tenant>('Tenant', tenant);
    const r = t.status?.resources ?? {};
    expect(t.status?.vectorStore).toBe('Managed');
    expect(r.knowledgeBaseId).toMatch(/^[0-9A-Z]{10}$/);
    expect(r.dataSourceId).toMatch(/^[0-9A-Z]{10}$/);
    expect(r.kmsKeyArn).toMatch(/^arn:aws:kms:/);
    for (const k of ['collectionArn', 'indexName', 'vectorBucketName', 'vectorIndexArn']) expect(r[k as keyof typeof r], k).toBeUndefined();
    const kb = await kbOf(r.knowledgeBaseId);
    expect(kb?.knowledgeBaseConfiguration).toEqual({
      type: 'MANAGED',
      managedKnowledgeBaseConfiguration: { embeddingModelType: 'MANAGED', serverSideEncryptionConfiguration: { kmsKeyArn: r.kmsKeyArn } },
    });
    expect(kb?.storageConfiguration).toBeUndefined();
    expect(await connectorOf(r.knowledgeBaseId, r.dataSourceId)).toEqual({
      type: 'S3',
      version: '1',
      connectionConfiguration: { bucketName: r.bucket, bucketOwnerAccountId: '123456789012' },
    });
    // The role reads the documents (and decrypts them through S3): no model, no vector store.
    expect(await kbRoleActions(r.knowledgeBaseRoleArn)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:ListBucket']);

    for (const k of ['a.txt', 'b.txt']) await aws.s3.send(new PutObjectCommand({ Bucket: r.bucket, Key: `docs/${k}`, Body: `text ${k}` }));
    const synced = await syncTenant(tenant, 'first');
    expect(synced.status?.ingestion).toMatchObject({ documentsScanned: 2, documentsIndexed: 2, documentsFailed: 0 });
    const vectors = c.fakes.bedrockAgent.vectors(r.knowledgeBaseId ?? '');
    expect(vectors.map((v) => v.sourceUri).sort()).toEqual([`s3://${r.bucket}/docs/a.txt`, `s3://${r.bucket}/docs/b.txt`]);
    expect(vectors.every((v) => v.dataSourceId === r.dataSourceId)).toBe(true);
  });

  it('the fake refuses what a managed knowledge base does not take, and fails a connector its role cannot read', async () => {
    const tier = uniq('mgfake');
    const tenant = uniq('f');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    const r = (await ready<Tenant>('Tenant', tenant)).status?.resources ?? {};
    const kb = await kbOf(r.knowledgeBaseId);
    const create = (over: object) =>
      aws.bedrockAgent.send(
        new CreateKnowledgeBaseCommand({
          name: uniq('mgx'),
          roleArn: kb?.roleArn,
          knowledgeBaseConfiguration: { type: 'MANAGED', managedKnowledgeBaseConfiguration: { embeddingModelType: 'MANAGED' } },
          ...over,
        }),
      );
    await expect(
      create({
        storageConfiguration: {
          type: 'S3_VECTORS',
          s3VectorsConfiguration: { indexArn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/b-b-b/index/i-i-i' },
        },
      }),
    ).rejects.toThrow(/takes no storageConfiguration/);
    await expect(
      create({
        knowledgeBaseConfiguration: {
          type: 'MANAGED',
          managedKnowledgeBaseConfiguration: {
            embeddingModelType: 'MANAGED',
            embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0',
          },
        },
      }),
    ).rejects.toThrow(/must not be specified when embeddingModelType is MANAGED/);
    const params = (bucketName: string) => ({ type: 'S3', version: '1', connectionConfiguration: { bucketName } });
    const source = (over: object, bucketName = r.bucket ?? '') =>
      aws.bedrockAgent.send(
        new CreateDataSourceCommand({
          knowledgeBaseId: r.knowledgeBaseId,
          name: uniq('ds'),
          dataSourceConfiguration: {
            type: 'MANAGED_KNOWLEDGE_BASE_CONNECTOR',
            managedKnowledgeBaseConnectorConfiguration: { connectorParameters: params(bucketName) },
          },
          ...over,
        }),
      );
    await expect(source({ dataDeletionPolicy: 'RETAIN' })).rejects.toThrow(/only supported dataDeletionPolicy is DELETE/);
    await expect(source({ vectorIngestionConfiguration: { chunkingConfiguration: { chunkingStrategy: 'NONE' } } })).rejects.toThrow(
      /A chunking strategy cannot be specified with a managed embedding model/,
    );
    await expect(
      source({ dataSourceConfiguration: { type: 'S3', s3Configuration: { bucketArn: `arn:aws:s3:::${r.bucket ?? ''}` } } }),
    ).rejects.toThrow(/Unsupported data source type for MANAGED knowledge base type/);
    await expect(
      source({
        dataSourceConfiguration: {
          type: 'MANAGED_KNOWLEDGE_BASE_CONNECTOR',
          managedKnowledgeBaseConnectorConfiguration: {
            connectorParameters: { type: 'S3', connectionConfiguration: { bucketName: r.bucket } },
          },
        },
      }),
    ).rejects.toThrow(/The 'version' field is required in connector parameters/);
    // Another bucket: accepted, CREATING, then FAILED, since the knowledge base role may not read it.
    const other = (await source({}, 'someone-elses-bucket')).dataSource;
    expect(other?.status).toBe('CREATING');
    const failed = await eventually(
      async () => {
        const ds = (
          await aws.bedrockAgent.send(new GetDataSourceCommand({ knowledgeBaseId: r.knowledgeBaseId, dataSourceId: other?.dataSourceId }))
        ).dataSource;
        return ds?.status === 'CREATING' ? undefined : ds;
      },
      30_000,
      'the connector to be checked',
    );
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReasons?.join(' ')).toMatch(
      /not authorized to perform s3:ListBucket, s3:GetObject on s3:\/\/someone-elses-bucket\//,
    );
  });

  it("bridge: a managed knowledge base per tenant on its own prefix of the tier's bucket; each tenant's documents in its own", async () => {
    const tier = uniq('mgbridge');
    const [a, b] = [uniq('a'), uniq('b')];
    await c.kube.apply(tierYaml(tier, 'bridge') + '---\n' + tenantYaml(a, tier) + '---\n' + tenantYaml(b, tier));
    const tr = await ready<TenantTier>('TenantTier', tier);
    const ra = (await ready<Tenant>('Tenant', a)).status?.resources ?? {};
    const rb = (await ready<Tenant>('Tenant', b)).status?.resources ?? {};
    const bucket = tr.status?.shared?.bucket;
    expect(ra.knowledgeBaseId).toBeDefined();
    expect(ra.knowledgeBaseId).not.toBe(rb.knowledgeBaseId);
    expect((await kbOf(ra.knowledgeBaseId))?.knowledgeBaseConfiguration).toEqual({
      type: 'MANAGED',
      managedKnowledgeBaseConfiguration: { embeddingModelType: 'MANAGED' },
    });
    expect(await connectorOf(ra.knowledgeBaseId, ra.dataSourceId)).toEqual({
      type: 'S3',
      version: '1',
      connectionConfiguration: { bucketName: bucket, bucketOwnerAccountId: '123456789012' },
      filterConfiguration: { inclusionPrefixes: [`tenants/${a}/`] },
      metadataFilesPrefix: `tenants/${a}/`,
    });
    expect(await kbRoleActions(ra.knowledgeBaseRoleArn)).toEqual(['s3:GetObject', 's3:ListBucket']);

    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tenants/${a}/x.txt`, Body: 'of a' }));
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tenants/${b}/y.txt`, Body: 'of b' }));
    await syncTenant(a, 'a1');
    expect(c.fakes.bedrockAgent.vectors(ra.knowledgeBaseId ?? '').map((v) => v.sourceUri)).toEqual([`s3://${bucket}/tenants/${a}/x.txt`]);
    // b's knowledge base holds b's documents only (its own first sync may have taken y.txt).
    for (const v of c.fakes.bedrockAgent.vectors(rb.knowledgeBaseId ?? '')) expect(v.sourceUri).toBe(`s3://${bucket}/tenants/${b}/y.txt`);
  });

  it('pool: one managed knowledge base for the tier; every vector carries its tenantId; a deleted tenant leaves it', async () => {
    const tier = uniq('mgpool');
    const [gone, stays] = [uniq('gone'), uniq('stays')];
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(gone, tier) + '---\n' + tenantYaml(stays, tier));
    const tr = await ready<TenantTier>('TenantTier', tier);
    const g = await ready<Tenant>('Tenant', gone);
    await ready<Tenant>('Tenant', stays);
    const shared = tr.status?.shared ?? {};
    expect(shared.knowledgeBaseId).toMatch(/^[0-9A-Z]{10}$/);
    expect(shared.dataSourceId).toMatch(/^[0-9A-Z]{10}$/);
    expect(g.status?.resources).toMatchObject({ knowledgeBaseId: shared.knowledgeBaseId, dataSourceId: shared.dataSourceId });
    expect((await kbOf(shared.knowledgeBaseId))?.knowledgeBaseConfiguration?.type).toBe('MANAGED');
    expect(await connectorOf(shared.knowledgeBaseId, shared.dataSourceId)).toMatchObject({
      filterConfiguration: { inclusionPrefixes: ['tenants/'] },
      metadataFilesPrefix: 'tenants/',
    });
    for (const [t, n] of [
      [gone, 2],
      [stays, 1],
    ] as const)
      for (let i = 0; i < n; i++)
        await aws.s3.send(new PutObjectCommand({ Bucket: shared.bucket, Key: `tenants/${t}/doc${i}.txt`, Body: `doc ${i} of ${t}` }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/sync-requested-at=t1');
    const byTenant = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const v of c.fakes.bedrockAgent.vectors(shared.knowledgeBaseId ?? ''))
        out[String(v.metadata.tenantId)] = (out[String(v.metadata.tenantId)] ?? 0) + 1;
      return out;
    };
    await eventually(
      () => {
        const n = byTenant();
        return Promise.resolve(n[gone] === 2 && n[stays] === 1 ? true : undefined);
      },
      90_000,
      "both tenants' vectors in the managed knowledge base",
    );
    await c.kube.delete('Tenant', gone);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    expect(byTenant()).toEqual({ [stays]: 1 });
  }, 240_000);

  it('deletes the knowledge base, role and bucket of a Delete tenant and none of a Retain tenant', async () => {
    const tier = uniq('mgbye');
    const [gone, kept] = [uniq('gone'), uniq('kept')];
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(gone, tier, 'Delete') + '---\n' + tenantYaml(kept, tier, 'Retain'));
    const rg = (await ready<Tenant>('Tenant', gone)).status?.resources ?? {};
    const rk = (await ready<Tenant>('Tenant', kept)).status?.resources ?? {};
    const left = async (r: typeof rg): Promise<Record<string, boolean>> => ({
      knowledgeBase: await exists(kbOf(r.knowledgeBaseId)),
      role: await exists(aws.iam.send(new GetRoleCommand({ RoleName: (r.knowledgeBaseRoleArn ?? '').split('/').pop() }))),
      bucket: await exists(aws.s3.send(new HeadBucketCommand({ Bucket: r.bucket }))),
    });
    const all = { knowledgeBase: true, role: true, bucket: true };
    expect(await left(rg)).toEqual(all);
    expect(await left(rk)).toEqual(all);
    await c.kube.delete('Tenant', gone);
    await c.kube.delete('Tenant', kept);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    await c.kube.waitForGone('Tenant', kept, 60_000);
    expect(await left(rg)).toEqual({ knowledgeBase: false, role: false, bucket: false });
    expect(await left(rk)).toEqual(all);
  });

  it("refuses a tenant's knowledge base overrides on a Managed tier before any AWS call", async () => {
    const tier = uniq('mgover');
    const tenant = uniq('over');
    await c.kube.apply(
      tierYaml(tier, 'bridge') + '---\n' + tenantYaml(tenant, tier, 'Delete', ', knowledgeBase: { chunking: { strategy: None } }'),
    );
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'False', reason: 'OverrideNotAllowed' }, 60_000);
    expect(t.status?.conditions?.find((x) => x.type === 'Ready')?.message).toBe(
      `tier "${tier}" uses Bedrock-managed knowledge bases, which embed with Bedrock's own model, chunk by its default and keep their vectors themselves, so spec.knowledgeBase (chunking) cannot be set: remove it or use a tier with another vector store`,
    );
    expect(t.status?.resources?.knowledgeBaseId).toBeUndefined();
    expect([...c.fakes.bedrockAgent.state.knowledgeBases.values()].filter((k) => k.name.includes(tenant))).toEqual([]);
  });
});
