/**
 * Usage on status from the tenant gateway's counters and CloudWatch, over the wire: the
 * ModelAccess reconciler and the usage pollers built by the composition root's own builder
 * (buildModelAccess, with the gatewayRedis setting) against a real Redis, moto (IAM, CloudWatch)
 * and the Bedrock models fake, with an in-memory Kubernetes and a manual clock. The gateway's side
 * is the gateway's own quota store (reserve the worst case, settle to the real usage, refuse over
 * the limit). Tokens the gateway served show on status after one gateway counter poll, before
 * CloudWatch knows; QuotaExceeded and the IAM deny follow the gateway's counter; when CloudWatch
 * catches up, the gateway's tokens are not counted twice and calls that bypassed the gateway are
 * added; the Tenant sums it; Redis going away keeps the last readings and coming back is read again.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Condition, ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { runResources } from '../../src/controllers/engine.js';
import { modelPolicyName } from '../../src/core/model-access/names.js';
import { ROLE_PATH, roleName } from '../../src/core/naming.js';
import { parsePolicy, policy } from '../../src/core/policies/document.js';
import { quotaFor, windowsAt } from '../../src/gateway/quota.js';
import { RedisQuotaStore } from '../../src/gateway/quota-store.js';
import { type ModelAccessParts, buildModelAccess } from '../../src/operator.js';
import { IamRoleDriver } from '../../src/resources/iam-role/driver.js';
import { ManualClock } from '../../src/runtime/clock.js';
import type { Result } from '../../src/runtime/controller.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import type { GatewayCounterPoller } from '../../src/usage/gateway-poller.js';
import { modelIdDimension } from '../../src/usage/queries.js';
import { sumTenantUsage } from '../../src/usage/tenant-usage.js';
import { clientsFor } from '../support/aws.js';
import { withModelCheck } from '../support/cluster.js';
import { type BedrockModelsFake, startBedrockModelsFake } from '../support/fakes/bedrock-models.js';
import { MemoryKind } from '../support/memory-kube.js';
import { type Moto, startMoto } from '../support/moto.js';
import { eventually } from '../support/processes.js';
import { type TestRedis, startRedis } from '../support/redis.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const PREFIX = 'tro:quota';
const naming = { prefix: 'rag', cluster: 'test', accountId: '123456789012', region: 'us-east-1' };
const start = Date.parse('2026-11-05T10:00:00Z');
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }), reconcileId: 't' };

let moto: Moto;
let bedrock: BedrockModelsFake;
let redis: TestRedis;
let store: RedisQuotaStore;
let aws: AwsClients;
let clock: ManualClock;
let accesses: MemoryKind<ModelAccess>;
let tiers: MemoryKind<TenantTier>;
let parts: ModelAccessParts;
const enqueued: string[] = [];

const tenant: Tenant = {
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme', uid: 'uid-acme', creationTimestamp: new Date(start) },
  spec: { tier: 'basic' },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ready', lastTransitionTime: '2026-11-01T00:00:00Z' }],
  },
};
const access: ModelAccess = {
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name: 'acme-haiku', uid: 'uid-acme-haiku', generation: 1, creationTimestamp: new Date(start) },
  spec: { tenantRef: { name: 'acme' }, model: MODEL, quota: { tokensPerDay: 1000, onExceeded: 'Throttle' } },
};

/** Runs passes until the reconciler stops asking to come back soon; returns the object. */
async function settle(): Promise<ModelAccess | undefined> {
  for (let i = 0; i < 10; i++) {
    const r: Result = await parts.reconciler.reconcile('acme-haiku', ctx);
    if (r.requeueAfterMs === undefined || r.requeueAfterMs > 10_000) return accesses.get('acme-haiku');
  }
  throw new Error('acme-haiku did not settle');
}
const cond = (a: ModelAccess | undefined, type: string): Condition | undefined => a?.status?.conditions?.find((c) => c.type === type);
const gatewayPoller = (): GatewayCounterPoller => {
  if (!parts.poller.gateway) throw new Error('no gateway counter poller: gatewayRedis not passed through');
  return parts.poller.gateway;
};

/**
 * One model call through the gateway's quota store, as the gateway makes it: reserve the worst
 * case under the ModelAccess's limits, then settle to the tokens the model reported. False when
 * the gateway refuses it (429).
 */
