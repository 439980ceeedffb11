/**
 * What a failed Bedrock call says about the model having run (and being billed), which decides
 * what its quota reservation settles to and whether a model call may be retried.
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
const NOT_SENT = Symbol('tenant-rag-gateway.notSent');

/** Marks `e` as a failure before the request was sent whole (no model ran); returns it. */
export function notSent<E>(e: E): E {
  if (typeof e === 'object' && e !== null) Object.defineProperty(e, NOT_SENT, { value: true });
  return e;
}

/** Network errors of a connection that was never made (the SDK's calls, whose sending is not watched). */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a failed model call may still have run, and so be billed. */
export function mayHaveRun(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return true;
  if ((e as { [NOT_SENT]?: boolean })[NOT_SENT]) return false;
  const { code } = e as { code?: unknown };
  if (typeof code === 'string' && NEVER_CONNECTED.has(code)) return false;
  const status = (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status !== 'number' || (status >= 200 && status < 300)) return true;
  return status === 408 || status === 424;
}
