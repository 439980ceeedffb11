/**
 * The names of the tenant gateway's quota counters in Redis, in one place for the two programs
 * that use them: the gateway counts tokens and requests under these keys, and the operator reads
 * the same keys to show the gateway's usage on status. A key is
 * `<prefix>:{<tenant>/<model>}:<d|m|r>:<window>`; the braces are one Redis Cluster hash tag per
 * tenant and model, so a script may touch all windows of one tenant and model on one slot.
 */

/** The prefix both programs use unless configured otherwise. */
export const DEFAULT_QUOTA_KEY_PREFIX = 'tro:quota';

/** The windows the gateway counts in: tokens per UTC day and month, requests per minute. */
export type CounterWindow = 'day' | 'month' | 'minute';

const LETTER: Record<CounterWindow, string> = { day: 'd', month: 'm', minute: 'r' };

/**
 * The key of one window's counter of `tenant` (its name) and `model` (the ModelAccess's
 * spec.model); `window` names the window as the gateway reports it: `2026-12-04`, `2026-12` or
 * `2026-12-04T10:31`.
 */
export function quotaCounterKey(prefix: string, tenant: string, model: string, kind: CounterWindow, window: string): string {
  return `${prefix}:{${tenant}/${model}}:${LETTER[kind]}:${window}`;
}