async function served(worstCase: number, used: number): Promise<boolean> {
  const w = windowsAt(PREFIX, 'acme', MODEL, new Date(clock.now()));
  const r = await store.reserve(w, quotaFor(access, tiers.get('basic')), worstCase);
  if (!r.ok) return false;
  await store.settle(r.reservation, used);
  return true;
}

/** What Bedrock publishes to CloudWatch for the profile, a minute or more after the calls. */
async function published(profileArn: string, input: number, output: number, at: string): Promise<void> {
  await aws.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/Bedrock',
      MetricData: (
        [
          ['InputTokenCount', input],
          ['OutputTokenCount', output],
        ] as const
      ).map(([MetricName, Value]) => ({
        MetricName,
        Dimensions: [{ Name: 'ModelId', Value: modelIdDimension(profileArn) }],
        Timestamp: new Date(at),
        Value,
      })),
    }),
  );
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tro-gwusage-'));
  [moto, bedrock, redis] = await Promise.all([
    startMoto(join(dir, 'moto.log')).then((m) => withModelCheck(m, 'moto')),
    startBedrockModelsFake(),
    startRedis(join(dir, 'redis.log')),
  ]);
  aws = clientsFor(moto, bedrock);
  store = new RedisQuotaStore({ url: redis.url, commandTimeoutMs: 500 });
  expect(await store.connect()).toBe(true);
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
  await bedrock?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
  await moto.reset();
  bedrock.reset();
  clock = new ManualClock(start);
  accesses = new MemoryKind();
  const tenants = new MemoryKind<Tenant>();
  tiers = new MemoryKind();
  enqueued.length = 0;
  parts = buildModelAccess({
    config: {
      approvedModels: [{ id: MODEL, inputPricePer1k: 0.00025, outputPricePer1k: 0.00125 }],
      usage: { pollSeconds: 300, minStatusWriteSeconds: 0 },
      gatewayRedis: { url: redis.url, timeoutMs: 500, keyPrefix: PREFIX, pollSeconds: 10 },
    },
    aws,
    clock,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(false),
    kube: { store: accesses, writer: accesses, events: { emit: () => Promise.resolve() } },
    tenants,
    tiers,
    naming: () => Promise.resolve(naming),
    enqueue: (name) => enqueued.push(name),
  });
  tiers.put({ apiVersion: 'rag.tenancy.dev/v1alpha1', kind: 'TenantTier', metadata: { name: 'basic' }, spec: { isolation: 'pool' } });
  tenants.put(tenant);
  const role = {
    driver: new IamRoleDriver(aws.iam, 'TenantRole'),
    spec: {
      name: roleName(naming, { kind: 'Tenant', name: 'acme' }, 'app'),
      path: ROLE_PATH,
      description: 'tenant acme',
      owner: { cluster: 'test', kind: 'Tenant' as const, name: 'acme', uid: 'uid-acme', tier: 'basic' },
      trust: policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
      inline: {},
    },
    ids: {},
  };
  expect((await runResources(ctx, [role])).complete).toBe(true);
  accesses.put(access);
});
afterEach(async () => {
  await parts.poller.stop();
});

