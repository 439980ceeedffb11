import { describe, expect, it } from 'vitest';
import { decideQuota, effectiveQuota } from './quota.js';

const now = new Date('2026-11-05T13:00:00Z');

describe('decideQuota', () => {
  it.each([
    {
      name: 'no quota: never exceeded',
      quota: undefined,
      day: 10 ** 9,
      month: 10 ** 9,
      exceeded: undefined,
      throttle: false,
      percent: undefined,
    },
    {
      name: 'under the daily quota',
      quota: { tokensPerDay: 1000 },
      day: 250,
      month: 5000,
      exceeded: undefined,
      throttle: false,
      percent: 25,
    },
    {
      name: 'exactly at the daily quota is exceeded',
      quota: { tokensPerDay: 1000 },
      day: 1000,
      month: 1000,
      exceeded: 'day',
      throttle: true,
      percent: 100,
    },
    {
      name: 'over the monthly quota',
      quota: { tokensPerMonth: 10_000 },
      day: 0,
      month: 12_000,
      exceeded: 'month',
      throttle: true,
      percent: 120,
    },
    {
      name: 'both exhausted: the month wins (resets later)',
      quota: { tokensPerDay: 10, tokensPerMonth: 100 },
      day: 50,
      month: 100,
      exceeded: 'month',
      throttle: true,
      percent: 500,
    },
    {
      name: 'Alert never throttles',
      quota: { tokensPerDay: 10, onExceeded: 'Alert' as const },
      day: 11,
      month: 11,
      exceeded: 'day',
      throttle: false,
      percent: 110,
    },
    {
      name: 'percent is the higher window share',
      quota: { tokensPerDay: 1000, tokensPerMonth: 2000 },
      day: 100,
      month: 1500,
      exceeded: undefined,
      throttle: false,
      percent: 75,
    },
  ])('$name', ({ quota, day, month, exceeded, throttle, percent }) => {
    const d = decideQuota(quota, { dayTokens: day, monthTokens: month }, now);
    expect(d.exceeded).toBe(exceeded);
    expect(d.throttle).toBe(throttle);
    expect(d.percentOfQuota).toBe(percent);
  });

  it('a daily quota resets at the next UTC midnight, a monthly one on the first of next month', () => {
    expect(decideQuota({ tokensPerDay: 1 }, { dayTokens: 1, monthTokens: 1 }, now).resetsAt?.toISOString()).toBe(
      '2026-11-06T00:00:00.000Z',
    );
    expect(decideQuota({ tokensPerMonth: 1 }, { dayTokens: 0, monthTokens: 1 }, now).resetsAt?.toISOString()).toBe(
      '2026-12-01T00:00:00.000Z',
    );
  });
});

describe('effectiveQuota', () => {
  it.each([
    {
      name: "the ModelAccess's own quota",
      own: { tokensPerDay: 5, onExceeded: 'Alert' as const },
      tier: { tokensPerMonth: 9 },
      want: { tokensPerDay: 5, onExceeded: 'Alert' },
    },
    {
      name: "the tier's default when none is set (throttling)",
      own: undefined,
      tier: { tokensPerMonth: 9 },
      want: { tokensPerMonth: 9, onExceeded: 'Throttle' },
    },
    {
      name: 'onExceeded alone keeps the tier default and its own mode',
      own: { onExceeded: 'Alert' as const },
      tier: { tokensPerDay: 3 },
      want: { tokensPerDay: 3, onExceeded: 'Alert' },
    },
    { name: 'neither: no quota', own: undefined, tier: undefined, want: undefined },
  ])('$name', ({ own, tier, want }) => {
    expect(effectiveQuota(own, tier)).toEqual(want);
  });
});
