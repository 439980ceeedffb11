/** Shared plumbing of the in-process AWS fakes: HTTP servers, AWS-shaped errors and fault injection. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAndRecord } from '../model-check/recorder.js';
import { validationRefusal } from '../model-check/validation.js';

/** A request as the fakes see it: method, raw path, decoded query, lower-cased headers and body. */
export interface FakeRequest {
  method: string;
  /** The path exactly as sent (still percent-encoded), without the query string. */
  rawPath: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: Buffer;
}

/** A response a handler returns. */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else is sent as JSON. */
  body?: unknown;
}

/** An error the REST-JSON handlers throw; the SDK reads `x-amzn-errortype` and `message`. */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A REST-JSON error response with the shape the AWS SDK v3 parses. */
export function awsErrorResponse(e: AwsError): FakeResponse {
  return { status: e.status, headers: { 'x-amzn-errortype': e.type }, body: { message: e.message } };
}

/** A fault to inject into the next matching requests. */
export interface Fault {
  /** HTTP status of the injected error (e.g. 429, 500, 503); ignored with `reset`. */
  status?: number;
  /** Error type (e.g. ThrottlingException, InternalServerException). */
  name?: string;
  message?: string;
  /** Destroys the connection instead of answering. */
  reset?: boolean;
  /** Extra latency before answering (or before the injected error). */
  delayMs?: number;
  /**
   * Carry the request out, then hold the answer this long (a create that succeeded while its
   * caller crashed or timed out: the caller must find the resource again without making another).
   */
  holdAnswerMs?: number;
  /** How many matching requests it applies to (default 1). */
  times?: number;
}

/** A request rate AWS enforces on an operation: a token bucket refilled continuously. */
export interface RateLimit {
  ratePerSec: number;
  /** Requests allowed at once after a quiet period (default: one second's worth, at least 1). */
  burst?: number;
}

/** A token bucket on the wall clock. */
class Bucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes a token if one is there. */
  admit(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The fault a rate-limited request gets: AWS's throttling answer (the fake shapes it per protocol). */
export const THROTTLED: Fault = { status: 429, name: 'ThrottlingException', message: 'Rate exceeded' };

/**
 * Fault-injection hooks shared by the fakes, keyed by operation name (`*` matches every operation),
 * and opt-in request rates like AWS's: a request over its operation's rate is refused with a
 * throttling error instead of being served.
 */
export class Faults {
  private readonly queue: { operation: string; fault: Fault; left: number }[] = [];
  private readonly limits = new Map<string, Bucket>();
  /** Operations seen, in order, for assertions on retries. */
  readonly seen: string[] = [];
  /** Requests refused for their operation's rate, per operation. */
  readonly throttled = new Map<string, number>();

  /** Makes the next `times` requests for `operation` fail (or stall or reset) as described. */
  failNext(operation: string, fault: Fault = {}): void {
    this.queue.push({ operation, fault, left: fault.times ?? 1 });
  }

  /** Enforces a request rate on `operation` from now on (AWS answers ThrottlingException over it). */
  limit(operation: string, rate: RateLimit): void {
    this.limits.set(operation, new Bucket(rate.ratePerSec, rate.burst ?? Math.max(1, rate.ratePerSec)));
  }

  /** Forgets every pending fault, every rate limit and the logs of operations seen and throttled. */
  clear(): void {
    this.queue.length = 0;
    this.seen.length = 0;
    this.limits.clear();
    this.throttled.clear();
  }

  /** How many injected faults have not been served yet. */
  pending(): number {
    return this.queue.reduce((n, q) => n + q.left, 0);
  }

  /** Takes the fault that applies to one request of `operation`, if any. */
  take(operation: string): Fault | undefined {
    this.seen.push(operation);
    const i = this.queue.findIndex((q) => q.operation === operation || q.operation === '*');
    const q = i >= 0 ? this.queue[i] : undefined;
    if (!q) return this.overRate(operation);
    if (--q.left <= 0) this.queue.splice(i, 1);
    return q.fault;
  }

  /** The throttling fault when `operation` is over its rate; injected faults come first. */
  private overRate(operation: string): Fault | undefined {
    const bucket = this.limits.get(operation);
    if (!bucket || bucket.admit()) return undefined;
    this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
    return THROTTLED;
  }
}

/** A started fake server. */
export interface FakeServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

function parseRequest(req: IncomingMessage, body: Buffer): FakeRequest {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '')) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method ?? 'GET', rawPath: q >= 0 ? raw.slice(0, q) : raw, query, headers, body };
}

