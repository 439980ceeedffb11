/** Pure helpers for standard Kubernetes conditions. */
import type { Condition } from '../api/v1alpha1/types.js';

/** A condition as a reconciler states it; the time fields are filled in by `setCondition`. */
export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Returns `conditions` with `next` set. `lastTransitionTime` moves only when the status flips,
 * so a condition whose reason or message changes keeps the time it became True or False.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  generation: number,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : rfc3339(now);
  const condition: Condition = { ...next, observedGeneration: generation, lastTransitionTime };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

/** Finds a condition by type. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of that type exists with status True. */
export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Summarises component conditions into `Ready`: the first component that is not True decides
 * (in the order given, which is the order resources are built); all True gives True.
 */
export function summarize(components: readonly ConditionInput[], readyReason: string, readyMessage: string): ConditionInput {
  const blocking = components.find((c) => c.status !== 'True');
  if (!blocking) return { type: 'Ready', status: 'True', reason: readyReason, message: readyMessage };
  return { type: 'Ready', status: blocking.status, reason: blocking.reason, message: blocking.message };
}

/** Formats a time the way Kubernetes stores metav1.Time (seconds precision, UTC). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
