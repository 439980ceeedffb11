/**
 * The Tenant reconciler over in-memory ports: every branch of the owner template (refused,
 * suspended, tier not ready, creating, ready, deleting with each deletionPolicy, terminal, Synced
 * False then True) and the tier-deleting condition, with behavioural fake drivers.
 */
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../api/v1alpha1/constants.js';
import type { Condition, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { TerminalError } from '../../core/errors.js';
import { FakeIngestionPort } from '../../ingestion/fake-port.js';
import { IngestionScheduler } from '../../ingestion/scheduler.js';
import type { OutputsPort } from '../../ports/outputs.js';
import { type CallPriority, callPriority } from '../../runtime/call-priority.js';
import { ManualClock } from '../../runtime/clock.js';
import type { Reconciler, Result } from '../../runtime/controller.js';
import { sumTenantUsage, tenantQuotaCondition } from '../../usage/tenant-usage.js';
import { FakeCloud, accessDenied, throttled } from '../../../test/support/fake-cloud.js';
import { MemoryEvents, MemoryKind } from '../../../test/support/memory-kube.js';
import { tenantReconciler } from './reconciler.js';

const logger = pino({ level: 'silent' });
const ctx = { signal: new AbortController().signal, logger, reconcileId: 't' };
const readyTrue: Condition = {
  type: 'Ready',
  status: 'True',
  reason: 'Reconciled',
  message: 'ready',
  lastTransitionTime: '2026-11-01T00:00:00Z',
};

const tierOf = (
  name: string,
  spec: Partial<TenantTier['spec']> = {},
  status: TenantTier['status'] = { conditions: [readyTrue] },
): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name, uid: `uid-${name}`, generation: 1, finalizers: [FINALIZER] },
  spec: { isolation: 'silo', ...spec },
  status,
});
const tenantOf = (name: string, spec: Partial<Tenant['spec']> = {}): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: new Date('2026-11-01T00:00:00Z') },
  spec: { tier: 'gold', deletionPolicy: 'Delete', ...spec },
});

let clock: ManualClock;
let cloud: FakeCloud;
let tiers: MemoryKind<TenantTier>;
let tenants: MemoryKind<Tenant>;
let events: MemoryEvents;
let marked: string[];
let configMaps: Map<string, Record<string, string>>;
let reconciler: Reconciler;
/** The call priority each pass ran its resources under. */
let priorities: CallPriority[];

beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-11-05T10:00:00Z'));
  cloud = new FakeCloud();
  tiers = new MemoryKind();
  tenants = new MemoryKind();
  events = new MemoryEvents();
  marked = [];
  configMaps = new Map();
  priorities = [];
  const outputs: OutputsPort = {
    apply: (_t, namespace, name, data) => {
      configMaps.set(`${namespace}/${name}`, data);
      return Promise.resolve({ outcome: 'written' });
    },
    delete: (_t, namespace, name) => Promise.resolve(configMaps.delete(`${namespace}/${name}`) ? 'deleted' : 'absent'),
  };
  reconciler = tenantReconciler({
    store: tenants,
    writer: tenants,
    events,
    now: () => new Date(clock.now()),
    describeFailure: cloud.describe,
    tiers,
    resources: (t) => {
      priorities.push(callPriority());
      return Promise.resolve([
        {
          driver: cloud.driver('Bucket', 'StorageReady', { outputs: (id) => ({ bucket: id }) }),
          spec: `bucket-${t.metadata.name}`,
          ids: {},
        },
        {
          driver: cloud.driver('TenantRole', 'IdentityReady', { createLooks: 1, outputs: (id) => ({ roleArn: `arn:${id}` }) }),
          spec: `role-${t.metadata.name}`,
          ids: {},
        },
      ]);
    },
    ingestion: {
      scheduler: new IngestionScheduler({ port: new FakeIngestionPort(clock), clock, logger }),
      sidecars: () => Promise.resolve(true),
    },
    usageOf: () => ({ usage: sumTenantUsage([], '2026-11'), quota: tenantQuotaCondition([]) }),
    outputs: { writer: outputs, region: 'us-east-1', scope: { allowedNamespaces: ['acme'], operatorNamespace: 'rag-system' } },
    retained: { markKeyRetained: (key, tenant, bucket) => Promise.resolve(void marked.push(`${key}:${tenant}:${bucket}`)) },
    access: { trust: () => Promise.resolve({ accountId: '123456789012', trustedAccountIds: [] }) },
  });
});

const pass = (name: string): Promise<Result> => reconciler.reconcile(name, ctx);
const cond = (name: string, type: string): Condition | undefined => tenants.get(name)?.status?.conditions?.find((c) => c.type === type);
/** Passes until the reconciler stops asking to come back soon. */
async function settle(name: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await pass(name);
    if (r.requeueAfterMs === undefined) return;
  }
  throw new Error(`${name} did not settle`);
}

