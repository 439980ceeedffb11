/**
 * Bedrock's REST-JSON operations on the gateway's hot path (Converse, Retrieve) as one SigV4-signed
 * HTTP request each. The SDK's client spends about 125 KB of short-lived objects and 0.4 ms of CPU
 * per call on its middleware stack, endpoint rules and user agent (docs/performance.md, "The
 * tenant gateway"); under load that garbage sets how often the gateway pauses to collect it. This
 * path keeps the SDK's parts that matter and drops the machinery: its signer
 * (@smithy/signature-v4, with node:crypto hashes), its retry strategy and error classification
 * (@smithy/core/retry: standard mode, one retry budget per identity as each SDK client had,
 * Retry-After honoured), its clock-skew correction (the offset from an answer's Date header), and
 * the endpoint and default credentials an SDK client's configuration resolves, once per service,
 * so AWS_ENDPOINT_URL_*, FIPS and the credential chain mean what they mean to the SDK. Errors
 * become `AwsServiceError`s named by the service's error type (`x-amzn-errortype`, else the body's
 * `code` or `__type`), as the SDK's are.
 */
import { createHash, createHmac } from 'node:crypto';
import { type Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, RetryErrorInfo, RetryStrategyV2, SourceData } from '@smithy/types';
import { notSent, sent } from './call-outcome.js';

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

/** An error answer of an AWS service, named and shaped as the SDK's (for its retry classification). */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string; clockSkewCorrected?: boolean };
  /** The answer's status and headers, where the retry strategy reads Retry-After. */
  readonly $response: { statusCode: number; headers: Record<string, string> };
  constructor(name: string, message: string, status: number, headers: Record<string, string> = {}) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, ...(headers['x-amzn-requestid'] ? { requestId: headers['x-amzn-requestid'] } : {}) };
    this.$response = { statusCode: status, headers };
  }
  get status(): number {
    return this.$metadata.httpStatusCode;
  }
}

/** Where and as whom one identity's calls go. */
export interface SignedJsonTarget {
  endpoint: URL;
  signer: SignatureV4;
  agent: HttpAgent | HttpsAgent;
  /** The SDK's standard retry strategy: its retry budget is this identity's. */
  retry: RetryStrategyV2;
  /** How far AWS's clock is ahead of ours (ms), learnt from the answers' Date headers. */
  clockOffsetMs: number;
}

/**
 * A target for `credentials` at a resolved endpoint; Bedrock's runtimes sign as `bedrock`. `retry`
 * is the SDK's standard strategy, or for calls that run a model `ModelCallRetryStrategy`, which
 * does not make a call again once it may have run.
 */
export function signedTarget(
  endpoint: URL,
  region: string,
  credentials: AwsCredentialIdentityProvider,
  agents: { http: HttpAgent; https: HttpsAgent },
  retry: RetryStrategyV2,
): SignedJsonTarget {
  return {
    endpoint,
    signer: new SignatureV4({ service: 'bedrock', region, credentials, sha256: NodeSha256 }),
    agent: endpoint.protocol === 'http:' ? agents.http : agents.https,
    retry,
    clockOffsetMs: 0,
  };
}