/** AWS's ValidationException for a request whose input breaks its operation's model, if it does. */
function refusedByModel(req: IncomingMessage, r: FakeRequest): FakeResponse | undefined {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return validationRefusal({
    method: r.method,
    path: r.rawPath,
    query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''),
    headers: r.headers,
    body: r.body,
  });
}

/** Sends an answer; returns it as sent, for the model check. */
function send(res: ServerResponse, r: FakeResponse, head: boolean): { status: number; headers: Record<string, string>; body: Buffer } {
  const isRaw = typeof r.body === 'string' || Buffer.isBuffer(r.body);
  const payload = r.body === undefined ? '' : isRaw ? (r.body as string | Buffer) : JSON.stringify(r.body);
  const headers = { 'content-type': 'application/json', ...r.headers, 'content-length': String(Buffer.byteLength(payload)) };
  res.writeHead(r.status, headers);
  res.end(head ? undefined : payload);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status: r.status, headers: lower, body: head ? Buffer.alloc(0) : Buffer.from(payload) };
}

/**
 * Checks a request and the fake's answer (or its reset, when `answer` is undefined) against AWS's
 * API model (test/support/model-check); violations fail the test that caused them.
 */
function modelCheck(req: IncomingMessage, r: FakeRequest, answer: ReturnType<typeof send> | undefined, servedBy: string): void {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  checkAndRecord(
    { method: r.method, path: r.rawPath, query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''), headers: r.headers, body: r.body },
    answer,
    servedBy,
  );
}

/**
 * Starts an HTTP server on a free loopback port. `operationOf` names each request for fault
 * injection; `faultResponse` shapes an injected error the way the service would. Every request
 * and answer is checked against AWS's API model of the service it is signed for; `name` says who
 * served it in violations and counts (default `fake`).
 */
export async function startFakeServer(
  handler: (req: FakeRequest) => Promise<FakeResponse>,
  opts: { faults: Faults; operationOf: (req: FakeRequest) => string; faultResponse: (f: Fault) => FakeResponse; name?: string },
): Promise<FakeServer> {
  const servedBy = opts.name ?? 'fake';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = parseRequest(req, Buffer.concat(chunks));
      const fault = opts.faults.take(opts.operationOf(r));
      const answer = async (): Promise<void> => {
        if (fault?.delayMs) await new Promise((ok) => setTimeout(ok, fault.delayMs));
        if (fault?.reset) {
          modelCheck(req, r, undefined, servedBy);
          return void req.socket.destroy();
        }
        const injected = !!(fault?.status || fault?.name);
        // AWS validates a request against its model before serving it; so do the fakes.
        const out = injected && fault ? opts.faultResponse(fault) : (refusedByModel(req, r) ?? (await handler(r)));
        if (fault?.holdAnswerMs) await new Promise((ok) => setTimeout(ok, fault.holdAnswerMs));
        if (res.destroyed || req.socket.destroyed) return;
        modelCheck(req, r, send(res, out, r.method === 'HEAD'), injected ? `${servedBy} (injected fault)` : servedBy);
      };
      answer().catch((e: unknown) => {
        const out = e instanceof AwsError ? awsErrorResponse(e) : awsErrorResponse(new AwsError(500, 'InternalServerException', String(e)));
        if (!res.headersSent) modelCheck(req, r, send(res, out, r.method === 'HEAD'), servedBy);
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Parses a JSON request body (empty is `{}`); a malformed one is a SerializationException. */
export function jsonBody(req: FakeRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError(400, 'SerializationException', 'Request body is not a JSON object');
}
