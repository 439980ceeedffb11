import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../api/v1alpha1/constants.js';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { admissionRank, checkIdentity, checkModelAccess, checkPrincipals, checkTenant } from './admission.js';

const tier = (name: string, isolation: 'pool' | 'bridge' | 'silo', maxTenants?: number): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name },
  spec: { isolation, ...(maxTenants ? { maxTenants } : {}) },
});
const tenant = (name: string, tierName: string, opts: { created?: string; admitted?: boolean; kb?: object } = {}): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: {
    name,
    creationTimestamp: new Date(opts.created ?? '2026-11-01T00:00:00Z'),
    ...(opts.admitted ? { finalizers: [FINALIZER] } : {}),
  },
  spec: { tier: tierName, ...(opts.kb ? { knowledgeBase: opts.kb } : {}) },
});

describe('checkTenant', () => {
  const basic = tier('basic', 'pool');
  const premium = tier('premium', 'silo');
  it.each([
    {
      name: 'unknown tier names the tiers that exist',
      t: tenant('a', 'gold'),
      tier: undefined,
      others: [],
      reason: 'TierNotFound',
      msg: /basic, premium/,
    },
    {
      name: 'overrides refused on pool',
      t: tenant('a', 'basic', { kb: { dimensions: 512 } }),
      tier: basic,
      others: [],
      reason: 'OverrideNotAllowed',
      msg: /remove it or use a bridge or silo tier/,
    },
    {
      name: 'overrides allowed on silo',
      t: tenant('a', 'premium', { kb: { dimensions: 512 } }),
      tier: premium,
      others: [],
      reason: undefined,
      msg: undefined,
    },
    { name: 'plain tenant on pool passes', t: tenant('a', 'basic'), tier: basic, others: [], reason: undefined, msg: undefined },
    {
      name: 'OpenSearch index parameters refused on an S3 Vectors tier',
      t: tenant('a', 'lite', { kb: { vectorIndex: { m: 32 } } }),
      tier: { ...tier('lite', 'bridge'), spec: { isolation: 'bridge' as const, vectorStore: { type: 'S3Vectors' as const } } },
      others: [],
      reason: 'OverrideNotAllowed',
      msg: /keeps its vectors in S3Vectors, whose indexes have no OpenSearch parameters, so spec.knowledgeBase.vectorIndex cannot be set: remove it/,
    },
    {
      name: 'other overrides allowed on an S3 Vectors tier',
      t: tenant('a', 'lite', { kb: { dimensions: 512 } }),
      tier: { ...tier('lite', 'bridge'), spec: { isolation: 'bridge' as const, vectorStore: { type: 'S3Vectors' as const } } },
      others: [],
      reason: undefined,
      msg: undefined,
    },
    ...(['embeddingModel', 'dimensions', 'chunking', 'vectorIndex'] as const).map((field) => ({
      name: `${field} refused on a Managed tier`,
      t: tenant('a', 'kb', {
        kb: {
          embeddingModel: { embeddingModel: 'amazon.titan-embed-text-v2:0' },
          dimensions: { dimensions: 512 },
          chunking: { chunking: { strategy: 'None' } },
          vectorIndex: { vectorIndex: { m: 32 } },
        }[field],
      }),
      tier: { ...tier('kb', 'silo'), spec: { isolation: 'silo' as const, vectorStore: { type: 'Managed' as const } } },
      others: [],
      reason: 'OverrideNotAllowed',
      msg: new RegExp(
        `tier "kb" uses Bedrock-managed knowledge bases, .* so spec.knowledgeBase \\(${field}\\) cannot be set: remove it or use a tier with another vector store`,
      ),
    })),
    {
      name: 'a plain tenant on a Managed tier passes',
      t: tenant('a', 'kb'),
      tier: { ...tier('kb', 'bridge'), spec: { isolation: 'bridge' as const, vectorStore: { type: 'Managed' as const } } },
      others: [],
      reason: undefined,
      msg: undefined,
    },
  ])('$name', ({ t, tier: tr, others, reason, msg }) => {
    const r = checkTenant(t, tr, [basic, premium], others.length ? others : [t]);
    expect(r?.reason).toBe(reason);
    if (msg) expect(r?.message).toMatch(msg);
  });

  describe("the tenant's effective embedding model and dimensions", () => {
    const bridge = (kb?: TenantTier['spec']['knowledgeBase']): TenantTier => ({
      ...tier('standard', 'bridge'),
      spec: { isolation: 'bridge', knowledgeBase: kb },
    });
    const titanV2 = { embeddingModel: 'amazon.titan-embed-text-v2:0' as const, dimensions: 1024 };
    it.each([
      { name: 'dimensions alone, under a model that outputs them', tr: bridge(titanV2), kb: { dimensions: 512 } },
      {
        name: 'another model alone takes its own default',
        tr: bridge({ ...titanV2, dimensions: 256 }),
        kb: { embeddingModel: 'amazon.titan-embed-text-v1' },
      },
      {
        name: 'model and dimensions together',
        tr: bridge(titanV2),
        kb: { embeddingModel: 'amazon.titan-embed-text-v1', dimensions: 1536 },
      },
      { name: 'the operator default model when the tier names none', tr: bridge(), kb: { dimensions: 256 } },
    ])('admits $name', ({ tr, kb }) => {
      expect(checkTenant(tenant('a', 'standard', { kb }), tr, [tr], [])).toBeUndefined();
    });

    it("refuses dimensions the tier's model cannot output, saying what to set instead", () => {
      const tr = bridge(titanV2);
      const r = checkTenant(tenant('a', 'standard', { kb: { dimensions: 1536 } }), tr, [tr], []);
      expect(r?.reason).toBe('DimensionsNotSupported');
      expect(r?.message).toBe(
        'tier "standard" uses embedding model amazon.titan-embed-text-v2:0, which outputs 256, 512 or 1024 dimensions, not spec.knowledgeBase.dimensions 1536: ' +
          'delete this Tenant (nothing was created for it) and create it again with dimensions 256, 512 or 1024, or with embeddingModel amazon.titan-embed-text-v1 as well, which outputs 1536',
      );
    });

    it('refuses them under the default model too, and before TierFull', () => {
      const tr = { ...bridge(), spec: { isolation: 'bridge' as const, maxTenants: 1 } };
      const t = tenant('a', 'standard', { kb: { dimensions: 1536 } });
      expect(checkTenant(t, tr, [tr], [tenant('b', 'standard', { admitted: true }), t])?.reason).toBe('DimensionsNotSupported');
    });

    it('names no other model when none outputs them', () => {
      const tr = bridge({ embeddingModel: 'amazon.titan-embed-text-v1', dimensions: 1536 });
      const r = checkTenant(tenant('a', 'standard', { kb: { dimensions: 768 } }), tr, [tr], []);
      expect(r?.message).toMatch(/outputs 1536 dimensions, not spec.knowledgeBase.dimensions 768: .* again with dimensions 1536$/);
    });
  });

  it('a full tier refuses the newest tenant but keeps admitted ones', () => {
    const small = tier('small', 'pool', 2);
    const a = tenant('a', 'small', { created: '2026-11-01T00:00:00Z', admitted: true });
    const b = tenant('b', 'small', { created: '2026-11-03T00:00:00Z', admitted: true });
    const c = tenant('c', 'small', { created: '2026-11-02T00:00:00Z' });
    const all = [a, b, c];
    expect(checkTenant(c, small, [small], all)?.reason).toBe('TierFull');
    expect(checkTenant(c, small, [small], all)?.message).toMatch(/raise spec.maxTenants/);
    expect(checkTenant(b, small, [small], all)).toBeUndefined();
    expect(admissionRank(all).map((t) => t.metadata.name)).toEqual(['a', 'b', 'c']);
  });

  it('concurrent new tenants agree: the older one fits, the newer does not', () => {
    const one = tier('one', 'silo', 1);
    const older = tenant('older', 'one', { created: '2026-11-01T00:00:00Z' });
    const newer = tenant('newer', 'one', { created: '2026-11-02T00:00:00Z' });
    expect(checkTenant(older, one, [one], [newer, older])).toBeUndefined();
    expect(checkTenant(newer, one, [one], [newer, older])?.reason).toBe('TierFull');
  });
});

