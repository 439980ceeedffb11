/**
 * The gateway's HTTP surface: /healthz, /readyz, /metrics, and for callers with a verified
 * ServiceAccount token `POST /v1/retrieve`, `/v1/retrieve-and-generate` and
 * `/v1/chat/completions` (OpenAI-compatible, with SSE streaming). Stateless: everything a request
 * needs is in the informers' caches, the token cache and the shared quota store.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BedrockPort } from './bedrock.js';
import { type Directory, Refusal } from './directory.js';
import type { TokenIdentity } from './identity.js';
import {
  type GatewayMetrics,
  NO_TENANT,
  type Outcome,
  type Route,
  ROUTES,
  recordRequest,
  UNMATCHED,
  refusalReason,
  upstreamFailure,
} from './metrics.js';
import { BadRequest, type ChatLimits, chunk, completion, parseChatRequest, usageOf } from './openai.js';
import { mayHaveRun } from './call-outcome.js';
import { promptTokenBound } from './quota.js';
import { type Held, QuotaExceeded, type QuotaGate } from './quota-gate.js';
import { generatesFrom, ScopeError, scopeRetrieval } from './scope.js';

/** What the handlers use. */
export interface GatewayDeps {
  identity: TokenIdentity;
  directory: Directory;
  bedrock: BedrockPort;
  quota: QuotaGate;
  metrics: GatewayMetrics;
  logger: Logger;
  /** /readyz: the caches have synced. */
  ready: () => boolean;
  audience: string;
  chat: ChatLimits;
  /** Most results a retrieval may ask for (Bedrock allows 100). */
  maxResults: number;
  /** Tokens a retrieve-and-generate reserves per retrieved chunk of context. */
  contextTokensPerResult: number;
  maxBodyBytes: number;
}

/** The running server. */
export interface GatewayServer {
  port: number;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** What a request's metrics are labelled with, filled in by the handler as it learns it. */
interface RequestContext {
  /** The verified caller's Tenant; {@link NO_TENANT} until it is known. */
  tenant: string;
  /** The outcome of a request that failed after its head was sent (a broken stream). */
  failed?: Outcome;
  /** When the head of a stream was sent: its latency is to there, not to the stream's end. */
  headAt?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal, ctx: RequestContext) => Promise<void>;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers });
  res.end(payload);
}

