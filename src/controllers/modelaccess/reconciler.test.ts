/**
 * The ModelAccess reconciler over in-memory ports: refusals (tenant missing, model not approved),
 * waiting for the tenant, granting (profile ARN persisted at once, then Ready), revoking when
 * refused after a grant, deletion that says Deleting and lets go, a terminal refusal, and Synced
 * False then True, with behavioural fake drivers.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../api/v1alpha1/constants.js';
import type { Condition, ModelAccess, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { TerminalError } from '../../core/errors.js';
import { ManualClock } from '../../runtime/clock.js';
import type { Reconciler, Result } from '../../runtime/controller.js';
import { createModelMetrics } from '../../runtime/metrics.js';
import { UsageBook } from '../../usage/book.js';
import { FakeCloud, accessDenied } from '../../../test/support/fake-cloud.js';
import { MemoryEvents, MemoryKind } from '../../../test/support/memory-kube.js';
import { modelAccessReconciler } from './reconciler.js';
import type { ApprovedModel, GrantDrivers } from './resources.js';

const logger = pino({ level: 'silent' });
const ctx = { signal: new AbortController().signal, logger, reconcileId: 't' };
const MODEL = 'amazon.nova-lite-v1:0';
const ready = (status: 'True' | 'False'): Condition[] => [
  { type: 'Ready', status, reason: status === 'True' ? 'Reconciled' : 'Creating', message: '', lastTransitionTime: '2026-11-01T00:00:00Z' },
];

const tenantOf = (name: string, status: 'True' | 'False' = 'True'): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, uid: `uid-${name}`, finalizers: [FINALIZER] },
  spec: { tier: 'gold' },
  status: { conditions: ready(status) },
});
const accessOf = (name: string, tenant = 'acme', model = MODEL): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: new Date('2026-11-01T00:00:00Z') },
  spec: { tenantRef: { name: tenant }, model },
});

let clock: ManualClock;
let cloud: FakeCloud;
let accesses: MemoryKind<ModelAccess>;
let tenants: MemoryKind<Tenant>;
let events: MemoryEvents;
let approved: ApprovedModel[];
let reconciler: Reconciler;
let book: UsageBook;

beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-11-05T10:00:00Z'));
  cloud = new FakeCloud();
  accesses = new MemoryKind();
  tenants = new MemoryKind();
  events = new MemoryEvents();
  book = new UsageBook();
  approved = [{ id: MODEL, inputPricePer1k: 0.00006, outputPricePer1k: 0.00024 }];
  const drivers = {
    profiles: cloud.driver('InferenceProfile', 'AccessGranted', {
      ids: (id) => ({ inferenceProfileArn: `arn:profile/${id}` }),
      outputs: (id) => ({ inferenceProfileArn: `arn:profile/${id}` }),
    }),
    policies: cloud.driver('RolePolicy', 'AccessGranted'),
  } as unknown as GrantDrivers;
  reconciler = modelAccessReconciler({
    store: accesses,
    writer: accesses,
    events,
    now: () => new Date(clock.now()),
    describeFailure: cloud.describe,
    tenants,
    tiers: new MemoryKind<TenantTier>(),
    approved: () => approved,
    naming: () => Promise.resolve({ prefix: 'rag', cluster: 'c', accountId: '123456789012', region: 'us-east-1' }),
    drivers,
    lifecycle: { get: () => Promise.resolve({ state: 'Active' }) },
    book,
    metrics: createModelMetrics(new Registry()),
    minUsageWriteMs: 60_000,
  });
});

const pass = (name: string): Promise<Result> => reconciler.reconcile(name, ctx);
const cond = (name: string, type: string): Condition | undefined => accesses.get(name)?.status?.conditions?.find((c) => c.type === type);
/** Passes until none asks to come back within `soonMs` (a throttled grant comes back at the reset). */
async function settle(name: string, soonMs?: number): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = (await pass(name)).requeueAfterMs;
    if (r === undefined || (soonMs !== undefined && r > soonMs)) return;
  }
  throw new Error(`${name} did not settle`);
}

