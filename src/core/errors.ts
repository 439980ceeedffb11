/**
 * The three kinds of reconcile outcome besides success: terminal errors need a spec change and
 * are not retried; waits are expected and requeue after a delay; everything else is transient
 * and retried with per-key backoff by the work queue (the one place retry lives).
 */

/** A failure only a change to the spec (or to another object) can fix. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A write lost an optimistic-concurrency race; retry soon with fresh state. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The object or resource does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Wraps anything thrown into an Error, keeping the original as `cause`. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e), { cause: e });
}

/**
 * An expected wait discovered by acting rather than observing (AWS refusing a create until IAM
 * or a data access policy has propagated): requeue after `retryAfterMs`, not an error.
 */
export class WaitError extends Error {
  override readonly name = 'WaitError';
  constructor(
    readonly reason: string,
    message: string,
    readonly retryAfterMs: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