describe('checkModelAccess', () => {
  const ma = (model: string): ModelAccess => ({
    apiVersion: 'rag.tenancy.dev/v1alpha1',
    kind: 'ModelAccess',
    metadata: { name: 'x' },
    spec: { tenantRef: { name: 'acme' }, model },
  });
  const acme = tenant('acme', 'basic');
  it.each([
    { name: 'missing tenant', t: undefined, model: 'm1', reason: 'TenantNotFound' },
    { name: 'model not approved lists the approved ones', t: acme, model: 'm2', reason: 'ModelNotApproved' },
    { name: 'approved model passes', t: acme, model: 'm1', reason: undefined },
  ])('$name', ({ t, model, reason }) => {
    const r = checkModelAccess(ma(model), t, [{ id: 'm1' }]);
    expect(r?.reason).toBe(reason);
    if (reason === 'ModelNotApproved') expect(r?.message).toContain('(m1)');
  });
});

describe("checkIdentity: one Tenant per Pod Identity service account, in the operator's cluster", () => {
  const cluster = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
  const withPod = (name: string, ns: string, sa: string, created: string): Tenant => ({
    ...tenant(name, 'basic', { created }),
    spec: { tier: 'basic', access: { podIdentity: { namespace: ns, serviceAccount: sa } } },
  });
  const first = withPod('acme', 'acme', 'app', '2026-11-01T00:00:00Z');
  it.each([
    {
      name: 'the first to name a subject keeps it',
      t: first,
      others: [first, withPod('evil', 'acme', 'app', '2026-11-02T00:00:00Z')],
      reason: undefined,
    },
    {
      name: 'a later Tenant naming the same subject is refused',
      t: withPod('evil', 'acme', 'app', '2026-11-02T00:00:00Z'),
      others: [first],
      reason: 'IdentityConflict',
    },
    {
      name: 'same second: the smaller name wins',
      t: withPod('zeta', 'acme', 'app', '2026-11-01T00:00:00Z'),
      others: [first],
      reason: 'IdentityConflict',
    },
    {
      name: 'another service account of the namespace is fine',
      t: withPod('b', 'acme', 'app2', '2026-11-02T00:00:00Z'),
      others: [first],
      reason: undefined,
    },
    {
      name: 'the same service account name in another namespace is fine',
      t: withPod('c', 'acme-evil', 'app', '2026-11-02T00:00:00Z'),
      others: [first],
      reason: undefined,
    },
  ])('$name', ({ t, others, reason }) => {
    expect(checkIdentity(t, others, cluster)?.reason).toBe(reason);
  });
  it('Pod Identity without the operator knowing its EKS cluster is refused, saying which setting', () => {
    const r = checkIdentity(first, [first], undefined);
    expect(r?.reason).toBe('ClusterArnRequired');
    expect(r?.message).toContain('eksClusterArn');
  });
});

