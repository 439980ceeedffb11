/**
 * Tiers on Amazon S3 Vectors, per isolation pattern, over the wire: the operator process against
 * the local API server, moto (S3, IAM, KMS, S3 Vectors) and the bedrock-agent fake, which checks
 * an S3 Vectors knowledge base as Bedrock does and writes the vectors it ingests into moto's
 * index. Onboarding to Ready with the ids on status, documents read back from moto with
 * ListVectors (pool vectors with their tenantId), drift repair of a deleted index, and deletion
 * that leaves nothing with Delete and everything with Retain.
 */
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteIndexCommand,
  GetIndexCommand,
  GetVectorBucketCommand,
  ListIndexesCommand,
  ListVectorBucketsCommand,
  ListVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { TestCluster } from '../support/cluster.js';
import type { OperatorProcess } from '../support/operator-process.js';
import { uniq } from '../support/kube.js';
import { eventually } from '../support/processes.js';
import { readyIn, syncTenant as syncStack, tierYaml as baseTierYaml, tenantYaml, useStack } from '../support/stack.js';

let c: TestCluster;
let op: OperatorProcess;
let aws: AwsClients;
const stack = useStack();
beforeAll(() => ({ c, op, aws } = stack));

const tierYaml = (name: string, isolation: string, extra = ''): string =>
  baseTierYaml(name, isolation, `, vectorStore: { type: S3Vectors }${extra}`);
const ready = readyIn(stack);
const syncTenant = (name: string, at: string): Promise<Tenant> => syncStack(stack, name, at);

