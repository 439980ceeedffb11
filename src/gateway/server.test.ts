/**
 * The gateway's HTTP handlers over in-memory ports: a fake Bedrock, a fake quota store, a fixed
 * directory and a stub TokenReview. What the wire tests cannot easily force: a stream that fails
 * mid-way keeps its reservation, a failed call gives it back, fail-open, a TokenReview outage,
 * error mapping, that a pool query can only leave with the tenant's filter, and what /metrics
 * counts per tenant, route, outcome and model after real requests (unknown paths and wrong
 * methods included, in a bounded number of series).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import type { BedrockPort } from './bedrock.js';
import { notSent } from './call-outcome.js';
import { Directory } from './directory.js';
import { TokenIdentity } from './identity.js';
import { createGatewayMetrics } from './metrics.js';
import type { QuotaLimits, Windows } from './quota.js';
import { QuotaGate } from './quota-gate.js';
import { QuotaStoreUnavailable, type QuotaStore, type Reservation, type ReserveResult } from './quota-store.js';
import type { ScopedRetrieval } from './scope.js';
import { type GatewayServer, startGatewayServer } from './server.js';

const ready = [{ type: 'Ready', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2026-12-01T00:00:00Z' }];
const tenant = (name: string, isolation: string, kb: string, vectorStore = 'OpenSearchServerless', tierName = isolation): Tenant =>
  ({
    apiVersion: 'rag.tenancy.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name },
    spec: { tier: tierName, access: { podIdentity: { namespace: name, serviceAccount: 'app' } } },
    status: { conditions: ready, isolation, vectorStore, resources: { knowledgeBaseId: kb, roleArn: `arn:aws:iam::1:role/${name}` } },
  }) as Tenant;
const tier = (name: string, kb?: string): TenantTier =>
  ({
    apiVersion: 'x',
    kind: 'TenantTier',
    metadata: { name },
    spec: { isolation: name },
    status: { shared: { knowledgeBaseId: kb } },
  }) as TenantTier;
const access = (t: string, tokensPerDay: number): ModelAccess => ({
  apiVersion: 'x',
  kind: 'ModelAccess',
  metadata: { name: `${t}-m` },
  spec: { tenantRef: { name: t }, model: 'm1', quota: { tokensPerDay } },
  status: { inferenceProfileArn: `arn:aws:bedrock:us-east-1:1:application-inference-profile/${t}` },
});
const cache = <T extends { metadata: { name: string } }>(xs: T[]): { get(n: string): T | undefined; list(): T[] } => ({
  get: (n) => xs.find((x) => x.metadata.name === n),
  list: () => xs,
});

class MemoryStore implements QuotaStore {
  used_ = new Map<string, number>();
  /** Requests per minute window. */
  requests = new Map<string, number>();
  down = false;
  settled: number[] = [];
  reserve(w: Windows, l: QuotaLimits, tokens: number): Promise<ReserveResult> {
    if (this.down) return Promise.reject(new QuotaStoreUnavailable('down'));
    const minute = this.requests.get(w.keys.minute) ?? 0;
    if (l.requestsPerMinute !== undefined && minute >= l.requestsPerMinute)
      return Promise.resolve({
        ok: false,
        refusal: { quota: 'requestsPerMinute', window: w.names.minute, used: minute, limit: l.requestsPerMinute, reset: w.resets.minute },
      });
    this.requests.set(w.keys.minute, minute + 1);
    const day = this.used_.get(w.keys.day) ?? 0;
    if (l.tokensPerDay !== undefined && day + tokens > l.tokensPerDay)
      return Promise.resolve({
        ok: false,
        refusal: { quota: 'tokensPerDay', window: w.names.day, used: day, limit: l.tokensPerDay, reset: w.resets.day },
      });
    this.used_.set(w.keys.day, day + tokens);
    return Promise.resolve({ ok: true, reservation: { keys: { day: w.keys.day, month: w.keys.month }, reserved: tokens, alerts: [] } });
  }
  settle(r: Reservation, actual: number): Promise<void> {
    this.settled.push(actual);
    this.used_.set(r.keys.day, (this.used_.get(r.keys.day) ?? 0) + actual - r.reserved);
    return Promise.resolve();
  }
  used(key: string): Promise<number> {
    return Promise.resolve(this.used_.get(key) ?? 0);
  }
  total(): number {
    return [...this.used_.values()].reduce((a, b) => a + b, 0);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const jwt = (sub: string): string =>
  ['h', Buffer.from(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url'), 's'].join('.');

let server: GatewayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(o: { bedrock?: Partial<BedrockPort>; failOpen?: boolean; reviewDown?: boolean; requestsPerMinute?: number } = {}) {
  const store = new MemoryStore();
  const retrieved: ScopedRetrieval[] = [];
  const bedrock: BedrockPort = {
    retrieve: (s) => {
      retrieved.push(s);
      return Promise.resolve({ retrievalResults: [{ content: { text: 'doc' } }], $metadata: {} });
    },
    retrieveAndGenerate: () => Promise.reject(new Error('unused')),
    converse: () =>
      Promise.resolve({
        output: { message: { role: 'assistant', content: [{ text: 'hi' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
        metrics: { latencyMs: 1 },
        $metadata: {},
      }),
    converseStream: () => Promise.reject(new Error('unused')),
    ...o.bedrock,
  };
  const metrics = createGatewayMetrics(false);
  const logger = pino({ level: 'silent' });
  const identity = new TokenIdentity(
    (token) => {
      if (o.reviewDown) return Promise.reject(new Error('apiserver down'));
      const sub = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub;
      return Promise.resolve({ authenticated: true, username: `system:serviceaccount:${sub}:app`, audiences: ['gw'] });
    },
    { audience: 'gw', maxEntries: 10, maxTtlMs: 60_000 },
  );
  const directory = new Directory(
    cache([
      tenant('acme', 'pool', 'POOLKB'),
      tenant('globex', 'pool', 'POOLKB'),
      tenant('initech', 'silo', 'SILOKB'),
      tenant('hooli', 'pool', 'MPOOLKB', 'Managed', 'mpool'),
      tenant('piedpiper', 'pool', 'SPOOLKB', 'S3Vectors', 'spool'),
    ]),
    cache([tier('pool', 'POOLKB'), tier('silo'), tier('mpool', 'MPOOLKB'), tier('spool', 'SPOOLKB')]),
    cache([access('acme', 100), access('hooli', 100_000), access('piedpiper', 100_000)]),
    o.requestsPerMinute,
  );
  server = await startGatewayServer(
    {
      identity,
      directory,
      bedrock,
      quota: new QuotaGate(store, metrics, logger, { prefix: 'q', failOpen: o.failOpen ?? false, now: () => new Date() }),
      metrics,
      logger,
      ready: () => true,
      audience: 'gw',
      chat: { defaultMaxTokens: 50, maxTokens: 500, bytesPerToken: 2 },
      maxResults: 100,
      contextTokensPerResult: 10,
      maxBodyBytes: 10_000,
    },
    0,
    '127.0.0.1',
  );
  const url = `http://127.0.0.1:${server.port}`;
  const post = async (path: string, body: unknown, who = 'acme'): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt(who)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  /** The sum of a metric's series whose labels include `labels`, from a scrape of /metrics. */
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return seriesOf(text, name)
      .filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
      .reduce((n, x) => n + x.value, 0);
  };
  return { store, retrieved, post, url, metric };
}

/** The series of `name` in a Prometheus text exposition. */
function seriesOf(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .map((line) => /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m?.[1] === name)
    .map((m) => ({
      labels: Object.fromEntries(
        [...(m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l): [string, string] => [l[1] ?? '', l[2] ?? '']),
      ),
      value: Number(m[3]),
    }));
}

const chat = { model: 'm1', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] };

describe('gateway HTTP handlers', () => {
  it('scopes every pool retrieval to the caller, whatever tenant the body names', async () => {
    const s = await setup();
    expect((await s.post('/v1/retrieve', { query: 'x', tenant: 'globex', knowledgeBaseId: 'SILOKB' })).status).toBe(200);
    expect((await s.post('/v1/retrieve', { query: 'x' }, 'globex')).status).toBe(200);
    expect((await s.post('/v1/retrieve', { query: 'x' }, 'initech')).status).toBe(200);
    expect(s.retrieved.map((r) => [r.tenant, r.knowledgeBaseId, JSON.stringify(r.filter ?? null)])).toEqual([
      ['acme', 'POOLKB', '{"equals":{"key":"tenantId","value":"acme"}}'],
      ['globex', 'POOLKB', '{"equals":{"key":"tenantId","value":"globex"}}'],
      ['initech', 'SILOKB', 'null'],
    ]);
  });

  it("scopes retrievals on S3 Vectors and Managed pool tiers the same way, with the tenant's store on the scoped request", async () => {
    const s = await setup();
    expect((await s.post('/v1/retrieve', { query: 'x', filter: { equals: { key: 'dept', value: 'a' } } }, 'hooli')).status).toBe(200);
    expect((await s.post('/v1/retrieve', { query: 'x' }, 'piedpiper')).status).toBe(200);
    expect(s.retrieved.map((r) => [r.tenant, r.knowledgeBaseId, r.vectorStore, JSON.stringify(r.filter)])).toEqual([
      ['hooli', 'MPOOLKB', 'Managed', '{"andAll":[{"equals":{"key":"tenantId","value":"hooli"}},{"equals":{"key":"dept","value":"a"}}]}'],
      ['piedpiper', 'SPOOLKB', 'S3Vectors', '{"equals":{"key":"tenantId","value":"piedpiper"}}'],
    ]);
    // startsWith is served on OpenSearch Serverless only: refused here, before Bedrock.
    const r = await s.post('/v1/retrieve', { query: 'x', filter: { startsWith: { key: 'title', value: 'Q' } } }, 'piedpiper');
    expect(r.status).toBe(400);
    expect(r.text).toContain('startsWith is only supported on OpenSearch Serverless');
    expect(s.retrieved).toHaveLength(2);
  });

  it('settles retrieve-and-generate to the query, every retrieved result and the answer: uncited results stay counted', async () => {
    let answer = 'ok';
    let cited: string[] = [];
    const s = await setup({
      bedrock: {
        retrieveAndGenerate: () =>
          Promise.resolve({
            sessionId: 's',
            output: { text: answer },
            citations: [{ retrievedReferences: cited.map((text) => ({ content: { text } })) }],
            $metadata: {},
          }),
      },
    });
    // 'numbers': 7 bytes / 2 + 4 = 8; 20 results at 10 tokens each; the default output budget (50) reserved.
    const ask = () => s.post('/v1/retrieve-and-generate', { query: 'numbers', model: 'm1', numberOfResults: 20 }, 'piedpiper');
    expect((await ask()).status).toBe(200);
    // Nothing cited, a 2-byte answer: 8 + 200 + 1 (13 before: the query and the answer alone).
    expect(s.store.settled).toEqual([209]);
    // Cited text longer than the 200 tokens reserved for context: counted as it is.
    s.store.settled.length = 0;
    cited = ['x'.repeat(1000)];
    answer = 'y'.repeat(20);
    expect((await ask()).status).toBe(200);
    expect(s.store.settled).toEqual([Math.ceil((7 + 1000 + 20) / 2) + 3 * 4]);
    // The same reference cited twice went to the model once.
    s.store.settled.length = 0;
    cited = ['x'.repeat(1000), 'x'.repeat(1000)];
    expect((await ask()).status).toBe(200);
    expect(s.store.settled).toEqual([Math.ceil((7 + 1000 + 20) / 2) + 3 * 4]);
  });

  it('refuses retrieve-and-generate on a Managed tier with 400 saying to use retrieve and chat, reserving and sending nothing', async () => {
    const generated: ScopedRetrieval[] = [];
    const s = await setup({
      bedrock: {
        retrieveAndGenerate: (sc) => {
          generated.push(sc);
          return Promise.resolve({ sessionId: 's', output: { text: 'answer' }, citations: [], $metadata: {} });
        },
      },
    });
    const r = await s.post('/v1/retrieve-and-generate', { query: 'numbers', model: 'm1' }, 'hooli');
    expect(r.status).toBe(400);
    const body = JSON.parse(r.text) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request');
    expect(body.error.message).toMatch(/Bedrock-managed knowledge base.*RetrieveAndGenerate does not take/);
    expect(body.error.message).toContain('Use POST /v1/retrieve, then POST /v1/chat/completions');
    expect(generated).toEqual([]);
    expect(s.store.total()).toBe(0);
    // The same route on an S3 Vectors pool tier goes through, scoped to the caller.
    expect((await s.post('/v1/retrieve-and-generate', { query: 'numbers', model: 'm1' }, 'piedpiper')).status).toBe(200);
    expect(generated.map((g) => [g.tenant, g.vectorStore, JSON.stringify(g.filter)])).toEqual([
      ['piedpiper', 'S3Vectors', '{"equals":{"key":"tenantId","value":"piedpiper"}}'],
    ]);
    expect(
      await s.metric('tenant_rag_gateway_requests_total', { tenant: 'hooli', route: '/v1/retrieve-and-generate', outcome: 'invalid' }),
    ).toBe(1);
  });

  it('settles a chat completion to its usage and gives a failed call its reservation back', async () => {
    let fail = false;
    const s = await setup({
      bedrock: {
        converse: () =>
          fail
            ? Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }))
            : Promise.resolve({
                output: { message: { role: 'assistant', content: [{ text: 'hi' }] } },
                usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
                stopReason: 'end_turn',
                metrics: { latencyMs: 1 },
                $metadata: {},
              }),
      },
    });
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(200);
    expect(s.store.total()).toBe(5);
    fail = true;
    const r = await s.post('/v1/chat/completions', chat);
    expect(r.status).toBe(403);
    expect(r.text).toContain('upstream_access_denied');
    expect(s.store.total()).toBe(5);
  });

  it('keeps the reservation of a stream that breaks before reporting usage', async () => {
    const s = await setup({
      bedrock: {
        converseStream: () =>
          Promise.resolve(
            (async function* () {
              yield await Promise.resolve({ messageStart: { role: 'assistant' } });
              yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'par' } } };
              throw Object.assign(new Error('reset'), { name: 'ModelStreamErrorException' });
            })() as never,
          ),
      },
    });
    const r = await s.post('/v1/chat/completions', { ...chat, stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('"content":"par"');
    expect(r.text).toContain('upstream_error');
    expect(s.store.settled).toEqual([]);
    expect(s.store.total()).toBeGreaterThanOrEqual(20);
  });

  it('refuses with 429 and Retry-After when the worst case does not fit', async () => {
    const s = await setup();
    const r = await s.post('/v1/chat/completions', { ...chat, max_tokens: 500 });
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text)).toMatchObject({ error: { type: 'quota_exceeded', quota: 'tokensPerDay', used: 0, limit: 100 } });
  });

  it('fails closed when the store is down, and open when set to', async () => {
    const closed = await setup();
    closed.store.down = true;
    expect((await closed.post('/v1/chat/completions', chat)).status).toBe(503);
    await server?.close();
    const open = await setup({ failOpen: true });
    open.store.down = true;
    expect((await open.post('/v1/chat/completions', chat)).status).toBe(200);
  });

  it('answers 503 when tokens cannot be reviewed, 403 naming a model without ModelAccess, 400 on bad input', async () => {
    const down = await setup({ reviewDown: true });
    expect((await down.post('/v1/retrieve', { query: 'x' })).status).toBe(503);
    await server?.close();
    const s = await setup();
    const r = await s.post('/v1/chat/completions', { ...chat, model: 'other' });
    expect(r.status).toBe(403);
    expect(r.text).toContain('no ModelAccess for model \\"other\\"');
    expect((await s.post('/v1/retrieve', { query: '' })).status).toBe(400);
    expect((await s.post('/v1/retrieve', { query: 'x', numberOfResults: 101 })).status).toBe(400);
    expect((await s.post('/v1/retrieve', { query: 'x', filter: { equals: { key: 'tenantId', value: 'globex' } } })).status).toBe(400);
    expect((await fetch(`${s.url}/v1/retrieve`, { method: 'GET' })).status).toBe(405);
    expect((await fetch(`${s.url}/nope`, { method: 'POST' })).status).toBe(404);
  });
});

