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
    tokens,
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
