/**
 * Prometheus metrics of the gateway (prefix `tenant_rag_gateway_`), per tenant where that stays
 * bounded.
 *
 * Cardinality: every label value comes from a set the gateway controls, never from the request.
 * `route` is one of the three API paths, or {@link UNMATCHED} for any other path (never the path
 * itself: random paths would make a series each), `outcome` and `reason` are the fixed lists below, `tenant` is the name of the Tenant the caller's verified token maps to
 * (or {@link NO_TENANT} before one is known), `model` the spec.model of the ModelAccess that
 * granted the call (a model the caller names but was not granted is never a label). Series grow
 * with tenants × routes × outcomes seen and tenants × granted models, not with traffic.
 *
 * The latency histogram has no tenant label: its 15 buckets would cost about 17 series per tenant,
 * route and result (hundreds of thousands for thousands of tenants). Per-tenant latency is a mean
 * instead, `request_seconds_total / requests_total`, one more series per tenant and route.
 *
 * A deleted Tenant's series are dropped ({@link forgetTenant}), and a deleted ModelAccess's
 * ({@link forgetModel}), so series follow the tenants that exist, not all that ever did. A request
 * still in flight when its tenant or grant is deleted does not make them again: the per-tenant
 * counters skip labels of a {@link Departed} tenant or model until it is added again.
 */
import type { Forget } from './directory.js';
import { Counter, type CounterConfiguration, Histogram, type LabelValues, Registry, collectDefaultMetrics } from 'prom-client';

/** The `tenant` label of a request refused before its caller was identified (401, TokenReview down). */
export const NO_TENANT = '(none)';

/**
 * Why the gateway itself refused a request (the `reason` of refusals_total and an `outcome` of
 * requests_total): `auth` 401, `identity_unavailable` TokenReview down, `invalid` a bad body,
 * `scope` a retrieval filter that names tenantId or is malformed, `not_granted` no ModelAccess for
 * the model, `suspended`, `not_ready` (Tenant or ModelAccess), `quota` a token quota, `rate`
 * requestsPerMinute, `store_unavailable` the quota store is down (fail-closed), `not_found` a path
 * the gateway does not serve (404), `method_not_allowed` an API path without POST (405), `other`
 * a refusal this list does not name yet.
 */
