/**
 * Pure pieces of a ModelAccess pass: the duplicate-grant check, the QuotaExceeded and Throttled
 * conditions (saying which source counted: the tenant gateway's real-time counters when the
 * operator reads them, else CloudWatch), and status.usage with its write rate limit.
 */
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, ModelAccessStatus } from '../../api/v1alpha1/types.js';
import type { Refusal } from '../../core/admission.js';
import type { ConditionInput } from '../../core/conditions.js';
import type { CountedTokens } from '../../usage/counted.js';
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

/** What counted the tokens a decision was made on (see usage/counted.ts). */
export type QuotaEvidence = Pick<CountedTokens, 'source' | 'gateway'>;

/** True when the gateway's own counter reached the exhausted window's limit: the gateway is refusing. */
function gatewayRefuses(d: QuotaDecision, e: QuotaEvidence | undefined): boolean {
  if (e?.source !== 'Gateway' || !e.gateway || !d.exceeded || d.limit === undefined) return false;
  return (d.exceeded === 'day' ? e.gateway.dayTokens : e.gateway.monthTokens) >= d.limit;
}

/**
 * QuotaExceeded and Throttled from the decision; `denied` says whether the deny is in place and
 * `evidence` what counted (absent: CloudWatch). Messages name the source but no running numbers
 * (status.usage has them): a message that moved with every poll would make every poll a status
 * write, defeating the usage rate limit.
 */
export function quotaConditions(
  quota: Quota | undefined,
  d: QuotaDecision,
  suspended: boolean,
  denied: boolean,
  evidence?: QuotaEvidence,
): ConditionInput[] {
  const viaGateway = evidence?.source === 'Gateway';
  const refusing = gatewayRefuses(d, evidence);
  const countedBy = !viaGateway
    ? ''
    : refusing
      ? ", by the tenant gateway's real-time count"
      : ', counting calls CloudWatch saw outside the tenant gateway';
  const exceeded: ConditionInput = !quota
    ? { type: CONDITION.QuotaExceeded, status: 'False', reason: REASON.NoQuota, message: 'no quota applies (none set, no tier default)' }
    : d.exceeded
      ? {
          type: CONDITION.QuotaExceeded,
          status: 'True',
          reason: d.exceeded === 'day' ? REASON.DailyQuotaExceeded : REASON.MonthlyQuotaExceeded,
          message: `the ${d.exceeded === 'day' ? 'daily' : 'monthly'} quota of ${n(d.limit ?? 0)} tokens is used up${countedBy}; the window resets at ${d.resetsAt?.toISOString() ?? '?'}`,
        }
      : {
          type: CONDITION.QuotaExceeded,
          status: 'False',
          reason: REASON.WithinQuota,
          message: viaGateway
            ? "within quota by the tenant gateway's real-time count and CloudWatch (status.usage.percentOfQuota says how far)"
            : 'within quota (status.usage.percentOfQuota says how far)',
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
    const who = !viaGateway
      ? ''
      : refusing
        ? ': the tenant gateway refuses calls (429) and the IAM deny stops calls that bypass it'
        : ': the IAM deny stops every call, through the tenant gateway or not';
    throttled = {
      type: CONDITION.Throttled,
      status: 'True',
      reason: exceeded.reason,
      message: `access denied until ${d.resetsAt?.toISOString() ?? 'the window resets'}${who} (quota onExceeded: Throttle)`,
    };
  } else if (d.exceeded && !d.throttle) {
    throttled = {
      type: CONDITION.Throttled,
      status: 'False',
      reason: REASON.AlertOnly,
      message: `over quota, but onExceeded is Alert${viaGateway ? ': the tenant gateway lets calls through and counts them' : ''}`,
    };
  } else {
    throttled = { type: CONDITION.Throttled, status: 'False', reason: REASON.NotThrottled, message: 'access is allowed' };
  }
  return [exceeded, throttled];
}

/** An RFC 3339 time without milliseconds, as status shows times. */
const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * status.usage from the counted tokens, the model's price and the quota decision. totalTokens and
 * dayTokens are the tokens counted once (what the quota measures); inputTokens, outputTokens and
 * costUSD are CloudWatch's (the gateway's counters do not split input from output). With the
 * gateway's counters, `gateway` and `cloudWatch` say what each source saw.
 */
export function computeUsage(c: CountedTokens, price: ModelPrice | undefined, d: QuotaDecision): AccessUsage {
  const t = c.cloudWatch;
  const g = c.gateway;
  const readAt = [t.readAt, g?.readAt].filter((x): x is Date => x !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
  return {
    window: t.month,
    inputTokens: t.monthInput,
    outputTokens: t.monthOutput,
    totalTokens: c.monthTokens,
    costUSD: costUSD(t.monthInput, t.monthOutput, price ?? { inputPricePer1k: 0, outputPricePer1k: 0 }),
    day: t.day,
    dayTokens: c.dayTokens,
    ...(d.percentOfQuota !== undefined ? { percentOfQuota: d.percentOfQuota } : {}),
    ...(g
      ? {
          gateway: { totalTokens: g.monthTokens, dayTokens: g.dayTokens, updatedAt: stamp(g.readAt) },
          cloudWatch: {
            totalTokens: t.monthInput + t.monthOutput,
            dayTokens: t.dayInput + t.dayOutput,
            ...(t.readAt ? { updatedAt: stamp(t.readAt) } : {}),
          },
        }
      : {}),
    ...(readAt ? { updatedAt: stamp(readAt) } : {}),
  };
}

/** True when two usages show the same numbers (when they were read does not count). */
export function sameNumbers(a: AccessUsage | undefined, b: AccessUsage | undefined): boolean {
  const strip = (u: AccessUsage | undefined): string =>
    JSON.stringify(
      u && {
        ...u,
        updatedAt: undefined,
        gateway: u.gateway && { ...u.gateway, updatedAt: undefined },
        cloudWatch: u.cloudWatch && { ...u.cloudWatch, updatedAt: undefined },
      },
    );
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
