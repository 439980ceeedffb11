import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../api/v1alpha1/constants.js';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { MemoryKind } from '../../test/support/memory-kube.js';
import { ingestionRequeues, requeuesOf, watchTable } from './watches.js';

const ready = (status: 'True' | 'False', reason = 'Reconciled', message = '') => [
  { type: 'Ready', status, reason, message, lastTransitionTime: '2026-11-23T00:00:00Z' },
];
const tier = (name: string, over: Partial<TenantTier['metadata']> = {}, status: TenantTier['status'] = {}): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name, generation: 1, ...over },
  spec: { isolation: 'pool' },
  status,
});
const tenant = (name: string, tierName = 'gold', over: Partial<Tenant['metadata']> = {}, status: Tenant['status'] = {}): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, generation: 1, ...over },
  spec: { tier: tierName },
  status,
});
const access = (name: string, tenantName: string, status: ModelAccess['status'] = {}): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name },
  spec: { tenantRef: { name: tenantName }, model: 'm' },
  status,
});

function world() {
  const tiers = new MemoryKind<TenantTier>();
  const tenants = new MemoryKind<Tenant>();
  const accesses = new MemoryKind<ModelAccess>();
  tiers.put(tier('gold'));
  tenants.put(tenant('acme', 'gold', { finalizers: [FINALIZER] }));
  tenants.put(tenant('full', 'gold', {}, { conditions: ready('False', 'TierFull') }));
  tenants.put(tenant('twin', 'silver', {}, { conditions: ready('False', 'IdentityConflict') }));
  accesses.put(access('acme-claude', 'acme'));
  return { table: watchTable({ tiers, tenants, accesses }), tiers, tenants, accesses };
}

