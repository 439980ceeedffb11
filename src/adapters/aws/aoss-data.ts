/**
 * The OpenSearch Serverless data plane: HTTP requests to a collection's endpoint, SigV4-signed
 * for service `aoss` with the `x-amz-content-sha256` header AOSS requires on every request
 * (SignatureV4 computes and signs it).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RateBudgets } from './budgets.js';
import { recordCall } from './errors.js';

/** A data-plane response. */
export interface DataPlaneResponse {
  status: number;
  body: unknown;
}

/** An error response from the data plane, with its HTTP status, for the error classification. */
export class DataPlaneError extends Error {
  override readonly name: string;
  readonly $metadata: { httpStatusCode: number };
  constructor(status: number, type: string, message: string) {
    super(message);
    // Named like SDK errors so classifyAwsError reads it (403 AccessDenied, 404 NotFound, ...).
    this.name = type;
    this.$metadata = { httpStatusCode: status };
  }
}

/** The index operation each method is, as data access policies name the permissions (aoss:CreateIndex). */
const DATA_PLANE_OPERATION = { GET: 'DescribeIndex', HEAD: 'DescribeIndex', PUT: 'CreateIndex', DELETE: 'DeleteIndex' } as const;

/** Options of the data-plane client. */
export interface DataPlaneOptions {
  region: string;
  credentials: Provider<AwsCredentialIdentity>;
  budgets: RateBudgets;
  /**
   * Base URL template with `{id}` for the collection id, for AWS-compatible endpoints whose
   * collection hosts do not resolve (emulators); unset, the collection's endpoint is used.
   */
  urlTemplate?: string;
}

/** Sends signed requests to collections. */
export class AossDataPlane {
  private readonly signer: SignatureV4;
  constructor(private readonly o: DataPlaneOptions) {
    this.signer = new SignatureV4({ service: 'aoss', region: o.region, credentials: o.credentials, sha256: Sha256 });
  }

  /** The base URL of a collection. */
  baseUrl(collectionId: string, collectionEndpoint: string): string {
    return (this.o.urlTemplate ? this.o.urlTemplate.replace('{id}', collectionId) : collectionEndpoint).replace(/\/+$/, '');
  }

  /** Sends one request; resolves for 2xx and 404, rejects with DataPlaneError otherwise. */
  async request(
    base: string,
    method: 'GET' | 'PUT' | 'DELETE' | 'HEAD',
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<DataPlaneResponse> {
    await this.o.budgets.take('aossData', method, signal);
    const url = new URL(base + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: payload,
    });
    const operation = DATA_PLANE_OPERATION[method];
    const target = decodeURIComponent(path.replace(/^\//, ''));
    let res: Response;
    try {
      res = await fetch(url, { method, headers: signed.headers, body: payload, signal });
    } catch (e) {
      // fetch fails with a TypeError whose cause has the network code (ECONNRESET, ENOTFOUND).
      recordCall(e, { service: 'aossData', operation, target });
      throw e;
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      parsed = text;
    }
    if (res.ok || res.status === 404) return { status: res.status, body: parsed };
    const err = (parsed as { error?: { type?: string; reason?: string } } | undefined)?.error;
    const type =
      res.status === 403 ? 'AccessDeniedException' : res.status === 429 ? 'ThrottlingException' : (err?.type ?? `Http${res.status}`);
    const error = new DataPlaneError(
      res.status,
      type,
      `${method} ${path}: ${res.status} ${err?.reason ?? err?.type ?? text.slice(0, 200)}`,
    );
    // Named as the data access policy's permission names it, for the Synced condition.
    recordCall(error, {
      service: 'aossData',
      operation: DATA_PLANE_OPERATION[method],
      target: decodeURIComponent(path.replace(/^\//, '')),
    });
    throw error;
  }
}