/** A path label as the SDK encodes it (RFC 3986 unreserved characters only). */
export function label(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What the gateway sends as its user agent (the SDK's named the SDK; CloudTrail shows this). */
const USER_AGENT = 'tenant-rag-gateway';
/** The largest answer read (Converse and Retrieve answers are a few hundred KB at most). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** How far apart the clocks may be before the signing date follows AWS's (the SDK's 5 minutes). */
const SKEW_MS = 300_000;

/** What the SDK's retry strategy needs to know of an error. */
function retryInfo(e: unknown): RetryErrorInfo {
  const error = e as Parameters<typeof isThrottlingError>[0];
  const errorType = isThrottlingError(error)
    ? 'THROTTLING'
    : isTransientError(error)
      ? 'TRANSIENT'
      : isServerError(error)
        ? 'SERVER_ERROR'
        : 'CLIENT_ERROR';
  const retryAfterHint = e instanceof AwsServiceError ? getRetryAfterHint(e.$response) : undefined;
  return { error, errorType, ...(retryAfterHint ? { retryAfterHint } : {}) };
}

/** The error of a call its caller cancelled (as the SDK names it). */
function aborted(signal: AbortSignal | undefined, cause: unknown = signal?.reason): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError', cause });
}

/** Waits `ms`, or rejects at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((ok, fail) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    };
    const abort = (): void => {
      done();
      fail(aborted(signal));
    };
    const timer = setTimeout(() => {
      done();
      ok();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * POSTs `body` as JSON to `path` on the target and parses the JSON answer; retries as the
 * target's strategy says. Failures are marked {@link notSent} before the request was written
 * whole and {@link sent} after.
 */
export async function postJson<T>(t: SignedJsonTarget, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const payload = JSON.stringify(body);
  let token = await t.retry.acquireInitialRetryToken('');
  for (;;) {
    try {
      if (signal?.aborted) throw notSent(aborted(signal));
      const out = (await once(t, path, payload, signal)) as T;
      t.retry.recordSuccess(token);
      return out;
    } catch (e) {
      if (signal?.aborted) throw e;
      try {
        token = await t.retry.refreshRetryTokenForRetry(token, retryInfo(e));
      } catch {
        throw e;
      }
      // The last attempt was not carried out (else no retry): a caller leaving now sent nothing more.
      await sleep(token.getRetryDelay(), signal).catch((x: unknown) => {
        throw notSent(x);
      });
    }
  }
}

async function once(t: SignedJsonTarget, path: string, payload: string, signal?: AbortSignal): Promise<unknown> {
  const { endpoint: ep } = t;
  const fullPath = `${ep.pathname.replace(/\/$/, '')}${path}`;
  const signed = await sign(t, ep, fullPath, payload);
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
    // Until the request is written whole, a failure means Bedrock has not got it; after, that it
    // may have (even a reset on a kept-alive socket: the server may have read the request first).
    let written = false;
    req.on('finish', () => (written = true));
    req.on('error', (e) => fail(written ? sent(e) : notSent(e)));
    req.end(payload);
  });
  const corrected = learnClock(t, res.headers.date);
  const status = res.statusCode ?? 0;
  const success = status >= 200 && status < 300;
  let text: string;
  try {
    text = await readAnswer(res);
  } catch (e) {
    if (signal?.aborted) throw sent(aborted(signal, e));
    // The call was carried out (a model ran, and is billed) and its answer lost: not retried.
    if (success) throw incompleteAnswer(status, res.headers, e);
    // An error answer cut short is still that error (its status and type are in the head).
    text = '';
  }
  if (success) return text ? JSON.parse(text) : {};
  const e = serviceError(status, res.headers, text);
  // A signature refused for the time while the clocks were apart: retried at AWS's time.
  if (corrected) e.$metadata.clockSkewCorrected = true;
  throw e;
}

/** Signs the request; a failure (the credentials: the tenant role's session) is one before anything was sent. */
async function sign(t: SignedJsonTarget, ep: URL, fullPath: string, payload: string): Promise<{ headers: Record<string, string> }> {
  try {
    return await t.signer.sign(
      {
        method: 'POST',
        protocol: ep.protocol,
        hostname: ep.hostname,
        ...(ep.port ? { port: Number(ep.port) } : {}),
        path: fullPath,
        query: {},
        headers: {
          host: ep.host,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          'user-agent': USER_AGENT,
        },
        body: payload,
      },
      { signingDate: new Date(Date.now() + t.clockOffsetMs) },
    );
  } catch (e) {
    throw notSent(e);
  }
}

/** The answer's body, at most {@link MAX_ANSWER_BYTES}. */
function readAnswer(res: IncomingMessage): Promise<string> {
  return new Promise<string>((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(c);
    });
    res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    res.on('error', fail);
  });
}

/**
 * A success answer cut short. Named so the retry strategy takes it for a client error (not
 * retried); its status says the call itself succeeded. The network error is told in the message,
 * not as `cause`: the SDK's classification follows `cause` and would call it transient.
 */
function incompleteAnswer(status: number, headers: IncomingHttpHeaders, cause: unknown): AwsServiceError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new AwsServiceError(
    'IncompleteAnswer',
    `the answer was cut short after its ${status} head (${why}); not retried, as the call was carried out`,
    status,
    flatHeaders(headers),
  );
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
  return flat;
}

/** Follows AWS's clock when ours is 5 minutes or more off it; whether the offset changed. */
function learnClock(t: SignedJsonTarget, date: string | undefined): boolean {
  const server = date ? Date.parse(date) : NaN;
  if (Number.isNaN(server) || Math.abs(Date.now() + t.clockOffsetMs - server) < SKEW_MS) return false;
  t.clockOffsetMs = server - Date.now();
  return true;
}

/** The error an AWS REST-JSON error answer means. */
export function serviceError(status: number, headers: IncomingHttpHeaders, text: string): AwsServiceError {
  let parsed: { __type?: unknown; code?: unknown; Code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): the status names it.
  }
  // The SDK's order: the header, then the body's code, then its __type.
  const raw = [headers['x-amzn-errortype'], parsed.code, parsed.Code, parsed.__type]
    .flat()
    .find((x): x is string => typeof x === 'string' && x !== '');
  // `Type:namespace-uri` in the header, `namespace#Type` in a body.
  const name = raw?.split(':')[0]?.split('#').pop() || 'Unknown';
  const message = [parsed.message, parsed.Message].find((x): x is string => typeof x === 'string') ?? `HTTP ${status}`;
  return new AwsServiceError(name, message, status, flatHeaders(headers));
}
