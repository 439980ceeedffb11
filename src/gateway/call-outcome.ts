/**
 * What a failed Bedrock call says about the model having run (and being billed), which decides
 * what its quota reservation settles to and whether a model call may be made again.
 *
 * - **Not sent**: the failure came before the request left the gateway whole (credentials or
 *   the tenant role's session, the endpoint, a connection never made, a request cut while it was
 *   being written, a caller gone before it was sent). No model ran.
 * - **Answered with an error**: Bedrock answered with an error status (validation, access,
 *   throttling, its own 5xx). The call was not carried out, except 408 ModelTimeoutException and
 *   424 ModelErrorException, which come from a model that ran.
 * - **Anything else** (the request was sent and no answer came: the caller left and the call was
 *   cancelled, the connection went, a success answer was cut short): the model may have run.
 */
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';

/** Failures known to have come before (notSent) or after (sent) the request was written whole. */
const before = new WeakSet<object>();
const after = new WeakSet<object>();

/** Marks `e` as a failure before the request was sent whole (no model ran); returns it. */
export function notSent<E>(e: E): E {
  if (typeof e === 'object' && e !== null) before.add(e);
  return e;
}

/** Marks `e` as a failure after the request was sent whole, whatever its code says; returns it. */
export function sent<E>(e: E): E {
  if (typeof e === 'object' && e !== null) after.add(e);
  return e;
}

/** Network errors of a connection that was never made (for failures not marked either way: the SDK's). */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a failed model call may still have run, and so be billed. */
export function mayHaveRun(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return true;
  if (before.has(e)) return false;
  const status = (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status < 200 || status >= 300)) return status === 408 || status === 424;
  if (after.has(e) || typeof status === 'number') return true;
  const { code } = e as { code?: unknown };
  return !(typeof code === 'string' && NEVER_CONNECTED.has(code));
}

/**
 * The SDK's standard retry strategy (its backoff, classification and retry budget) for calls
 * that run a model: a failure after which the model may have run is not retried (a second run
 * would be billed, and counted once).
 */
export class ModelCallRetryStrategy implements RetryStrategyV2 {
  private readonly standard: StandardRetryStrategy;
  constructor(maxAttempts: number) {
    this.standard = new StandardRetryStrategy(maxAttempts);
  }
  acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return this.standard.acquireInitialRetryToken(scope);
  }
  refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    if (mayHaveRun(info.error)) return Promise.reject(info.error instanceof Error ? info.error : new Error(String(info.error)));
    return this.standard.refreshRetryTokenForRetry(token as StandardRetryToken, info);
  }
  recordSuccess(token: RetryToken): void {
    this.standard.recordSuccess(token as StandardRetryToken);
  }
}
