/** The per-tenant, per-model gauges a ModelAccess pass sets (and clears when the grant goes). */
import type { ModelAccess } from '../../api/v1alpha1/types.js';
import type { ModelMetrics } from '../../runtime/metrics.js';
import type { CurrentTokens } from '../../usage/book.js';
import { parseMicros } from '../../usage/pricing.js';
import type { AccessUsage } from './conditions.js';

const labels = (a: ModelAccess): { tenant: string; model: string } => ({ tenant: a.spec.tenantRef.name, model: a.spec.model });

/** Sets tokens, cost, share of quota and throttled from this pass's numbers. */
export function recordMetrics(m: ModelMetrics | undefined, a: ModelAccess, t: CurrentTokens, u: AccessUsage, throttled: boolean): void {
  if (!m) return;
  const l = labels(a);
  m.tokens.set({ ...l, direction: 'input', window: 'month' }, t.monthInput);
  m.tokens.set({ ...l, direction: 'output', window: 'month' }, t.monthOutput);
  m.tokens.set({ ...l, direction: 'input', window: 'day' }, t.dayInput);
  m.tokens.set({ ...l, direction: 'output', window: 'day' }, t.dayOutput);
  m.costUSD.set(l, parseMicros(u.costUSD) / 1e6);
  m.quotaPercent.set(l, u.percentOfQuota ?? 0);
  m.throttled.set(l, throttled ? 1 : 0);
}

/** Removes the series of a grant that is gone, so dashboards do not show it frozen. */
export function forgetMetrics(m: ModelMetrics | undefined, a: ModelAccess): void {
  if (!m) return;
  const l = labels(a);
  for (const direction of ['input', 'output']) for (const window of ['day', 'month']) m.tokens.remove({ ...l, direction, window });
  m.costUSD.remove(l);
  m.quotaPercent.remove(l);
  m.throttled.remove(l);
}
