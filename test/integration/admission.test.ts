/**
 * The CRDs against the real API server: samples are accepted; bad manifests are refused at
 * admission with a message that says what to change, and nothing is stored for them. What the API
 * server cannot see (a tenant's dimensions against its tier's embedding model) the operator refuses
 * before its first AWS call; the emulators show nothing was created for any refused object.
 */
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { ListKnowledgeBasesCommand } from '@aws-sdk/client-bedrock-agent';
import { ListAccessPoliciesCommand, ListCollectionsCommand, ListSecurityPoliciesCommand } from '@aws-sdk/client-opensearchserverless';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { FINALIZER } from '../../src/api/v1alpha1/constants.js';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';

const samples = fileURLToPath(new URL('../../config/samples', import.meta.url));
let c: TestCluster;
let op: OperatorProcess;
let aws: AwsClients;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto, c.ministack, c.fakes);
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c });
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

/** Every name the operator gave an AWS resource, in the emulators. */
async function awsNames(): Promise<string[]> {
  const collections = (await aws.aoss.send(new ListCollectionsCommand({}))).collectionSummaries ?? [];
  const policies = async (type: 'encryption' | 'network'): Promise<string[]> =>
    ((await aws.aoss.send(new ListSecurityPoliciesCommand({ type }))).securityPolicySummaries ?? []).map((p) => p.name ?? '');
  return [
    ...((await aws.iam.send(new ListRolesCommand({ PathPrefix: '/rag-tenant/' }))).Roles ?? []).map((r) => r.RoleName ?? ''),
    ...((await aws.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? ''),
    ...((await aws.kms.send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => a.AliasName ?? ''),
    ...collections.map((x) => x.name ?? ''),
    ...collections.flatMap((x) => [...c.fakes.indexes.of(x.id ?? '').keys()]),
    ...(await policies('encryption')),
    ...(await policies('network')),
    ...((await aws.aoss.send(new ListAccessPoliciesCommand({ type: 'data' }))).accessPolicySummaries ?? []).map((p) => p.name ?? ''),
    ...((await aws.bedrockAgent.send(new ListKnowledgeBasesCommand({}))).knowledgeBaseSummaries ?? []).map((k) => k.name ?? ''),
  ];
}

/** The AWS names of `kind` `name` (`<prefix>-<cluster>-t-<tenant>...`, `...-tier-<tier>...`). */
async function awsNamesOf(kind: 'Tenant' | 'TenantTier', name: string): Promise<string[]> {
  const owner = new RegExp(`-${kind === 'Tenant' ? 't' : 'tier'}-${name}(-|$)`);
  return (await awsNames()).filter((n) => owner.test(n));
}

/** Names of the objects the API server refused below: none may ever show up in AWS. */
const refused: { kind: 'Tenant' | 'TenantTier'; name: string }[] = [];

const tier = (name: string, spec: string): string => `apiVersion: rag.tenancy.dev/v1alpha1
kind: TenantTier
metadata: { name: ${name} }
spec: ${spec}
`;
const tenant = (name: string, spec: string): string => `apiVersion: rag.tenancy.dev/v1alpha1
kind: Tenant
metadata: { name: "${name}" }
spec: ${spec}
`;

describe('admission', () => {
  it('accepts the samples and fills defaults', async () => {
    await c.kube.kubectl('apply', '-f', samples);
    const t = await c.kube.get('Tenant', 'initech');
    expect(t?.kind).toBe('Tenant');
    const acme = await c.kube.get<Tenant>('Tenant', 'acme');
    expect(acme?.spec).toMatchObject({ suspend: false, connection: { configMapName: 'rag-connection' } });
    const standard = await c.kube.get<TenantTier>('TenantTier', 'standard');
    expect(standard?.spec.knowledgeBase).toMatchObject({
      embeddingModel: 'amazon.titan-embed-text-v2:0',
      dimensions: 1024,
      chunking: { strategy: 'FixedSize', maxTokens: 300 },
    });
    expect(standard?.spec.dataDeletionPolicy).toBe('Delete');
    expect(standard?.spec.vectorStore).toEqual({ type: 'OpenSearchServerless' });
  });

  it.each([
    {
      name: 'a tenant name that is not a DNS label',
      yaml: tenant('Acme_Corp', '{ tier: basic }'),
      want: /metadata.name must be a DNS-1123 label|a lowercase RFC 1123/,
    },
    {
      // A rule on the root object is reported at its field, not at `<nil>`.
      name: 'a tenant name longer than 63 characters',
      yaml: tenant(`t${'x'.repeat(63)}`, '{ tier: basic }'),
      want: /metadata.name: Invalid value: "object": metadata.name must be a DNS-1123 label \(lowercase letters, digits and dashes, starting with a letter, at most 63 characters\)/,
    },
    {
      name: 'maxTokens out of range',
      yaml: tier(
        'bad-chunks',
        '{ isolation: silo, knowledgeBase: { chunking: { strategy: FixedSize, maxTokens: 9000, overlapPercentage: 20 } } }',
      ),
      want: /maxTokens: Invalid value: 9000: .*should be less than or equal to 8192/,
    },
    { name: 'a missing required field', yaml: tenant('no-tier', '{ displayName: x }'), want: /spec.tier: Required value/ },
    {
      name: 'FixedSize chunking without its parameters',
      yaml: tier('half-chunks', '{ isolation: silo, knowledgeBase: { chunking: { strategy: FixedSize } } }'),
      want: /FixedSize chunking needs maxTokens and overlapPercentage/,
    },
    {
      name: 'dimensions the embedding model cannot output',
      yaml: tier('bad-dims', '{ isolation: bridge, knowledgeBase: { embeddingModel: amazon.titan-embed-text-v2:0, dimensions: 768 } }'),
      want: /spec.knowledgeBase.dimensions: Invalid value: .*amazon.titan-embed-text-v2:0 outputs 256, 512 or 1024 dimensions: set dimensions to one of them/,
    },
    {
      name: 'tenant dimensions no embedding model outputs',
      yaml: tenant('dims768', '{ tier: standard, knowledgeBase: { dimensions: 768 } }'),
      want: /spec.knowledgeBase.dimensions: Invalid value: "integer": no embedding model outputs this many dimensions: use 256, 512 or 1024 \(amazon.titan-embed-text-v2:0\), 1536 \(amazon.titan-embed-text-v1\)/,
    },
    {
      name: 'a per-tenant key on a pool tier',
      yaml: tier('pool-key', '{ isolation: pool, storage: { encryption: TenantKey } }'),
      want: /spec.storage.encryption: Invalid value: .*TenantKey needs isolation silo, or bridge on S3Vectors or Managed .*: use TierKey or AwsOwned otherwise/,
    },
    {
      name: 'a per-tenant key on a bridge tier on OpenSearch Serverless (a collection per tenant)',
      yaml: tier('bridge-key', '{ isolation: bridge, storage: { encryption: TenantKey } }'),
      want: /TenantKey needs isolation silo, or bridge on S3Vectors or Managed \(a key per tenant index or knowledge base; on OpenSearch Serverless it would take a collection per tenant\)/,
    },
    {
      name: 'both podIdentity and principals',
      yaml: tenant(
        'both',
        '{ tier: basic, access: { podIdentity: { namespace: a, serviceAccount: b }, principals: ["arn:aws:iam::111122223333:role/x"] } }',
      ),
      want: /set exactly one of access.podIdentity and access.principals/,
    },
    {
      name: 'a principal that is not a role ARN',
      yaml: tenant('bad-arn', '{ tier: basic, access: { principals: ["arn:aws:iam::111122223333:user/bob"] } }'),
      want: /principals\[0\]: Invalid value/,
    },
    {
      name: 'an ingestion interval under 5 minutes',
      yaml: tier('fast', '{ isolation: pool, ingestion: { interval: 1m } }'),
      want: /spec.ingestion.interval: Invalid value: "string": must be at least 5m: .*use 15m, 1h or longer/,
    },
    {
      // Only the message that says how to write it: no bare regular expression, no CEL conversion error.
      name: 'an ingestion interval in days',
      yaml: tier('daily', '{ isolation: pool, ingestion: { interval: 1d } }'),
      want: /is invalid: spec.ingestion.interval: Invalid value: "string": must be a duration in h, m and s such as 30m, 6h or 24h \(no days: write 1d as 24h\)\s*$/,
    },
    {
      name: 'OpenSearch index parameters on an S3 Vectors tier',
      yaml: tier('s3v-hnsw', '{ isolation: bridge, vectorStore: { type: S3Vectors }, knowledgeBase: { vectorIndex: { m: 32 } } }'),
      want: /spec.knowledgeBase.vectorIndex: Invalid value: .*an S3 Vectors tier does not have: remove it \(use vectorStore.s3Vectors.distanceMetric\)/,
    },
    {
      name: 'S3 Vectors settings on an OpenSearch Serverless tier',
      yaml: tier('aoss-s3v', '{ isolation: pool, vectorStore: { s3Vectors: { distanceMetric: euclidean } } }'),
      want: /vectorStore.s3Vectors applies to type S3Vectors only: remove it or set type S3Vectors/,
    },
    {
      name: 'OpenSearch Serverless settings on an S3 Vectors tier',
      yaml: tier('s3v-aoss', '{ isolation: pool, vectorStore: { type: S3Vectors, openSearchServerless: { vectorIndex: { m: 8 } } } }'),
      want: /vectorStore.openSearchServerless applies to type OpenSearchServerless only/,
    },
    {
      name: 'tenantId declared non-filterable',
      yaml: tier('s3v-tid', '{ isolation: pool, vectorStore: { type: S3Vectors, s3Vectors: { nonFilterableMetadataKeys: [tenantId] } } }'),
      want: /tenantId must stay filterable: pool tenants are told apart by it; remove it from nonFilterableMetadataKeys/,
    },
    {
      name: "more non-filterable keys than an index takes besides Bedrock's two",
      yaml: tier(
        's3v-many',
        `{ isolation: pool, vectorStore: { type: S3Vectors, s3Vectors: { nonFilterableMetadataKeys: [${[...Array(9).keys()].map((i) => `k${i}`).join(', ')}] } } }`,
      ),
      want: /nonFilterableMetadataKeys: Too many: 9: must have at most 8 items/,
    },
    {
      name: 'index parameters in both places',
      yaml: tier(
        'two-hnsw',
        '{ isolation: silo, knowledgeBase: { vectorIndex: { m: 16 } }, vectorStore: { openSearchServerless: { vectorIndex: { m: 32 } } } }',
      ),
      want: /set the index parameters in one place: vectorStore.openSearchServerless.vectorIndex/,
    },
    {
      name: 'an unknown vector store',
      yaml: tier('pinecone', '{ isolation: pool, vectorStore: { type: Pinecone } }'),
      want: /Unsupported value: "Pinecone": supported values: "OpenSearchServerless", "S3Vectors", "Managed"/,
    },
    {
      name: 'OpenSearch index parameters on a Managed tier',
      yaml: tier('mgd-hnsw', '{ isolation: silo, vectorStore: { type: Managed }, knowledgeBase: { vectorIndex: { m: 32 } } }'),
      want: /spec.knowledgeBase.vectorIndex: Invalid value: .*which a Managed tier does not have \(Bedrock keeps its vectors\): remove it/,
    },
    {
      name: 'OpenSearch Serverless settings on a Managed tier',
      yaml: tier('mgd-aoss', '{ isolation: pool, vectorStore: { type: Managed, openSearchServerless: { vectorIndex: { m: 8 } } } }'),
      want: /vectorStore.openSearchServerless applies to type OpenSearchServerless only/,
    },
    {
      name: 'chunking on a Managed tier',
      yaml: tier('mgd-chunk', '{ isolation: pool, vectorStore: { type: Managed }, knowledgeBase: { chunking: { strategy: None } } }'),
      want: /spec.knowledgeBase.chunking: Invalid value: .*knowledgeBase.chunking cannot be set on a Managed tier: Bedrock refuses a chunking strategy with its service-managed embedding model and chunks by its own default; remove it/,
    },
    {
      name: 'fixed-size chunking other than the default on a Managed tier',
      yaml: tier(
        'mgd-fixed',
        '{ isolation: bridge, vectorStore: { type: Managed }, knowledgeBase: { chunking: { strategy: FixedSize, maxTokens: 500 } } }',
      ),
      want: /knowledgeBase.chunking cannot be set on a Managed tier/,
    },
    {
      name: 'an embedding model on a Managed tier',
      yaml: tier(
        'mgd-model',
        '{ isolation: silo, vectorStore: { type: Managed }, knowledgeBase: { embeddingModel: cohere.embed-english-v3 } }',
      ),
      want: /knowledgeBase.embeddingModel and dimensions cannot be set on a Managed tier: it embeds with Bedrock's service-managed model; remove them/,
    },
    {
      name: 'dimensions on a Managed tier',
      yaml: tier('mgd-dims', '{ isolation: silo, vectorStore: { type: Managed }, knowledgeBase: { dimensions: 512 } }'),
      want: /knowledgeBase.embeddingModel and dimensions cannot be set on a Managed tier/,
    },
    {
      name: 'dataDeletionPolicy Retain on a Managed tier',
      yaml: tier('mgd-retain', '{ isolation: pool, vectorStore: { type: Managed }, dataDeletionPolicy: Retain }'),
      want: /spec.dataDeletionPolicy: Invalid value: .*dataDeletionPolicy Retain is not available on a Managed tier: a managed knowledge base deletes its vectors with its data source \(DELETE only\); set Delete/,
    },
    {
      name: 'an unknown isolation',
      yaml: tier('weird', '{ isolation: shared }'),
      want: /Unsupported value: "shared": supported values: "pool", "bridge", "silo"/,
    },
    {
      name: 'a quota of zero',
      yaml: `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: zero }\nspec: { tenantRef: { name: acme }, model: m, quota: { tokensPerDay: 0 } }\n`,
      want: /tokensPerDay: Invalid value: 0: .*should be greater than or equal to 1/,
    },
    {
      name: 'a quota with no window',
      yaml: `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: nowindow }\nspec: { tenantRef: { name: acme }, model: m, quota: { onExceeded: Alert } }\n`,
      want: /set tokensPerDay, tokensPerMonth or both/,
    },
  ])('rejects $name with a message that says what to change', async ({ yaml, want }) => {
    await expect(c.kube.apply(yaml)).rejects.toThrow(want);
    const [, kind, name] = /kind: (\w+)\nmetadata: \{ name: "?([^" }]+)/.exec(yaml) ?? [];
    if (kind === 'Tenant' || kind === 'TenantTier') refused.push({ kind, name: name ?? '' });
  });

  it.each([
    {
      name: "a tier's isolation",
      kind: 'TenantTier' as const,
      obj: 'basic',
      patch: '{"spec":{"isolation":"silo"}}',
      want: /isolation is immutable: create a new tier/,
    },
    {
      name: "a tier's vector store",
      kind: 'TenantTier' as const,
      obj: 'basic',
      patch: '{"spec":{"vectorStore":{"type":"S3Vectors"}}}',
      want: /vectorStore.type is immutable: the tier's indexes were made with it/,
    },
    {
      name: "a tenant's tier",
      kind: 'Tenant' as const,
      obj: 'acme',
      patch: '{"spec":{"tier":"premium"}}',
      want: /spec.tier is immutable: moving a tenant to another tier is not supported yet/,
    },
    {
      name: "a tenant's embedding model",
      kind: 'Tenant' as const,
      obj: 'initech',
      patch: '{"spec":{"knowledgeBase":{"embeddingModel":"amazon.titan-embed-text-v2:0"}}}',
      want: /knowledgeBase.embeddingModel is immutable/,
    },
    {
      name: "a tenant's chunking",
      kind: 'Tenant' as const,
      obj: 'globex',
      patch: '{"spec":{"knowledgeBase":{"chunking":{"strategy":"None"}}}}',
      want: /knowledgeBase.chunking is immutable/,
    },
    {
      name: "a model access's model",
      kind: 'ModelAccess' as const,
      obj: 'acme-claude',
      patch: '{"spec":{"model":"amazon.nova-lite-v1:0"}}',
      want: /spec.model is immutable: create a new ModelAccess/,
    },
  ])('refuses a change to $name and keeps the stored object', async ({ kind, obj, patch, want }) => {
    const before = await c.kube.get(kind, obj);
    await expect(c.kube.kubectl('patch', kind.toLowerCase(), obj, '--type=merge', '-p', patch)).rejects.toThrow(want);
    expect((await c.kube.get(kind, obj))?.spec).toEqual(before?.spec);
  });

  it('stores nothing for a refused manifest', async () => {
    await expect(
      c.kube.apply(
        tenant(
          'both',
          '{ tier: basic, access: { podIdentity: { namespace: a, serviceAccount: b }, principals: ["arn:aws:iam::111122223333:role/x"] } }',
        ),
      ),
    ).rejects.toThrow();
    expect(await c.kube.get('Tenant', 'both')).toBeUndefined();
  });

  it("refuses a tenant's dimensions its tier's embedding model cannot output before any AWS call", async () => {
    // The API server cannot see the tier: the operator refuses it, and had it not, the tier being
    // Ready would let it go on to a role, a data access policy and an index before Bedrock refused.
    await c.kube.waitForCondition<TenantTier>('TenantTier', 'standard', 'Ready', { status: 'True' }, 120_000);
    await c.kube.apply(tenant('dims1536', '{ tier: standard, deletionPolicy: Delete, knowledgeBase: { dimensions: 1536 } }'));
    const t = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      'dims1536',
      'Ready',
      { status: 'False', reason: 'DimensionsNotSupported' },
      60_000,
    );
    expect(t.status?.conditions?.find((x) => x.type === 'Ready')?.message).toBe(
      'tier "standard" uses embedding model amazon.titan-embed-text-v2:0, which outputs 256, 512 or 1024 dimensions, not spec.knowledgeBase.dimensions 1536: ' +
        'delete this Tenant (nothing was created for it) and create it again with dimensions 256, 512 or 1024, or with embeddingModel amazon.titan-embed-text-v1 as well, which outputs 1536',
    );
    expect(t.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(await awsNamesOf('Tenant', 'dims1536')).toEqual([]);
    // What a tenant of that tier gets, for comparison: the sample's role, index and knowledge base.
    await c.kube.waitForCondition<Tenant>('Tenant', 'globex', 'Ready', { status: 'True' }, 120_000);
    expect((await awsNamesOf('Tenant', 'globex')).length).toBeGreaterThanOrEqual(4);
    // Refused at admission: deleting it is immediate.
    await c.kube.delete('Tenant', 'dims1536');
    await c.kube.waitForGone('Tenant', 'dims1536');
  }, 240_000);

  it('creates nothing in AWS for any manifest the API server refused', async () => {
    expect(refused.length).toBeGreaterThan(5);
    for (const r of refused) expect(await awsNamesOf(r.kind, r.name), `${r.kind} ${r.name}`).toEqual([]);
  });

  it('prints the columns a platform team scans', async () => {
    const out = await c.kube.kubectl('get', 'tenants');
    expect(out.split('\n')[0]).toMatch(/NAME\s+TIER\s+ISOLATION\s+READY\s+SYNCED\s+KB\s+TOKENS \(MONTH\)\s+COST \(MONTH\)\s+AGE/);
  });
});
