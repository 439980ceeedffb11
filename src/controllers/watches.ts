/**
 * Which keys each watch event requeues, as a table: for every kind whose informer delivers the
 * event, the rules that map it to keys of the same or another kind, each filtered to the changes
 * that can alter that pass (watch-filters.ts). The composition root subscribes each informer to
 * its rules; the rules themselves are pure over the informers' caches.
 */
import { CONDITION, type KindName } from '../api/v1alpha1/constants.js';
import type { AnyResource, ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import type { ObjectStore } from '../ports/kube.js';
import {
  changedForOwner,
  changedForTenants,
  changedMembership,
  readyFlipped,
  waitingForIdentity,
  waitingForRoom,
} from './watch-filters.js';

/** One informer event: what happened, the object, and the object as it was before (updates). */
export interface WatchEvent<T> {
  type: 'add' | 'update' | 'delete';
  obj: T;
  old?: T;
}

/** A rule: an event that passes `when` requeues the `keys` of kind `target`. */
export interface WatchRule<T> {
  target: KindName;
  /** Why the target cares, for readers of the table. */
  why: string;
  when(e: WatchEvent<T>): boolean;
  keys(e: WatchEvent<T>): Iterable<string>;
}

/** The caches the rules read. */
export interface WatchSources {
  tiers: ObjectStore<TenantTier>;
  tenants: ObjectStore<Tenant>;
  accesses: ObjectStore<ModelAccess>;
}

/** The rules, by the kind whose events they map. */
export interface WatchTable {
  TenantTier: WatchRule<TenantTier>[];
  Tenant: WatchRule<Tenant>[];
  ModelAccess: WatchRule<ModelAccess>[];
}

const deleted = <T>(e: WatchEvent<T>): boolean => e.type === 'delete';
const own = <T extends AnyResource>(e: WatchEvent<T>): boolean => deleted(e) || changedForOwner(e.obj, e.old);
const self = <T extends AnyResource>(e: WatchEvent<T>): string[] => [e.obj.metadata.name];
const names = (xs: readonly AnyResource[]): string[] => xs.map((x) => x.metadata.name);

/**
 * What a tenant uses of a model access: its usage, whether it is over quota, and (for the session
 * policy of a Shared pool tier's tenant) its profile and whether it is throttled.
 */
const shownOnTenant = (a: ModelAccess | undefined): string =>
  JSON.stringify([
    a?.status?.usage,
    a?.status?.conditions?.find((c) => c.type === CONDITION.QuotaExceeded)?.status,
    a?.status?.inferenceProfileArn,
    a?.status?.conditions?.find((c) => c.type === CONDITION.Throttled)?.status,
  ]);

/** The table; see the module comment. */
export function watchTable(s: WatchSources): WatchTable {
  const tenantsOf = (tier: string): Tenant[] => s.tenants.list().filter((t) => t.spec.tier === tier);
  const accessesOf = (tenant: string): ModelAccess[] => s.accesses.list().filter((a) => a.spec.tenantRef.name === tenant);
  return {
    TenantTier: [
      { target: 'TenantTier', why: 'its own spec, annotations, finalizer, deletion', when: own, keys: self },
      {
        target: 'ModelAccess',
        why: "a tier's defaultQuota applies to its tenants' accesses",
        when: own,
        keys: (e) => tenantsOf(e.obj.metadata.name).flatMap((t) => names(accessesOf(t.metadata.name))),
      },
      {
        target: 'Tenant',
        why: "tenants build on their tier's spec, shared ids and readiness, and see its deletion",
        when: (e) => deleted(e) || changedForTenants(e.obj, e.old),
        keys: (e) => names(tenantsOf(e.obj.metadata.name)),
      },
    ],
    Tenant: [
      { target: 'Tenant', why: 'its own spec, annotations, finalizer, deletion', when: own, keys: self },
      {
        target: 'ModelAccess',
        why: "model accesses wait for their tenant's spec, readiness and deletion",
        when: (e) => own(e) || readyFlipped(e.obj, e.old),
        keys: (e) => names(accessesOf(e.obj.metadata.name)),
      },
      {
        target: 'Tenant',
        why: "a tenant refused for another's service account gets another look when that one changes or goes",
        // An add frees nothing (a newcomer ranks after every tenant already there), and skipping
        // it keeps an informer's initial list of N tenants from scanning all N for each one.
        when: (e) => e.type !== 'add' && own(e),
        keys: () => names(s.tenants.list().filter(waitingForIdentity)),
      },
      {
        target: 'TenantTier',
        why: 'a tier counts and admits its tenants (and waits for them when deleted)',
        when: (e) => changedMembership(e.obj, e.old, deleted(e)),
        keys: (e) => [e.obj.spec.tier, ...(e.old && e.old.spec.tier !== e.obj.spec.tier ? [e.old.spec.tier] : [])],
      },
      {
        target: 'Tenant',
        why: 'a tenant leaving a tier (or admitted) changes who fits under maxTenants: those refused for room look again',
        // An add takes room, never frees it (see above for why it is worth skipping).
        when: (e) => e.type !== 'add' && changedMembership(e.obj, e.old, deleted(e)),
        keys: (e) => names(tenantsOf(e.obj.spec.tier).filter((t) => t.metadata.name !== e.obj.metadata.name && waitingForRoom(t))),
      },
    ],
    ModelAccess: [
      { target: 'ModelAccess', why: 'its own changes, status included (the poller and quota windows)', when: () => true, keys: self },
      {
        target: 'Tenant',
        why: "a tenant sums its accesses' usage and quota state, and a Shared pool tier's tenant grants their profiles in its session policy",
        when: (e) => !e.old || shownOnTenant(e.old) !== shownOnTenant(e.obj) || !!e.obj.metadata.deletionTimestamp,
        keys: (e) => [e.obj.spec.tenantRef.name],
      },
    ],
  };
}

/**
 * An update carrying the resourceVersion the cache already held: the same object read again, as a
 * relist (after a 410 or a failed list) reads every object it still has. Nothing changed.
 */
function reread<T extends AnyResource>(e: WatchEvent<T>): boolean {
  const rv = e.obj.metadata.resourceVersion;
  return e.type === 'update' && rv !== undefined && rv === e.old?.metadata.resourceVersion;
}

/**
 * The keys an event requeues, per the rules, as `[kind, name]` pairs. An object a relist reads
 * again unchanged requeues nothing: rules that take every update (a ModelAccess's own, for its
 * status) would otherwise queue every object of the kind on each relist.
 */
export function requeuesOf<T extends AnyResource>(rules: readonly WatchRule<T>[], e: WatchEvent<T>): [KindName, string][] {
  if (reread(e)) return [];
  return rules.flatMap((r) => (r.when(e) ? [...r.keys(e)].map((k): [KindName, string] => [r.target, k]) : []));
}

/**
 * The keys an ingestion scheduler change requeues (its keys are `Tenant/<name>` and
 * `TenantTier/<name>`): the owner, and for a tier the tenants that show its syncs.
 */
export function ingestionRequeues(key: string, tenants: ObjectStore<Tenant>): [KindName, string][] {
  const [kind, name = ''] = key.split('/');
  if (kind === 'Tenant') return [['Tenant', name]];
  if (kind !== 'TenantTier') return [];
  // A pool's tenants show their tier's syncs.
  return [
    ['TenantTier', name],
    ...tenants.list().flatMap((t): [KindName, string][] => (t.spec.tier === name ? [['Tenant', t.metadata.name]] : [])),
  ];
}
