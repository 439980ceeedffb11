/**
 * What the Tenant shows of its ModelAccess objects: the sum of their usage in a window and
 * whether any of them is over quota. Pure; the Tenant reconciler calls these with the tenant's
 * ModelAccess objects from the informer cache.
 */
import { CONDITION, REASON } from '../api/v1alpha1/constants.js';
import type { ModelAccess, TenantStatus } from '../api/v1alpha1/types.js';
import { type ConditionInput, findCondition } from '../core/conditions.js';
import { formatMicros, parseMicros } from './pricing.js';

/** The usage fields a Tenant's status sums from its ModelAccess objects. */
export type TenantUsage = Pick<
  NonNullable<TenantStatus['usage']>,
  'window' | 'inputTokens' | 'outputTokens' | 'totalTokens' | 'costUSD' | 'updatedAt' | 'gateway' | 'cloudWatch'
>;

type SourceUsage = NonNullable<TenantUsage['gateway']>;

/** Adds one source's tokens to a running sum, keeping the latest read time. */
function addSource(sum: SourceUsage | undefined, u: SourceUsage | undefined): SourceUsage | undefined {
  if (!u) return sum;
  const updatedAt = [sum?.updatedAt, u.updatedAt]
    .filter((x): x is string => x !== undefined)
    .sort()
    .at(-1);
  return { totalTokens: (sum?.totalTokens ?? 0) + (u.totalTokens ?? 0), ...(updatedAt ? { updatedAt } : {}) };
}

/**
 * Sums the usage of `accesses` in `window` (e.g. `2026-11`, see usage/windows monthKey); usage of
 * another window (last month's, not yet refreshed) counts as zero. Costs add up exactly.
 * totalTokens adds the accesses' totals, each already counted once (usage/counted.ts); `gateway`
 * and `cloudWatch` add what each source saw, and are absent (undefined, so a merge drops them)
 * when no access shows the gateway's counters.
 */
export function sumTenantUsage(accesses: readonly ModelAccess[], window: string): TenantUsage {
  let inputTokens = 0;
  let outputTokens = 0;
  let totalTokens = 0;
  let micros = 0;
  let updatedAt: string | undefined;
  let gateway: SourceUsage | undefined;
  let cloudWatch: SourceUsage | undefined;
  for (const a of accesses) {
    const u = a.status?.usage;
    if (!u || u.window !== window) continue;
    inputTokens += u.inputTokens ?? 0;
    outputTokens += u.outputTokens ?? 0;
    totalTokens += u.totalTokens ?? (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
    micros += parseMicros(u.costUSD);
    if (u.updatedAt && (!updatedAt || u.updatedAt > updatedAt)) updatedAt = u.updatedAt;
    gateway = addSource(gateway, u.gateway);
    // Without the gateway's numbers an access's own fields are CloudWatch's.
    const cw = u.cloudWatch ?? {
      totalTokens: (u.inputTokens ?? 0) + (u.outputTokens ?? 0),
      ...(u.updatedAt ? { updatedAt: u.updatedAt } : {}),
    };
    cloudWatch = addSource(cloudWatch, cw);
  }
  return {
    window,
    inputTokens,
    outputTokens,
    totalTokens,
    costUSD: formatMicros(micros),
    ...(updatedAt ? { updatedAt } : {}),
    gateway,
    cloudWatch: gateway ? cloudWatch : undefined,
  };
}

/** The Tenant's QuotaExceeded condition: True while any of its ModelAccess objects is over quota. */
export function tenantQuotaCondition(accesses: readonly ModelAccess[]): ConditionInput {
  const over = accesses.filter((a) => findCondition(a.status?.conditions, CONDITION.QuotaExceeded)?.status === 'True');
  if (over.length === 0) {
    return { type: CONDITION.QuotaExceeded, status: 'False', reason: REASON.WithinQuota, message: 'no model access is over its quota' };
  }
  const names = over.map((a) => `${a.metadata.name} (${a.spec.model})`).sort();
  const first = findCondition(over[0]?.status?.conditions, CONDITION.QuotaExceeded);
  return {
    type: CONDITION.QuotaExceeded,
    status: 'True',
    reason: first?.reason ?? REASON.DailyQuotaExceeded,
    message: `over quota: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}`,
  };
}
