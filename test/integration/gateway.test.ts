/**
 * The tenant gateway over the wire: real kube-apiserver (TokenReview of real projected
 * ServiceAccount tokens made with the TokenRequest API), the real operator making pool and bridge
 * tenants Ready and ingesting their documents, real Redis, moto (IAM, STS) and the runtime fakes
 * (bedrock-agent-runtime with Bedrock's filter grammar, bedrock-runtime with deterministic usage),
 * which authorize every call from the caller's role policies. Gateway processes run as
 * `npm run gateway` would.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { TestCluster } from '../support/cluster.js';
import { type GatewayFakes, type GatewayProcess, createPoolRetrievalRole, startGatewayProcess } from '../support/gateway-env.js';
import {
  GATEWAY_AUDIENCE as AUDIENCE,
  type GatewayStack,
  createAppServiceAccounts,
  projectedToken,
  startGatewayStack,
} from '../support/gateway-stack.js';
import { uniq } from '../support/kube.js';
import { eventually } from '../support/processes.js';
import type { TestRedis } from '../support/redis.js';

const MODEL = 'amazon.nova-lite-v1:0';
const ACCOUNT = '123456789012';

let stack: GatewayStack;
let c: TestCluster;
let aws: AwsClients;
let redis: TestRedis;
let fakes: GatewayFakes;
let gw: GatewayProcess;
let gatewayEnv: Record<string, string>;
const extra: GatewayProcess[] = [];

const poolTier = uniq('gwpool');
const bridgeTier = uniq('gwbridge');
const pool = [uniq('pa'), uniq('pb'), uniq('pc')];
const bridge = [uniq('ba'), uniq('bb'), uniq('bc')];
const tokens = new Map<string, string>();
const tenantObj = new Map<string, Tenant>();
const profiles = new Map<string, string>();

const tierYaml = (name: string, isolation: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation} }\n`;
const tenantYaml = (name: string, tier: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${name}, serviceAccount: app } } }\n`;
const accessYaml = (name: string, tenant: string, tokensPerDay: number): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${name} }\nspec: { tenantRef: { name: ${tenant} }, model: "${MODEL}", quota: { tokensPerDay: ${tokensPerDay}, onExceeded: Throttle } }\n`;
const text = (t: string, i: number): string => `document ${i} of ${t}: quarterly numbers and secrets marker-${t}`;

const token = (ns: string, sa?: string, audience?: string): Promise<string> => projectedToken(c.kube, ns, sa, audience);

async function post(
  path: string,
  body: unknown,
  bearer?: string,
  base = gw.url,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  const raw = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    parsed = { raw };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const texts = (b: Record<string, unknown>): string[] => ((b.results as { text: string }[] | undefined) ?? []).map((r) => r.text);
const dayCounter = (tenant: string): string => `tro:quota:{${tenant}/${MODEL}}:d:${new Date().toISOString().slice(0, 10)}`;

beforeAll(async () => {
  stack = await startGatewayStack('gw');
  ({ c, aws, redis, fakes } = stack);
  const all = [...pool, ...bridge];
  await c.kube.apply(
    [
      tierYaml(poolTier, 'pool'),
      tierYaml(bridgeTier, 'bridge'),
      ...pool.map((t) => tenantYaml(t, poolTier)),
      ...bridge.map((t) => tenantYaml(t, bridgeTier)),
    ].join('---\n'),
  );
  await createAppServiceAccounts(c.kube, all);
  for (const t of all) tenantObj.set(t, await c.kube.waitForCondition<Tenant>('Tenant', t, 'Ready', { status: 'True' }, 180_000));
  const tier = await c.kube.waitForCondition<TenantTier>('TenantTier', poolTier, 'Ready', { status: 'True' }, 60_000);
  const shared = tier.status?.shared ?? {};
  // Documents: pool tenants under the shared bucket's tenant prefixes, bridge tenants under theirs.
  for (const t of pool)
    for (const i of [0, 1])
      await aws.s3.send(new PutObjectCommand({ Bucket: shared.bucket, Key: `tenants/${t}/d${i}.txt`, Body: text(t, i) }));
  for (const t of bridge) {
    const r = tenantObj.get(t)?.status?.resources ?? {};
    for (const i of [0, 1])
      await aws.s3.send(new PutObjectCommand({ Bucket: r.bucket, Key: `${r.prefix ?? ''}d${i}.txt`, Body: text(t, i) }));
  }
  await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', poolTier, 'rag.tenancy.dev/sync-requested-at=gw1');
  for (const t of bridge) await c.kube.kubectl('annotate', '--overwrite', 'tenant', t, 'rag.tenancy.dev/sync-requested-at=gw1');
  const count = (kb: string, where: (m: Record<string, unknown>, uri: string) => boolean): number =>
    c.fakes.bedrockAgent.vectors(kb).filter((v) => where(v.metadata, v.sourceUri)).length;
  await eventually(
    () =>
      pool.every((t) => count(shared.knowledgeBaseId ?? '', (m) => m.tenantId === t) === 2) &&
      bridge.every((t) => count(tenantObj.get(t)?.status?.resources?.knowledgeBaseId ?? '', () => true) === 2)
        ? true
        : undefined,
    120_000,
    'every tenant to have its two documents indexed',
    500,
  );
  // Model grants: pool tenant 0 with 10,000 tokens a day (concurrency), pool tenant 1 with 400.
  await c.kube.apply([accessYaml(`${pool[0]}-m`, pool[0] ?? '', 10_000), accessYaml(`${pool[1]}-m`, pool[1] ?? '', 400)].join('---\n'));
  for (const t of [pool[0] ?? '', pool[1] ?? '']) {
    const ma = await c.kube.waitForCondition<ModelAccess>('ModelAccess', `${t}-m`, 'Ready', { status: 'True' }, 120_000);
    profiles.set(t, ma.status?.inferenceProfileArn ?? '');
  }
  // The retrieval role: reads the pool tier's knowledge base only, and invokes models (for
  // retrieve-and-generate on a pool tenant's profile).
  const retrievalRoleArn = await createPoolRetrievalRole(aws.iam, {
    account: ACCOUNT,
    roleName: 'rag-gateway-retrieval',
    knowledgeBaseId: shared.knowledgeBaseId ?? '',
    invokeProfiles: true,
  });
  gatewayEnv = {
    ...fakes.env,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_RETRIEVAL_ROLE_ARN: retrievalRoleArn,
    GATEWAY_TOKEN_AUDIENCE: AUDIENCE,
    GATEWAY_DEFAULT_MAX_TOKENS: '100',
    GATEWAY_REDIS_TIMEOUT_MS: '300',
    GATEWAY_CONTEXT_TOKENS_PER_RESULT: '50',
  };
  gw = await startGatewayProcess(c.cp.kubeconfig, stack.logDir, gatewayEnv);
  for (const t of all) tokens.set(t, await token(t));
}, 600_000);

afterAll(async () => {
  await Promise.all([gw?.stop(), ...extra.map((g) => g.stop())]);
  await stack?.stop();
});

describe('retrieval scoped to the caller', () => {
  const pairs = (ts: string[]): [string, string][] => ts.flatMap((a) => ts.filter((b) => b !== a).map((b): [string, string] => [a, b]));

  it.each([
    ['pool', pool],
    ['bridge', bridge],
  ])("%s: every tenant's token retrieves its own documents and none of any other's, whatever it asks for", async (_kind, ts) => {
    for (const [a, b] of pairs(ts)) {
      const r = await post(
        '/v1/retrieve',
        { query: `quarterly numbers and secrets marker-${b} of ${b}`, numberOfResults: 100 },
        tokens.get(a),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const got = texts(r.body);
      expect(got.sort(), `${a} asking for ${b}'s documents`).toEqual([text(a, 0), text(a, 1)].sort());
      expect(JSON.stringify(r.body)).not.toContain(`marker-${b}`);
    }
  });

  it('sends pool queries with the tenant filter as the retrieval role, and bridge queries to the own knowledge base as the tenant role', async () => {
    fakes.agentRuntime.log.length = 0;
    await post('/v1/retrieve', { query: 'x' }, tokens.get(pool[0] ?? ''));
    await post('/v1/retrieve', { query: 'x', filter: { equals: { key: 'dept', value: 'a' } } }, tokens.get(pool[1] ?? ''));
    await post('/v1/retrieve', { query: 'x' }, tokens.get(bridge[0] ?? ''));
    const [p0, p1, b0] = fakes.agentRuntime.log;
    expect(p0?.filter).toEqual({ equals: { key: 'tenantId', value: pool[0] } });
    expect(p1?.filter).toEqual({ andAll: [{ equals: { key: 'tenantId', value: pool[1] } }, { equals: { key: 'dept', value: 'a' } }] });
    expect(p0?.principalArn).toBe(`arn:aws:iam::${ACCOUNT}:role/rag-gateway-retrieval`);
    expect(b0?.knowledgeBaseId).toBe(tenantObj.get(bridge[0] ?? '')?.status?.resources?.knowledgeBaseId);
    expect(b0?.principalArn).toBe(tenantObj.get(bridge[0] ?? '')?.status?.resources?.roleArn);
  });

  it.each([
    ['an orAll with another tenant', { orAll: [{ equals: { key: 'tenantId', value: 'OTHER' } }, { equals: { key: 'dept', value: 'x' } }] }],
    ['notEquals on tenantId', { notEquals: { key: 'tenantId', value: 'SELF' } }],
    ['a filter on tenantId', { equals: { key: 'tenantId', value: 'OTHER' } }],
    ['in on tenantId', { in: { key: 'tenantId', value: ['SELF', 'OTHER'] } }],
    [
      'two operators in one filter',
      { equals: { key: 'dept', value: 'x' }, orAll: [{ equals: { key: 'a', value: 1 } }, { equals: { key: 'b', value: 2 } }] },
    ],
  ])('a pool caller cannot widen its filter: %s is refused with 400', async (_why, f) => {
    const [a = '', b = ''] = pool;
    const filter = JSON.parse(JSON.stringify(f).replaceAll('OTHER', b).replaceAll('SELF', a)) as unknown;
    fakes.agentRuntime.log.length = 0;
    const r = await post('/v1/retrieve', { query: 'secrets', filter, numberOfResults: 100 }, tokens.get(a));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/invalid_request/);
    expect(fakes.agentRuntime.log).toEqual([]);
  });

  it('a filter that matches documents without a key still only reaches the caller’s documents', async () => {
    const [a = ''] = pool;
    const r = await post(
      '/v1/retrieve',
      { query: 'secrets', filter: { notEquals: { key: 'dept', value: 'zzz' } }, numberOfResults: 100 },
      tokens.get(a),
    );
    expect(r.status).toBe(200);
    expect(texts(r.body).sort()).toEqual([text(a, 0), text(a, 1)].sort());
  });

  it('retrieve-and-generate answers from the caller’s documents only', async () => {
    const [a = '', b = ''] = pool;
    const r = await post('/v1/retrieve-and-generate', { query: `secrets of ${b}`, model: MODEL, numberOfResults: 100 }, tokens.get(a));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(JSON.stringify(r.body)).toContain(`marker-${a}`);
    expect(JSON.stringify(r.body)).not.toContain(`marker-${b}`);
  });
});

describe('caller identity', () => {
  it('refuses a request without a token, saying what to send', async () => {
    const r = await post('/v1/retrieve', { query: 'x' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(String((r.body.error as { message: string }).message)).toContain(`audience "${AUDIENCE}"`);
  });

  it('refuses forged, tampered, expired-looking, wrong-audience and unknown-ServiceAccount tokens', async () => {
    const good = tokens.get(pool[0] ?? '') ?? '';
    const [h = '', p = '', s = ''] = good.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const reclaim = (o: Record<string, unknown>): string =>
      `${h}.${Buffer.from(JSON.stringify({ ...claims, ...o })).toString('base64url')}.${s}`;
    await c.kube.kubectl('create', 'serviceaccount', 'stranger', '-n', pool[0] ?? '');
    await c.kube.kubectl('create', 'serviceaccount', 'gone', '-n', pool[0] ?? '');
    const gone = await token(pool[0] ?? '', 'gone');
    await c.kube.kubectl('delete', 'serviceaccount', 'gone', '-n', pool[0] ?? '');
    const bad: [string, string][] = [
      ['garbage', 'not-a-token'],
      ['a bad signature', `${h}.${p}.${s.slice(0, -4)}AAAA`],
      ['another namespace in the claims (signature no longer matches)', reclaim({ 'kubernetes.io': { namespace: pool[1] } })],
      ['an expiry in the past', reclaim({ exp: Math.floor(Date.now() / 1000) - 60 })],
      ["the API server's own audience", await token(pool[0] ?? '', 'app', 'https://kubernetes.default.svc.cluster.local')],
      ['a ServiceAccount no Tenant names', await token(pool[0] ?? '', 'stranger')],
      ['a deleted ServiceAccount', gone],
    ];
    for (const [why, t] of bad) {
      const r = await post('/v1/retrieve', { query: 'x' }, t);
      expect(r.status, why).toBe(401);
      expect(JSON.stringify(r.body), why).toContain('Authorization: Bearer');
    }
  });

  it('refuses a model the tenant has no ModelAccess for with 403 naming it', async () => {
    const r = await post(
      '/v1/chat/completions',
      { model: 'anthropic.claude-3-5-sonnet-20241022-v2:0', messages: [{ role: 'user', content: 'hi' }] },
      tokens.get(pool[0] ?? ''),
    );
    expect(r.status).toBe(403);
    expect(JSON.stringify(r.body)).toContain('no ModelAccess for model \\"anthropic.claude-3-5-sonnet-20241022-v2:0\\"');
  });
});

describe('chat completions and quotas', () => {
  const small = (): string => pool[1] ?? '';

  it('streams an OpenAI-style answer and settles the counter to the real usage', async () => {
    const before = fakes.runtime.tokensFor(profiles.get(small()) ?? '');
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(small()) ?? ''}` },
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 30,
        messages: [{ role: 'user', content: 'Tell me a story' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map(
        (e) =>
          JSON.parse(e) as { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: { total_tokens: number } },
      );
    const content = chunks.flatMap((ch) => ch.choices.map((x) => x.delta.content ?? '')).join('');
    expect(content.split(' ').length).toBeLessThanOrEqual(30);
    const usage = chunks.at(-1)?.usage;
    const served = fakes.runtime.tokensFor(profiles.get(small()) ?? '') - before;
    expect(usage?.total_tokens).toBe(served);
    const r = new Redis(redis.url);
    try {
      expect(Number(await r.get(dayCounter(small())))).toBe(fakes.runtime.tokensFor(profiles.get(small()) ?? ''));
    } finally {
      r.disconnect();
    }
  });

  it('answers 429 with Retry-After and a body naming quota, window, used, limit and reset when the worst case does not fit', async () => {
    const ok = await post(
      '/v1/chat/completions',
      { model: MODEL, max_tokens: 40, messages: [{ role: 'user', content: 'hello' }] },
      tokens.get(small()),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.object).toBe('chat.completion');
    const used = fakes.runtime.tokensFor(profiles.get(small()) ?? '');
    const r = await post(
      '/v1/chat/completions',
      { model: MODEL, max_tokens: 390, messages: [{ role: 'user', content: 'hello again' }] },
      tokens.get(small()),
    );
    expect(r.status).toBe(429);
    const err = r.body.error as Record<string, unknown>;
    const tomorrow = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000);
    expect(err).toMatchObject({
      type: 'quota_exceeded',
      quota: 'tokensPerDay',
      window: new Date().toISOString().slice(0, 10),
      used,
      limit: 400,
      reset: tomorrow.toISOString(),
    });
    const retry = Number(r.headers.get('retry-after'));
    expect(Math.abs(retry - (tomorrow.getTime() - Date.now()) / 1000)).toBeLessThan(30);
  });

  it('fails closed with 503 while Redis is down, retrieval unaffected, and recovers when it is back', async () => {
    await redis.stop();
    try {
      const r = await post(
        '/v1/chat/completions',
        { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
        tokens.get(pool[0] ?? ''),
      );
      expect(r.status).toBe(503);
      expect((r.body.error as { type: string }).type).toBe('quota_store_unavailable');
      expect((await post('/v1/retrieve', { query: 'x' }, tokens.get(pool[0] ?? ''))).status).toBe(200);
    } finally {
      await redis.start();
    }
    await eventually(
      async () =>
        (
          await post(
            '/v1/chat/completions',
            { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
            tokens.get(pool[0] ?? ''),
          )
        ).status === 200
          ? true
          : undefined,
      20_000,
      'the gateway to reach Redis again',
      250,
    );
  });

  it('three gateways sharing one Redis and 50 concurrent clients never serve more than a 10,000-token quota', async () => {
    const t = pool[0] ?? '';
    const profile = profiles.get(t) ?? '';
    const r = new Redis(redis.url);
    await r.flushall();
    extra.push(
      ...(await Promise.all([
        startGatewayProcess(c.cp.kubeconfig, stack.logDir, gatewayEnv),
        startGatewayProcess(c.cp.kubeconfig, stack.logDir, gatewayEnv),
      ])),
    );
    const gateways = [gw, ...extra];
    const start = fakes.runtime.log.length;
    const counts = { ok: 0, refused: 0, other: 0 };
    const client = async (k: number): Promise<void> => {
      let refusedInARow = 0;
      for (let i = 0; ; i++) {
        const res = await post(
          '/v1/chat/completions',
          { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: `client ${k} question ${i}: what is in the report?` }] },
          tokens.get(t),
          gateways[(k + i) % gateways.length]?.url,
        );
        if (res.status === 200) {
          counts.ok++;
          refusedInARow = 0;
        } else if (res.status === 429) {
          counts.refused++;
          // Refused while others hold reservations: try again a few times, then give up.
          if (++refusedInARow >= 3) return;
          await new Promise((ok) => setTimeout(ok, 50));
        } else {
          counts.other++;
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, k) => client(k)));
    const served = fakes.runtime.log
      .slice(start)
      .filter((l) => l.modelId === profile)
      .reduce((n, l) => n + l.usage.totalTokens, 0);
    const counted = Number(await r.get(dayCounter(t)));
    r.disconnect();
    expect(counts.other).toBe(0);
    expect(counts.refused).toBeGreaterThanOrEqual(150);
    expect(served).toBeLessThanOrEqual(10_000);
    // Exact accounting: the shared counter holds what the model served, nothing more or less.
    expect(counted).toBe(served);
    // And the quota was used, not refused early (reservations are the worst case, so some is left).
    expect(served).toBeGreaterThan(5_000);
    console.log(`concurrency: ${counts.ok} served, ${counts.refused} refused, ${served} of 10000 tokens used`);
  }, 300_000);
});
