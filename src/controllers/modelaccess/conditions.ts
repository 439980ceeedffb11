/**
 * Pure pieces of a ModelAccess pass: the duplicate-grant check, the QuotaExceeded and Throttled
 * conditions, and status.usage with its write rate limit.
 */
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, ModelAccessStatus } from '../../api/v1alpha1/types.js';
import type { Refusal } from '../../core/admission.js';
import type { ConditionInput } from '../../core/conditions.js';
import type { CurrentTokens } from '../../usage/book.js';
import { type ModelPrice, costUSD } from '../../usage/pricing.js';
import type { Quota, QuotaDecision } from '../../usage/quota.js';

/** status.usage of a ModelAccess. */
export type AccessUsage = NonNullable<ModelAccessStatus['usage']>;

const created = (a: ModelAccess): string => (a.metadata.creationTimestamp ? new Date(a.metadata.creationTimestamp).toISOString() : '');

/**
 * A tenant gets one profile per model, so a second ModelAccess for the same tenant and model is
 * refused: the one already granted (holding the finalizer), else the oldest, keeps it.
 */
export function duplicateGrant(access: ModelAccess, all: readonly ModelAccess[]): Refusal | undefined {
  const same = all.filter(
    (a) => !a.metadata.deletionTimestamp && a.spec.tenantRef.name === access.spec.tenantRef.name && a.spec.model === access.spec.model,
  );
  const rank = (a: ModelAccess): number => (a.metadata.finalizers?.includes(FINALIZER) ? 0 : 1);
  const winner = [...same].sort(
    (a, b) => rank(a) - rank(b) || created(a).localeCompare(created(b)) || a.metadata.name.localeCompare(b.metadata.name),
  )[0];
  if (!winner || winner.metadata.name === access.metadata.name) return undefined;
  return {
    reason: REASON.DuplicateGrant,
    message: `ModelAccess "${winner.metadata.name}" already grants tenant "${access.spec.tenantRef.name}" model "${access.spec.model}": delete this one or change that one's quota`,
  };
}

const n = (v: number): string => v.toLocaleString('en-US');

/** QuotaExceeded and Throttled from the decision; `denied` says whether the deny is in place. */
export function quotaConditions(quota: Quota | undefined, d: QuotaDecision, suspended: boolean, denied: boolean): ConditionInput[] {
  const exceeded: ConditionInput = !quota
    ? { type: CONDITION.QuotaExceeded, status: 'False', reason: REASON.NoQuota, message: 'no quota applies (none set, no tier default)' }
    : d.exceeded
      ? {
          type: CONDITION.QuotaExceeded,
          status: 'True',
          reason: d.exceeded === 'day' ? REASON.DailyQuotaExceeded : REASON.MonthlyQuotaExceeded,
          // No running numbers in messages (status.usage has them): a message that moved with
          // every poll would make every poll a status write, defeating the usage rate limit.
          message: `the ${d.exceeded === 'day' ? 'daily' : 'monthly'} quota of ${n(d.limit ?? 0)} tokens is used up; the window resets at ${d.resetsAt?.toISOString() ?? '?'}`,
        }
      : {
          type: CONDITION.QuotaExceeded,
          status: 'False',
          reason: REASON.WithinQuota,
          message: 'within quota (status.usage.percentOfQuota says how far)',
        };
  let throttled: ConditionInput;
  if (denied && suspended) {
    throttled = {
      type: CONDITION.Throttled,
      status: 'True',
      reason: REASON.TenantSuspended,
      message: 'the tenant is suspended: access denied',
    };
  } else if (denied) {
    throttled = {
      type: CONDITION.Throttled,
      status: 'True',
      reason: exceeded.reason,
      message: `access denied until ${d.resetsAt?.toISOString() ?? 'the window resets'} (quota onExceeded: Throttle)`,
    };
  } else if (d.exceeded && !d.throttle) {
    throttled = { type: CONDITION.Throttled, status: 'False', reason: REASON.AlertOnly, message: 'over quota, but onExceeded is Alert' };
  } else {
    throttled = { type: CONDITION.Throttled, status: 'False', reason: REASON.NotThrottled, message: 'access is allowed' };
  }
  return [exceeded, throttled];
}

/** status.usage computed from the current tokens, the model's price and the quota decision. */
export function computeUsage(t: CurrentTokens, price: ModelPrice | undefined, d: QuotaDecision): AccessUsage {
  const dayTokens = t.dayInput + t.dayOutput;
  return {
    window: t.month,
    inputTokens: t.monthInput,
    outputTokens: t.monthOutput,
    totalTokens: t.monthInput + t.monthOutput,
    costUSD: costUSD(t.monthInput, t.monthOutput, price ?? { inputPricePer1k: 0, outputPricePer1k: 0 }),
    day: t.day,
    dayTokens,
    ...(d.percentOfQuota !== undefined ? { percentOfQuota: d.percentOfQuota } : {}),
    ...(t.readAt ? { updatedAt: t.readAt.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
  };
}

/** True when two usages show the same numbers (when they were read does not count). */
export function sameNumbers(a: AccessUsage | undefined, b: AccessUsage | undefined): boolean {
  const strip = (u: AccessUsage | undefined): string => JSON.stringify(u ? { ...u, updatedAt: undefined } : undefined);
  return strip(a) === strip(b);
}

/**
 * Which usage to write: the stored one when the numbers did not change, or when it was written
 * less than `minIntervalMs` ago (then `retryInMs` says when the new numbers may go out); else the
 * new one. A write that happens anyway (a condition changed) always carries the new numbers.
 */
export function rateLimitedUsage(
  stored: AccessUsage | undefined,
  next: AccessUsage,
  now: Date,
  minIntervalMs: number,
  writingAnyway: boolean,
): { usage: AccessUsage; retryInMs?: number } {
  if (writingAnyway || !stored) return { usage: next };
  if (sameNumbers(stored, next)) return { usage: stored };
  const last = stored.updatedAt ? Date.parse(stored.updatedAt) : NaN;
  const wait = Number.isNaN(last) ? 0 : last + minIntervalMs - now.getTime();
  // A new window (month or day) always goes out: yesterday's numbers must not linger.
  if (wait > 0 && stored.window === next.window && stored.day === next.day) return { usage: stored, retryInMs: wait };
  return { usage: next };
}