describe("usage on status from the gateway's counters and CloudWatch", () => {
  it('shows what the gateway served within a pass, follows its counter to QuotaExceeded and the deny, and never counts a token twice', async () => {
    const arn = (await settle())?.status?.inferenceProfileArn ?? '';
    expect(arn).toMatch(/application-inference-profile/);

    // The gateway serves two calls; CloudWatch has nothing yet.
    expect(await served(400, 250)).toBe(true);
    expect(await served(300, 150)).toBe(true);
    enqueued.length = 0;
    expect(await gatewayPoller().pollOnce()).toEqual({ profiles: 1, changed: ['acme-haiku'] });
    expect(enqueued).toEqual(['acme-haiku']);
    let a = await settle();
    expect(a?.status?.usage).toMatchObject({
      totalTokens: 400,
      dayTokens: 400,
      percentOfQuota: 40,
      gateway: { totalTokens: 400, dayTokens: 400 },
      cloudWatch: { totalTokens: 0, dayTokens: 0 },
    });
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'False', reason: 'WithinQuota' });

    // The gateway serves up to the daily limit, then refuses: the next pass says so from its counter.
    expect(await served(600, 600)).toBe(true);
    expect(await served(10, 10)).toBe(false);
    expect(await gatewayPoller().pollOnce()).toMatchObject({ changed: ['acme-haiku'] });
    a = await settle();
    expect(a?.status?.usage).toMatchObject({ totalTokens: 1000, dayTokens: 1000, percentOfQuota: 100 });
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(cond(a, 'QuotaExceeded')?.message).toBe(
      "the daily quota of 1,000 tokens is used up, by the tenant gateway's real-time count; the window resets at 2026-11-06T00:00:00.000Z",
    );
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(cond(a, 'Throttled')?.message).toContain('the tenant gateway refuses calls (429) and the IAM deny stops calls that bypass it');
    // The backstop for calls that bypass the gateway: the role's allow is now a Deny.
    const doc = await aws.iam.send(
      new GetRolePolicyCommand({
        RoleName: roleName(naming, { kind: 'Tenant', name: 'acme' }, 'app'),
        PolicyName: modelPolicyName('acme-haiku'),
      }),
    );
    expect(parsePolicy(doc.PolicyDocument)).toEqual(
      policy({
        Sid: 'QuotaExhaustedDeny',
        Effect: 'Deny',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: arn,
      }),
    );

    // CloudWatch catches up: the gateway's 1,000 tokens plus 200 from a call that bypassed the
    // gateway (made before the deny). Counted once: 1,200, not 2,200.
    await published(arn, 700, 300, '2026-11-05T09:58:00Z');
    await published(arn, 150, 50, '2026-11-05T09:59:00Z');
    clock.advance(60_000);
    expect((await parts.poller.pollOnce()).changed).toEqual(['acme-haiku']);
    a = await settle();
    expect(a?.status?.usage).toMatchObject({
      window: '2026-11',
      inputTokens: 850,
      outputTokens: 350,
      totalTokens: 1200,
      dayTokens: 1200,
      percentOfQuota: 120,
      gateway: { totalTokens: 1000, dayTokens: 1000, updatedAt: '2026-11-05T10:01:00Z' },
      cloudWatch: { totalTokens: 1200, dayTokens: 1200, updatedAt: '2026-11-05T10:01:00Z' },
    });
    // 850 x 0.00025/1k + 350 x 0.00125/1k, from CloudWatch's split.
    expect(a?.status?.usage?.costUSD).toBe('0.000650');

    // The Tenant sums its accesses the same way.
    expect(sumTenantUsage(accesses.list(), '2026-11')).toMatchObject({
      totalTokens: 1200,
      gateway: { totalTokens: 1000 },
      cloudWatch: { totalTokens: 1200 },
    });

    // The next UTC day: the gateway's new day counter starts at zero, and access comes back.
    clock.advance(14 * 3_600_000);
    await gatewayPoller().pollOnce();
    a = await settle();
    expect(a?.status?.usage).toMatchObject({ day: '2026-11-06', dayTokens: 0, totalTokens: 1200, gateway: { dayTokens: 0 } });
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'False' });
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'False', reason: 'NotThrottled' });
  });

  it('keeps the last readings while Redis is away and reads again when it is back', async () => {
    await settle();
    expect(await served(100, 80)).toBe(true);
    await gatewayPoller().pollOnce();
    expect((await settle())?.status?.usage).toMatchObject({ gateway: { totalTokens: 80 }, totalTokens: 80 });
    await redis.stop();
    try {
      await expect(gatewayPoller().pollOnce()).rejects.toThrow();
      expect((await settle())?.status?.usage).toMatchObject({ gateway: { totalTokens: 80 }, totalTokens: 80 });
    } finally {
      await redis.start();
    }
    // Back, empty (the test server keeps nothing): the gateway counts from zero again.
    await eventually(async () => (await store.connect(1000)) || undefined, 20_000, 'the gateway store reconnecting');
    expect(await served(50, 40)).toBe(true);
    await eventually(
      async () => ((await gatewayPoller().pollOnce()).profiles === 1 ? true : undefined),
      20_000,
      'the operator reading the counters again',
      200,
    );
    expect((await settle())?.status?.usage).toMatchObject({ gateway: { totalTokens: 40 } });
  });
});