describe('ModelAccess reconciler', () => {
  it.each([
    { name: 'a missing tenant', tenant: undefined, model: MODEL, reason: 'TenantNotFound', approval: undefined },
    {
      name: 'a model not approved',
      tenant: tenantOf('acme'),
      model: 'meta.llama3-70b-instruct-v1:0',
      reason: 'ModelNotApproved',
      approval: 'False',
    },
    { name: 'a tenant not Ready yet', tenant: tenantOf('acme', 'False'), model: MODEL, reason: 'TenantNotReady', approval: 'True' },
  ])('$name: Ready=False $reason, no finalizer, no AWS call', async ({ tenant, model, reason, approval }) => {
    if (tenant) tenants.put(tenant);
    accesses.put(accessOf('grant', 'acme', model));
    expect(await pass('grant')).toEqual({});
    expect(cond('grant', 'Ready')).toMatchObject({ status: 'False', reason });
    expect(cond('grant', 'ModelApproved')?.status).toBe(approval);
    expect(cond('grant', 'Synced')?.status).toBe('True');
    expect(accesses.get('grant')?.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(cloud.calls).toEqual([]);
  });

  it('grants: the finalizer first, the profile ARN on status at once, then Ready', async () => {
    tenants.put(tenantOf('acme'));
    accesses.put(accessOf('grant'));
    await settle('grant');
    const a = accesses.get('grant');
    expect(a?.metadata.finalizers).toContain(FINALIZER);
    expect(a?.status?.inferenceProfileArn).toBe('arn:profile/InferenceProfile-1');
    expect(cond('grant', 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(cond('grant', 'AccessGranted')?.status).toBe('True');
    expect(cloud.calls).toEqual(['create InferenceProfile', 'create RolePolicy']);
  });

  it('refused after a grant (the model left the approved list), it revokes, says so, and lets go', async () => {
    tenants.put(tenantOf('acme'));
    accesses.put(accessOf('grant'));
    await settle('grant');
    approved = [];
    await settle('grant');
    expect(cond('grant', 'AccessGranted')).toMatchObject({ status: 'False', reason: 'AccessRevoked' });
    expect(cond('grant', 'Ready')).toMatchObject({ status: 'False', reason: 'ModelNotApproved' });
    expect(accesses.get('grant')?.status?.inferenceProfileArn).toBeUndefined();
    expect(accesses.get('grant')?.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(cloud.calls.slice(2)).toEqual(['delete RolePolicy', 'delete InferenceProfile']);
  });

  it('deleting says Deleting with the component, then lets go', async () => {
    tenants.put(tenantOf('acme'));
    accesses.put(accessOf('grant'));
    await settle('grant');
    accesses.markDeleted('grant');
    expect(await pass('grant')).toEqual({ requeueAfterMs: 2_000 });
    expect(cond('grant', 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(cond('grant', 'Ready')?.message).toContain('RolePolicy is being deleted');
    for (let i = 0; i < 5 && accesses.get('grant'); i++) await pass('grant');
    expect(accesses.get('grant')).toBeUndefined();
  });

  it('a refusal only a spec change can fix is written, then terminal', async () => {
    tenants.put(tenantOf('acme'));
    accesses.put(accessOf('grant'));
    cloud.failNext('InferenceProfile', 'create', new TerminalError('InvalidModelSource', 'Bedrock cannot copy the model'));
    await expect(pass('grant')).rejects.toBeInstanceOf(TerminalError);
    expect(cond('grant', 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidModelSource' });
    expect(accesses.get('grant')?.status?.observedGeneration).toBe(1);
  });

  it("follows the gateway's counters: usage and QuotaExceeded from them before CloudWatch has anything, then the deny", async () => {
    tenants.put(tenantOf('acme'));
    accesses.put({ ...accessOf('grant'), spec: { ...accessOf('grant').spec, quota: { tokensPerDay: 1000 } } });
    await settle('grant', 10_000);
    const arn = accesses.get('grant')?.status?.inferenceProfileArn ?? '';
    const served = (dayTokens: number) => ({
      month: '2026-11',
      day: '2026-11-05',
      dayTokens,
      monthTokens: dayTokens,
      readAt: new Date(clock.now()),
    });
    book.setGateway(arn, served(400));
    await settle('grant', 10_000);
    expect(accesses.get('grant')?.status?.usage).toMatchObject({
      totalTokens: 400,
      dayTokens: 400,
      percentOfQuota: 40,
      gateway: { totalTokens: 400, dayTokens: 400 },
      cloudWatch: { totalTokens: 0, dayTokens: 0 },
    });
    expect(cond('grant', 'QuotaExceeded')).toMatchObject({ status: 'False', reason: 'WithinQuota' });
    book.setGateway(arn, served(1000));
    await settle('grant', 10_000);
    expect(cond('grant', 'QuotaExceeded')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(cond('grant', 'QuotaExceeded')?.message).toContain("by the tenant gateway's real-time count");
    expect(cond('grant', 'Throttled')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(cloud.calls.at(-1)).toBe('update RolePolicy');
  });

  it('Synced=False names the refused call and the resource; the next good pass sets it True', async () => {
    tenants.put(tenantOf('acme'));
    accesses.put(accessOf('grant'));
    cloud.failNext('RolePolicy', 'create', accessDenied('iam:PutRolePolicy', 'rag-c-t-acme-app'));
    await expect(pass('grant')).rejects.toThrow();
    expect(cond('grant', 'Synced')).toMatchObject({ status: 'False', reason: 'AccessDenied' });
    expect(cond('grant', 'Synced')?.message).toContain('iam:PutRolePolicy on RolePolicy "rag-c-t-acme-app" failed');
    // The profile's ARN was persisted before the failure.
    expect(accesses.get('grant')?.status?.inferenceProfileArn).toBe('arn:profile/InferenceProfile-1');
    await settle('grant');
    expect(cond('grant', 'Synced')?.status).toBe('True');
    expect(cond('grant', 'Ready')?.status).toBe('True');
  });
});
