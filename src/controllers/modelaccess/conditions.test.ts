import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../api/v1alpha1/constants.js';
import type { ModelAccess } from '../../api/v1alpha1/types.js';
import { decideQuota } from '../../usage/quota.js';
import { type AccessUsage, computeUsage, duplicateGrant, quotaConditions, rateLimitedUsage } from './conditions.js';

const access = (name: string, created: string, opts: { finalizer?: boolean; tenant?: string; model?: string } = {}): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name, creationTimestamp: new Date(created), ...(opts.finalizer ? { finalizers: [FINALIZER] } : {}) },
  spec: { tenantRef: { name: opts.tenant ?? 'acme' }, model: opts.model ?? 'm' },
});
const now = new Date('2026-11-05T12:00:00Z');

describe('duplicateGrant', () => {
  it.each([
    { name: 'the only one is fine', me: access('a', '2026-11-01'), others: [], refused: false },
    { name: 'the older of two keeps the grant', me: access('a', '2026-11-01'), others: [access('b', '2026-11-02')], refused: false },
    { name: 'the newer of two is refused', me: access('b', '2026-11-02'), others: [access('a', '2026-11-01')], refused: true },
    {
      name: 'an existing grant wins over an older newcomer',
      me: access('a', '2026-11-01'),
      others: [access('b', '2026-11-02', { finalizer: true })],
      refused: true,
    },
    {
      name: 'another tenant or model does not count',
      me: access('b', '2026-11-02'),
      others: [access('a', '2026-11-01', { tenant: 'x' }), access('c', '2026-11-01', { model: 'n' })],
      refused: false,
    },
  ])('$name', ({ me, others, refused }) => {
    const r = duplicateGrant(me, [me, ...others]);
    expect(r !== undefined).toBe(refused);
    if (r) expect(r.reason).toBe('DuplicateGrant');
  });
});

describe('quotaConditions', () => {
  it.each([
    { name: 'no quota', quota: undefined, used: 0, suspended: false, denied: false, q: ['False', 'NoQuota'], t: ['False', 'NotThrottled'] },
    {
      name: 'within',
      quota: { tokensPerDay: 100 },
      used: 10,
      suspended: false,
      denied: false,
      q: ['False', 'WithinQuota'],
      t: ['False', 'NotThrottled'],
    },
    {
      name: 'over, throttled',
      quota: { tokensPerDay: 100 },
      used: 100,
      suspended: false,
      denied: true,
      q: ['True', 'DailyQuotaExceeded'],
      t: ['True', 'DailyQuotaExceeded'],
    },
    {
      name: 'over, alert only',
      quota: { tokensPerMonth: 100, onExceeded: 'Alert' as const },
      used: 200,
      suspended: false,
      denied: false,
      q: ['True', 'MonthlyQuotaExceeded'],
      t: ['False', 'AlertOnly'],
    },
    {
      name: 'suspended tenant',
      quota: undefined,
      used: 0,
      suspended: true,
      denied: true,
      q: ['False', 'NoQuota'],
      t: ['True', 'TenantSuspended'],
    },
  ])('$name', ({ quota, used, suspended, denied, q, t }) => {
    const [exceeded, throttled] = quotaConditions(
      quota,
      decideQuota(quota, { dayTokens: used, monthTokens: used }, now),
      suspended,
      denied,
    );
    expect([exceeded?.status, exceeded?.reason]).toEqual(q);
    expect([throttled?.status, throttled?.reason]).toEqual(t);
  });

  it('says which quota is used up and when it resets, without running numbers', () => {
    const [exceeded] = quotaConditions(
      { tokensPerDay: 1000 },
      decideQuota({ tokensPerDay: 1000 }, { dayTokens: 1200, monthTokens: 1200 }, now),
      false,
      true,
    );
    expect(exceeded?.message).toBe('the daily quota of 1,000 tokens is used up; the window resets at 2026-11-06T00:00:00.000Z');
  });
});

