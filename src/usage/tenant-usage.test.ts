import { describe, expect, it } from 'vitest';
import type { ModelAccess } from '../api/v1alpha1/types.js';
import { sumTenantUsage, tenantQuotaCondition } from './tenant-usage.js';

const access = (name: string, status: ModelAccess['status']): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name },
  spec: { tenantRef: { name: 'acme' }, model: `model-${name}` },
  status,
});

describe('sumTenantUsage', () => {
  it('adds tokens and cost of the window exactly, ignoring other windows', () => {
    const sum = sumTenantUsage(
      [
        access('a', {
          usage: { window: '2026-11', inputTokens: 100, outputTokens: 10, costUSD: '0.100000', updatedAt: '2026-11-05T10:00:00Z' },
        }),
        access('b', {
          usage: { window: '2026-11', inputTokens: 200, outputTokens: 20, costUSD: '0.200000', updatedAt: '2026-11-05T11:00:00Z' },
        }),
        access('c', { usage: { window: '2026-10', inputTokens: 999, outputTokens: 999, costUSD: '9.000000' } }),
        access('d', {}),
      ],
      '2026-11',
    );
    expect(sum).toEqual({
      window: '2026-11',
      inputTokens: 300,
      outputTokens: 30,
      totalTokens: 330,
      costUSD: '0.300000',
      updatedAt: '2026-11-05T11:00:00Z',
    });
  });

  it("with the gateway: adds the accesses' totals counted once and what each source saw; CloudWatch counts accesses without gateway numbers", () => {
    const sum = sumTenantUsage(
      [
        access('a', {
          usage: {
            window: '2026-11',
            inputTokens: 100,
            outputTokens: 10,
            totalTokens: 500,
            costUSD: '0.100000',
            gateway: { totalTokens: 450, updatedAt: '2026-11-05T11:00:10Z' },
            cloudWatch: { totalTokens: 110, updatedAt: '2026-11-05T10:55:00Z' },
          },
        }),
        access('b', { usage: { window: '2026-11', inputTokens: 20, outputTokens: 2, totalTokens: 22, costUSD: '0.000000' } }),
      ],
      '2026-11',
    );
    expect(sum).toMatchObject({
      inputTokens: 120,
      outputTokens: 12,
      totalTokens: 522,
      gateway: { totalTokens: 450, updatedAt: '2026-11-05T11:00:10Z' },
      cloudWatch: { totalTokens: 132, updatedAt: '2026-11-05T10:55:00Z' },
    });
  });

  it('nothing used is zero', () => {
    expect(sumTenantUsage([], '2026-11')).toEqual({
      window: '2026-11',
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      costUSD: '0.000000',
    });
  });
});

describe('tenantQuotaCondition', () => {
  const over = {
    type: 'QuotaExceeded',
    status: 'True' as const,
    reason: 'DailyQuotaExceeded',
    message: 'm',
    lastTransitionTime: '2026-11-05T00:00:00Z',
  };
  it('is True naming the accesses over quota', () => {
    const c = tenantQuotaCondition([access('a', { conditions: [over] }), access('b', {})]);
    expect(c).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded', message: 'over quota: a (model-a)' });
  });
  it('is False otherwise', () => {
    expect(tenantQuotaCondition([access('b', {})])).toMatchObject({ status: 'False', reason: 'WithinQuota' });
  });
});
