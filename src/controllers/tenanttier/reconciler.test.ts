/**
 * The TenantTier reconciler over in-memory ports: creating and ready with its shared ids and
 * tenant count, deletion held by tenants and by retained documents, deletion that says Deleting
 * and lets go, a terminal deletion, and Synced False then True, with behavioural fake drivers.
 */
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../api/v1alpha1/constants.js';
import type { Condition, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { TerminalError } from '../../core/errors.js';
import { FakeIngestionPort } from '../../ingestion/fake-port.js';
import { IngestionScheduler } from '../../ingestion/scheduler.js';
import { ManualClock } from '../../runtime/clock.js';
import type { Reconciler, Result } from '../../runtime/controller.js';
import { FakeCloud, accessDenied } from '../../../test/support/fake-cloud.js';
import { MemoryEvents, MemoryKind } from '../../../test/support/memory-kube.js';
import { tierReconciler } from './reconciler.js';

const logger = pino({ level: 'silent' });
const ctx = { signal: new AbortController().signal, logger, reconcileId: 't' };

const tierOf = (name: string, spec: Partial<TenantTier['spec']> = {}): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name, uid: `uid-${name}`, generation: 1 },
  spec: { isolation: 'bridge', ...spec },
});
const tenantOf = (name: string): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, uid: `uid-${name}`, generation: 1, finalizers: [FINALIZER] },
  spec: { tier: 'gold' },
});

let clock: ManualClock;
let cloud: FakeCloud;
let tiers: MemoryKind<TenantTier>;
let tenants: MemoryKind<Tenant>;
let events: MemoryEvents;
let withDocuments: string[];
let reconciler: Reconciler;

beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-11-05T10:00:00Z'));
  cloud = new FakeCloud();
  tiers = new MemoryKind();
  tenants = new MemoryKind();
  events = new MemoryEvents();
  withDocuments = [];
  reconciler = tierReconciler({
    store: tiers,
    writer: tiers,
    events,
    now: () => new Date(clock.now()),
    describeFailure: cloud.describe,
    tenants,
    resources: (t) =>
      Promise.resolve([
        {
          driver: cloud.driver('Bucket', 'StorageReady', { outputs: (id) => ({ bucket: id }) }),
          spec: `bucket-${t.metadata.name}`,
          ids: {},
        },
        {
          driver: cloud.driver('Collection', 'VectorStoreReady', {
            createLooks: 1,
            deleteLooks: 1,
            outputs: (id) => ({ collectionId: id }),
          }),
          spec: `coll-${t.metadata.name}`,
          ids: {},
        },
      ]),
    ingestion: {
      scheduler: new IngestionScheduler({ port: new FakeIngestionPort(clock), clock, logger }),
      sidecars: () => Promise.resolve(true),
    },
    retained: { tenantsWithDocuments: () => Promise.resolve(withDocuments) },
  });
});

const pass = (name: string): Promise<Result> => reconciler.reconcile(name, ctx);
const cond = (type: string): Condition | undefined => tiers.get('gold')?.status?.conditions?.find((c) => c.type === type);
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await pass('gold')).requeueAfterMs === undefined) return;
  throw new Error('did not settle');
}

describe('TenantTier reconciler', () => {
  it('creates its shared resources, publishes their ids and counts its tenants', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    expect(await pass('gold')).toEqual({ requeueAfterMs: 1_000 });
    expect(tiers.get('gold')?.metadata.finalizers).toContain(FINALIZER);
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'Provisioning' });
    await settle();
    expect(cond('Ready')).toMatchObject({ status: 'True', reason: 'Reconciled', message: 'tier is ready (bridge); 1 tenant(s)' });
    expect(cond('Synced')?.status).toBe('True');
    expect(tiers.get('gold')?.status).toMatchObject({
      tenantCount: 1,
      observedGeneration: 1,
      shared: { bucket: 'Bucket-1', collectionId: 'Collection-2' },
    });
  });

  it('a deletion waits for its tenants, then for retained documents, then removes what it shares in reverse order', async () => {
    tiers.put(tierOf('gold'));
    tenants.put(tenantOf('acme'));
    await settle();
    tiers.markDeleted('gold');
    expect(await pass('gold')).toEqual({});
    expect(cond('Ready')).toMatchObject({
      status: 'False',
      reason: 'TierInUse',
      message: '1 tenant(s) still use this tier (acme): delete them or move them to another tier first',
    });
    expect(cloud.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    tenants.items.delete('acme');
    withDocuments = ['old'];
    expect(await pass('gold')).toEqual({ requeueAfterMs: 60_000 });
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'RetainedTenantData' });
    withDocuments = [];
    expect(await pass('gold')).toEqual({ requeueAfterMs: 2_000 });
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(cond('Ready')?.message).toContain('Collection is being deleted');
    expect(await pass('gold')).toEqual({ requeueAfterMs: 1_000 });
    expect(cond('Ready')?.message).toContain('Collection is DELETING');
    for (let i = 0; i < 5 && tiers.get('gold'); i++) await pass('gold');
    expect(tiers.get('gold')).toBeUndefined();
    expect(cloud.calls.filter((c) => c.startsWith('delete'))).toEqual(['delete Collection', 'delete Bucket']);
  });

  it('a deletion held by a terminal refusal writes it on Ready, through the same path as any pass', async () => {
    tiers.put(tierOf('gold'));
    await settle();
    // As the KMS driver refuses to schedule a key still used by retained tenants' buckets.
    cloud.failNext('Collection', 'delete', new TerminalError('KeyStillUsed', 'the key still encrypts retained buckets'));
    tiers.markDeleted('gold');
    await expect(pass('gold')).rejects.toBeInstanceOf(TerminalError);
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'KeyStillUsed', message: 'the key still encrypts retained buckets' });
    expect(cond('VectorStoreReady')).toMatchObject({ status: 'False', reason: 'KeyStillUsed' });
    expect(tiers.get('gold')?.metadata.finalizers).toContain(FINALIZER);
  });

  it('Synced=False names what AWS refused; the next good pass sets Synced=True', async () => {
    tiers.put(tierOf('gold'));
    cloud.failNext('Bucket', 'create', accessDenied('s3:CreateBucket', 'rag-c-tier-gold'));
    await expect(pass('gold')).rejects.toThrow();
    expect(cond('Synced')).toMatchObject({ status: 'False', reason: 'AccessDenied' });
    expect(cond('Synced')?.message).toContain('s3:CreateBucket on Bucket "rag-c-tier-gold" failed');
    await settle();
    expect(cond('Synced')?.status).toBe('True');
  });
});
