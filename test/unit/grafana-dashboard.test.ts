/** The shipped Grafana dashboard queries only metrics the operator exports, by their exact names. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMetrics, createModelMetrics, registerTenantInfo } from '../../src/runtime/metrics.js';

describe('docs/grafana/tenant-cost.json', () => {
  it('uses only exported metric names', async () => {
    const text = await readFile(fileURLToPath(new URL('../../docs/grafana/tenant-cost.json', import.meta.url)), 'utf8');
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
