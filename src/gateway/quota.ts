/**
 * Quota decisions of the gateway, pure: which limits apply to a tenant and model (the
 * ModelAccess's quota, else its tier's defaultQuota, plus the gateway's optional requests per
 * minute), the counter keys of the current UTC day, month and minute, when each resets, and how
 * many tokens to reserve before a call (the worst case: the output cap plus an upper bound of the
 * prompt).
 */
import type { ModelAccess, TenantTier } from '../api/v1alpha1/types.js';
import { quotaCounterKey } from '../core/quota-counters.js';
import { dayKey, monthKey, nextDay, nextMonth } from '../usage/windows.js';

/** The limits on one tenant and model; an absent limit is no limit. */
export interface QuotaLimits {
  tokensPerDay?: number;
  tokensPerMonth?: number;
  requestsPerMinute?: number;
  /** `Throttle` refuses over the limit; `Alert` lets the request through and counts it. */
  onExceeded: 'Throttle' | 'Alert';
}

/** The quota names a refusal reports. */
export type QuotaName = 'tokensPerDay' | 'tokensPerMonth' | 'requestsPerMinute';

/** Keys and resets of the windows a request counts in. */
export interface Windows {
  /** Redis keys (core/quota-counters, which the operator reads too); one hash tag, so a script may touch them all in Redis Cluster. */
  keys: { day: string; month: string; minute: string };
  /** Window names as reported: `2026-12-04`, `2026-12`, `2026-12-04T10:31`. */
  names: { day: string; month: string; minute: string };
  /** When each window resets. */
  resets: { day: Date; month: Date; minute: Date };
  /** Seconds each key must live: until its window resets, plus a day for late settles. */
  ttls: { day: number; month: number; minute: number };
}

/** The limits for `access` (its own quota, else the tier's default) with an optional request rate. */
export function quotaFor(access: ModelAccess, tier: TenantTier | undefined, requestsPerMinute?: number): QuotaLimits {
  const own = access.spec.quota;
  const fallback = tier?.spec.defaultQuota;
  const q = own && (own.tokensPerDay !== undefined || own.tokensPerMonth !== undefined) ? own : fallback;
  return {
    ...(q?.tokensPerDay !== undefined ? { tokensPerDay: q.tokensPerDay } : {}),
    ...(q?.tokensPerMonth !== undefined ? { tokensPerMonth: q.tokensPerMonth } : {}),
    ...(requestsPerMinute !== undefined ? { requestsPerMinute } : {}),
    onExceeded: own?.onExceeded ?? 'Throttle',
  };
}

/** The windows `now` falls in, for counters under `prefix` of `tenant` and `model`. */
export function windowsAt(prefix: string, tenant: string, model: string, now: Date): Windows {
  const names = { day: dayKey(now), month: monthKey(now), minute: now.toISOString().slice(0, 16) };
  const resets = { day: nextDay(now), month: nextMonth(now), minute: new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000) };
  const left = (d: Date): number => Math.max(1, Math.ceil((d.getTime() - now.getTime()) / 1000));
  const key = (kind: keyof Windows['keys']): string => quotaCounterKey(prefix, tenant, model, kind, names[kind]);
  return {
    keys: { day: key('day'), month: key('month'), minute: key('minute') },
    names,
    resets,
    ttls: { day: left(resets.day) + 86_400, month: left(resets.month) + 86_400, minute: left(resets.minute) + 60 },
  };
}

/**
 * An upper bound of the tokens a prompt takes: UTF-8 bytes over `bytesPerToken` plus a few per
 * message for the template. Real tokenizers average about four bytes per token; the default of
 * two keeps the bound safe for short words and punctuation at the price of reserving more.
 */
export function promptTokenBound(texts: string[], bytesPerToken: number, perMessage = 4): number {
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  return Math.ceil(bytes / bytesPerToken) + perMessage * texts.length;
}

/** Seconds until `reset`, at least 1: the Retry-After of a refusal. */
export function retryAfterSeconds(reset: Date, now: Date): number {
  return Math.max(1, Math.ceil((reset.getTime() - now.getTime()) / 1000));
}
