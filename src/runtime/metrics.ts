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
  };
}
