import { describe, expect, it } from 'vitest';
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { changedForOwner, changedForTenants, changedMembership, readyFlipped, waitingForRoom } from './watch-filters.js';

const ready = (status: 'True' | 'False', reason = 'Reconciled', message = '') => [
  { type: 'Ready', status, reason, message, lastTransitionTime: '2026-11-23T00:00:00Z' },
];
const tenant = (over: Partial<Tenant['metadata']> = {}, status: Tenant['status'] = {}, tier = 'gold'): Tenant =>
  ({ metadata: { name: 'acme', generation: 1, ...over }, spec: { tier }, status }) as Tenant;
const tier = (over: Partial<TenantTier['metadata']> = {}, status: TenantTier['status'] = {}): TenantTier =>
  ({ metadata: { name: 'gold', generation: 1, ...over }, spec: { isolation: 'pool' }, status }) as TenantTier;

describe('watch filters', () => {
  it('skip an object whose own status changed, and keep spec, annotation, finalizer and deletion changes', () => {
    const before = tenant();
    expect(changedForOwner(tenant({}, { conditions: ready('True') }), before)).toBe(false);
    expect(changedForOwner(tenant({ generation: 2 }), before)).toBe(true);
    expect(changedForOwner(tenant({ annotations: { 'rag.tenancy.dev/sync-requested-at': 'now' } }), before)).toBe(true);
    expect(changedForOwner(tenant({ finalizers: ['rag.tenancy.dev/finalizer'] }), before)).toBe(true);
    expect(changedForOwner(tenant({ deletionTimestamp: new Date() }), before)).toBe(true);
    expect(changedForOwner(before, undefined)).toBe(true);
  });

  it('tell a tier about membership only: arrivals, departures, admission and deletion', () => {
    const before = tenant();
    expect(changedMembership(tenant({}, { conditions: ready('True') }), before, false)).toBe(false);
    expect(changedMembership(tenant({}, {}, 'silver'), before, false)).toBe(true);
    expect(changedMembership(tenant({ finalizers: ['f'] }), before, false)).toBe(true);
    expect(changedMembership(before, before, true)).toBe(true);
  });

  it("tell tenants about their tier's spec, shared ids and readiness, not its tenant count", () => {
    const before = tier({}, { shared: { bucket: 'b' }, conditions: ready('True', 'Reconciled', '3 tenant(s)') });
    expect(changedForTenants(tier({}, { shared: { bucket: 'b' }, conditions: ready('True', 'Reconciled', '4 tenant(s)') }), before)).toBe(
      false,
    );
    expect(changedForTenants(tier({}, { shared: { bucket: 'b', knowledgeBaseId: 'KB1' }, conditions: ready('True') }), before)).toBe(true);
    expect(changedForTenants(tier({}, { shared: { bucket: 'b' }, conditions: ready('False', 'Creating') }), before)).toBe(true);
    expect(changedForTenants(tier({ generation: 2 }, before.status), before)).toBe(true);
  });

  it('wake model accesses when readiness flips and re-admit tenants refused for room', () => {
    expect(readyFlipped(tenant({}, { conditions: ready('True') }), tenant({}, { conditions: ready('False') }))).toBe(true);
    expect(readyFlipped(tenant({}, { conditions: ready('True', 'A') }), tenant({}, { conditions: ready('True', 'B') }))).toBe(false);
    expect(waitingForRoom(tenant({}, { conditions: ready('False', 'TierFull') }))).toBe(true);
    expect(waitingForRoom(tenant({}, { conditions: ready('False', 'Creating') }))).toBe(false);
  });
});
