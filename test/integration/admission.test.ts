/**
 * The CRDs against the real API server: samples are accepted; bad manifests are refused at
 * admission with a message that says what to change, and nothing is stored for them.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

const samples = fileURLToPath(new URL('../../config/samples', import.meta.url));
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c?.stop();
});

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
  });

  it.each([
    {
      name: 'a tenant name that is not a DNS label',
      yaml: tenant('Acme_Corp', '{ tier: basic }'),
      want: /metadata.name must be a DNS-1123 label|a lowercase RFC 1123/,
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
      want: /outputs 256, 512 or 1024 dimensions: set dimensions to one of them/,
    },
    {
      name: 'a per-tenant key on a pool tier',
      yaml: tier('pool-key', '{ isolation: pool, storage: { encryption: TenantKey } }'),
      want: /TenantKey needs isolation silo/,
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
      want: /ingestion.interval must be at least 5m/,
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

  it('prints the columns a platform team scans', async () => {
    const out = await c.kube.kubectl('get', 'tenants');
    expect(out.split('\n')[0]).toMatch(/NAME\s+TIER\s+ISOLATION\s+READY\s+KB\s+TOKENS \(MONTH\)\s+COST \(MONTH\)\s+AGE/);
  });
});
