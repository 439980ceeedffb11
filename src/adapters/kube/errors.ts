/** Maps @kubernetes/client-node errors onto the core's error kinds, by HTTP status only. */
import { ApiException } from '@kubernetes/client-node';
import { ConflictError, NotFoundError, asError } from '../../core/errors.js';

/** HTTP status of a client-node error, if it has one. */
export function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
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
