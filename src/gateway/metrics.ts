/** Prometheus metrics of the gateway (prefix `tenant_rag_gateway_`). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's metrics and their registry. */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'route' | 'code'>;
  duration: Histogram<'route'>;
  tokens: Counter<'tenant' | 'model' | 'direction'>;
  quotaRefusals: Counter<'tenant' | 'model' | 'quota'>;
  quotaAlerts: Counter<'tenant' | 'model' | 'quota'>;
  /** Reservations settled above what was reserved (the prompt bound was too low). */
  quotaOvershootTokens: Counter<'tenant' | 'model'>;
  quotaStoreErrors: Counter<'action'>;
  tokenReviews: Counter<'result'>;
}

/** Creates the metrics in a new registry. */
export function createGatewayMetrics(withProcessMetrics = true): GatewayMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry });
  const p = 'tenant_rag_gateway_';
  return {
    registry,
    requests: new Counter({
      name: `${p}requests_total`,
      help: 'Requests by route and status code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Time to the response head (streams: to the first byte)',
      labelNames: ['route'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    tokens: new Counter({
      name: `${p}model_tokens_total`,
      help: 'Tokens served through the gateway, by tenant, model and direction (input, output)',
      labelNames: ['tenant', 'model', 'direction'],
      registers: [registry],
    }),
    quotaRefusals: new Counter({
      name: `${p}quota_refusals_total`,
      help: 'Requests refused with 429 by quota',
      labelNames: ['tenant', 'model', 'quota'],
      registers: [registry],
    }),
    quotaAlerts: new Counter({
      name: `${p}quota_alerts_total`,
      help: 'Requests over a quota with onExceeded Alert, let through',
      labelNames: ['tenant', 'model', 'quota'],
      registers: [registry],
    }),
    quotaOvershootTokens: new Counter({
      name: `${p}quota_overshoot_tokens_total`,
      help: 'Tokens used beyond what a request reserved',
      labelNames: ['tenant', 'model'],
      registers: [registry],
    }),
    quotaStoreErrors: new Counter({
      name: `${p}quota_store_errors_total`,
      help: 'Quota store calls that failed (reserve, settle)',
      labelNames: ['action'],
      registers: [registry],
    }),
    tokenReviews: new Counter({
      name: `${p}token_reviews_total`,
      help: 'Caller tokens checked, by result (cached, reviewed, refused)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
