/**
 * The shipped Grafana dashboard queries only metrics the operator and the gateway export, by their
 * exact names (and, for the gateway row, only labels those metrics have), so renaming a metric or
 * a label breaks this test rather than an empty panel.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../src/gateway/metrics.js';
import { createMetrics, createModelMetrics, registerTenantInfo } from '../../src/runtime/metrics.js';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string; legendFormat?: string }[];
}

const dashboardText = (): Promise<string> =>
  readFile(fileURLToPath(new URL('../../docs/grafana/tenant-cost.json', import.meta.url)), 'utf8');

/** The series names the gateway exposes (a histogram's `_bucket`, `_sum`, `_count`), each with its label names. */
function gatewaySeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const metric of Object.values(createGatewayMetrics(false))) {
    if (!(metric && typeof metric === 'object' && 'labelNames' in metric)) continue;
    const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
    expect(Array.isArray(labelNames), name).toBe(true);
    if (metric instanceof Histogram) {
      series.set(`${name}_bucket`, new Set([...labelNames, 'le']));
      series.set(`${name}_sum`, new Set(labelNames));
      series.set(`${name}_count`, new Set(labelNames));
    } else series.set(name, new Set(labelNames));
  }
  return series;
}

/** Label names a PromQL expression uses: in selectors, `by (...)`/`without (...)`, and `{{label}}` in the legend. */
function labelsUsed(expr: string, legend = ''): string[] {
  const inSelectors = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? ''),
  );
  const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((l) => l.trim()));
  const inLegend = [...legend.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((m) => m[1] ?? '');
  return [...inSelectors, ...grouped, ...inLegend].filter(Boolean);
}

describe('docs/grafana/tenant-cost.json', () => {
  it('uses only exported metric names', async () => {
    const text = await dashboardText();
    const dashboard = JSON.parse(text) as { panels: unknown[] };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const metrics = createMetrics(false);
    createModelMetrics(metrics.registry);
    registerTenantInfo(metrics.registry, () => []);
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set([...text.matchAll(/tenant_rag_operator_[a-z_]+/g)].map((m) => m[0]));
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    for (const n of [
      'tenant_rag_operator_model_tokens',
      'tenant_rag_operator_model_cost_usd',
      'tenant_rag_operator_model_quota_used_percent',
      'tenant_rag_operator_model_throttled',
      'tenant_rag_operator_tenant_info',
    ])
      expect(used.has(n)).toBe(true);
  });

  it('gateway row: requests by tenant, tokens by tenant, refusals by reason, latency p50/p99, on metrics and labels the gateway exports', async () => {
    const dashboard = JSON.parse(await dashboardText()) as { panels: Panel[] };
    const series = gatewaySeries();
    const targets = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).filter((t) => t.expr.includes('tenant_rag_gateway_')).map((t) => ({ panel: p.title, ...t })),
    );
    expect(dashboard.panels.some((p) => p.type === 'row' && /gateway/i.test(p.title))).toBe(true);
    for (const t of targets) {
      const names = [...t.expr.matchAll(/tenant_rag_gateway_[a-z_]+/g)].map((m) => m[0]);
      for (const n of names) expect(series.has(n), `${t.panel}: ${n} is not exported by the gateway`).toBe(true);
      const labels = new Set(names.flatMap((n) => [...(series.get(n) ?? [])]));
      for (const l of labelsUsed(t.expr, t.legendFormat))
        expect(labels.has(l), `${t.panel}: label ${l} is not on ${names.join(', ')}`).toBe(true);
    }
    const exprs = targets.map((t) => t.expr);
    const has = (re: RegExp): boolean => exprs.some((e) => re.test(e));
    expect(has(/topk\(\d+, sum by \(tenant\) \(rate\(tenant_rag_gateway_requests_total\b/)).toBe(true);
    expect(has(/sum by \(tenant\) \(rate\(tenant_rag_gateway_model_tokens_total\b/)).toBe(true);
    expect(has(/sum by \(reason\) \(rate\(tenant_rag_gateway_refusals_total\b/)).toBe(true);
    expect(has(/histogram_quantile\(0\.5, .*tenant_rag_gateway_request_duration_seconds_bucket/)).toBe(true);
    expect(has(/histogram_quantile\(0\.99, .*tenant_rag_gateway_request_duration_seconds_bucket/)).toBe(true);
  });

  it('tenant_rag_operator_tenant_info: one series per tenant with its store, read at each scrape', async () => {
    const metrics = createMetrics(false);
    let tenants = [
      { tenant: 'acme', tier: 'basic', isolation: 'pool', vectorStore: 'OpenSearchServerless' },
      { tenant: 'hooli', tier: 'lite', isolation: 'bridge', vectorStore: 'S3Vectors' },
    ];
    registerTenantInfo(metrics.registry, () => tenants);
    const text = await metrics.registry.getSingleMetricAsString('tenant_rag_operator_tenant_info');
    expect(text).toContain('tenant_rag_operator_tenant_info{tenant="hooli",tier="lite",isolation="bridge",vector_store="S3Vectors"} 1');
    expect(text).toContain('vector_store="OpenSearchServerless"} 1');
    tenants = tenants.slice(1);
    expect(await metrics.registry.getSingleMetricAsString('tenant_rag_operator_tenant_info')).not.toContain('acme');
  });
});
