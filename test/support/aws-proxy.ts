/**
 * An HTTP proxy in front of moto or ministack that enforces AWS-like request rates: it names each
 * request's service (from the SigV4 credential scope) and operation (X-Amz-Target, the query
 * protocol's Action, or S3's method, path and sub-resource), and answers a request over its rate
 * with that service's throttling error instead of forwarding it. It also counts what it served.
 */
import { Agent, type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RateRule, rulesFor } from './rates.js';

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

/** Service and operation of a request, as the operator's metrics name them. */
export function classify(req: IncomingMessage, body: Buffer): { service: string; operation: string; bucket?: string } {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
  const service = SERVICE[scope?.[1] ?? ''] ?? scope?.[1] ?? 'unknown';
  const url = new URL(req.url ?? '/', 'http://proxy');
  if (service === 's3') return { service, ...s3Operation(req.method ?? 'GET', url.pathname, url.searchParams) };
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return { service, operation: target.split('.').pop() ?? target };
  const rpc = /\/operation\/([A-Za-z]+)$/.exec(url.pathname);
  if (rpc?.[1]) return { service, operation: rpc[1] };
  const action = url.searchParams.get('Action') ?? new URLSearchParams(body.toString('utf8')).get('Action');
  return { service, operation: action ?? 'Unknown' };
}

/** The throttling answer each protocol's SDK deserializer reads as a throttle. */
function throttleResponse(service: string): { status: number; headers: Record<string, string>; body: string } {
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

/** A running proxy. */
export interface RateProxy {
  endpoint: string;
  stats: ProxyStats;
  stop(): Promise<void>;
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** Starts a proxy to `upstream` enforcing `rules` (none: it only counts). */
export async function startRateProxy(upstream: string, rules: readonly RateRule[]): Promise<RateProxy> {
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

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
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
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    up.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { service, operation, bucket } = classify(req, body);
      const key = `${service}:${operation}`;
      const mine = rulesFor(service, operation, rules).map((r) => bucketOf(r, operation, bucket));
      // Every bucket that applies must have a token; only then are they all taken.
      if (!mine.every((b) => b.has())) {
        bump(stats.throttled, key);
        const t = throttleResponse(service);
        res.writeHead(t.status, { ...t.headers, 'content-length': String(Buffer.byteLength(t.body)) });
        res.end(req.method === 'HEAD' ? undefined : t.body);
        return;
      }
      for (const b of mine) b.take();
      bump(stats.served, key);
      forward(req, body, res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    // moto wants `localhost` for path-style S3 (see test/support/moto.ts); the SDK resolves it here.
    endpoint: `http://${target.hostname === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`,
    stats,
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