describe('quotaConditions with the gateway', () => {
  const quota = { tokensPerDay: 1000 };
  const evidence = (gatewayDay: number) => ({
    source: 'Gateway' as const,
    gateway: { dayTokens: gatewayDay, monthTokens: gatewayDay, readAt: now },
  });
  const conditions = (counted: number, e?: Parameters<typeof quotaConditions>[4], q: typeof quota & { onExceeded?: 'Alert' } = quota) => {
    const d = decideQuota(q, { dayTokens: counted, monthTokens: counted }, now);
    return quotaConditions(q, d, false, d.throttle, e);
  };

  it("turns True on the gateway's real-time count, and says the gateway refuses", () => {
    const [exceeded, throttled] = conditions(1000, evidence(1000));
    expect(exceeded).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(exceeded?.message).toBe(
      "the daily quota of 1,000 tokens is used up, by the tenant gateway's real-time count; the window resets at 2026-11-06T00:00:00.000Z",
    );
    expect(throttled).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(throttled?.message).toMatch(/the tenant gateway refuses calls \(429\) and the IAM deny stops calls that bypass it/);
  });

  it('says when calls outside the gateway used the quota up: the IAM deny stops them all', () => {
    const [exceeded, throttled] = conditions(1000, evidence(600));
    expect(exceeded?.message).toMatch(/counting calls CloudWatch saw outside the tenant gateway/);
    expect(throttled?.message).toMatch(/the IAM deny stops every call, through the tenant gateway or not/);
  });

  it('names the gateway when within quota and under Alert', () => {
    expect(conditions(10, evidence(10))[0]?.message).toMatch(/^within quota by the tenant gateway's real-time count and CloudWatch/);
    const [, throttled] = conditions(2000, evidence(2000), { ...quota, onExceeded: 'Alert' });
    expect(throttled).toMatchObject({ status: 'False', reason: 'AlertOnly' });
    expect(throttled?.message).toMatch(/the tenant gateway lets calls through and counts them/);
  });

  it('without the gateway says what it said before: CloudWatch', () => {
    const [exceeded, throttled] = conditions(1000, { source: 'CloudWatch' });
    expect(exceeded?.message).toBe('the daily quota of 1,000 tokens is used up; the window resets at 2026-11-06T00:00:00.000Z');
    expect(throttled?.message).toBe('access denied until 2026-11-06T00:00:00.000Z (quota onExceeded: Throttle)');
  });
});

describe('usage status', () => {
  const tokens = {
    month: '2026-11',
    day: '2026-11-05',
    monthInput: 2000,
    monthOutput: 1000,
    dayInput: 200,
    dayOutput: 100,
    readAt: new Date('2026-11-05T11:59:00Z'),
  };
  const usage = computeUsage(
    { cloudWatch: tokens, dayTokens: 300, monthTokens: 3000, source: 'CloudWatch' },
    { inputPricePer1k: 0.003, outputPricePer1k: 0.015 },
    decideQuota({ tokensPerDay: 1000 }, { dayTokens: 300, monthTokens: 3000 }, now),
  );

  it('computes window, tokens, cost and share of quota', () => {
    expect(usage).toEqual({
      window: '2026-11',
      inputTokens: 2000,
      outputTokens: 1000,
      totalTokens: 3000,
      costUSD: '0.021000',
      day: '2026-11-05',
      dayTokens: 300,
      percentOfQuota: 30,
      updatedAt: '2026-11-05T11:59:00Z',
    });
  });

  it("with the gateway: the tokens counted once, CloudWatch's split and cost, and what each source saw", () => {
    const withGateway = computeUsage(
      {
        cloudWatch: tokens,
        gateway: { dayTokens: 500, monthTokens: 3200, readAt: new Date('2026-11-05T11:59:50.123Z') },
        dayTokens: 500,
        monthTokens: 3200,
        source: 'Gateway',
      },
      { inputPricePer1k: 0.003, outputPricePer1k: 0.015 },
      decideQuota({ tokensPerDay: 1000 }, { dayTokens: 500, monthTokens: 3200 }, now),
    );
    expect(withGateway).toEqual({
      window: '2026-11',
      inputTokens: 2000,
      outputTokens: 1000,
      totalTokens: 3200,
      costUSD: '0.021000',
      day: '2026-11-05',
      dayTokens: 500,
      percentOfQuota: 50,
      gateway: { totalTokens: 3200, dayTokens: 500, updatedAt: '2026-11-05T11:59:50Z' },
      cloudWatch: { totalTokens: 3000, dayTokens: 300, updatedAt: '2026-11-05T11:59:00Z' },
      updatedAt: '2026-11-05T11:59:50Z',
    });
    const later = { ...withGateway, updatedAt: '2026-11-05T12:00:00Z' };
    later.gateway = { ...withGateway.gateway, updatedAt: '2026-11-05T12:00:00Z' };
    expect(rateLimitedUsage(withGateway, later, now, 60_000, false).usage).toBe(withGateway);
  });

  const stored: AccessUsage = { ...usage, inputTokens: 1000, totalTokens: 2000, updatedAt: '2026-11-05T11:59:30Z' };
  it.each([
    { name: 'nothing stored: write', stored: undefined, at: now, anyway: false, wrote: true, retry: undefined },
    {
      name: 'same numbers: no write',
      stored: { ...usage, updatedAt: '2026-11-05T10:00:00Z' },
      at: now,
      anyway: false,
      wrote: false,
      retry: undefined,
    },
    { name: 'changed within the minute: wait', stored, at: now, anyway: false, wrote: false, retry: 30_000 },
    { name: 'changed after the minute: write', stored, at: new Date('2026-11-05T12:01:00Z'), anyway: false, wrote: true, retry: undefined },
    { name: 'a write happening anyway carries the numbers', stored, at: now, anyway: true, wrote: true, retry: undefined },
    { name: 'a new day goes out at once', stored: { ...stored, day: '2026-11-04' }, at: now, anyway: false, wrote: true, retry: undefined },
  ])('$name', ({ stored: s, at, anyway, wrote, retry }) => {
    const r = rateLimitedUsage(s, usage, at, 60_000, anyway);
    expect(r.usage === usage).toBe(wrote);
    expect(r.retryInMs).toBe(retry);
  });
});