describe('Tenant reconciler', () => {
  it.each([
    { name: 'an unknown tier refuses it', tier: undefined, spec: {}, reason: 'TierNotFound', evaluated: true },
    { name: 'a suspended tenant is left as it is', tier: tierOf('gold'), spec: { suspend: true }, reason: 'Suspended', evaluated: true },
    {
      name: 'a tier not Ready yet makes it wait',
      tier: tierOf('gold', {}, { conditions: [{ ...readyTrue, status: 'False', reason: 'Creating' }] }),
      spec: {},
      reason: 'TierNotReady',
      evaluated: false,
    },
  ])('$name: Ready=False $reason, no finalizer, no AWS call', async ({ tier, spec, reason, evaluated }) => {
    if (tier) tiers.put(tier);
    tenants.put(tenantOf('acme', spec));
    expect(await pass('acme')).toEqual({});
    const t = tenants.get('acme');
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason });
    expect(cond('acme', 'Synced')).toMatchObject({ status: 'True', reason: 'ReconcileSuccess' });
    expect(t?.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(t?.status?.observedGeneration).toBe(evaluated ? 1 : undefined);
    expect(cloud.calls).toEqual([]);
  });

  it('creates with the finalizer on first, says Creating-like waits, then Ready; writes nothing when nothing changed', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    expect(await pass('acme')).toEqual({ requeueAfterMs: 1_000 });
    const first = tenants.get('acme');
    expect(first?.metadata.finalizers).toContain(FINALIZER);
    expect(cond('acme', 'IdentityReady')).toMatchObject({ status: 'False', reason: 'Provisioning', message: 'TenantRole is CREATING' });
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason: 'Provisioning' });
    // Ids AWS assigns are on status the moment the create returns.
    expect(first?.status?.resources).toMatchObject({ BucketId: 'Bucket-1', TenantRoleId: 'TenantRole-2' });
    expect(first?.status?.observedGeneration).toBeUndefined();
    expect(await pass('acme')).toEqual({});
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(tenants.get('acme')?.status).toMatchObject({
      observedGeneration: 1,
      isolation: 'silo',
      resources: { bucket: 'Bucket-1', roleArn: 'arn:TenantRole-2' },
    });
    const writes = tenants.statusWrites;
    await pass('acme');
    expect(tenants.statusWrites).toBe(writes);
    expect(events.reasons('acme')).toEqual(['NotReady', 'Ready']);
  });

  it.each([
    { isolation: 'pool', want: 'low' },
    { isolation: 'bridge', want: 'high' },
    { isolation: 'silo', want: 'high' },
  ] as const)("a $isolation tenant's passes make their AWS calls at $want priority in the rate budgets", async ({ isolation, want }) => {
    tiers.put(tierOf('gold', { isolation }));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    expect(priorities.length).toBeGreaterThan(0);
    expect(new Set(priorities)).toEqual(new Set([want]));
  });

  it('deleting with deletionPolicy Delete says Deleting and the component on every pass, then lets go', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    tenants.markDeleted('acme');
    expect(await pass('acme')).toEqual({ requeueAfterMs: 2_000 });
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    // Reverse order: the role goes first.
    expect(cond('acme', 'Ready')?.message).toContain('TenantRole is being deleted');
    expect(await pass('acme')).toEqual({ requeueAfterMs: 2_000 });
    expect(cond('acme', 'Ready')?.message).toContain('Bucket is being deleted');
    await pass('acme');
    expect(tenants.get('acme')).toBeUndefined();
    expect(cloud.calls.filter((c) => c.startsWith('delete'))).toEqual(['delete TenantRole', 'delete Bucket']);
    expect(events.reasons('acme')).toContain('Deleted');
    // A deletion someone asked for is no warning.
    expect(events.events.find((e) => e.message.startsWith('Deleting:'))?.type).toBe('Normal');
  });

  it("deleting with deletionPolicy Retain lets go at once, leaves AWS, and marks a silo tier's key", async () => {
    tiers.put(tierOf('gold', { storage: { encryption: 'TierKey' } }, { conditions: [readyTrue], shared: { kmsKeyArn: 'arn:key' } }));
    tenants.put(tenantOf('acme', { deletionPolicy: 'Retain', connection: { namespace: 'acme' } }));
    await settle('acme');
    expect(configMaps.has('acme/rag-connection')).toBe(true);
    tenants.markDeleted('acme');
    expect(await pass('acme')).toEqual({});
    expect(tenants.get('acme')).toBeUndefined();
    expect(cloud.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(marked).toEqual(['arn:key:acme:Bucket-1']);
    expect(configMaps.has('acme/rag-connection')).toBe(false);
    expect(events.reasons('acme')).toContain('RetainedInAWS');
  });

  it('a Delete tenant whose tier is gone keeps its finalizer and says TierMissing', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    tiers.items.delete('gold');
    tenants.markDeleted('acme');
    expect(await pass('acme')).toEqual({});
    expect(tenants.get('acme')?.metadata.finalizers).toContain(FINALIZER);
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason: 'TierMissing' });
  });

  it('a resource AWS reports failed is terminal: its condition is written, then the pass ends without retry', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    cloud.fail('Bucket', 'BucketFailed');
    // Past the time a resource found in sync is trusted without a read.
    clock.advance(60_000);
    await expect(pass('acme')).rejects.toBeInstanceOf(TerminalError);
    expect(cond('acme', 'StorageReady')).toMatchObject({ status: 'False', reason: 'BucketFailed' });
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason: 'BucketFailed' });
    expect(cond('acme', 'Synced')?.status).toBe('True');
  });

  it('AccessDenied sets Synced=False at once naming the call and the resource; the next good pass sets it True', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    cloud.failNext('TenantRole', 'create', accessDenied('iam:CreateRole', 'rag-c-t-acme-app'));
    await expect(pass('acme')).rejects.toThrow(/TenantRole: create failed/);
    expect(cond('acme', 'Synced')).toMatchObject({
      status: 'False',
      reason: 'AccessDenied',
      message:
        'iam:CreateRole on TenantRole "rag-c-t-acme-app" failed: AccessDenied: not authorized to perform: iam:CreateRole; check that the operator\'s IAM policy allows iam:CreateRole on rag-c-t-acme-app; the operator retries with backoff',
    });
    // Ready is computed as before: the bucket's pass had not written it yet.
    expect(cond('acme', 'Ready')).toBeUndefined();
    await settle('acme');
    expect(cond('acme', 'Synced')).toMatchObject({ status: 'True', reason: 'ReconcileSuccess' });
    expect(cond('acme', 'Ready')?.status).toBe('True');
  });

  it('throttling stays off status until the same call has failed 5 passes in a row', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    cloud.failNext('Bucket', 'create', throttled('s3:CreateBucket', 'b'), 5);
    for (let i = 1; i <= 4; i++) {
      await expect(pass('acme')).rejects.toThrow();
      expect(cond('acme', 'Synced'), `failure ${i}`).toBeUndefined();
    }
    await expect(pass('acme')).rejects.toThrow();
    expect(cond('acme', 'Synced')).toMatchObject({ status: 'False', reason: 'AWSError' });
    expect(cond('acme', 'Synced')?.message).toMatch(
      /^s3:CreateBucket on Bucket "b" failed in 5 passes in a row since 2026-11-05T10:00:00Z: ThrottlingException/,
    );
    await settle('acme');
    expect(cond('acme', 'Synced')?.status).toBe('True');
  });

  it('a deletion refused by AWS says Deleting with the component and Synced=False naming the call, then goes', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    tenants.markDeleted('acme');
    cloud.failNext('TenantRole', 'delete', accessDenied('iam:DeleteRole', 'rag-c-t-acme-app'));
    await expect(pass('acme')).rejects.toThrow();
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(cond('acme', 'Ready')?.message).toContain('TenantRole is being deleted');
    expect(cond('acme', 'Synced')).toMatchObject({ status: 'False', reason: 'AccessDenied' });
    expect(cond('acme', 'Synced')?.message).toContain('iam:DeleteRole on TenantRole');
    for (let i = 0; i < 5 && tenants.get('acme'); i++) await pass('acme');
    expect(tenants.get('acme')).toBeUndefined();
  });

  it('a tier being deleted keeps its tenants Ready with TierDeleting, and refuses new ones', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    const held: Condition = { ...readyTrue, status: 'False', reason: 'TierInUse', message: '1 tenant(s) still use this tier (acme)' };
    tiers.put({ ...tierOf('gold', {}, { conditions: [held] }), metadata: { ...tierOf('gold').metadata, deletionTimestamp: new Date() } });
    await settle('acme');
    expect(cond('acme', 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(cond('acme', 'TierDeleting')).toMatchObject({ status: 'True', reason: 'TierDeleting' });
    expect(cond('acme', 'TierDeleting')?.message).toContain('TierInUse: 1 tenant(s) still use this tier (acme)');
    tenants.put(tenantOf('late'));
    await pass('late');
    expect(cond('late', 'Ready')).toMatchObject({ status: 'False', reason: 'TierDeleting' });
    expect(tenants.get('late')?.metadata.finalizers ?? []).not.toContain(FINALIZER);
  });

  it("a bridge tenant's resources name its tier's key", async () => {
    const shared = { bucket: 'tier-bucket', collectionId: 'c1', kmsKeyArn: 'arn:tier-key', knowledgeBaseId: 'not-for-bridge' };
    tiers.put(tierOf('gold', { isolation: 'bridge', storage: { encryption: 'TierKey' } }, { conditions: [readyTrue], shared }));
    tenants.put(tenantOf('acme'));
    await settle('acme');
    expect(tenants.get('acme')?.status?.resources).toMatchObject({
      bucket: 'Bucket-1',
      collectionId: 'c1',
      kmsKeyArn: 'arn:tier-key',
      prefix: 'tenants/acme/',
    });
    expect(tenants.get('acme')?.status?.resources?.knowledgeBaseId).toBeUndefined();
  });
});
