/**
 * The quota decision: given a quota, the tokens used in the current UTC day and month, and the
 * time, whether a window is exhausted, how much of the quota is used, whether to throttle, and
 * when the exhausted window resets. Pure; the clock is an argument.
 */
import { nextDay, nextMonth } from './windows.js';

/** A token quota as a ModelAccess (or its tier's default) states it. */
export interface Quota {
  tokensPerDay?: number;
  tokensPerMonth?: number;
  /** `Throttle` (default) denies access until the window resets; `Alert` only reports. */
  onExceeded?: 'Throttle' | 'Alert';
}

/** Tokens used in the current windows. */
export interface WindowTokens {
  dayTokens: number;
  monthTokens: number;
}

/** What the quota says about the current usage. */
export interface QuotaDecision {
  /** The exhausted window; the month when both are, since it resets later. */
  exceeded?: 'day' | 'month';
  /** The highest share of a window's quota used, in whole percent; undefined without a quota. */
  percentOfQuota?: number;
  /** True when exceeded and the quota says Throttle. */
  throttle: boolean;
  /** When the exhausted window resets (00:00 UTC of the next day or month). */
  resetsAt?: Date;
  /** The limit of the exhausted window, for messages. */
  limit?: number;
}

/** The quota that applies: the ModelAccess's own, else its tier's default (which always throttles). */
export function effectiveQuota(own: Quota | undefined, tierDefault: Omit<Quota, 'onExceeded'> | undefined): Quota | undefined {
  const q = own?.tokensPerDay !== undefined || own?.tokensPerMonth !== undefined ? own : tierDefault;
  if (!q || (q.tokensPerDay === undefined && q.tokensPerMonth === undefined)) return undefined;
  return { ...q, onExceeded: own?.onExceeded ?? 'Throttle' };
}

const percent = (used: number, limit: number | undefined): number => (limit ? Math.floor((used * 100) / limit) : 0);

/** Decides; a window is exceeded once its tokens reach the limit (no more may be used). */
export function decideQuota(quota: Quota | undefined, usage: WindowTokens, now: Date): QuotaDecision {
  if (!quota) return { throttle: false };
  const dayOver = quota.tokensPerDay !== undefined && usage.dayTokens >= quota.tokensPerDay;
  const monthOver = quota.tokensPerMonth !== undefined && usage.monthTokens >= quota.tokensPerMonth;
  const percentOfQuota = Math.max(percent(usage.dayTokens, quota.tokensPerDay), percent(usage.monthTokens, quota.tokensPerMonth));
  const exceeded = monthOver ? 'month' : dayOver ? 'day' : undefined;
  if (!exceeded) return { percentOfQuota, throttle: false };
  return {
    exceeded,
    percentOfQuota,
    throttle: (quota.onExceeded ?? 'Throttle') === 'Throttle',
    resetsAt: exceeded === 'month' ? nextMonth(now) : nextDay(now),
    limit: exceeded === 'month' ? quota.tokensPerMonth : quota.tokensPerDay,
  };
}
