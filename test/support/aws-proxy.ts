/**
 * An HTTP proxy in front of moto or ministack that names each request's service (from the SigV4
 * credential scope) and operation (X-Amz-Target, the query protocol's Action, or S3's method,
 * path and sub-resource) and can answer it as AWS would when it refuses: over an AWS-like request
 * rate (the benchmark's rates, bench/rates.ts) with the service's throttling error, and for
 * injected faults with a throttle, a 5xx or an AccessDenied in the service's own protocol. It
 * counts what it served. Every request and answer passing through it, its own answers too, is
 * checked against AWS's API model (test/support/model-check): the proxy nearest the emulator
 * checks a forwarded exchange and marks the answer with `x-tro-model-checked`, so proxies in
 * front of it do not count it twice.
 */
import { Agent, type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { declaresError, operationOf, type WireRequest } from './model-check/check-exchange.js';
import { checkAndRecord } from './model-check/recorder.js';

/** Where a value comes from. */
export type Source = 'documented' | 'assumption';

/** One token bucket: the requests it covers, its rate and its burst. */
export interface RateRule {
  /** Service key as the operator's metrics name it (s3, iam, kms, aoss, bedrockAgent, ...). */
  service: string;
  /** Operations it covers; a function for a class of them (e.g. every IAM write). */
  operations: readonly string[] | ((operation: string) => boolean);
  /** One bucket for all covered operations together (`aggregate`), or one per operation. */
  scope: 'per-operation' | 'aggregate';
  /** Per S3 bucket rather than per account (S3's request rates are per prefix). */
  perBucket?: boolean;
  ratePerSec: number;
  /** Default: one second's worth (AWS does not publish its bucket sizes; an assumption). */
  burst?: number;
  /** How the table names the rule. */
  label: string;
  source: Source;
  note: string;
}

/** Whether `rule` covers `operation`. */
export function covers(rule: RateRule, operation: string): boolean {
  return typeof rule.operations === 'function' ? rule.operations(operation) : rule.operations.includes(operation);
}

/** The rules of one service that cover `operation`. */
export function rulesFor(service: string, operation: string, rules: readonly RateRule[]): RateRule[] {
  return rules.filter((r) => r.service === service && covers(r, operation));
}

/** SigV4 service names mapped to the keys the operator's metrics use. */
const SERVICE: Record<string, string> = { s3: 's3', iam: 'iam', sts: 'sts', kms: 'kms', aoss: 'aoss', monitoring: 'cloudwatch' };

/** S3 sub-resources and the operation name each gives per method. */
const S3_SUB: Record<string, Record<string, string>> = {
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
  publicAccessBlock: { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration', PUT: 'PutBucketLifecycleConfiguration' },
  ownershipControls: { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls' },
  location: { GET: 'GetBucketLocation' },
  versions: { GET: 'ListObjectVersions' },
  delete: { POST: 'DeleteObjects' },
  uploads: { GET: 'ListMultipartUploads' },
};

/** The S3 operation of a path-style request, and its bucket. */
export function s3Operation(method: string, path: string, query: URLSearchParams): { operation: string; bucket: string } {
  const [bucket = '', ...key] = path.split('/').filter(Boolean);
  const sub = Object.keys(S3_SUB).find((s) => query.has(s));
  if (key.length === 0) {
    if (sub) return { operation: S3_SUB[sub]?.[method] ?? `${method}Bucket_${sub}`, bucket };
    if (!bucket) return { operation: 'ListBuckets', bucket };
    const plain: Record<string, string> = { PUT: 'CreateBucket', DELETE: 'DeleteBucket', HEAD: 'HeadBucket' };
    if (method === 'GET') return { operation: query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', bucket };
    return { operation: plain[method] ?? `${method}Bucket`, bucket };
  }
  if (query.has('tagging')) return { operation: `${method === 'GET' ? 'Get' : 'Put'}ObjectTagging`, bucket };
  const obj: Record<string, string> = { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
  return { operation: obj[method] ?? `${method}Object`, bucket };
}

/** The EKS (REST-JSON) operations the operator calls, by method and path (EKS's API model). */
function eksOperation(method: string, path: string): string {
  if (path.startsWith('/tags/')) return { POST: 'TagResource', DELETE: 'UntagResource', GET: 'ListTagsForResource' }[method] ?? 'Unknown';
  const one = /\/pod-identity-associations\/[^/]+$/.test(path);
  if (one)
    return (
      { GET: 'DescribePodIdentityAssociation', POST: 'UpdatePodIdentityAssociation', DELETE: 'DeletePodIdentityAssociation' }[method] ??
      'Unknown'
    );
  if (path.endsWith('/pod-identity-associations'))
    return { GET: 'ListPodIdentityAssociations', POST: 'CreatePodIdentityAssociation' }[method] ?? 'Unknown';
  return 'Unknown';
}

/** Service and operation of a request, as the operator's metrics name them. */
export function classify(req: IncomingMessage, body: Buffer): { service: string; operation: string; bucket?: string } {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
  const service = SERVICE[scope?.[1] ?? ''] ?? scope?.[1] ?? 'unknown';
  const url = new URL(req.url ?? '/', 'http://proxy');
  if (service === 's3') return { service, ...s3Operation(req.method ?? 'GET', url.pathname, url.searchParams) };
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return { service, operation: target.split('.').pop() ?? target };
  if (service === 'eks') return { service, operation: eksOperation(req.method ?? 'GET', url.pathname) };
  const rpc = /\/operation\/([A-Za-z]+)$/.exec(url.pathname);
  if (rpc?.[1]) return { service, operation: rpc[1] };
  const action = url.searchParams.get('Action') ?? new URLSearchParams(body.toString('utf8')).get('Action');
  return { service, operation: action ?? 'Unknown' };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Where an emulator's answer breaks AWS's model in a way a test cannot work around, the proxy in
 * front of it (`normalise: 'moto'`) mends the answer before checking and forwarding it. Each fix
 * is listed in docs/testing.md; everything else moto sends is left as it is.
 */
const MOTO_FIXES: Record<string, (body: Record<string, unknown>) => void> = {
  // moto 5.2.5 leaves out creationTime, which S3 Vectors' model requires, from its buckets and indexes.
  's3vectors:GetVectorBucket': (b) => addCreationTime(b.vectorBucket),
  's3vectors:GetIndex': (b) => addCreationTime(b.index),
};

function addCreationTime(o: unknown): void {
  if (o && typeof o === 'object' && !('creationTime' in o)) (o as Record<string, unknown>).creationTime = Math.floor(Date.now() / 1000);
}

/** The header a checking proxy puts on the answers it checked. */
const CHECKED = 'x-tro-model-checked';

/**
 * The server-error answer of each protocol (IAM's `ServiceFailure`, S3's `InternalError`, ...),
 * as the operation's model declares it.
 * JSON services answer `InternalServerException` / `ServiceUnavailableException` where the
 * operation declares them, else AWS's common `InternalFailure` / `ServiceUnavailable` (KMS, for
 * one, declares neither).
 */
function serverErrorResponse(service: string, status: number, req?: WireRequest): Answer {
  if (service === 'iam' || service === 'sts') {
    // IAM declares ServiceFailure as a 500; a 503 is AWS's common ServiceUnavailable, and STS,
    // which declares no server error, answers a 500 with the common InternalFailure.
    const code =
      status === 503 ? 'ServiceUnavailable' : !req || declaresError(req, 'ServiceFailure') ? 'ServiceFailure' : 'InternalFailure';
    return {
      status,
      headers: { 'content-type': 'text/xml' },
      body: `<ErrorResponse><Error><Type>Receiver</Type><Code>${code}</Code><Message>injected</Message></Error><RequestId>proxy-fault</RequestId></ErrorResponse>`,
    };
  }
  if (service === 's3') {
    return {
      status,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${status === 503 ? 'ServiceUnavailable' : 'InternalError'}</Code><Message>injected</Message><RequestId>proxy-fault</RequestId></Error>`,
    };
  }
  const own = status === 503 ? 'ServiceUnavailableException' : 'InternalServerException';
  const type = !req || declaresError(req, own) ? own : status === 503 ? 'ServiceUnavailable' : 'InternalFailure';
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message: 'injected' }),
  };
}

/**
 * AWS's refusal of a call the caller's policies do not allow (an SCP, a missing permission), in
 * each protocol: IAM and STS query XML `AccessDenied` 403, S3 XML `AccessDenied` 403, JSON
 * protocols `AccessDeniedException` 403.
 */
function accessDeniedResponse(service: string, operation: string): Answer {
  const message = `User: arn:aws:sts::123456789012:assumed-role/rag-operator/session is not authorized to perform: ${service}:${operation} with an explicit deny in a service control policy`;
  if (service === 'iam' || service === 'sts') {
    return {
      status: 403,
      headers: { 'content-type': 'text/xml' },
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>proxy-fault</RequestId></ErrorResponse>`,
    };
  }
  if (service === 's3') {
    return {
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>proxy-fault</RequestId></Error>',
    };
  }
  return {
    status: 403,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' },
    body: JSON.stringify({ __type: 'AccessDeniedException', message }),
  };
}

/** The answer of a fault kind. */
function faultResponse(kind: ProxyFault['kind'], service: string, operation: string, req?: WireRequest): Answer {
  if (kind === 'throttle') return throttleResponse(service);
  if (kind === 'AccessDenied') return accessDeniedResponse(service, operation);
  return serverErrorResponse(service, kind === 'lost' ? 500 : kind, req);
}

/** The throttling answer each protocol's SDK deserializer reads as a throttle. */
function throttleResponse(service: string): Answer {
  if (service === 'iam' || service === 'sts') {
    // Query protocol: IAM answers 400 with error code Throttling ("Rate exceeded").
    return {
      status: 400,
      headers: { 'content-type': 'text/xml' },
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench-throttle</RequestId></ErrorResponse>`,
    };
  }
  if (service === 's3') {
    return {
      status: 503,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>bench-throttle</RequestId></Error>`,
    };
  }
  // JSON protocols (KMS, OpenSearch Serverless).
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' },
    body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
  };
}

/** A token bucket on the wall clock. */
class Bucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }

  has(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** Requests served and refused, per `service:operation`. */
export interface ProxyStats {
  served: Map<string, number>;
  throttled: Map<string, number>;
}

/** A fault to answer the next matching requests with, instead of forwarding them. */
export interface ProxyFault {
  /** `service:Operation`, `service:*` or `*`. */
  match: string;
  /**
   * A throttle, a 5xx, AWS's AccessDenied (a call the operator's policies do not allow), or
   * `lost`: the request is carried out upstream and its answer replaced by a 500, as when AWS did
   * the work and the answer never reached the caller.
   */
  kind: 'throttle' | 500 | 503 | 'AccessDenied' | 'lost';
  times: number;
}

/**
 * S3's bucket owner condition, which moto 5.2.5 does not enforce: a request whose
 * `x-amz-expected-bucket-owner` names another account than the bucket's owner is refused with 403
 * AccessDenied, as S3 does. The proxy learns owners from what passes through it: STS AssumeRole
 * answers map access keys to the assumed role's account (other keys act in `defaultAccount`, as
 * in moto), and a CreateBucket that succeeds makes its signer's account the bucket's owner.
 * Buckets it never saw created are not checked.
 */
class BucketOwners {
  private readonly accountOfKey = new Map<string, string>();
  private readonly ownerOf = new Map<string, string>();
  constructor(private readonly defaultAccount: string) {}

  private signer(req: IncomingMessage): string {
    const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return this.accountOfKey.get(key) ?? this.defaultAccount;
  }

  /** A refusal when the request names an owner the bucket does not have. */
  refusal(req: IncomingMessage, bucket: string | undefined): Answer | undefined {
    const expected = req.headers['x-amz-expected-bucket-owner'];
    const owner = bucket ? this.ownerOf.get(bucket) : undefined;
    if (typeof expected !== 'string' || !owner || owner === expected) return undefined;
    return {
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>owner-check</RequestId></Error>',
    };
  }

  /** Learns from an answer that went through. */
  learn(req: IncomingMessage, service: string, operation: string, bucket: string | undefined, status: number, body: string): void {
    if (status >= 300) return;
    if (service === 'sts' && operation === 'AssumeRole') {
      const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(body)?.[1];
      const account = /<Arn>arn:[^:]+:sts::(\d{12}):assumed-role\//.exec(body)?.[1];
      if (key && account) this.accountOfKey.set(key, account);
    }
    if (service === 's3' && operation === 'CreateBucket' && bucket && !this.ownerOf.has(bucket)) this.ownerOf.set(bucket, this.signer(req));
  }
}

/** What the proxy does besides forwarding. */
export interface AwsProxyOptions {
  /** Request rates to enforce (none: it only counts, and serves faults). */
  rules?: readonly RateRule[];
  /** Enforce S3's expected bucket owner; the account of keys not issued by AssumeRole. */
  bucketOwners?: { defaultAccount: string };
  /** Who answers behind it, as model-check violations and counts name it (default: the upstream's host and port). */
  servedBy?: string;
  /** Mend the emulator's known breaks of AWS's model (MOTO_FIXES) before checking and forwarding. */
  normalise?: 'moto';
}

/** A running proxy. */
export interface AwsProxy {
  endpoint: string;
  stats: ProxyStats;
  /** Answers the next `times` requests matching `match` with the fault. */
  failNext(fault: ProxyFault): void;
  /**
   * Answers the first requests of every operation `which` selects with `kinds`, one each, in
   * order; later requests of that operation go through.
   */
  failFirstOfEach(kinds: readonly ProxyFault['kind'][], which: (key: string) => boolean): void;
  /** Faults not served yet. */
  pending(): number;
  /** `service:Operation` of every request answered with a fault, in order. */
  faulted: string[];
  stop(): Promise<void>;
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

const matches = (match: string, service: string, key: string): boolean => match === '*' || match === key || match === `${service}:*`;

/** Starts a proxy to `upstream`, enforcing what `options` say. */
export async function startAwsProxy(upstream: string, options: AwsProxyOptions = {}): Promise<AwsProxy> {
  const rules = options.rules ?? [];
  const owners = options.bucketOwners ? new BucketOwners(options.bucketOwners.defaultAccount) : undefined;
  const faults: ProxyFault[] = [];
  const faulted: string[] = [];
  let firsts: { kinds: readonly ProxyFault['kind'][]; which: (key: string) => boolean } | undefined;
  const seen = new Map<string, number>();
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const buckets = new Map<string, Bucket>();
  const stats: ProxyStats = { served: new Map(), throttled: new Map() };
  const bucketOf = (rule: RateRule, operation: string, bucket: string | undefined): Bucket => {
    const key = `${rule.label}|${rule.scope === 'aggregate' ? '*' : operation}|${rule.perBucket ? (bucket ?? '') : ''}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = new Bucket(rule.ratePerSec, rule.burst ?? Math.max(1, rule.ratePerSec))));
    return b;
  };

  const servedBy = options.servedBy ?? `upstream ${target.host}`;
  /** Sends the request as it came (method, path, headers, body) to the upstream. */
  const sendUpstream = (req: IncomingMessage, body: Buffer, onAnswer: (r: IncomingMessage) => void, onError: () => void): void => {
    const up = request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      onAnswer,
    );
    up.on('error', onError);
    up.end(body);
  };
  /** Sends the request upstream and drops the answer. */
  const carryOut = (req: IncomingMessage, body: Buffer): Promise<void> =>
    new Promise((done) => {
      sendUpstream(
        req,
        body,
        (r) => {
          r.resume();
          r.on('end', () => done());
        },
        () => done(),
      );
    });
  const forward = (
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    wire: WireRequest,
    learn?: (status: number, body: string) => void,
  ): void => {
    sendUpstream(
      req,
      body,
      (r) => {
        const checkedBehind = r.headers[CHECKED] !== undefined;
        const op = options.normalise === 'moto' && !checkedBehind ? operationOf(wire) : undefined;
        const fix = op && (r.statusCode ?? 500) < 300 ? MOTO_FIXES[`${op.service}:${op.operation}`] : undefined;
        if (fix) return void mend(r, res, wire, fix);
        res.writeHead(r.statusCode ?? 502, { ...r.headers, [CHECKED]: checkedBehind ? r.headers[CHECKED] : servedBy });
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => {
          chunks.push(c);
          res.write(c);
        });
        r.on('end', () => {
          const answer = Buffer.concat(chunks);
          learn?.(r.statusCode ?? 502, answer.toString('utf8'));
          res.end();
          if (checkedBehind) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          checkAndRecord(wire, { status: r.statusCode ?? 502, headers, body: answer }, servedBy);
        });
      },
      () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    );
  };

  /** Reads a JSON answer whole, mends it, then checks and forwards it. */
  const mend = (r: IncomingMessage, res: ServerResponse, wire: WireRequest, fix: (body: Record<string, unknown>) => void): void => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => {
      let answer = Buffer.concat(chunks);
      try {
        const body = JSON.parse(answer.toString('utf8')) as Record<string, unknown>;
        fix(body);
        answer = Buffer.from(JSON.stringify(body));
      } catch {
        // Not JSON: forwarded and checked as it came.
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      Object.assign(headers, { 'content-length': String(answer.length), [CHECKED]: servedBy });
      delete headers['transfer-encoding'];
      res.writeHead(r.statusCode ?? 502, headers);
      res.end(answer);
      checkAndRecord(wire, { status: r.statusCode ?? 502, headers, body: answer }, servedBy);
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { service, operation, bucket } = classify(req, body);
      const key = `${service}:${operation}`;
      const url = new URL(req.url ?? '/', 'http://proxy');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const wire: WireRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body };
      const send = (a: Answer): void => {
        res.writeHead(a.status, { ...a.headers, [CHECKED]: 'aws-proxy', 'content-length': String(Buffer.byteLength(a.body)) });
        res.end(req.method === 'HEAD' ? undefined : a.body);
        const head = req.method === 'HEAD';
        checkAndRecord(wire, { status: a.status, headers: a.headers, body: Buffer.from(head ? '' : a.body) }, 'aws-proxy');
      };
      const fault = faults.find((f) => f.times > 0 && matches(f.match, service, key));
      if (fault) fault.times -= 1;
      const nth = seen.get(key) ?? 0;
      seen.set(key, nth + 1);
      const kind = fault?.kind ?? (firsts?.which(key) ? firsts.kinds[nth] : undefined);
      if (kind === 'lost') {
        // Carried out, then answered as if the answer were lost on the way.
        return void carryOut(req, body).then(() => {
          faulted.push(key);
          send(faultResponse(500, service, operation, wire));
        });
      }
      if (kind !== undefined) {
        faulted.push(key);
        return send(faultResponse(kind, service, operation, wire));
      }
      const mine = rulesFor(service, operation, rules).map((r) => bucketOf(r, operation, bucket));
      // Every bucket that applies must have a token; only then are they all taken.
      if (!mine.every((b) => b.has())) {
        bump(stats.throttled, key);
        return send(throttleResponse(service));
      }
      for (const b of mine) b.take();
      const refused = owners?.refusal(req, bucket);
      if (refused) return send(refused);
      bump(stats.served, key);
      forward(req, body, res, wire, owners && ((status, text) => owners.learn(req, service, operation, bucket, status, text)));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    // moto wants `localhost` for path-style S3 (see test/support/moto.ts); the SDK resolves it here.
    endpoint: `http://${target.hostname === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`,
    stats,
    failNext: (f) => void faults.push({ ...f }),
    failFirstOfEach: (kinds, which) => {
      firsts = { kinds, which };
      seen.clear();
    },
    pending: () => faults.reduce((a, f) => a + f.times, 0),
    faulted,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          ok();
        });
      }),
  };
}
