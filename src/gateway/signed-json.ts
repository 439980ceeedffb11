/**
 * Bedrock's REST-JSON operations on the gateway's hot path (Converse, Retrieve) as one SigV4-signed
 * HTTP request each. The SDK's client spends about 125 KB of short-lived objects and 0.4 ms of CPU
 * per call on its middleware stack, endpoint rules and user agent (docs/performance.md, "The
 * tenant gateway"); under load that garbage sets how often the gateway pauses to collect it. This
 * path signs with the SDK's own signer (@smithy/signature-v4) and resolves the endpoint and the
 * default credentials from an SDK client's configuration once, so AWS_ENDPOINT_URL_*, FIPS,
 * dual-stack and the credential chain mean what they mean to the SDK.
 *
 * Errors become `AwsServiceError`s named by the service's error type (`x-amzn-errortype`, else
 * the body's `__type` or `code`), as the SDK's are; throttling, 5xx and network errors are
 * retried with the SDK's standard backoff (full jitter from 100 ms, at most 20 s), a cancelled
 * call never.
 */
import { createHash, createHmac } from 'node:crypto';
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';

/** SHA-256 (or HMAC-SHA-256 with a secret) on node:crypto, in the shape SignatureV4 takes. */
export class NodeSha256 implements Checksum {
  private h;
  constructor(private readonly secret?: SourceData) {
    this.h = this.make();
  }
  private make() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array | string): void {
    this.h.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.make();
  }
}

function toBuffer(d: SourceData): Buffer | string {
  if (typeof d === 'string') return d;
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** An error answer of an AWS service, named as the SDK names it. */
export class AwsServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** Where and as whom one identity's calls go. */
export interface SignedJsonTarget {
  endpoint: URL;
  signer: SignatureV4;
  agent: HttpAgent | HttpsAgent;
  maxAttempts: number;
}

/** A target for `credentials` at a resolved endpoint; Bedrock's runtimes sign as `bedrock`. */
export function signedTarget(
  endpoint: URL,
  region: string,
  credentials: AwsCredentialIdentityProvider,
  agents: { http: HttpAgent; https: HttpsAgent },
  maxAttempts: number,
): SignedJsonTarget {
  return {
    endpoint,
    signer: new SignatureV4({ service: 'bedrock', region, credentials, sha256: NodeSha256 }),
    agent: endpoint.protocol === 'http:' ? agents.http : agents.https,
    maxAttempts,
  };
}

/** A path label as the SDK encodes it (RFC 3986 unreserved characters only). */
export function label(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableException',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
]);
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;

function retryable(e: unknown): boolean {
  if (e instanceof AwsServiceError) return e.status >= 500 || e.status === 429 || THROTTLING.has(e.name);
  // Network errors (reset, refused, timed out) carry a code; a cancelled call is an AbortError.
  return e instanceof Error && e.name !== 'AbortError' && typeof (e as { code?: unknown }).code === 'string';
}

/** POSTs `body` as JSON to `path` on the target and parses the JSON answer. */
export async function postJson<T>(t: SignedJsonTarget, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const payload = JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    try {
      return (await once(t, path, payload, signal)) as T;
    } catch (e) {
      if (attempt >= t.maxAttempts || signal?.aborted || !retryable(e)) throw e;
      const delay = Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
      await new Promise((ok) => setTimeout(ok, delay));
    }
  }
}

async function once(t: SignedJsonTarget, path: string, payload: string, signal?: AbortSignal): Promise<unknown> {
  const { endpoint: ep } = t;
  const fullPath = `${ep.pathname.replace(/\/$/, '')}${path}`;
  const signed = await t.signer.sign({
    method: 'POST',
    protocol: ep.protocol,
    hostname: ep.hostname,
    ...(ep.port ? { port: Number(ep.port) } : {}),
    path: fullPath,
    query: {},
    headers: { host: ep.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
    body: payload,
  });
  const request = ep.protocol === 'http:' ? httpRequest : httpsRequest;
  const res = await new Promise<IncomingMessage>((ok, fail) => {
    const req = request(
      {
        protocol: ep.protocol,
        hostname: ep.hostname,
        port: ep.port || undefined,
        method: 'POST',
        path: fullPath,
        headers: signed.headers,
        agent: t.agent,
        signal,
      },
      ok,
    );
    req.on('error', fail);
    req.end(payload);
  });
  const text = await new Promise<string>((ok, fail) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    res.on('error', fail);
  });
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return text ? JSON.parse(text) : {};
  throw serviceError(status, res.headers['x-amzn-errortype'], text);
}

/** The error an AWS REST-JSON error answer means. */
export function serviceError(status: number, typeHeader: string | string[] | undefined, text: string): AwsServiceError {
  let parsed: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): the status names it.
  }
  const raw = [typeHeader, parsed.__type, parsed.code].flat().find((x): x is string => typeof x === 'string' && x !== '');
  // `Type:namespace-uri` in the header, `namespace#Type` in a body.
  const name = raw?.split(':')[0]?.split('#').pop() || (status >= 500 ? 'InternalServerException' : `Http${status}Error`);
  const message = [parsed.message, parsed.Message].find((x): x is string => typeof x === 'string') ?? `HTTP ${status}`;
  return new AwsServiceError(name, message, status);
}
