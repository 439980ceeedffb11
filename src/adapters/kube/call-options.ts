/**
 * Per-call options for @kubernetes/client-node, which the tenant gateway still uses (the operator
 * uses ./client.ts, whose calls all have a timeout): a timeout on every request (client-node has
 * none, so a request on a dead connection would hang a list or a TokenReview forever).
 */
import { setHeaderMiddleware, type setHeaderOptions } from '@kubernetes/client-node';
import { KUBE_CALL_TIMEOUT_MS } from './http.js';

/** Per-call options as the generated API methods take them. */
export type CallOptions = NonNullable<Parameters<typeof setHeaderOptions>[2]>;

/** Options that abort the request after `timeoutMs`. */
export function withTimeout(timeoutMs = KUBE_CALL_TIMEOUT_MS, opt?: CallOptions): CallOptions {
  // setHeaderMiddleware gives a middleware built on client-node's own Observable; reuse its
  // `pre` after setting the request's abort signal, and let it tag the request with the budget.
  const header = setHeaderMiddleware('X-Request-Timeout-Ms', String(timeoutMs));
  const timeout = {
    pre: (request: Parameters<typeof header.pre>[0]) => {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      return header.pre(request);
    },
    post: (response: Parameters<typeof header.post>[0]) => header.post(response),
  };
  return { ...opt, middleware: [...(opt?.middleware ?? []), timeout], middlewareMergeStrategy: 'append' };
}