describe('checkPrincipals', () => {
  const scope = {
    accountId: '111122223333',
    trustedAccountIds: ['444455556666'],
    operatorPrincipal: 'arn:aws:iam::111122223333:role/rag-operator',
  };
  const withPrincipals = (...principals: string[]): Tenant => ({
    ...tenant('acme', 'basic'),
    spec: { tier: 'basic', access: { principals: principals as [string] } },
  });
  it.each([
    { name: "a role of the operator's account", p: ['arn:aws:iam::111122223333:role/app'], reason: undefined },
    { name: 'a role of a trusted account', p: ['arn:aws:iam::444455556666:role/app'], reason: undefined },
    { name: 'a role of another account', p: ['arn:aws:iam::999999999999:role/app'], reason: 'PrincipalNotAllowed' },
    {
      name: "the operator's own role (it would reach every tenant)",
      p: ['arn:aws:iam::111122223333:role/rag-operator'],
      reason: 'PrincipalNotAllowed',
    },
    {
      name: 'one foreign among own',
      p: ['arn:aws:iam::111122223333:role/app', 'arn:aws:iam::999999999999:role/x'],
      reason: 'PrincipalNotAllowed',
    },
  ])('$name', ({ p, reason }) => {
    expect(checkPrincipals(withPrincipals(...p), scope)?.reason).toBe(reason);
  });
});
