/**
 * The `Synced` condition (Crossplane's and ACK's convention): `Ready` says whether the object's
 * stack works, `Synced` whether the last pass could do its job. A pass that ends in an error
 * the operator knows will clear by retrying (throttling, 5xx, network, races) leaves Synced as
 * it was, until the same call has failed PERSISTENT_AFTER_ATTEMPTS passes in a row or for
 * PERSISTENT_AFTER_MS; any other error sets `Synced=False` at once, with the error class as
 * reason and a message naming the call, the resource and what to check.
 */
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { type ConditionInput, rfc3339 } from '../../core/conditions.js';
import type { Failure } from '../../ports/failures.js';
import { ResourceError } from '../engine.js';

/** Passes in a row the same call may fail with a retryable error before it is reported. */
export const PERSISTENT_AFTER_ATTEMPTS = 5;
/** How long the same call may fail with a retryable error before it is reported. */
export const PERSISTENT_AFTER_MS = 120_000;

/** Synced after a pass without an error. */
export const SYNCED: ConditionInput = {
  type: CONDITION.Synced,
  status: 'True',
  reason: REASON.ReconcileSuccess,
  message: 'the last pass ran without errors',
};

/** Failures in a row of the same call, for one object. */
export interface Streak {
  count: number;
  /** When the first of them happened (ms). */
  since: number;
}

/** The retryable failures in a row of each object's passes, in memory only. */
export class FailureStreaks {
  private readonly streaks = new Map<string, Streak & { signature: string }>();

  /**
   * Records a retryable failure of `key`'s pass; the streak when it has persisted past the bound
   * (then it is reported), else undefined. A failure of another call starts a new streak: the
   * pass got further, so nothing persists.
   */
  record(key: string, signature: string, now: number): Streak | undefined {
    const last = this.streaks.get(key);
    const streak = last?.signature === signature ? { ...last, count: last.count + 1 } : { signature, count: 1, since: now };
    this.streaks.set(key, streak);
    const persisted = streak.count >= PERSISTENT_AFTER_ATTEMPTS || now - streak.since >= PERSISTENT_AFTER_MS;
    return persisted ? { count: streak.count, since: streak.since } : undefined;
  }

  /** Forgets `key`'s streak (after a pass without error, or when the object is gone). */
  forget(key: string): void {
    this.streaks.delete(key);
  }
}

/** The ResourceError in `e`'s cause chain: which resource the error happened on, if any. */
export function resourceOf(e: unknown): ResourceError | undefined {
  let x: unknown = e;
  for (let depth = 0; depth < 8 && x instanceof Error; depth++, x = x.cause) if (x instanceof ResourceError) return x;
  return undefined;
}

/** What identifies "the same failure" across passes. */
export function signatureOf(failure: Failure, where: ResourceError | undefined): string {
  return [failure.class, failure.action, failure.target, where?.kind].join('|');
}

/** The innermost error of the cause chain (what the service or the code threw). */
function innermost(e: unknown): { name: string; message: string } {
  let x: unknown = e;
  for (let depth = 0; depth < 8 && x instanceof Error && x.cause instanceof Error; depth++) x = x.cause;
  return x instanceof Error ? { name: x.name, message: x.message } : { name: 'Error', message: String(x) };
}

/** `Synced=False` for the error that ended a pass; `streak` when a retryable one persisted. */
export function notSynced(e: unknown, failure: Failure | undefined, streak?: Streak): ConditionInput {
  const where = resourceOf(e);
  const base = { type: CONDITION.Synced, status: 'False' as const };
  if (!failure) {
    const inner = innermost(e);
    return {
      ...base,
      reason: REASON.ReconcileError,
      message: `${where ? `${where.kind}: ` : ''}${inner.name}: ${inner.message}: an error the operator does not expect (see its log); it retries with backoff`,
    };
  }
  const call = failure.action ?? (failure.class === 'KubernetesError' ? 'a Kubernetes API call' : 'an AWS call');
  const target = failure.target ? ` "${failure.target}"` : '';
  const on = where ? ` on ${where.kind}${target}` : target ? ` on${target}` : '';
  const persisted = streak ? ` in ${streak.count} passes in a row since ${rfc3339(new Date(streak.since))}` : '';
  return {
    ...base,
    reason: failure.class,
    message: `${call}${on} failed${persisted}: ${failure.detail}; ${failure.check}; the operator retries with backoff`,
  };
}

/** `Ready=False, Deleting` for an object whose AWS resources are being removed, naming what is at. */
export function deleting(kind: string, at: string): ConditionInput {
  return {
    type: CONDITION.Ready,
    status: 'False',
    reason: REASON.Deleting,
    message: `the ${kind} is being deleted and its AWS resources removed, in reverse order of creation: ${at}`,
  };
}
