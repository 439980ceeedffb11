/**
 * Maps Kubernetes API errors (this package's client's, and client-node's, which the tests use)
 * onto the core's error kinds, by HTTP status only, and describes them for the `Synced` condition.
 */
import { ConflictError, NotFoundError, asError } from '../../core/errors.js';
import type { Failure } from '../../ports/failures.js';

/**
 * HTTP status of a Kubernetes API error, if it has one: an answer's numeric `code` where it has
 * a `body` property (KubeApiError, and client-node's ApiException), or a failed watch's `statusCode`.
 */
export function statusOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, statusCode } = e as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number' && 'body' in e) return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/**
 * Classifies a Kubernetes API error: 404 -> NotFoundError; 409 (a resourceVersion precondition
 * failed: the object changed since it was read) -> ConflictError; anything else, including 422
 * (the write is invalid, a bug to surface), is returned as is.
 */
export function classifyKubeError(e: unknown, what: string): Error {
  const status = statusOf(e);
  if (status === 404) return new NotFoundError(`${what}: not found`, { cause: e });
  if (status === 409) return new ConflictError(`${what}: changed since it was read`, { cause: e });
  return asError(e);
}

/** Network failures of a Kubernetes call, by their error code. */
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** The message of an API server's Status body, when the error carries one. */
function statusMessage(e: unknown): string | undefined {
  const body = (e as { body?: unknown }).body;
  const text = typeof body === 'string' ? body : undefined;
  if (!text) return undefined;
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return text.slice(0, 200);
  }
}

/** What to check for an API server answer. */
function kubeCheck(status: number): string {
  if (status === 401 || status === 403)
    return "check the operator's RBAC: its ClusterRole (the chart's rbac.yaml) must allow the call on this resource";
  if (status === 422 || status === 400)
    return "the API server refused the operator's write as invalid, a bug in the operator: report it with its log";
  return 'check that the API server is healthy and reachable from the operator';
}

/**
 * Describes an error of a Kubernetes API call (anywhere in the cause chain) for the `Synced`
 * condition: 429, 5xx and network failures are transient; any other answer is not.
 */
export function describeKubeFailure(e: unknown): Failure | undefined {
  let x: unknown = e;
  for (let depth = 0; depth < 8 && typeof x === 'object' && x !== null; depth++) {
    const status = statusOf(x);
    if (status !== undefined) {
      const message = statusMessage(x);
      return {
        class: 'KubernetesError',
        transient: status === 429 || status >= 500,
        detail: `HTTP ${status}${message ? `: ${message}` : ''}`,
        check: kubeCheck(status),
      };
    }
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK.has(code))
      return { class: 'KubernetesError', transient: true, detail: code, check: kubeCheck(503) };
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}