function errorBody(type: string, message: string, extra: Json = {}): Json {
  return { error: { type, message, ...extra } };
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new BadRequest(`the body is larger than ${max} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BadRequest('the body is not JSON');
  }
}

/** The status and body an upstream (AWS) error becomes. */
function upstream(e: unknown): { status: number; type: string; message: string } {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'AccessDeniedException') return { status: 403, type: 'upstream_access_denied', message };
  if (name === 'ThrottlingException' || name === 'ServiceQuotaExceededException')
    return { status: 429, type: 'upstream_throttled', message };
  if (name === 'ValidationException') return { status: 400, type: 'upstream_invalid_request', message };
  if (name === 'ResourceNotFoundException') return { status: 404, type: 'upstream_not_found', message };
  return { status: 502, type: 'upstream_error', message };
}

/** The answer a handler's error becomes, and its outcome for the metrics. */
interface ErrorAnswer {
  status: number;
  body: Json;
  headers: Record<string, string>;
  outcome: Outcome;
}

function errorAnswer(e: unknown): ErrorAnswer {
  if (e instanceof QuotaExceeded) {
    return {
      status: 429,
      body: errorBody(e.type, e.message, e.details),
      headers: { 'retry-after': String(e.retryAfter) },
      outcome: refusalReason(e.type, e.details.quota),
    };
  }
  if (e instanceof Refusal) {
    return {
      status: e.status,
      body: errorBody(e.type, e.message),
      headers: e.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      outcome: refusalReason(e.type),
    };
  }
  if (e instanceof ScopeError) return { status: 400, body: errorBody('invalid_request', e.message), headers: {}, outcome: 'scope' };
  if (e instanceof BadRequest) return { status: 400, body: errorBody('invalid_request', e.message), headers: {}, outcome: 'invalid' };
  const u = upstream(e);
  return { status: u.status, body: errorBody(u.type, u.message), headers: {}, outcome: upstreamFailure(u.type) };
}

/** Starts the gateway's HTTP server. */
export async function startGatewayServer(d: GatewayDeps, port: number, host: string): Promise<GatewayServer> {
  const unauthorized = (why: string): Refusal =>
    new Refusal(
      401,
      'unauthorized',
      `${why}. Send your pod's projected ServiceAccount token for the audience "${d.audience}" as "Authorization: Bearer <token>" ` +
        `(a serviceAccountToken volume projection with audience ${d.audience}); the ServiceAccount must be the spec.access.podIdentity of your Tenant.`,
    );

  /** The verified caller's Tenant, which from here on labels the request's metrics. */
  const caller = async (req: IncomingMessage, ctx: RequestContext): Promise<{ tenant: ReturnType<Directory['tenantOf']> }> => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m?.[1]) throw unauthorized('No bearer token');
    const who = await d.identity.identify(m[1]).catch((e: unknown) => {
      d.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'TokenReview failed');
      throw new Refusal(503, 'identity_unavailable', 'the gateway cannot verify tokens right now (TokenReview failed)');
    });
    if ('refused' in who) {
      d.metrics.tokenReviews.inc({ result: 'refused' });
      throw unauthorized(`The token was refused: ${who.refused}`);
    }
    d.metrics.tokenReviews.inc({ result: 'accepted' });
    try {
      const tenant = d.directory.tenantOf(who);
      ctx.tenant = tenant.metadata.name;
      return { tenant };
    } catch (e) {
      throw e instanceof Refusal && e.status === 401 ? unauthorized(e.message) : e;
    }
  };

  const numberOfResults = (b: Json): number => {
    const n = b.numberOfResults ?? 5;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > d.maxResults) {
      throw new BadRequest(`numberOfResults must be an integer from 1 to ${d.maxResults}`);
    }
    return n;
  };
  const query = (b: Json): string => {
    if (typeof b.query !== 'string' || b.query.length === 0 || b.query.length > 1000)
      throw new BadRequest('query must be 1 to 1000 characters');
    return b.query;
  };

  /**
   * Settles a model call that failed: to nothing when Bedrock refused it, else to everything
   * reserved, counted as an estimate (it may have run and be billed: a caller that leaves just
   * before its answer must not get the model for free).
   */
  const settleFailed = async (held: Held, e: unknown, reserved: number, tenant: string, model: string): Promise<void> => {
    if (!mayHaveRun(e)) return held.settle(0);
    await held.settle(reserved);
    d.metrics.estimatedTokens.inc({ tenant, model }, reserved);
  };

  /** Settles a stream to the usage it reported; without a usage event the reservation stands, counted as an estimate. */
  const settleStream = async (
    held: Held,
    usage: ReturnType<typeof usageOf> | undefined,
    reserved: number,
    count: (u: ReturnType<typeof usageOf>) => void,
    tenant: string,
    model: string,
  ): Promise<void> => {
    if (usage) {
      await held.settle(usage.total_tokens);
      count(usage);
    } else d.metrics.estimatedTokens.inc({ tenant, model }, reserved);
  };

  const retrieve: Handler = async (req, res, signal, ctx) => {
    const { tenant } = await caller(req, ctx);
    const b = (await readBody(req, d.maxBodyBytes)) as Json;
    const scoped = scopeRetrieval(d.directory.target(tenant), b.filter);
    const out = await d.bedrock.retrieve(scoped, query(b), numberOfResults(b), signal);
    sendJson(res, 200, {
      tenant: scoped.tenant,
      results: (out.retrievalResults ?? []).map((r) => ({
        text: r.content?.text ?? '',
        score: r.score,
        location: r.location,
        metadata: r.metadata,
      })),
    });
  };

  const retrieveAndGenerate: Handler = async (req, res, signal, ctx) => {
    const { tenant } = await caller(req, ctx);
    const b = (await readBody(req, d.maxBodyBytes)) as Json;
    const target = d.directory.target(tenant);
    // Refused before anything is reserved or sent: Bedrock does not take a managed knowledge base here.
    if (!generatesFrom(target.vectorStore)) {
      throw new Refusal(
        400,
        'invalid_request',
        `Tenant ${target.tenant}'s knowledge base is a Bedrock-managed knowledge base (vector store ${target.vectorStore}), ` +
          'which RetrieveAndGenerate does not take. Use POST /v1/retrieve, then POST /v1/chat/completions with the results as context.',
      );
    }
    if (typeof b.model !== 'string') throw new BadRequest('model is required (the model of one of your ModelAccess objects)');
    const scoped = scopeRetrieval(target, b.filter);
    const grant = d.directory.grant(tenant, b.model);
    const q = query(b);
    const n = numberOfResults(b);
    // RetrieveAndGenerate reports no token usage: reserve the query, the retrieved context and
    // the model's default output, and settle to a bound of what came back.
    const reserve = promptTokenBound([q], d.chat.bytesPerToken) + n * d.contextTokensPerResult + d.chat.defaultMaxTokens;
    const held = await d.quota.reserve(tenant.metadata.name, grant, reserve);
    let out;
    try {
      out = await d.bedrock.retrieveAndGenerate(scoped, q, grant.profileArn, n, d.chat.defaultMaxTokens, signal);
    } catch (e) {
      await settleFailed(held, e, reserve, tenant.metadata.name, grant.access.spec.model);
      throw e;
    }
    // Every retrieved result went to the model, cited or not, and only the cited ones come back:
    // the context stays counted at what was reserved for it, more if the cited text was longer.
    // What goes back is the output budget the answer did not use.
    // A reference cited twice went to the model once.
    const context = [...new Set((out.citations ?? []).flatMap((c) => (c.retrievedReferences ?? []).map((r) => r.content?.text ?? '')))];
    const output = out.output?.text ?? '';
    const used = Math.max(
      promptTokenBound([q, ...context, output], d.chat.bytesPerToken),
      reserve - d.chat.defaultMaxTokens + promptTokenBound([output], d.chat.bytesPerToken, 0),
    );
    await held.settle(used);
    d.metrics.estimatedTokens.inc({ tenant: tenant.metadata.name, model: grant.access.spec.model }, used);
    sendJson(res, 200, {
      tenant: scoped.tenant,
      output: out.output?.text ?? '',
      citations: (out.citations ?? []).map((c) => ({
        text: c.generatedResponsePart?.textResponsePart?.text,
        references: (c.retrievedReferences ?? []).map((r) => ({ text: r.content?.text, location: r.location, metadata: r.metadata })),
      })),
      usage: { estimated_tokens: used },
    });
  };

  const chat: Handler = async (req, res, signal, ctx) => {
    const { tenant } = await caller(req, ctx);
    const c = parseChatRequest(await readBody(req, d.maxBodyBytes), d.chat);
    const grant = d.directory.grant(tenant, c.model);
    const role = d.directory.roleOf(tenant);
    const name = tenant.metadata.name;
    const model = grant.access.spec.model;
    const reserved = c.converse.maxTokens + c.promptBound;
    const held = await d.quota.reserve(name, grant, reserved);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const count = (u: { prompt_tokens: number; completion_tokens: number }): void => {
      d.metrics.tokens.inc({ tenant: name, model, direction: 'input' }, u.prompt_tokens);
      d.metrics.tokens.inc({ tenant: name, model, direction: 'output' }, u.completion_tokens);
    };
    if (!c.stream) {
      let out;
      try {
        out = await d.bedrock.converse(name, role, grant.profileArn, c.converse, signal);
      } catch (e) {
        await settleFailed(held, e, reserved, name, model);
        throw e;
      }
      const usage = usageOf(out.usage);
      await held.settle(usage.total_tokens);
      count(usage);
      const text = (out.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
      sendJson(res, 200, completion(id, c.model, created, text, out.stopReason, usage));
      return;
    }
    let stream;
    try {
      stream = await d.bedrock.converseStream(name, role, grant.profileArn, c.converse, signal);
    } catch (e) {
      await settleFailed(held, e, reserved, name, model);
      throw e;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    ctx.headAt = performance.now();
    const send = (o: object | string): boolean => res.write(`data: ${typeof o === 'string' ? o : JSON.stringify(o)}\n\n`);
    let usage: ReturnType<typeof usageOf> | undefined;
    let stop: string | undefined;
    try {
      send(chunk(id, c.model, created, { role: 'assistant', content: '' }, null));
      for await (const ev of stream) {
        if (ev.contentBlockDelta?.delta?.text) send(chunk(id, c.model, created, { content: ev.contentBlockDelta.delta.text }, null));
        if (ev.messageStop) stop = ev.messageStop.stopReason;
        if (ev.metadata?.usage) usage = usageOf(ev.metadata.usage);
      }
    } catch (e) {
      // Mid-stream: the head is sent; tell the client in the stream and keep what was reserved
      // unless the model reported its usage.
      await settleStream(held, usage, reserved, count, name, model);
      const u = upstream(e);
      ctx.failed = upstreamFailure(u.type);
      send(errorBody(u.type, u.message));
      res.end();
      return;
    }
    await settleStream(held, usage, reserved, count, name, model);
    send(chunk(id, c.model, created, {}, stop === 'max_tokens' ? 'length' : 'stop'));
    if (c.includeUsage && usage) send(chunk(id, c.model, created, {}, null, usage));
    send('[DONE]');
    res.end();
  };

  const routes: Record<Route, Handler> = {
    '/v1/retrieve': retrieve,
    '/v1/retrieve-and-generate': retrieveAndGenerate,
    '/v1/chat/completions': chat,
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/healthz') return void res.writeHead(200).end('ok');
    if (req.method === 'GET' && path === '/readyz') {
      const ok = d.ready();
      return void res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'caches not synced');
    }
    if (req.method === 'GET' && path === '/metrics') {
      d.metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': d.metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    const started = performance.now();
    const route = (ROUTES as readonly string[]).includes(path) ? (path as Route) : undefined;
    // Counted too, under one route label for every unknown path: never the path, which the caller picks.
    const unserved = (
      status: number,
      type: 'not_found' | 'method_not_allowed',
      message: string,
      headers: Record<string, string> = {},
    ): void => {
      sendJson(res, status, errorBody(type, message), headers);
      recordRequest(d.metrics, {
        route: route ?? UNMATCHED,
        tenant: NO_TENANT,
        outcome: refusalReason(type),
        seconds: (performance.now() - started) / 1000,
      });
    };
    if (!route) return unserved(404, 'not_found', `${req.method ?? ''} ${path} is not served`);
    if (req.method !== 'POST') return unserved(405, 'method_not_allowed', `${path} takes POST`, { allow: 'POST' });
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const ctx: RequestContext = { tenant: NO_TENANT };
    const done = (outcome: Outcome): void =>
      recordRequest(d.metrics, {
        route,
        tenant: ctx.tenant,
        // A caller that left before the answer was complete is counted as such, whatever followed.
        outcome: abort.signal.aborted ? 'client_closed' : outcome,
        seconds: ((ctx.headAt ?? performance.now()) - started) / 1000,
      });
    routes[route](req, res, abort.signal, ctx).then(
      () => done(ctx.failed ?? 'ok'),
      (e: unknown) => {
        const a = errorAnswer(e);
        if (a.status >= 500 && a.outcome.startsWith('upstream_')) d.logger.warn({ err: a.body.error, route }, 'upstream error');
        sendJson(res, a.status, a.body, a.headers);
        if (res.headersSent && !res.writableEnded) res.end();
        done(a.outcome);
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeIdleConnections();
        server.close(() => ok());
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      }),
  };
}
