/**
 * Requests to the Kubernetes API server over node:https, with one keep-alive agent. This is all of
 * a Kubernetes client the operator and the gateway need (JSON in, JSON out, and watches); @kubernetes/client-node
 * would load its generated code for every API group, about 40 MiB of the process's memory.
 * Every request has a timeout: a request on a dead connection must not hang a reconcile, a list,
 * a lease renewal or a TokenReview.
 */
import { Agent as HttpAgent, type IncomingMessage, type RequestOptions, STATUS_CODES, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Credentials } from './credentials.js';
import type { ClusterAccess } from './kubeconfig.js';

/** Default timeout of a Kubernetes API call. */
export const KUBE_CALL_TIMEOUT_MS = 30_000;

/** The API server answered with an error status. `body` is the answer's text (a Status object). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${code} ${STATUS_CODES[code] ?? ''}`.trim());
    this.name = 'KubeApiError';
  }
}

/** One request. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json. */
  contentType?: string;
  timeoutMs?: number;
}

/** Handlers of a watch: each event, and once, its end (with the error if it failed). */
export type WatchEventHandler<T> = (type: string, object: T) => void;
export type WatchDoneHandler = (err: unknown) => void;

/** A connection to one API server. */
export class KubeHttp {
  private readonly agent: HttpAgent;
  private readonly credentials: Credentials;
  private readonly base: URL;

  constructor(private readonly access: ClusterAccess) {
    this.base = new URL(access.server);
    const https = this.base.protocol === 'https:';
    // Watches hold their sockets; keep-alive reuses the others between calls.
    this.agent = https
      ? new HttpsAgent({
          keepAlive: true,
          ca: access.ca,
          cert: access.cert,
          key: access.key,
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          servername: access.tlsServerName,
        })
      : new HttpAgent({ keepAlive: true });
    this.credentials = new Credentials(access.auth);
  }

  /** The namespace of the kubeconfig's context or of the pod's service account. */
  get namespace(): string | undefined {
    return this.access.namespace;
  }

  /** Sends a request and parses its JSON answer; an error status throws a KubeApiError. */
  async request<T>(r: KubeRequest): Promise<T> {
    const timeoutMs = r.timeoutMs ?? KUBE_CALL_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    const res = await this.send(r.method, this.url(r.path, r.query), signal, body, r.contentType);
    const text = await readBody(res);
    const code = res.statusCode ?? 0;
    if (code === 401) this.credentials.invalidate();
    if (code < 200 || code >= 300) throw new KubeApiError(code, text, `${r.method} ${r.path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Watches a collection from `query.resourceVersion`: calls `onEvent` for each event and `onDone`
   * once when the watch ends, with the error if it failed (a non-200 answer carries `statusCode`,
   * e.g. 410 when the version is too old). Resolves, once the server has answered, with the
   * controller that ends the watch.
   */
  async watch<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: WatchEventHandler<T>,
    onDone: WatchDoneHandler,
  ): Promise<AbortController> {
    const controller = new AbortController();
    let done = false;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      controller.abort();
      onDone(err);
    };
    try {
      const res = await this.send('GET', this.url(path, { ...query, watch: true }), controller.signal);
      const code = res.statusCode ?? 0;
      if (code === 401) this.credentials.invalidate();
      if (code !== 200) {
        const text = await readBody(res).catch(() => '');
        throw Object.assign(new KubeApiError(code, text, `watch ${path}`), { statusCode: code });
      }
      res.socket.setKeepAlive(true, 30_000);
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.trim()) continue;
          let event: { type: string; object: T };
          try {
            event = JSON.parse(line) as { type: string; object: T };
          } catch {
            continue;
          }
          onEvent(event.type, event.object);
        }
      });
      res.on('error', finish);
      res.on('end', () => finish(null));
      res.on('close', () => finish(res.complete ? null : new Error(`watch ${path}: connection closed`)));
    } catch (err) {
      finish(err);
    }
    return controller;
  }

  private url(path: string, query: KubeRequest['query']): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async send(method: string, url: URL, signal: AbortSignal, body?: string, contentType?: string): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'tenant-rag-operator' };
    const authorization = await this.credentials.authorization();
    if (authorization) headers.Authorization = authorization;
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const options: RequestOptions = { method, headers, agent: this.agent, signal };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, options, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The whole answer as text; fails if the request is aborted while it is read. */
function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection closed before the answer was complete'));
    });
  });
}
