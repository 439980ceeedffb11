import { describe, expect, it } from 'vitest';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { type Changes, Directory, forgetDeleted, Refusal } from './directory.js';
import { createGatewayMetrics, recordRequest, seriesForgetter } from './metrics.js';

const ready = [{ type: 'Ready', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2026-12-01T00:00:00Z' }];
const tenant = (
  name: string,
  o: { ns?: string; isolation?: string; kb?: string; suspend?: boolean; ready?: boolean; deleting?: boolean; store?: string } = {},
): Tenant =>
  ({
    apiVersion: 'x',
    kind: 'Tenant',
    metadata: { name, ...(o.deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: { tier: o.isolation ?? 'pool', suspend: o.suspend, access: { podIdentity: { namespace: o.ns ?? name, serviceAccount: 'app' } } },
    status: {
      conditions: o.ready === false ? [] : ready,
      isolation: o.isolation ?? 'pool',
      vectorStore: o.store ?? 'OpenSearchServerless',
      resources: { knowledgeBaseId: o.kb ?? 'POOLKB', roleArn: `arn:aws:iam::1:role/${name}` },
    },
  }) as Tenant;
const tiers = [
  {
    apiVersion: 'x',
    kind: 'TenantTier',
    metadata: { name: 'pool' },
    spec: { isolation: 'pool', defaultQuota: { tokensPerDay: 7 } },
    status: { shared: { knowledgeBaseId: 'POOLKB' } },
  },
  { apiVersion: 'x', kind: 'TenantTier', metadata: { name: 'silo' }, spec: { isolation: 'silo' }, status: {} },
  {
    apiVersion: 'x',
    kind: 'TenantTier',
    metadata: { name: 'msilo' },
    spec: { isolation: 'silo', vectorStore: { type: 'Managed' } },
    status: {},
  },
] as TenantTier[];
const access = (name: string, t: string, model: string, o: { profile?: boolean; deleting?: boolean } = {}): ModelAccess => ({
  apiVersion: 'x',
  kind: 'ModelAccess',
  metadata: { name, ...(o.deleting ? { deletionTimestamp: new Date() } : {}) },
  spec: { tenantRef: { name: t }, model },
  status: o.profile === false ? {} : { inferenceProfileArn: `arn:aws:bedrock:us-east-1:1:application-inference-profile/${name}` },
});
const cache = <T extends { metadata: { name: string } }>(xs: T[]) => ({
  get: (n: string) => xs.find((x) => x.metadata.name === n),
  list: () => xs,
});
const dir = (ts: Tenant[], as: ModelAccess[] = []): Directory => new Directory(cache(ts), cache(tiers), cache(as));
const refusal = (f: () => unknown): [number, string] => {
  try {
    f();
  } catch (e) {
    if (e instanceof Refusal) return [e.status, e.type];
    throw e;
  }
  throw new Error('not refused');
};

describe('Directory', () => {
  it('maps a ServiceAccount to the one Tenant naming it, and refuses none, several or a deleting one', () => {
    const d = dir([tenant('acme'), tenant('a1', { ns: 'shared' }), tenant('a2', { ns: 'shared' }), tenant('gone', { deleting: true })]);
    expect(d.tenantOf({ namespace: 'acme', serviceAccount: 'app' }).metadata.name).toBe('acme');
    expect(refusal(() => d.tenantOf({ namespace: 'acme', serviceAccount: 'other' }))).toEqual([401, 'unauthorized']);
    expect(refusal(() => d.tenantOf({ namespace: 'shared', serviceAccount: 'app' }))).toEqual([401, 'unauthorized']);
    expect(refusal(() => d.tenantOf({ namespace: 'gone', serviceAccount: 'app' }))).toEqual([401, 'unauthorized']);
  });

  it('targets a Ready tenant; refuses one not Ready, suspended, or pool with a knowledge base its tier does not share', () => {
    const d = dir([]);
    expect(d.target(tenant('acme'))).toEqual({
      tenant: 'acme',
      isolation: 'pool',
      knowledgeBaseId: 'POOLKB',
      roleArn: 'arn:aws:iam::1:role/acme',
      vectorStore: 'OpenSearchServerless',
    });
    expect(refusal(() => d.target(tenant('acme', { ready: false })))).toEqual([409, 'tenant_not_ready']);
    expect(refusal(() => d.target(tenant('acme', { suspend: true })))).toEqual([403, 'tenant_suspended']);
    expect(refusal(() => d.target(tenant('acme', { kb: 'OTHERKB' })))).toEqual([409, 'tenant_not_ready']);
    expect(refusal(() => d.target(tenant('acme', { isolation: 'shared' })))).toEqual([409, 'tenant_not_ready']);
    expect(d.target(tenant('s', { isolation: 'silo', kb: 'SILOKB' })).knowledgeBaseId).toBe('SILOKB');
  });

  it("exposes the tenant's vector store from its status, from its tier's spec when the status has none, and refuses an unknown one", () => {
    const d = dir([]);
    expect(d.target(tenant('a', { store: 'S3Vectors' })).vectorStore).toBe('S3Vectors');
    expect(d.target(tenant('m', { isolation: 'silo', kb: 'SILOKB', store: 'Managed' })).vectorStore).toBe('Managed');
    const old = tenant('old', { isolation: 'silo', kb: 'SILOKB' });
    delete old.status?.vectorStore;
    expect(d.target(old).vectorStore).toBe('OpenSearchServerless');
    old.spec.tier = 'msilo';
    expect(d.target(old).vectorStore).toBe('Managed');
    expect(refusal(() => d.target(tenant('x', { store: 'Pinecone' })))).toEqual([409, 'tenant_not_ready']);
  });

  it("grants only the tenant's own ModelAccess, by model or name, with the tier's default quota", () => {
    const d = dir(
      [],
      [
        access('acme-nova', 'acme', 'nova'),
        access('globex-claude', 'globex', 'claude'),
        access('acme-old', 'acme', 'old', { deleting: true }),
      ],
    );
    expect(d.grant(tenant('acme'), 'nova').limits).toEqual({ tokensPerDay: 7, onExceeded: 'Throttle' });
    expect(d.grant(tenant('acme'), 'acme-nova').access.metadata.name).toBe('acme-nova');
    expect(refusal(() => d.grant(tenant('acme'), 'claude'))).toEqual([403, 'model_not_granted']);
    expect(refusal(() => d.grant(tenant('acme'), 'globex-claude'))).toEqual([403, 'model_not_granted']);
    expect(refusal(() => d.grant(tenant('acme'), 'old'))).toEqual([403, 'model_not_granted']);
    expect(refusal(() => d.grant(tenant('acme', { suspend: true }), 'nova'))).toEqual([403, 'tenant_suspended']);
    expect(refusal(() => dir([], [access('x', 'acme', 'nova', { profile: false })]).grant(tenant('acme'), 'nova'))).toEqual([
      409,
      'model_not_ready',
    ]);
  });

  it("makes a tenant's model calls as its own role, or as the gateway for a Shared pool tier's tenant (no role of its own)", () => {
    const d = dir([]);
    expect(d.roleOf(tenant('acme'))).toBe('arn:aws:iam::1:role/acme');
    const shared = tenant('pooled');
    shared.status = {
      ...shared.status,
      tenantRoles: 'Shared',
      resources: { ...shared.status?.resources, roleArn: 'arn:aws:iam::1:role/tier-app' },
    };
    expect(d.roleOf(shared)).toBeUndefined();
    const missing = tenant('new');
    missing.status = { ...missing.status, resources: {} };
    expect(refusal(() => d.roleOf(missing))).toEqual([409, 'tenant_not_ready']);
  });
});

/** An informer stand-in: a cache and its change events, with deletion as an informer does it (out of the cache, then told). */
function informer<T extends { metadata: { name: string } }>(xs: T[]) {
  const items = new Map(xs.map((x) => [x.metadata.name, x]));
  const handlers: Parameters<Changes<T>['onEvent']>[0][] = [];
  return {
    get: (n: string) => items.get(n),
    list: () => [...items.values()],
    onEvent: (h: Parameters<Changes<T>['onEvent']>[0]) => void handlers.push(h),
    add(x: T) {
      items.set(x.metadata.name, x);
      for (const h of handlers) h('add', x);
    },
    delete(name: string) {
      const x = items.get(name);
      if (!x) throw new Error(`no ${name}`);
      items.delete(name);
      for (const h of handlers) h('delete', x);
    },
  };
}

describe('forgetting deleted Tenants and grants', () => {
  it('tells of a deleted Tenant, and of a deleted ModelAccess unless another still grants its tenant the model', () => {
    const tenants = informer([tenant('a'), tenant('a-b')]);
    const accesses = informer([access('a-nova', 'a', 'nova'), access('a-nova-2', 'a', 'nova'), access('a-claude', 'a', 'claude')]);
    const told: string[] = [];
    forgetDeleted(tenants, accesses, {
      tenant: (n) => told.push(`tenant ${n}`),
      model: (t, m) => told.push(`model ${t}/${m}`),
      tenantAdded: (n) => told.push(`tenant ${n} added`),
      modelAdded: (t, m) => told.push(`model ${t}/${m} added`),
    });
    tenants.add(tenant('c'));
    accesses.add(access('c-nova', 'c', 'nova'));
    expect(told.splice(0)).toEqual(['tenant c added', 'model c/nova added']);
    accesses.delete('a-nova');
    expect(told).toEqual([]); // a-nova-2 still grants a nova
    accesses.delete('a-nova-2');
    accesses.delete('a-claude');
    tenants.delete('a');
    expect(told).toEqual(['model a/nova', 'model a/claude', 'tenant a']);
  });

  it("drops a deleted tenant's metric series and keeps those of a tenant whose name starts with it", async () => {
    const tenants = informer([tenant('a'), tenant('a-b')]);
    const accesses = informer([access('a-nova', 'a', 'nova'), access('ab-nova', 'a-b', 'nova')]);
    const metrics = createGatewayMetrics(false);
    const errors: unknown[] = [];
    forgetDeleted(
      tenants,
      accesses,
      seriesForgetter(metrics, (e) => errors.push(e)),
    );
    for (const t of ['a', 'a-b']) {
      recordRequest(metrics, { route: '/v1/chat/completions', tenant: t, outcome: 'ok', seconds: 0.01 });
      recordRequest(metrics, { route: '/v1/retrieve', tenant: t, outcome: 'scope', seconds: 0.01 });
      metrics.tokens.inc({ tenant: t, model: 'nova', direction: 'input' }, 5);
    }
    const scrape = (): Promise<string> => metrics.registry.metrics();
    const seriesOf = async (t: string): Promise<number> => (await scrape()).split('\n').filter((l) => l.includes(`tenant="${t}"`)).length;
    // requests (2), refusals, request seconds (2), tokens.
    expect(await seriesOf('a')).toBe(6);
    expect(await seriesOf('a-b')).toBe(6);

    accesses.delete('a-nova');
    await expect.poll(async () => (await scrape()).includes('tenant="a",model="nova"')).toBe(false);
    expect(await seriesOf('a')).toBe(5);

    tenants.delete('a');
    await expect.poll(() => seriesOf('a')).toBe(0);
    expect(await seriesOf('a-b')).toBe(6);
    // A request of `a` that was in flight finishes after the deletion: its series stay gone.
    recordRequest(metrics, { route: '/v1/chat/completions', tenant: 'a', outcome: 'ok', seconds: 0.01 });
    expect(await seriesOf('a')).toBe(0);
    // `a` created again is counted again.
    tenants.add(tenant('a'));
    recordRequest(metrics, { route: '/v1/chat/completions', tenant: 'a', outcome: 'ok', seconds: 0.01 });
    expect(await seriesOf('a')).toBe(2);
    expect(await scrape()).toContain('tenant_rag_gateway_model_tokens_total{tenant="a-b",model="nova",direction="input"} 5');
    expect(errors).toEqual([]);
  });
});
