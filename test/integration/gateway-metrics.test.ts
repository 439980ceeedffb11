/**
 * The gateway's per-tenant metrics over the wire: a gateway process as `npm run gateway` runs it,
 * over a real kube-apiserver (TokenReview of real ServiceAccount tokens, informers), real Redis
 * and moto (STS for the tenant roles), with an upstream stub for Bedrock that records the usage it
 * reports. Tenants are made Ready by writing their status as the operator would (no operator
 * runs). After real requests, /metrics must show each one under its tenant, route and outcome,
 * the tokens the upstream reported, and each refusal under its reason.
 */
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../support/controlplane.js';
import { type GatewayProcess, startGatewayProcess } from '../support/gateway-env.js';
import { TestKube } from '../support/kube.js';
import { type Moto, startMoto } from '../support/moto.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const MODEL = 'amazon.nova-lite-v1:0';
const ACCOUNT = '123456789012';
const KB = 'METRICSKB1';
const CHAT = '/v1/chat/completions';
const RETRIEVE = '/v1/retrieve';
const crds = fileURLToPath(new URL('../../crds', import.meta.url));

/** Tenant `big` may use 100,000 tokens a day, `small` 50 (less than one request's worst case). */
const [big, small] = ['mx-big', 'mx-small'];

let cp: ControlPlane;
let kube: TestKube;
let moto: Moto;
let redis: TestRedis;
let gw: GatewayProcess;
let upstream: Server;
/** Usage the upstream reported, per inference profile. */
const reported = new Map<string, { input: number; output: number }>();
const tokens = new Map<string, string>();

/** Bedrock stub: Converse answers with usage (input 12, output min(maxTokens, 40)) or AccessDenied for "deny-me"; Retrieve with one result. */
function startUpstream(): Promise<string> {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const body = JSON.parse(raw || '{}') as { inferenceConfig?: { maxTokens?: number } };
      const url = req.url ?? '';
      if (!url.endsWith('/converse')) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ retrievalResults: [{ content: { text: 'doc' } }] }));
        return;
      }
      if (raw.includes('deny-me')) {
        res
          .writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' })
          .end(JSON.stringify({ message: 'explicit deny' }));
        return;
      }
      const profile = decodeURIComponent(url.split('/')[2] ?? '');
      const output = Math.min(body.inferenceConfig?.maxTokens ?? 40, 40);
      const r = reported.get(profile) ?? { input: 0, output: 0 };
      reported.set(profile, { input: r.input + 12, output: r.output + output });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          output: { message: { role: 'assistant', content: [{ text: 'word '.repeat(output).trim() }] } },
          stopReason: 'end_turn',
          usage: { inputTokens: 12, outputTokens: output, totalTokens: 12 + output },
          metrics: { latencyMs: 0 },
        }),
      );
    });
  });
  return new Promise((ok) => upstream.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`)));
}

const profileOf = (t: string): string => `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${t}`;

async function post(path: string, body: unknown, tenant?: string): Promise<number> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(tenant ? { authorization: `Bearer ${tokens.get(tenant) ?? ''}` } : {}) },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tro-gw-metrics-'));
  cp = await startControlPlane({ logDir: dir });
  kube = new TestKube(cp.kubeconfig);
  let url: string;
  [moto, redis, url] = await Promise.all([startMoto(join(dir, 'moto.log')), startRedis(join(dir, 'redis.log')), startUpstream()]);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
  await kube.apply(
    [
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: mx }\nspec: { isolation: pool }\n`,
      ...[big, small].flatMap((t) => [
        `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${t} }\n`,
        `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: app, namespace: ${t} }\n`,
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${t} }\nspec: { tier: mx, access: { podIdentity: { namespace: ${t}, serviceAccount: app } } }\n`,
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${t}-m }\nspec: { tenantRef: { name: ${t} }, model: "${MODEL}", quota: { tokensPerDay: ${t === big ? 100_000 : 50} } }\n`,
      ]),
    ].join('---\n'),
  );
  // Status as the operator would write it.
  const ready = { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'test', lastTransitionTime: '2026-12-01T00:00:00Z' };
  const patch = (kind: string, name: string, status: unknown): Promise<string> =>
    kube.kubectl('patch', kind, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status }));
  await patch('tenanttier', 'mx', { conditions: [ready], shared: { knowledgeBaseId: KB } });
  for (const t of [big, small]) {
    await patch('tenant', t, {
      conditions: [ready],
      isolation: 'pool',
      resources: { knowledgeBaseId: KB, roleArn: `arn:aws:iam::${ACCOUNT}:role/rag-tenant/rag-mx-t-${t}-app` },
    });
    await patch('modelaccess', `${t}-m`, { conditions: [ready], inferenceProfileArn: profileOf(t) });
    tokens.set(t, (await kube.kubectl('create', 'token', 'app', '-n', t, '--audience', 'tenant-rag-gateway', '--duration', '1h')).trim());
  }
  gw = await startGatewayProcess(cp.kubeconfig, dir, {
    ...moto.env,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
    AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: url,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_REDIS_TIMEOUT_MS: '300',
    GATEWAY_LOG_LEVEL: 'info',
  });
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await new Promise((ok) => (upstream ? upstream.close(ok) : ok(undefined)));
  await redis?.close();
  await moto?.stop();
  await cp?.stop();
});