describe('gateway metrics on /metrics', () => {
  const CHAT = '/v1/chat/completions';
  const RETRIEVE = '/v1/retrieve';

  it('counts requests by tenant, route and outcome, refusals by reason, tokens by tenant and model, latency by route', async () => {
    const s = await setup();
    expect((await s.post(CHAT, chat)).status).toBe(200);
    expect((await s.post(RETRIEVE, { query: 'x' }, 'globex')).status).toBe(200);
    expect((await s.post(CHAT, { ...chat, max_tokens: 500 })).status).toBe(429);
    expect((await fetch(`${s.url}${RETRIEVE}`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await s.post(RETRIEVE, { query: 'x', filter: { equals: { key: 'tenantId', value: 'globex' } } })).status).toBe(400);
    expect((await s.post(RETRIEVE, { query: '' })).status).toBe(400);
    expect((await s.post(CHAT, { ...chat, model: 'other' })).status).toBe(403);
    s.store.down = true;
    expect((await s.post(CHAT, chat)).status).toBe(503);

    const requests = (tenant: string, route: string, outcome: string): Promise<number> =>
      s.metric('tenant_rag_gateway_requests_total', { tenant, route, outcome });
    expect(await requests('acme', CHAT, 'ok')).toBe(1);
    expect(await requests('globex', RETRIEVE, 'ok')).toBe(1);
    expect(await requests('acme', CHAT, 'quota')).toBe(1);
    expect(await requests('(none)', RETRIEVE, 'auth')).toBe(1);
    expect(await requests('acme', RETRIEVE, 'scope')).toBe(1);
    expect(await requests('acme', RETRIEVE, 'invalid')).toBe(1);
    expect(await requests('acme', CHAT, 'not_granted')).toBe(1);
    expect(await requests('acme', CHAT, 'store_unavailable')).toBe(1);
    expect(await s.metric('tenant_rag_gateway_requests_total')).toBe(8);

    const refusals = (tenant: string, reason: string): Promise<number> => s.metric('tenant_rag_gateway_refusals_total', { tenant, reason });
    expect(await refusals('acme', 'quota')).toBe(1);
    expect(await refusals('(none)', 'auth')).toBe(1);
    expect(await refusals('acme', 'scope')).toBe(1);
    expect(await refusals('acme', 'store_unavailable')).toBe(1);
    expect(await s.metric('tenant_rag_gateway_refusals_total')).toBe(6);

    expect(await s.metric('tenant_rag_gateway_model_tokens_total', { tenant: 'acme', model: 'm1', direction: 'input' })).toBe(3);
    expect(await s.metric('tenant_rag_gateway_model_tokens_total', { tenant: 'acme', model: 'm1', direction: 'output' })).toBe(2);
    expect(await s.metric('tenant_rag_gateway_quota_refusals_total', { tenant: 'acme', model: 'm1', quota: 'tokensPerDay' })).toBe(1);

    const observed = (route: string, result: string): Promise<number> =>
      s.metric('tenant_rag_gateway_request_duration_seconds_count', { route, result });
    expect(await observed(CHAT, 'ok')).toBe(1);
    expect(await observed(CHAT, 'refused')).toBe(3);
    expect(await observed(RETRIEVE, 'refused')).toBe(3);
    expect(await s.metric('tenant_rag_gateway_request_duration_seconds_bucket', { route: RETRIEVE, result: 'ok', le: '+Inf' })).toBe(1);
    expect(await s.metric('tenant_rag_gateway_request_seconds_total', { tenant: 'globex', route: RETRIEVE })).toBeGreaterThan(0);
  });

  it('labels only with tenants and models it granted, never with what the request names', async () => {
    const s = await setup();
    for (let i = 0; i < 20; i++) {
      expect((await s.post(CHAT, { ...chat, model: `made-up-${i}` })).status).toBe(403);
      expect((await s.post(RETRIEVE, { query: 'x', tenant: `stranger-${i}` }, `stranger-${i}`)).status).toBe(401);
    }
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).not.toMatch(/made-up|stranger/);
    expect(seriesOf(text, 'tenant_rag_gateway_requests_total').map((x) => x.labels)).toEqual(
      expect.arrayContaining([
        { tenant: 'acme', route: CHAT, outcome: 'not_granted' },
        { tenant: '(none)', route: RETRIEVE, outcome: 'auth' },
      ]),
    );
    expect(seriesOf(text, 'tenant_rag_gateway_requests_total')).toHaveLength(2);
    expect(await s.metric('tenant_rag_gateway_requests_total')).toBe(40);
  });

  it('counts a stream with its usage, a stream that breaks as an upstream failure, and requestsPerMinute as rate', async () => {
    let broken = false;
    const s = await setup({
      requestsPerMinute: 2,
      bedrock: {
        converseStream: () =>
          Promise.resolve(
            (async function* () {
              yield await Promise.resolve({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'hi' } } });
              if (broken) throw Object.assign(new Error('reset'), { name: 'ModelStreamErrorException' });
              yield { messageStop: { stopReason: 'end_turn' } };
              yield { metadata: { usage: { inputTokens: 7, outputTokens: 4, totalTokens: 11 }, metrics: { latencyMs: 1 } } };
            })() as never,
          ),
      },
    });
    expect((await s.post(CHAT, { ...chat, stream: true })).text).toContain('[DONE]');
    broken = true;
    expect((await s.post(CHAT, { ...chat, stream: true })).text).toContain('upstream_error');
    expect((await s.post(CHAT, { ...chat, stream: true })).status).toBe(429);
    expect(await s.metric('tenant_rag_gateway_model_tokens_total', { tenant: 'acme', direction: 'input' })).toBe(7);
    expect(await s.metric('tenant_rag_gateway_model_tokens_total', { tenant: 'acme', direction: 'output' })).toBe(4);
    expect(await s.metric('tenant_rag_gateway_requests_total', { tenant: 'acme', route: CHAT, outcome: 'ok' })).toBe(1);
    expect(await s.metric('tenant_rag_gateway_requests_total', { tenant: 'acme', route: CHAT, outcome: 'upstream_error' })).toBe(1);
    expect(await s.metric('tenant_rag_gateway_refusals_total', { tenant: 'acme', reason: 'rate' })).toBe(1);
    expect(await s.metric('tenant_rag_gateway_request_duration_seconds_count', { route: CHAT, result: 'error' })).toBe(1);
  });

  it('counts a caller that leaves before its answer as client_closed', async () => {
    let called: () => void = () => undefined;
    const reached = new Promise<void>((ok) => (called = ok));
    const s = await setup({
      bedrock: {
        converse: (_t, _r, _p, _c, signal) =>
          new Promise((_ok, fail) => {
            signal?.addEventListener('abort', () => fail(Object.assign(new Error('aborted'), { name: 'AbortError' })));
            called();
          }),
      },
    });
    const client = new AbortController();
    const pending = fetch(`${s.url}${CHAT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt('acme')}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat),
      signal: client.signal,
    }).catch(() => undefined);
    await reached;
    client.abort();
    await pending;
    await expect
      .poll(() => s.metric('tenant_rag_gateway_requests_total', { tenant: 'acme', route: CHAT, outcome: 'client_closed' }))
      .toBe(1);
    // The model may have run (and be billed): leaving just before the answer does not give the
    // tokens back. max_tokens 20 + the prompt's bound (5 bytes / 2 + 4).
    expect(s.store.settled).toEqual([27]);
    expect(s.store.total()).toBe(27);
    expect(await s.metric('tenant_rag_gateway_estimated_tokens_total', { tenant: 'acme', model: 'm1' })).toBe(27);
  });

  it('gives back the reservation of a call Bedrock refused, and keeps that of a call that may have run', async () => {
    let failure = new Error('unset');
    const s = await setup({ bedrock: { converse: () => Promise.reject(failure) } });
    const answer = (status: number, name: string): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    const cases: [Error, number][] = [
      [answer(400, 'ValidationException'), 0],
      [answer(429, 'ThrottlingException'), 0],
      [answer(503, 'ServiceUnavailableException'), 0],
      [answer(200, 'IncompleteAnswer'), 27],
      [answer(500, 'InternalServerException'), 0],
      // The tenant role's session could not be had: nothing was sent.
      [notSent(new Error('AssumeRole: AccessDenied')), 0],
      [answer(408, 'ModelTimeoutException'), 27],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 27],
    ];
    for (const [e, kept] of cases) {
      failure = e;
      s.store.settled.length = 0;
      const before = s.store.total();
      // hooli: a quota (100,000 a day) that every kept reservation fits in.
      expect((await s.post(CHAT, chat, 'hooli')).status).toBeGreaterThanOrEqual(400);
      expect([s.store.settled, s.store.total() - before], e.name).toEqual([[kept], kept]);
    }
  });

  it('counts 404s under one route label and 405s under their route, never with the path the caller sent', async () => {
    const s = await setup();
    const paths = Array.from({ length: 1000 }, (_, i) => {
      const r = randomBytes(8).toString('hex');
      // Unknown paths of every shape, some close to the real ones; the query string is never part of a route.
      return [`/${r}`, `/v1/${r}`, `${RETRIEVE}/${r}`, `/v1/chat/completions-${r}`, `/metrics/${r}?q=${r}`][i % 5] ?? '';
    });
    const methods = ['GET', 'POST', 'PUT', 'DELETE'];
    for (let i = 0; i < paths.length; i += 50) {
      const statuses = await Promise.all(
        paths.slice(i, i + 50).map(async (p, j) => (await fetch(`${s.url}${p}`, { method: methods[j % 4] })).status),
      );
      expect(new Set(statuses)).toEqual(new Set([404]));
    }
    for (const route of [RETRIEVE, CHAT]) expect((await fetch(`${s.url}${route}`, { method: 'GET' })).status).toBe(405);
    expect((await fetch(`${s.url}${CHAT}`, { method: 'PUT' })).status).toBe(405);

    const text = await (await fetch(`${s.url}/metrics`)).text();
    const requests = seriesOf(text, 'tenant_rag_gateway_requests_total');
    expect(requests).toEqual(
      expect.arrayContaining([
        { labels: { tenant: '(none)', route: 'unmatched', outcome: 'not_found' }, value: 1000 },
        { labels: { tenant: '(none)', route: RETRIEVE, outcome: 'method_not_allowed' }, value: 1 },
        { labels: { tenant: '(none)', route: CHAT, outcome: 'method_not_allowed' }, value: 2 },
      ]),
    );
    expect(requests).toHaveLength(3);
    expect(await s.metric('tenant_rag_gateway_refusals_total', { tenant: '(none)', reason: 'not_found' })).toBe(1000);
    expect(await s.metric('tenant_rag_gateway_refusals_total', { tenant: '(none)', reason: 'method_not_allowed' })).toBe(3);
    expect(await s.metric('tenant_rag_gateway_request_duration_seconds_count', { route: 'unmatched', result: 'refused' })).toBe(1000);
    // One series per metric for all 1,000 paths, and none of them anywhere in the scrape.
    expect(seriesOf(text, 'tenant_rag_gateway_request_seconds_total').filter((x) => x.labels.route === 'unmatched')).toHaveLength(1);
    expect(seriesOf(text, 'tenant_rag_gateway_refusals_total')).toHaveLength(2);
    for (const p of paths.slice(0, 50)) expect(text).not.toContain(p.split('/').pop()?.split('?')[0] ?? '');
    expect(text).not.toMatch(/route="\/(?!v1\/(retrieve|retrieve-and-generate|chat\/completions)")/);
  });
});
