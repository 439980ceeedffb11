/**
 * Checks one AWS request and its answer against AWS's API model: the request against the
 * operation's input shape, a success against its output shape and status code, an error against
 * the operation's declared errors (or the common ones).
 */
import { decodeInput, decodeOutput, errorCode, type WireResponse } from './decode.js';
import { COMMON_ERRORS, declaredError } from './errors.js';
import { findOperation, type Found, type WireRequest } from './find-operation.js';
import { type CheckContext, checkShape, type ShapeViolation } from './shape-check.js';

export type { WireRequest } from './find-operation.js';
export type { WireResponse } from './decode.js';

/** A constraint of AWS's model that a request or an emulated answer breaks. */
export interface ModelViolation {
  /** botocore service name (s3, iam, bedrock-agent, opensearchserverless, ...). */
  service: string;
  operation: string;
  direction: 'request' | 'response';
  /** Member path (`Tags[0].Key`), `(body)`, or `(status)` / `(error)` for the answer's code. */
  member: string;
  constraint: string;
  value: unknown;
  /** Who answered: moto, ministack, a fake, the AWS proxy itself. */
  servedBy: string;
}

/** What one exchange's check found. */
export interface ExchangeResult {
  /** botocore service and operation, when the request names one. */
  service?: string;
  operation?: string;
  /** The protocol the request was read in. */
  protocol?: string;
  /** Why the request was not checked (no model covers it, e.g. the OpenSearch data plane). */
  unmodelled?: string;
  violations: ModelViolation[];
  /** Patterns that could not be translated and were not checked. */
  unchecked: string[];
}

/** The SigV4 signing name of a request (its credential scope's service), header or presigned. */
export function signingNameOf(headers: Record<string, string>, query: URLSearchParams): string | undefined {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(headers.authorization ?? '');
  if (scope?.[1]) return scope[1];
  return /^[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request$/.exec(query.get('X-Amz-Credential') ?? '')?.[1];
}

/** A virtual-hosted S3 request (`bucket.localhost`, `bucket.s3.amazonaws.com`) as the path-style one. */
function pathStyle(signingName: string | undefined, req: WireRequest): WireRequest {
  if (signingName !== 's3') return req;
  const bucket = /^([^.]+)\.(?:localhost|s3[.-])/.exec(req.headers.host ?? '')?.[1];
  return bucket ? { ...req, path: `/${bucket}${req.path === '/' ? '' : req.path}` } : req;
}

/** Checks a request and, when given, its answer. */
export function checkExchange(request: WireRequest, response: WireResponse | undefined, servedBy: string): ExchangeResult {
  const signingName = signingNameOf(request.headers, request.query);
  const req = pathStyle(signingName, request);
  const found = findOperation(signingName, req);
  if ('unmodelled' in found) return { unmodelled: found.unmodelled, violations: [], unchecked: [] };
  if ('unmatched' in found) {
    const service = signingName ?? 'unknown';
    return {
      service,
      operation: '(none)',
      violations: [
        {
          service,
          operation: '(none)',
          direction: 'request',
          member: '(operation)',
          constraint: 'an operation of the model',
          value: found.unmatched,
          servedBy,
        },
      ],
      unchecked: [],
    };
  }
  const unchecked = new Set<string>();
  const violations: ModelViolation[] = [];
  const add = (direction: ModelViolation['direction'], vs: ShapeViolation[]): void => {
    for (const v of vs) violations.push({ service: found.model.service, operation: found.operation.name, direction, ...v, servedBy });
  };
  const ctx = (): CheckContext => ({ model: found.model, violations: [], unchecked });
  const input = decodeInput(found, req);
  add('request', input.violations);
  if (found.operation.input) {
    const c = ctx();
    checkShape(c, found.operation.input.shape, input.value, '');
    add('request', c.violations);
  }
  // A request that breaks the model and is refused with 400 got what AWS would give it (tests send
  // such requests on purpose to see the refusal); only one that is served, or not answered, is wrong.
  if (response?.status === 400) violations.length = 0;
  if (response) add('response', checkResponse(found, response, req.method === 'HEAD', ctx()));
  return { service: found.model.service, operation: found.operation.name, protocol: found.protocol, violations, unchecked: [...unchecked] };
}

function checkResponse(found: Found, res: WireResponse, head: boolean, c: CheckContext): ShapeViolation[] {
  const out = c.violations;
  if (res.status >= 300) {
    const code = errorCode(found.protocol, res);
    if (code === undefined) {
      if (res.body.length) out.push({ member: '(error)', constraint: 'an error code', value: res.body.toString('utf8').slice(0, 200) });
      return out;
    }
    const d = declaredError(found.model, found.operation, code);
    if (!d.declared) out.push({ member: '(error)', constraint: 'a declared or common error', value: code });
    else if (d.status !== undefined && d.status !== res.status)
      out.push({ member: '(status)', constraint: `http status ${d.status} for ${code}`, value: res.status });
    return out;
  }
  // Only a status the model states is checked: without one, S3 answers some operations with 204
  // (PutBucketTagging), and the SDKs take any 2xx.
  const expected = found.protocol.startsWith('rest-') ? found.operation.http.responseCode : undefined;
  if (expected !== undefined && res.status !== expected)
    out.push({ member: '(status)', constraint: `http status ${expected}`, value: res.status });
  const output = decodeOutput(found, res, head);
  out.push(...output.violations);
  if (found.operation.output) checkShape(c, found.operation.output.shape, output.value, '');
  return out;
}

/**
 * Whether the operation `request` calls declares error `code` itself (common errors aside), so
 * that an injected fault can use the service's own name for it.
 */
export function declaresError(request: WireRequest, code: string): boolean {
  const signingName = signingNameOf(request.headers, request.query);
  const found = findOperation(signingName, pathStyle(signingName, request));
  if (!('operation' in found)) return false;
  return !COMMON_ERRORS.has(code) && declaredError(found.model, found.operation, code).declared;
}

/** botocore service and operation a request calls, if a model covers it. */
export function operationOf(request: WireRequest): { service: string; operation: string } | undefined {
  const signingName = signingNameOf(request.headers, request.query);
  const found = findOperation(signingName, pathStyle(signingName, request));
  return 'operation' in found ? { service: found.model.service, operation: found.operation.name } : undefined;
}