describe('gateway metrics after real requests', () => {
  it('counts requests by tenant, route and outcome, the tokens the model reported, and refusals by reason', async () => {
    const chat = (content: string, max_tokens = 10): unknown => ({ model: MODEL, max_tokens, messages: [{ role: 'user', content }] });
    expect(await post(CHAT, chat('hello'), big)).toBe(200);
    expect(await post(CHAT, chat('hello again', 25), big)).toBe(200);
    expect(await post(RETRIEVE, { query: 'numbers' }, small)).toBe(200);
    expect(await post(CHAT, chat('too much', 100), small)).toBe(429);
    expect(await post(RETRIEVE, { query: 'x' })).toBe(401);
    expect(await post(RETRIEVE, { query: 'x', filter: { equals: { key: 'tenantId', value: big } } }, small)).toBe(400);
    expect(await post(CHAT, { ...(chat('x') as object), model: 'not-granted-model' }, small)).toBe(403);
    expect(await post(CHAT, chat('deny-me'), big)).toBe(403);
    await redis.stop();
    try {
      expect(await post(CHAT, chat('hello'), big)).toBe(503);
    } finally {
      await redis.start();
    }

    const requests = (tenant: string, route: string, outcome: string): Promise<number> =>
      gw.metric('tenant_rag_gateway_requests_total', { tenant, route, outcome });
    expect(await requests(big, CHAT, 'ok')).toBe(2);
    expect(await requests(small, RETRIEVE, 'ok')).toBe(1);
    expect(await requests(small, CHAT, 'quota')).toBe(1);
    expect(await requests('(none)', RETRIEVE, 'auth')).toBe(1);
    expect(await requests(small, RETRIEVE, 'scope')).toBe(1);
    expect(await requests(small, CHAT, 'not_granted')).toBe(1);
    expect(await requests(big, CHAT, 'upstream_denied')).toBe(1);
    expect(await requests(big, CHAT, 'store_unavailable')).toBe(1);
    expect(await gw.metric('tenant_rag_gateway_requests_total')).toBe(9);

    const served = reported.get(profileOf(big));
    expect(served).toEqual({ input: 24, output: 35 });
    expect(await gw.metric('tenant_rag_gateway_model_tokens_total', { tenant: big, model: MODEL, direction: 'input' })).toBe(served?.input);
    expect(await gw.metric('tenant_rag_gateway_model_tokens_total', { tenant: big, model: MODEL, direction: 'output' })).toBe(
      served?.output,
    );
    expect(await gw.metric('tenant_rag_gateway_model_tokens_total', { tenant: small })).toBe(0);

    const refusals = (tenant: string, reason: string): Promise<number> =>
      gw.metric('tenant_rag_gateway_refusals_total', { tenant, reason });
    expect(await refusals(small, 'quota')).toBe(1);
    expect(await refusals('(none)', 'auth')).toBe(1);
    expect(await refusals(small, 'scope')).toBe(1);
    expect(await refusals(small, 'not_granted')).toBe(1);
    expect(await refusals(big, 'store_unavailable')).toBe(1);
    expect(await gw.metric('tenant_rag_gateway_refusals_total')).toBe(5);

    expect(await gw.metric('tenant_rag_gateway_request_duration_seconds_count', { route: CHAT, result: 'ok' })).toBe(2);
    expect(await gw.metric('tenant_rag_gateway_request_duration_seconds_count', { route: CHAT, result: 'error' })).toBe(1);
    expect(await gw.metric('tenant_rag_gateway_request_duration_seconds_count', { route: RETRIEVE })).toBe(3);
    expect(await gw.metric('tenant_rag_gateway_request_seconds_total', { tenant: big, route: CHAT })).toBeGreaterThan(0);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).not.toContain('not-granted-model');
  });
});
