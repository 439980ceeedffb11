import { describe, expect, it } from 'vitest';
import type { ModelAccess, TenantTier } from '../api/v1alpha1/types.js';
import { promptTokenBound, quotaFor, retryAfterSeconds, windowsAt } from './quota.js';

const access = (quota?: ModelAccess['spec']['quota']): ModelAccess => ({
  apiVersion: 'x',
  kind: 'ModelAccess',
  metadata: { name: 'ma' },
  spec: { tenantRef: { name: 'acme' }, model: 'm', quota },
});
const tier = (defaultQuota?: { tokensPerDay?: number; tokensPerMonth?: number }): TenantTier => ({
  apiVersion: 'x',
  kind: 'TenantTier',
  metadata: { name: 't' },
  spec: { isolation: 'pool', defaultQuota },
});

describe('quotaFor', () => {
  it.each([
    ['its own quota', access({ tokensPerDay: 10 }), tier({ tokensPerDay: 99 }), { tokensPerDay: 10, onExceeded: 'Throttle' }],
    ['the tier default when it sets none', access(), tier({ tokensPerMonth: 50 }), { tokensPerMonth: 50, onExceeded: 'Throttle' }],
    [
      'Alert kept with the tier default',
      access({ onExceeded: 'Alert' }),
      tier({ tokensPerDay: 5 }),
      { tokensPerDay: 5, onExceeded: 'Alert' },
    ],
    ['no quota anywhere', access(), undefined, { onExceeded: 'Throttle' }],
  ] as const)('%s', (_why, a, t, want) => {
    expect(quotaFor(a, t)).toEqual(want);
  });
  it('adds the request rate', () => {
    expect(quotaFor(access({ tokensPerDay: 1 }), undefined, 60)).toEqual({
      tokensPerDay: 1,
      requestsPerMinute: 60,
      onExceeded: 'Throttle',
    });
  });
});

describe('windowsAt', () => {
  const now = new Date('2026-12-31T23:59:30.500Z');
  const w = windowsAt('p', 'acme', 'anthropic.x:0', now);
  it('names the UTC day, month and minute, under one hash tag', () => {
    expect(w.keys).toEqual({
      day: 'p:{acme/anthropic.x:0}:d:2026-12-31',
      month: 'p:{acme/anthropic.x:0}:m:2026-12',
      minute: 'p:{acme/anthropic.x:0}:r:2026-12-31T23:59',
    });
  });
  it('resets at the next boundary, and keys outlive their window', () => {
    expect(w.resets.day.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(w.resets.month.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(w.resets.minute.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(w.ttls.day).toBeGreaterThan(30);
    expect(retryAfterSeconds(w.resets.day, now)).toBe(30);
  });
});

describe('promptTokenBound', () => {
  it('bounds one token per word and punctuation mark from above', () => {
    for (const t of ['a b c d e f', 'x,y,z', 'hello', '', 'αβγ δ']) {
      const tokens = (t.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length;
      expect(promptTokenBound([t], 2)).toBeGreaterThanOrEqual(tokens);
    }
  });
});