export const REFUSAL_REASONS = [
  'auth',
  'identity_unavailable',
  'invalid',
  'scope',
  'not_granted',
  'suspended',
  'not_ready',
  'quota',
  'rate',
  'store_unavailable',
  'not_found',
  'method_not_allowed',
  'other',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Requests the gateway accepted that did not complete: Bedrock's errors, or the caller went away. */
export const FAILURES = [
  'upstream_denied',
  'upstream_throttled',
  'upstream_invalid',
  'upstream_not_found',
  'upstream_error',
  'client_closed',
] as const;
export type Failure = (typeof FAILURES)[number];

/** What became of a request. */
export type Outcome = 'ok' | RefusalReason | Failure;

/** The API routes. */
export const ROUTES = ['/v1/retrieve', '/v1/retrieve-and-generate', '/v1/chat/completions'] as const;
export type Route = (typeof ROUTES)[number];

/** The `route` label of a request to any path that is not an API route (answered 404). */
export const UNMATCHED = 'unmatched';
/** The values of the `route` label: an API route, or {@link UNMATCHED}. */
export type RouteLabel = Route | typeof UNMATCHED;

/** The `result` label of the latency histogram: served, refused by the gateway, or failed. */
export type Result = 'ok' | 'refused' | 'error';

const REASON_BY_TYPE: Record<string, RefusalReason> = {
  unauthorized: 'auth',
  identity_unavailable: 'identity_unavailable',
  invalid_request: 'invalid',
  model_not_granted: 'not_granted',
  tenant_suspended: 'suspended',
  tenant_not_ready: 'not_ready',
  model_not_ready: 'not_ready',
  quota_store_unavailable: 'store_unavailable',
  not_found: 'not_found',
  method_not_allowed: 'method_not_allowed',
};

/** The reason of a refusal, from its error type (and, for a quota refusal, the quota it hit). */
export function refusalReason(type: string, quota?: string): RefusalReason {
  if (type === 'quota_exceeded') return quota === 'requestsPerMinute' ? 'rate' : 'quota';
  return REASON_BY_TYPE[type] ?? 'other';
}

const FAILURE_BY_TYPE: Record<string, Failure> = {
  upstream_access_denied: 'upstream_denied',
  upstream_throttled: 'upstream_throttled',
  upstream_invalid_request: 'upstream_invalid',
  upstream_not_found: 'upstream_not_found',
};

/** The outcome of an upstream (Bedrock) error, from the error type the caller is sent. */
export function upstreamFailure(type: string): Failure {
  return FAILURE_BY_TYPE[type] ?? 'upstream_error';
}

function resultOf(o: Outcome): Result {
  if (o === 'ok') return 'ok';
  return (REFUSAL_REASONS as readonly string[]).includes(o) ? 'refused' : 'error';
}

/**
 * Tenants, and tenants' models, deleted within the last hour (longer than any request runs):
 * their series are gone and must not come back from a request that was in flight.
 */
export class Departed {
  private readonly since = new Map<string, number>();
  constructor(
    private readonly keepMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}
  add(tenant: string, model?: string): void {
    const now = this.now();
    // Oldest first (a key added again moves to the end): stop at the first still kept.
    for (const [k, at] of this.since) {
      if (now - at <= this.keepMs) break;
      this.since.delete(k);
    }
    const k = key(tenant, model);
    this.since.delete(k);
    this.since.set(k, now);
  }
  /** The tenant (or its model) exists again. */
  remove(tenant: string, model?: string): void {
    this.since.delete(key(tenant, model));
  }
  /** Whether a series with these labels belongs to a departed tenant or model. */
  has(labels: Partial<Record<string, string | number>>): boolean {
    if (this.since.size === 0 || typeof labels.tenant !== 'string') return false;
    return this.since.has(key(labels.tenant)) || (typeof labels.model === 'string' && this.since.has(key(labels.tenant, labels.model)));
  }
}
// Kubernetes names hold no NUL.
const key = (tenant: string, model?: string): string => (model === undefined ? tenant : `${tenant}\u0000${model}`);

/**
 * A counter with a `tenant` label that counts nothing for a departed tenant or model. prom-client
 * sets `inc` on each counter in its constructor (no exemplars here: an object is the labels), so
 * the instance's own is wrapped.
 */
function tenantCounter<T extends string>(departed: Departed, config: CounterConfiguration<T>): Counter<T> {
  const counter = new Counter(config);
  const inc = counter.inc.bind(counter) as (labels?: LabelValues<T> | number, value?: number) => void;
  counter.inc = ((labels?: LabelValues<T> | number, value?: number): void => {
    if (typeof labels === 'object' && departed.has(labels)) return;
    inc(labels, value);
  }) as Counter<T>['inc'];
  return counter;
}

/** The gateway's metrics and their registry. */
export interface GatewayMetrics {
  registry: Registry;
  departed: Departed;
  requests: Counter<'tenant' | 'route' | 'outcome'>;
  refusals: Counter<'tenant' | 'reason'>;
  duration: Histogram<'route' | 'result'>;
  requestSeconds: Counter<'tenant' | 'route'>;
  tokens: Counter<'tenant' | 'model' | 'direction'>;
  estimatedTokens: Counter<'tenant' | 'model'>;
  quotaRefusals: Counter<'tenant' | 'model' | 'quota'>;
  quotaAlerts: Counter<'tenant' | 'model' | 'quota'>;
  /** Reservations settled above what was reserved (the prompt bound was too low). */
  quotaOvershootTokens: Counter<'tenant' | 'model'>;
  quotaStoreErrors: Counter<'action'>;
  tokenReviews: Counter<'result'>;
}

/** One finished request, as the server saw it. */
export interface FinishedRequest {
  route: RouteLabel;
  tenant: string;
  outcome: Outcome;
  /** To the response head (streams: until the stream opened). */
  seconds: number;
}

/** Counts a finished request in requests, refusals, the latency histogram and the tenant's time. */
export function recordRequest(m: GatewayMetrics, r: FinishedRequest): void {
  const result = resultOf(r.outcome);
  m.requests.inc({ tenant: r.tenant, route: r.route, outcome: r.outcome });
  if (result === 'refused') m.refusals.inc({ tenant: r.tenant, reason: r.outcome });
  m.duration.observe({ route: r.route, result }, r.seconds);
  m.requestSeconds.inc({ tenant: r.tenant, route: r.route }, r.seconds);
}

/** Creates the metrics in a new registry. */
export function createGatewayMetrics(withProcessMetrics = true): GatewayMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry });
  const p = 'tenant_rag_gateway_';
  const departed = new Departed();
  return {
    registry,
    departed,
    requests: tenantCounter(departed, {
      name: `${p}requests_total`,
      help: 'API requests by tenant (the verified caller), route and outcome (ok, a refusal reason, or an upstream failure)',
      labelNames: ['tenant', 'route', 'outcome'],
      registers: [registry],
    }),
    refusals: tenantCounter(departed, {
      name: `${p}refusals_total`,
      help: 'Requests the gateway refused, by tenant and reason (auth, quota, rate, scope, store_unavailable, ...)',
      labelNames: ['tenant', 'reason'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Time to the response head (streams: until the model stream opened), by route and result (ok, refused, error)',
      labelNames: ['route', 'result'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    requestSeconds: tenantCounter(departed, {
      name: `${p}request_seconds_total`,
      help: 'Sum of request durations (as request_duration_seconds) by tenant and route; divided by requests_total, the mean',
      labelNames: ['tenant', 'route'],
      registers: [registry],
    }),
    tokens: tenantCounter(departed, {
      name: `${p}model_tokens_total`,
      help: 'Tokens Bedrock reported for calls through the gateway, by tenant, model and direction (input, output)',
      labelNames: ['tenant', 'model', 'direction'],
      registers: [registry],
    }),
    estimatedTokens: tenantCounter(departed, {
      name: `${p}estimated_tokens_total`,
      help: 'Estimated tokens of calls that report no usage (retrieve-and-generate; model calls and streams that failed but may have run: their whole reservation), by tenant and model',
      labelNames: ['tenant', 'model'],
      registers: [registry],
    }),
    quotaRefusals: tenantCounter(departed, {
      name: `${p}quota_refusals_total`,
      help: 'Requests refused with 429 by quota',
      labelNames: ['tenant', 'model', 'quota'],
      registers: [registry],
    }),
    quotaAlerts: tenantCounter(departed, {
      name: `${p}quota_alerts_total`,
      help: 'Requests over a quota with onExceeded Alert, let through',
      labelNames: ['tenant', 'model', 'quota'],
      registers: [registry],
    }),
    quotaOvershootTokens: tenantCounter(departed, {
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
      help: 'Caller tokens checked, by result (accepted, refused; cache hits included)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

/** A counter as far as forgetting needs it: its series and removing one. */
type Series = Pick<Counter<string>, 'get' | 'remove'>;

/** The metrics with `tenant` and `model` labels. */
function perModel(m: GatewayMetrics): Series[] {
  return [m.tokens, m.estimatedTokens, m.quotaRefusals, m.quotaAlerts, m.quotaOvershootTokens];
}

/** The metrics with a `tenant` label (the latency histogram has none). */
function perTenant(m: GatewayMetrics): Series[] {
  return [m.requests, m.refusals, m.requestSeconds, ...perModel(m)];
}

/** Removes the series whose labels have every value of `labels` (exact values, never prefixes). */
async function removeWhere(metrics: Series[], labels: Record<string, string>): Promise<void> {
  const want = Object.entries(labels);
  for (const c of metrics) {
    // prom-client removes one series by its full label set: list the series, remove the matches.
    const { values } = await c.get();
    for (const v of values) if (want.every(([k, x]) => v.labels[k] === x)) c.remove(v.labels);
  }
}

/**
 * Drops every series of a deleted Tenant (by its whole name: forgetting `a` keeps `a-b`'s), and
 * counts nothing more for it until {@link welcomeTenant}.
 */
export function forgetTenant(m: GatewayMetrics, tenant: string): Promise<void> {
  m.departed.add(tenant);
  return removeWhere(perTenant(m), { tenant });
}

/** A Tenant (created again) is counted again, from zero. */
export function welcomeTenant(m: GatewayMetrics, tenant: string): void {
  m.departed.remove(tenant);
}

/** Drops the series of one tenant's model (its ModelAccess was deleted); the tenant's other series stay. */
export function forgetModel(m: GatewayMetrics, tenant: string, model: string): Promise<void> {
  m.departed.add(tenant, model);
  return removeWhere(perModel(m), { tenant, model });
}

/** A tenant's model granted (again) is counted again, from zero. */
export function welcomeModel(m: GatewayMetrics, tenant: string, model: string): void {
  m.departed.remove(tenant, model);
}

/**
 * The directory's `forgetDeleted` hooks over these metrics: drops a deleted Tenant's series,
 * or a deleted grant's, in the background (`onError` hears of a failure; the series then stay).
 */
export function seriesForgetter(m: GatewayMetrics, onError: (err: unknown) => void): Forget {
  return {
    tenant: (name) => void forgetTenant(m, name).catch(onError),
    model: (tenant, model) => void forgetModel(m, tenant, model).catch(onError),
    tenantAdded: (name) => welcomeTenant(m, name),
    modelAdded: (tenant, model) => welcomeModel(m, tenant, model),
  };
}
