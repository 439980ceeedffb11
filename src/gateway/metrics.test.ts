/**
 * The outcome labels stay a fixed, named set: every refusal type the gateway's code can throw maps
 * to a reason of its own (so a new refusal without one fails here rather than hiding under
 * `other`), and every upstream error type to a failure. A deleted tenant's or model's series are
 * dropped by whole name, never by prefix.
 */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Counter, Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  FAILURES,
  type GatewayMetrics,
  REFUSAL_REASONS,
  Departed,
  createGatewayMetrics,
  forgetModel,
  forgetTenant,
  recordRequest,
  refusalReason,
  upstreamFailure,
  welcomeModel,
  welcomeTenant,
} from './metrics.js';

const dir = fileURLToPath(new URL('.', import.meta.url));

async function sources(): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  return (await Promise.all(files.map((f) => readFile(`${dir}/${f}`, 'utf8')))).join('\n');
}

describe('gateway outcome labels', () => {
  it('map every refusal type thrown in src/gateway to a reason of its own', async () => {
    const text = await sources();
    const types = new Set([...text.matchAll(/(?:Refusal\(|super\()\s*\d{3},\s*'([a-z_]+)'/g)].map((m) => m[1] ?? ''));
    expect([...types]).toEqual(
      expect.arrayContaining([
        'identity_unavailable',
        'model_not_granted',
        'model_not_ready',
        'quota_exceeded',
        'quota_store_unavailable',
        'tenant_not_ready',
        'tenant_suspended',
        'unauthorized',
      ]),
    );
    for (const t of types) expect(refusalReason(t), t).not.toBe('other');
    expect(refusalReason('quota_exceeded', 'tokensPerDay')).toBe('quota');
    expect(refusalReason('quota_exceeded', 'tokensPerMonth')).toBe('quota');
    expect(refusalReason('quota_exceeded', 'requestsPerMinute')).toBe('rate');
    // The server's own answers to a path it does not serve or a method an API route does not take.
    expect(refusalReason('not_found')).toBe('not_found');
    expect(refusalReason('method_not_allowed')).toBe('method_not_allowed');
    expect(refusalReason('something_new')).toBe('other');
    expect(REFUSAL_REASONS).toContain('other');
  });

  it('map every upstream error type the server sends to a failure', async () => {
    const text = await sources();
    const types = [...text.matchAll(/type: '(upstream_[a-z_]+)'/g)].map((m) => m[1] ?? '');
    expect(types.length).toBeGreaterThanOrEqual(5);
    expect(new Set(types.map(upstreamFailure))).toEqual(new Set(FAILURES.filter((f) => f !== 'client_closed')));
  });
});

/** Every series of every metric, as `name{label="value",...}` lines (values left out). */
async function series(m: GatewayMetrics): Promise<string[]> {
  const out: string[] = [];
  for (const metric of await m.registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const labels = Object.entries(v.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => `${k}="${String(x)}"`)
        .join(',');
      out.push(`${(v as { metricName?: string }).metricName ?? metric.name}{${labels}}`);
    }
  }
  return out.sort();
}

/** One tenant's traffic: a served chat, a quota refusal, tokens, an estimate, an alert and an overshoot on `model`. */
function traffic(m: GatewayMetrics, tenant: string, model: string): void {
  recordRequest(m, { route: '/v1/chat/completions', tenant, outcome: 'ok', seconds: 0.01 });
  recordRequest(m, { route: '/v1/chat/completions', tenant, outcome: 'quota', seconds: 0.001 });
  m.tokens.inc({ tenant, model, direction: 'input' }, 3);
  m.tokens.inc({ tenant, model, direction: 'output' }, 2);
  m.estimatedTokens.inc({ tenant, model }, 9);
  m.quotaRefusals.inc({ tenant, model, quota: 'tokensPerDay' });
  m.quotaAlerts.inc({ tenant, model, quota: 'tokensPerMonth' });
  m.quotaOvershootTokens.inc({ tenant, model }, 1);
}

describe('forgetting the series of a deleted tenant or model', () => {
  // Names that share a prefix, a suffix or differ in case with `a`: none may go with it.
  const others = ['a-b', 'ab', 'b-a', 'A'];

  it("drops every per-tenant series of the tenant and nothing of any other tenant's, nor the tenant-less metrics", async () => {
    const m = createGatewayMetrics(false);
    for (const t of ['a', ...others]) traffic(m, t, 'nova');
    recordRequest(m, { route: '/v1/retrieve', tenant: '(none)', outcome: 'auth', seconds: 0.001 });
    m.quotaStoreErrors.inc({ action: 'reserve' });
    m.tokenReviews.inc({ result: 'accepted' });
    const before = await series(m);
    const ofA = before.filter((x) => x.includes('tenant="a"'));
    // requests (2), refusals, request_seconds, tokens (2), estimated, quota refusals, alerts, overshoot.
    expect(ofA).toHaveLength(10);

    await forgetTenant(m, 'a');

    const after = await series(m);
    expect(after.filter((x) => x.includes('tenant="a"'))).toEqual([]);
    expect(after).toEqual(before.filter((x) => !ofA.includes(x)));
    for (const t of others)
      expect(
        after.filter((x) => x.includes(`tenant="${t}"`)),
        t,
      ).toHaveLength(10);
    expect(after.some((x) => x.includes('tenant="(none)"'))).toBe(true);
    expect(after.some((x) => x.startsWith('tenant_rag_gateway_request_duration_seconds_count{'))).toBe(true);
    // The values of what stays are untouched.
    expect((await m.tokens.get()).values.find((v) => v.labels.tenant === 'a-b' && v.labels.direction === 'input')?.value).toBe(3);
  });

  it("drops one model's series of one tenant: its other models, its requests and other tenants' same model stay", async () => {
    const m = createGatewayMetrics(false);
    traffic(m, 'a', 'nova');
    traffic(m, 'a', 'nova-pro');
    traffic(m, 'a-b', 'nova');
    const before = await series(m);

    await forgetModel(m, 'a', 'nova');

    const after = await series(m);
    const gone = before.filter((x) => !after.includes(x));
    expect(gone).toHaveLength(6);
    expect(gone.every((x) => x.includes('model="nova"') && x.includes('tenant="a"'))).toBe(true);
    expect(after.filter((x) => x.includes('tenant="a"') && x.includes('model="nova-pro"'))).toHaveLength(6);
    expect(after.filter((x) => x.includes('tenant="a-b"') && x.includes('model="nova"'))).toHaveLength(6);
    expect(after.some((x) => x.startsWith('tenant_rag_gateway_requests_total{') && x.includes('tenant="a"'))).toBe(true);
  });

  it('covers every metric with a tenant label, so a metric added later is not left behind', async () => {
    const m = createGatewayMetrics(false);
    const labelled = Object.values(m)
      .filter((x): x is Counter<string> | Histogram<string> => x instanceof Counter || x instanceof Histogram)
      .map((x) => ({ metric: x, labels: (x as unknown as { labelNames: string[] }).labelNames }))
      .filter((x) => x.labels.includes('tenant'));
    expect(labelled).toHaveLength(8);
    for (const { metric, labels } of labelled) {
      const values = Object.fromEntries(labels.map((l) => [l, l === 'tenant' ? 'a' : 'x']));
      if (metric instanceof Counter) metric.inc(values);
      else metric.observe(values, 1);
    }
    expect(await m.registry.metrics()).toContain('tenant="a"');
    await forgetTenant(m, 'a');
    expect(await m.registry.metrics()).not.toContain('tenant="a"');
  });

  it('makes no series again for a request that was in flight when its tenant was deleted, until the tenant is back', async () => {
    const m = createGatewayMetrics(false);
    for (const t of ['a', ...others]) traffic(m, t, 'nova');
    await forgetTenant(m, 'a');
    const before = await series(m);
    // The requests still in flight finish: nothing of `a` comes back; the tenants named like it count on.
    for (const t of ['a', ...others]) traffic(m, t, 'nova');
    const after = await series(m);
    expect(after.filter((x) => x.includes('tenant="a"'))).toEqual([]);
    expect(after).toEqual(before);
    expect((await m.tokens.get()).values.find((v) => v.labels.tenant === 'a-b' && v.labels.direction === 'input')?.value).toBe(6);
    // The latency histogram (no tenant label) still counts the requests: 2 by each of 5 tenants, twice.
    const counts = (await m.duration.get()).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
    expect(counts.reduce((n, v) => n + v.value, 0)).toBe(20);

    welcomeTenant(m, 'a');
    traffic(m, 'a', 'nova');
    expect((await m.tokens.get()).values.find((v) => v.labels.tenant === 'a' && v.labels.direction === 'input')?.value).toBe(3);
  });

  it("makes no series again for a deleted grant's model; the tenant's requests and other models count on", async () => {
    const m = createGatewayMetrics(false);
    traffic(m, 'a', 'nova');
    await forgetModel(m, 'a', 'nova');
    traffic(m, 'a', 'nova');
    traffic(m, 'a', 'nova-pro');
    traffic(m, 'a-b', 'nova');
    const now = await series(m);
    expect(now.filter((x) => x.includes('tenant="a"') && x.includes('model="nova"'))).toEqual([]);
    expect(now.filter((x) => x.includes('tenant="a"') && x.includes('model="nova-pro"'))).toHaveLength(6);
    expect(now.filter((x) => x.includes('tenant="a-b"') && x.includes('model="nova"'))).toHaveLength(6);
    expect((await m.requests.get()).values.filter((v) => v.labels.tenant === 'a').map((v) => v.value)).toEqual([3, 3]);

    welcomeModel(m, 'a', 'nova');
    traffic(m, 'a', 'nova');
    expect((await series(m)).filter((x) => x.includes('tenant="a"') && x.includes('model="nova"'))).toHaveLength(6);
  });

  it('remembers a departure for an hour, then lets it go (the set stays bounded)', () => {
    let now = 0;
    const d = new Departed(3_600_000, () => now);
    d.add('a');
    d.add('b', 'nova');
    expect(d.has({ tenant: 'a', route: 'x' })).toBe(true);
    expect(d.has({ tenant: 'b', model: 'nova' })).toBe(true);
    expect(d.has({ tenant: 'b', model: 'nova-pro' })).toBe(false);
    expect(d.has({ tenant: 'a-b' })).toBe(false);
    expect(d.has({ tenant: 'b' })).toBe(false);
    // `a` departs again later: its hour starts again, and it moves behind `b`.
    now = 1_000_000;
    d.add('a');
    now = 3_600_001;
    d.add('c');
    expect(d.has({ tenant: 'a' })).toBe(true);
    expect(d.has({ tenant: 'b', model: 'nova' })).toBe(false);
    now = 4_600_001;
    d.add('d');
    expect(d.has({ tenant: 'a' })).toBe(false);
    expect(d.has({ tenant: 'b', model: 'nova' })).toBe(false);
    expect(d.has({ tenant: 'c' })).toBe(true);
  });
});