describe('watch table', () => {
  it("a tier's spec change requeues the tier, its tenants and their model accesses", () => {
    const { table } = world();
    const before = tier('gold');
    expect(requeuesOf(table.TenantTier, { type: 'update', obj: tier('gold', { generation: 2 }), old: before })).toEqual([
      ['TenantTier', 'gold'],
      ['ModelAccess', 'acme-claude'],
      ['Tenant', 'acme'],
      ['Tenant', 'full'],
    ]);
  });

  it("a tier's own status write requeues only its tenants, and only when readiness or shared ids change", () => {
    const { table } = world();
    const before = tier('gold', {}, { conditions: ready('True', 'Reconciled', '2 tenant(s)') });
    const count = tier('gold', {}, { conditions: ready('True', 'Reconciled', '3 tenant(s)') });
    expect(requeuesOf(table.TenantTier, { type: 'update', obj: count, old: before })).toEqual([]);
    const held = tier('gold', {}, { conditions: ready('False', 'TierInUse', '2 tenant(s) still use this tier') });
    expect(requeuesOf(table.TenantTier, { type: 'update', obj: held, old: before })).toEqual([
      ['Tenant', 'acme'],
      ['Tenant', 'full'],
    ]);
  });

  it("a tenant's deletion requeues it, its accesses, those waiting for its identity, its tier, and those waiting for room", () => {
    const { table } = world();
    const gone = tenant('acme', 'gold', { finalizers: [FINALIZER] });
    expect(requeuesOf(table.Tenant, { type: 'delete', obj: gone })).toEqual([
      ['Tenant', 'acme'],
      ['ModelAccess', 'acme-claude'],
      ['Tenant', 'twin'],
      ['TenantTier', 'gold'],
      ['Tenant', 'full'],
    ]);
  });

  it('a new tenant requeues itself, its accesses and its tier, and wakes no tenant waiting for room or an identity', () => {
    const { table, tenants } = world();
    // A newcomer ranks after every tenant already there: it frees neither room nor a service account.
    const added = tenant('newco', 'gold');
    tenants.put(added);
    expect(requeuesOf(table.Tenant, { type: 'add', obj: added })).toEqual([
      ['Tenant', 'newco'],
      ['TenantTier', 'gold'],
    ]);
    // Its admission (the finalizer) may change who fits: those waiting for room look again.
    const admitted = tenant('newco', 'gold', { finalizers: [FINALIZER] });
    expect(requeuesOf(table.Tenant, { type: 'update', obj: admitted, old: added })).toEqual([
      ['Tenant', 'newco'],
      ['Tenant', 'twin'],
      ['TenantTier', 'gold'],
      ['Tenant', 'full'],
    ]);
  });

  it('an informer listing 2,000 tenants does not scan the cache for each one', () => {
    const tiers = new MemoryKind<TenantTier>();
    const accesses = new MemoryKind<ModelAccess>();
    const tenants = new MemoryKind<Tenant>();
    let listed = 0;
    const counted = Object.assign(Object.create(tenants) as MemoryKind<Tenant>, {
      list: () => {
        listed++;
        return tenants.list();
      },
    });
    const table = watchTable({ tiers, tenants: counted, accesses });
    for (let i = 0; i < 2000; i++) {
      const t = tenant(`t${i}`, 'gold', { finalizers: [FINALIZER] });
      tenants.put(t);
      requeuesOf(table.Tenant, { type: 'add', obj: t });
    }
    expect(listed).toBe(0);
  });

  it("a tenant's readiness flip wakes its model accesses only; a status write that changes nothing else, nothing", () => {
    const { table } = world();
    const before = tenant('acme', 'gold', { finalizers: [FINALIZER] }, { conditions: ready('False', 'Creating') });
    const after = tenant('acme', 'gold', { finalizers: [FINALIZER] }, { conditions: ready('True') });
    expect(requeuesOf(table.Tenant, { type: 'update', obj: after, old: before })).toEqual([['ModelAccess', 'acme-claude']]);
    expect(requeuesOf(table.Tenant, { type: 'update', obj: after, old: after })).toEqual([]);
  });

  it('a tenant moving tiers tells both', () => {
    const { table } = world();
    const keys = requeuesOf(table.Tenant, { type: 'update', obj: tenant('acme', 'silver'), old: tenant('acme', 'gold') });
    expect(keys.filter(([k]) => k === 'TenantTier')).toEqual([
      ['TenantTier', 'silver'],
      ['TenantTier', 'gold'],
    ]);
  });

  it('a model access always requeues itself, and its tenant when what the tenant sums changes', () => {
    const { table } = world();
    const before = access('acme-claude', 'acme');
    const used = access('acme-claude', 'acme', {
      usage: { window: '2026-11', inputTokens: 1, outputTokens: 0, totalTokens: 1, costUSD: '0' },
    });
    expect(requeuesOf(table.ModelAccess, { type: 'update', obj: before, old: before })).toEqual([['ModelAccess', 'acme-claude']]);
    expect(requeuesOf(table.ModelAccess, { type: 'update', obj: used, old: before })).toEqual([
      ['ModelAccess', 'acme-claude'],
      ['Tenant', 'acme'],
    ]);
  });

  it('an object a relist reads again unchanged (the same resourceVersion) requeues nothing, a model access included', () => {
    const { table } = world();
    const rv = <T extends { metadata: object }>(o: T, resourceVersion: string): T => ({
      ...o,
      metadata: { ...o.metadata, resourceVersion },
    });
    const a = rv(access('acme-claude', 'acme'), '7');
    expect(requeuesOf(table.ModelAccess, { type: 'update', obj: a, old: structuredClone(a) })).toEqual([]);
    // Its own status write is a new version: still requeued.
    expect(requeuesOf(table.ModelAccess, { type: 'update', obj: rv(a, '8'), old: a })).toEqual([['ModelAccess', 'acme-claude']]);
    const moved = rv(tenant('acme', 'silver'), '5');
    expect(requeuesOf(table.Tenant, { type: 'update', obj: moved, old: structuredClone(moved) })).toEqual([]);
    const t = rv(tier('gold', { generation: 2 }), '3');
    expect(requeuesOf(table.TenantTier, { type: 'update', obj: t, old: structuredClone(t) })).toEqual([]);
    // A delete is never a re-read, even with the version the cache held.
    expect(requeuesOf(table.ModelAccess, { type: 'delete', obj: a, old: a })).toEqual([['ModelAccess', 'acme-claude']]);
  });

  it("an ingestion change requeues its owner, and a tier's tenants", () => {
    const { tenants } = world();
    expect(ingestionRequeues('Tenant/acme', tenants)).toEqual([['Tenant', 'acme']]);
    expect(ingestionRequeues('TenantTier/gold', tenants)).toEqual([
      ['TenantTier', 'gold'],
      ['Tenant', 'acme'],
      ['Tenant', 'full'],
    ]);
  });
});