/** Every vector of an index, with its metadata. */
async function vectorsOf(vectorBucketName: string, indexName: string): Promise<{ key: string; metadata: Record<string, unknown> }[]> {
  const out: { key: string; metadata: Record<string, unknown> }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws.s3vectors.send(new ListVectorsCommand({ vectorBucketName, indexName, returnMetadata: true, nextToken }));
    for (const v of page.vectors ?? []) out.push({ key: v.key ?? '', metadata: (v.metadata ?? {}) as Record<string, unknown> });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Names of the vector buckets, and of their indexes, that contain `part`. */
async function vectorNames(part: string): Promise<string[]> {
  const buckets = (await aws.s3vectors.send(new ListVectorBucketsCommand({}))).vectorBuckets ?? [];
  const out: string[] = [];
  for (const b of buckets) {
    const indexes = (await aws.s3vectors.send(new ListIndexesCommand({ vectorBucketName: b.vectorBucketName }))).indexes ?? [];
    out.push(`bucket:${b.vectorBucketName ?? ''}`, ...indexes.map((i) => `index:${b.vectorBucketName ?? ''}/${i.indexName ?? ''}`));
  }
  return out.filter((n) => n.includes(part)).sort();
}

describe('tiers on S3 Vectors', () => {
  it("silo: its own vector bucket under its own key, its index, a knowledge base on it, and its documents' vectors in moto", async () => {
    const tier = uniq('s3silo');
    const tenant = uniq('acme');
    await c.kube.apply(tierYaml(tier, 'silo', ', storage: { encryption: TenantKey }') + '---\n' + tenantYaml(tenant, tier));
    const t = await ready<Tenant>('Tenant', tenant);
    const r = t.status?.resources ?? {};
    const name = `rag-test-t-${tenant}`;
    expect(t.status?.vectorStore).toBe('S3Vectors');
    // The store reaches the dashboard too.
    expect(await op.metric('tenant_rag_operator_tenant_info', { tenant, isolation: 'silo', vector_store: 'S3Vectors' })).toBe(1);
    expect(r).toMatchObject({ vectorBucketName: name, vectorIndexName: name });
    expect(r.vectorIndexArn).toBe(`arn:aws:s3vectors:us-east-1:123456789012:bucket/${name}/index/${name}`);
    expect(r.collectionArn).toBeUndefined();
    const bucket = (await aws.s3vectors.send(new GetVectorBucketCommand({ vectorBucketName: name }))).vectorBucket;
    expect(bucket?.encryptionConfiguration).toMatchObject({ sseType: 'aws:kms', kmsKeyArn: r.kmsKeyArn });
    const index = (await aws.s3vectors.send(new GetIndexCommand({ vectorBucketName: name, indexName: name }))).index;
    expect(index).toMatchObject({ dimension: 1024, distanceMetric: 'cosine', dataType: 'float32' });
    expect(index?.metadataConfiguration?.nonFilterableMetadataKeys?.sort()).toEqual(['AMAZON_BEDROCK_METADATA', 'AMAZON_BEDROCK_TEXT']);
    const kb = c.fakes.bedrockAgent.state.knowledgeBases.get(r.knowledgeBaseId ?? '');
    expect(kb?.storageConfiguration).toEqual({ type: 'S3_VECTORS', s3VectorsConfiguration: { indexArn: r.vectorIndexArn } });
    // The knowledge base role reaches its own index and nothing else of S3 Vectors.
    const role = (r.knowledgeBaseRoleArn ?? '').split('/').pop();
    const doc = decodeURIComponent(
      (await aws.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: 'knowledge-base' }))).PolicyDocument ?? '',
    );
    const s3v = (JSON.parse(doc) as { Statement: { Action: string | string[]; Resource: string | string[] }[] }).Statement.filter((s) =>
      JSON.stringify(s.Action).includes('s3vectors:'),
    );
    expect(s3v.map((s) => s.Resource)).toEqual([r.vectorIndexArn]);

    for (const k of ['a.txt', 'b.txt']) await aws.s3.send(new PutObjectCommand({ Bucket: r.bucket, Key: `docs/${k}`, Body: `text ${k}` }));
    const synced = await syncTenant(tenant, 'first');
    expect(synced.status?.ingestion).toMatchObject({ documentsScanned: 2, documentsIndexed: 2, documentsFailed: 0 });
    const vectors = await vectorsOf(name, name);
    expect(vectors).toHaveLength(2);
    // Each vector says which document it came from.
    expect(JSON.stringify(vectors.map((v) => v.metadata))).toContain('docs/a.txt');
  });

  it("bridge: the tier's vector bucket holds an index per tenant, each under the tenant's own key; each knowledge base is on its own index", async () => {
    const tier = uniq('s3bridge');
    const [a, b] = [uniq('a'), uniq('b')];
    await c.kube.apply(
      tierYaml(tier, 'bridge', ', storage: { encryption: TenantKey }') + '---\n' + tenantYaml(a, tier) + '---\n' + tenantYaml(b, tier),
    );
    const tr = await ready<TenantTier>('TenantTier', tier);
    const ta = await ready<Tenant>('Tenant', a);
    const tb = await ready<Tenant>('Tenant', b);
    const bucket = `rag-test-tier-${tier}`;
    expect(tr.status?.shared).toMatchObject({ vectorBucketName: bucket });
    expect(ta.status?.resources).toMatchObject({ vectorBucketName: bucket, vectorIndexName: `rag-test-t-${a}` });
    expect(await vectorNames(tier)).toEqual([`bucket:${bucket}`, `index:${bucket}/rag-test-t-${a}`, `index:${bucket}/rag-test-t-${b}`]);
    // A bridge tenant's own key, without a collection of its own: it encrypts the tenant's index.
    for (const [t, r] of [
      [a, ta.status?.resources],
      [b, tb.status?.resources],
    ] as const) {
      expect(r?.kmsKeyArn).toMatch(/:key\//);
      const index = (await aws.s3vectors.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: `rag-test-t-${t}` }))).index;
      expect(index?.encryptionConfiguration).toMatchObject({ sseType: 'aws:kms', kmsKeyArn: r?.kmsKeyArn });
    }
    expect(ta.status?.resources?.kmsKeyArn).not.toBe(tb.status?.resources?.kmsKeyArn);
    const kbs = c.fakes.bedrockAgent.state.knowledgeBases;
    expect(kbs.get(ta.status?.resources?.knowledgeBaseId ?? '')?.storageConfiguration.s3VectorsConfiguration).toEqual({
      indexArn: ta.status?.resources?.vectorIndexArn,
    });
    expect(kbs.get(tb.status?.resources?.knowledgeBaseId ?? '')?.storageConfiguration.s3VectorsConfiguration).toEqual({
      indexArn: tb.status?.resources?.vectorIndexArn,
    });

    // A's documents land in A's index only.
    await aws.s3.send(new PutObjectCommand({ Bucket: tr.status?.shared?.bucket, Key: `tenants/${a}/x.txt`, Body: 'of a' }));
    await syncTenant(a, 'a1');
    expect(await vectorsOf(bucket, `rag-test-t-${a}`)).toHaveLength(1);
    expect(await vectorsOf(bucket, `rag-test-t-${b}`)).toHaveLength(0);
  });

  it('pool: one vector bucket and index for the tier; every vector carries its tenantId; a deleted tenant leaves it', async () => {
    const tier = uniq('s3pool');
    const [gone, stays] = [uniq('gone'), uniq('stays')];
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(gone, tier) + '---\n' + tenantYaml(stays, tier));
    const tr = await ready<TenantTier>('TenantTier', tier);
    const g = await ready<Tenant>('Tenant', gone);
    await ready<Tenant>('Tenant', stays);
    const shared = tr.status?.shared ?? {};
    const name = `rag-test-tier-${tier}`;
    expect(shared).toMatchObject({ vectorBucketName: name, vectorIndexName: name });
    expect(g.status?.resources).toMatchObject({ vectorIndexArn: shared.vectorIndexArn, knowledgeBaseId: shared.knowledgeBaseId });
    for (const [t, n] of [
      [gone, 2],
      [stays, 1],
    ] as const)
      for (let i = 0; i < n; i++)
        await aws.s3.send(new PutObjectCommand({ Bucket: shared.bucket, Key: `tenants/${t}/doc${i}.txt`, Body: `doc ${i} of ${t}` }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/sync-requested-at=t1');
    const byTenant = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const v of await vectorsOf(name, name)) out[String(v.metadata.tenantId)] = (out[String(v.metadata.tenantId)] ?? 0) + 1;
      return out;
    };
    await eventually(
      async () => {
        const n = await byTenant();
        return n[gone] === 2 && n[stays] === 1 ? true : undefined;
      },
      90_000,
      "both tenants' vectors in moto",
    );
    await c.kube.delete('Tenant', gone);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    expect(await byTenant()).toEqual({ [stays]: 1 });
  });

  it('repairs an index deleted behind its back', async () => {
    const tier = uniq('s3drift');
    const tenant = uniq('d');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    await ready<Tenant>('Tenant', tenant);
    const name = `rag-test-t-${tenant}`;
    await aws.s3vectors.send(new DeleteIndexCommand({ vectorBucketName: name, indexName: name }));
    await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, 'rag.tenancy.dev/reconcile-requested-at=now');
    await eventually(
      async () =>
        (await aws.s3vectors.send(new GetIndexCommand({ vectorBucketName: name, indexName: name })).catch(() => undefined))?.index
          ? true
          : undefined,
      60_000,
      'the index to be restored',
    );
  });

  it('deletes the vector bucket and index of a Delete tenant and neither of a Retain tenant', async () => {
    const tier = uniq('s3bye');
    const [gone, kept] = [uniq('gone'), uniq('kept')];
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(gone, tier, 'Delete') + '---\n' + tenantYaml(kept, tier, 'Retain'));
    await ready<Tenant>('Tenant', gone);
    await ready<Tenant>('Tenant', kept);
    const keptBefore = await vectorNames(kept);
    expect(keptBefore).toEqual([`bucket:rag-test-t-${kept}`, `index:rag-test-t-${kept}/rag-test-t-${kept}`]);
    expect(await vectorNames(gone)).toHaveLength(2);
    await c.kube.delete('Tenant', gone);
    await c.kube.delete('Tenant', kept);
    await c.kube.waitForGone('Tenant', gone, 120_000);
    await c.kube.waitForGone('Tenant', kept, 60_000);
    expect(await vectorNames(gone)).toEqual([]);
    expect(await vectorNames(kept)).toEqual(keptBefore);
  });
});
