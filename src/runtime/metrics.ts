/** The operator's Prometheus metrics, on a registry made by the composition root (no globals). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the runtime records. */
export interface RuntimeMetrics {
  registry: Registry;
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileDuration: Histogram<'controller'>;
  reconcileErrors: Counter<'controller' | 'reason'>;
  queueDepth: Gauge<'controller'>;
  queueRetries: Counter<'controller'>;
  statusWrites: Counter<'kind'>;
  informerRestarts: Counter<'kind' | 'reason'>;
  leader: Gauge;
  /** AWS calls by service and operation: every attempt, retries included. */
  awsCalls: Counter<'service' | 'operation'>;
  /** AWS attempts answered with a throttling error (the SDK retries them; this counts each). */
  awsThrottled: Counter<'service' | 'operation'>;
}

/** Creates the metrics on a fresh registry. */
export function createMetrics(withProcessMetrics = true): RuntimeMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'tenant_rag_operator_' });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'tenant_rag_operator_reconcile_total',
      help: 'Reconcile passes by result (success, requeue, error, terminal).',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'tenant_rag_operator_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'tenant_rag_operator_reconcile_errors_total',
      help: 'Failed reconcile passes by error kind.',
      labelNames: ['controller', 'reason'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'tenant_rag_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    queueRetries: new Counter({
      name: 'tenant_rag_operator_workqueue_retries_total',
      help: 'Keys re-queued with backoff after a failure.',
      labelNames: ['controller'],
      registers,
    }),
    statusWrites: new Counter({
      name: 'tenant_rag_operator_status_writes_total',
      help: 'Status writes to the API server.',
      labelNames: ['kind'],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'tenant_rag_operator_informer_restarts_total',
      help: 'Watch restarts by reason (watch-closed, watch-error, relist, watchdog, list-error).',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    leader: new Gauge({ name: 'tenant_rag_operator_leader', help: '1 while this instance holds the leader lease.', registers }),
    awsCalls: new Counter({
      name: 'tenant_rag_operator_aws_calls_total',
      help: 'AWS API calls by service and operation; every attempt, retries included.',
      labelNames: ['service', 'operation'],
      registers,
    }),
    awsThrottled: new Counter({
      name: 'tenant_rag_operator_aws_throttled_total',
      help: 'AWS API attempts answered with a throttling error, by service and operation.',
      labelNames: ['service', 'operation'],
      registers,
    }),
  };
}

/** Per-tenant, per-model metering and the account-wide usage poller. */
export interface ModelMetrics {
  /** Tokens in the current UTC window (`window` day or month), by direction input or output. */
  tokens: Gauge<'tenant' | 'model' | 'direction' | 'window'>;
  /** Cost this UTC month in USD from the operator's price table. */
  costUSD: Gauge<'tenant' | 'model'>;
  /** The highest share of a quota window used, in percent. */
  quotaPercent: Gauge<'tenant' | 'model'>;
  /** 1 while access is denied for an exhausted quota (or a suspended tenant). */
  throttled: Gauge<'tenant' | 'model'>;
  /** Throttle transitions, `direction` throttled or unthrottled. */
  throttleTransitions: Counter<'tenant' | 'model' | 'direction'>;
  /** Usage polls by result (success, partial, error). */
  usagePolls: Counter<'result'>;
  /** GetMetricData calls made by the usage poller. */
  usageCalls: Counter;
  /** Inference profiles read by the last poll. */
  usageProfiles: Gauge;
  /** Unix time of the last poll that read every profile. */
  usageLastSuccess: Gauge;
}

/** Creates the model metrics on the operator's registry. */
export function createModelMetrics(registry: Registry): ModelMetrics {
  const registers = [registry];
  const byModel = ['tenant', 'model'] as const;
  return {
    tokens: new Gauge({
      name: 'tenant_rag_operator_model_tokens',
      help: 'Tokens used in the current UTC window (window=day|month), by direction (input|output).',
      labelNames: [...byModel, 'direction', 'window'],
      registers,
    }),
    costUSD: new Gauge({
      name: 'tenant_rag_operator_model_cost_usd',
      help: "Cost this UTC month in USD, from the operator's price table.",
      labelNames: byModel,
      registers,
    }),
    quotaPercent: new Gauge({
      name: 'tenant_rag_operator_model_quota_used_percent',
      help: 'Highest share of a quota window (day or month) used, in percent.',
      labelNames: byModel,
      registers,
    }),
    throttled: new Gauge({
      name: 'tenant_rag_operator_model_throttled',
      help: '1 while model access is denied because a quota window is exhausted (or the tenant is suspended).',
      labelNames: byModel,
      registers,
    }),
    throttleTransitions: new Counter({
      name: 'tenant_rag_operator_model_throttle_transitions_total',
      help: 'Throttle transitions by direction (throttled, unthrottled).',
      labelNames: [...byModel, 'direction'],
      registers,
    }),
    usagePolls: new Counter({
      name: 'tenant_rag_operator_usage_polls_total',
      help: 'Usage polls by result (success, partial, error).',
      labelNames: ['result'],
      registers,
    }),
    usageCalls: new Counter({
      name: 'tenant_rag_operator_usage_getmetricdata_calls_total',
      help: 'CloudWatch GetMetricData calls made by the usage poller.',
      registers,
    }),
    usageProfiles: new Gauge({
      name: 'tenant_rag_operator_usage_profiles',
      help: 'Inference profiles read by the last usage poll.',
      registers,
    }),
    usageLastSuccess: new Gauge({
      name: 'tenant_rag_operator_usage_last_success_timestamp_seconds',
      help: 'Unix time of the last usage poll that read every profile.',
      registers,
    }),
  };
}

/** What the tenant info metric says of one tenant. */
export interface TenantInfo {
  tenant: string;
  tier: string;
  isolation: string;
  vectorStore: string;
}

/**
 * `tenant_rag_operator_tenant_info`: 1 per tenant, labelled with its tier, isolation pattern and
 * vector store, read from the informer cache at each scrape (a deleted tenant's series goes with it).
 */
export function registerTenantInfo(
  registry: Registry,
  tenants: () => readonly TenantInfo[],
): Gauge<'tenant' | 'tier' | 'isolation' | 'vector_store'> {
  return new Gauge({
    name: 'tenant_rag_operator_tenant_info',
    help: "1 per tenant, labelled with its tier, isolation pattern and vector store (from the tenant's status).",
    labelNames: ['tenant', 'tier', 'isolation', 'vector_store'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of tenants()) this.set({ tenant: t.tenant, tier: t.tier, isolation: t.isolation, vector_store: t.vectorStore }, 1);
    },
  });
}
