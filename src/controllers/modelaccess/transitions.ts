/**
 * The Events a ModelAccess pass records, pure: one per transition of its lifecycle, quota,
 * throttle and grant conditions (never one per pass), with the throttle direction for the metric.
 */
import { CONDITION, EVENT_REASON, REASON } from '../../api/v1alpha1/constants.js';
import type { Condition } from '../../api/v1alpha1/types.js';
import { findCondition } from '../../core/conditions.js';

/** An Event to record. */
export interface TransitionEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Set on throttle transitions, for the transitions metric. */
  throttle?: 'throttled' | 'unthrottled';
}

/** The Events between the stored conditions and the ones about to be written. */
export function transitionEvents(before: readonly Condition[] | undefined, after: readonly Condition[]): TransitionEvent[] {
  const was = (type: string): Condition | undefined => findCondition(before, type);
  const now = (type: string): Condition | undefined => findCondition(after, type);
  const out: TransitionEvent[] = [];
  const lifecycle = now(CONDITION.ModelLifecycle);
  if (lifecycle && lifecycle.reason !== was(CONDITION.ModelLifecycle)?.reason) {
    if (lifecycle.reason === REASON.ModelLegacy)
      out.push({ type: 'Warning', reason: EVENT_REASON.ModelLegacy, message: lifecycle.message });
    if (lifecycle.reason === REASON.ModelEndOfLife)
      out.push({ type: 'Warning', reason: EVENT_REASON.ModelEndOfLife, message: lifecycle.message });
  }
  const quota = now(CONDITION.QuotaExceeded);
  const quotaBefore = was(CONDITION.QuotaExceeded)?.status ?? 'False';
  if (quota?.status === 'True' && quotaBefore !== 'True')
    out.push({ type: 'Warning', reason: EVENT_REASON.QuotaExceeded, message: quota.message });
  if (quota?.status === 'False' && quotaBefore === 'True')
    out.push({ type: 'Normal', reason: EVENT_REASON.QuotaRestored, message: quota.message });
  const throttled = now(CONDITION.Throttled);
  const throttledBefore = was(CONDITION.Throttled)?.status ?? 'False';
  if (throttled?.status === 'True' && throttledBefore !== 'True')
    out.push({ type: 'Warning', reason: EVENT_REASON.Throttled, message: throttled.message, throttle: 'throttled' });
  if (throttled?.status === 'False' && throttledBefore === 'True')
    out.push({ type: 'Normal', reason: EVENT_REASON.Unthrottled, message: throttled.message, throttle: 'unthrottled' });
  const grant = now(CONDITION.AccessGranted);
  if (grant?.reason === REASON.AccessRevoked && was(CONDITION.AccessGranted)?.reason !== REASON.AccessRevoked)
    out.push({ type: 'Warning', reason: EVENT_REASON.AccessRevoked, message: grant.message });
  return out;
}
