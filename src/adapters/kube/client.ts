/**
 * The operator's and the gateway's Kubernetes client: the few API calls they make, by the names and parameters
 * @kubernetes/client-node gives them, so the composition root builds them the same way
 * (`kc.makeApiClient(CoreV1Api)`), over a small HTTP layer (./http.ts) instead of client-node's
 * generated code for every API group. Types are client-node's (types only: nothing is loaded).
 */
import type { CoreV1Event, EventsV1Event, V1ConfigMap, V1Lease, V1ObjectMeta, V1TokenReview } from '@kubernetes/client-node';
import { KubeHttp, type WatchDoneHandler, type WatchEventHandler } from './http.js';
import { type ClusterAccess, accessFromDefault, accessFromFile } from './kubeconfig.js';

/** Per-call options: a timeout other than the default. */
export interface CallOptions {
  timeoutMs?: number;
}

/** Loads where the API server is and makes the API clients, like client-node's KubeConfig. */
export class KubeConfig {
  private http: KubeHttp | undefined;

  /** Uses the current context of a kubeconfig file. */
  loadFromFile(path: string): void {
    this.use(accessFromFile(path));
  }

  /** $KUBECONFIG, ~/.kube/config, or the pod's service account, in that order. */
  loadFromDefault(): void {
    this.use(accessFromDefault());
  }

  /** Uses an already resolved cluster and user (tests). */
  use(access: ClusterAccess): void {
    this.http = new KubeHttp(access);
  }

  /** The connection every client made from this config shares. */
  connection(): KubeHttp {
    if (!this.http) throw new Error('KubeConfig: nothing loaded (loadFromFile or loadFromDefault first)');
    return this.http;
  }

  makeApiClient<T>(api: new (http: KubeHttp) => T): T {
    return new api(this.connection());
  }

  /** Watches a collection; see KubeHttp.watch. */
  watch<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: WatchEventHandler<T>,
    onDone: WatchDoneHandler,
  ): Promise<AbortController> {
    return this.connection().watch(path, query, onEvent, onDone);
  }
}

interface Plural {
  group: string;
  version: string;
  plural: string;
}
interface Named {
  name: string;
}
interface InNamespace {
  namespace: string;
}

/**
 * One path segment: a name or namespace, encoded. Empty, `.` and `..` are refused: they survive
 * encoding, and URL parsing resolves them (`configmaps/.` is the collection, so a DELETE would
 * take every ConfigMap of the namespace); the API server allows none of them as a name.
 */
export function segment(name: string): string {
  if (name === '' || name === '.' || name === '..') throw new Error(`not a Kubernetes object name: "${name}"`);
  return encodeURIComponent(name);
}
const named = (name: string | undefined): string => (name === undefined ? '' : `/${segment(name)}`);

const customPath = (p: Plural & Partial<Named>): string => `/apis/${p.group}/${p.version}/${p.plural}${named(p.name)}`;
const JSON_PATCH = 'application/json-patch+json';

/** Cluster-scoped custom objects: list, and JSON patches of an object and of its status. */
export class CustomObjectsApi {
  constructor(private readonly http: KubeHttp) {}

  /** One page of at most `limit` objects, from `_continue` (the previous page's token). */
  listClusterCustomObject(
    { group, version, plural, limit, _continue }: Plural & { limit?: number; _continue?: string },
    o?: CallOptions,
  ): Promise<unknown> {
    return this.http.request({ method: 'GET', path: customPath({ group, version, plural }), query: { limit, continue: _continue }, ...o });
  }

  patchClusterCustomObject(p: Plural & Named & { body: unknown; fieldManager?: string }, o?: CallOptions): Promise<unknown> {
    const { body, fieldManager } = p;
    return this.http.request({ method: 'PATCH', path: customPath(p), query: { fieldManager }, body, contentType: JSON_PATCH, ...o });
  }

  patchClusterCustomObjectStatus(p: Plural & Named & { body: unknown; fieldManager?: string }, o?: CallOptions): Promise<unknown> {
    const { body, fieldManager } = p;
    return this.http.request({
      method: 'PATCH',
      path: `${customPath(p)}/status`,
      query: { fieldManager },
      body,
      contentType: JSON_PATCH,
      ...o,
    });
  }
}

const configMapPath = (p: InNamespace & Partial<Named>): string => `/api/v1/namespaces/${segment(p.namespace)}/configmaps${named(p.name)}`;

/** ConfigMaps (the outputs a tenant asks for). */
export class CoreV1Api {
  constructor(private readonly http: KubeHttp) {}

  readNamespacedConfigMap(p: InNamespace & Named, o?: CallOptions): Promise<V1ConfigMap> {
    return this.http.request({ method: 'GET', path: configMapPath(p), ...o });
  }

  createNamespacedConfigMap(p: InNamespace & { body: V1ConfigMap; fieldManager?: string }, o?: CallOptions): Promise<V1ConfigMap> {
    return this.http.request({ method: 'POST', path: configMapPath(p), query: { fieldManager: p.fieldManager }, body: p.body, ...o });
  }

  replaceNamespacedConfigMap(p: InNamespace & Named & { body: V1ConfigMap; fieldManager?: string }, o?: CallOptions): Promise<V1ConfigMap> {
    return this.http.request({ method: 'PUT', path: configMapPath(p), query: { fieldManager: p.fieldManager }, body: p.body, ...o });
  }

  deleteNamespacedConfigMap(
    p: InNamespace & Named & { body?: { preconditions?: { uid?: string; resourceVersion?: string } } },
    o?: CallOptions,
  ): Promise<unknown> {
    const body = p.body && { apiVersion: 'v1', kind: 'DeleteOptions', ...p.body };
    return this.http.request({ method: 'DELETE', path: configMapPath(p), body, ...o });
  }
}

/** An events.k8s.io/v1 Event as written: times are MicroTime strings (see `microTime`). */
export type EventBody = Omit<EventsV1Event, 'eventTime' | 'deprecatedFirstTimestamp' | 'deprecatedLastTimestamp'> & {
  metadata: V1ObjectMeta;
  eventTime: string;
};

/** Events (events.k8s.io/v1). */
export class EventsV1Api {
  constructor(private readonly http: KubeHttp) {}

  createNamespacedEvent(p: InNamespace & { body: EventBody }, o?: CallOptions): Promise<CoreV1Event> {
    return this.http.request({
      method: 'POST',
      path: `/apis/events.k8s.io/v1/namespaces/${segment(p.namespace)}/events`,
      body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...p.body },
      ...o,
    });
  }
}

/** TokenReviews (authentication.k8s.io/v1): the gateway checks its callers' tokens. */
export class AuthenticationV1Api {
  constructor(private readonly http: KubeHttp) {}

  createTokenReview(p: { body: V1TokenReview }, o?: CallOptions): Promise<V1TokenReview> {
    return this.http.request({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { ...p.body, apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' },
      ...o,
    });
  }
}

/** A Lease on the wire: its times are MicroTime strings. */
export interface LeaseBody {
  metadata?: V1ObjectMeta;
  spec?: Omit<NonNullable<V1Lease['spec']>, 'acquireTime' | 'renewTime'> & { acquireTime?: string; renewTime?: string };
}

const leasePath = (p: InNamespace & Partial<Named>): string =>
  `/apis/coordination.k8s.io/v1/namespaces/${segment(p.namespace)}/leases${named(p.name)}`;

/** Leases (coordination.k8s.io/v1), for leader election. */
export class CoordinationV1Api {
  constructor(private readonly http: KubeHttp) {}

  readNamespacedLease(p: InNamespace & Named, o?: CallOptions): Promise<LeaseBody> {
    return this.http.request({ method: 'GET', path: leasePath(p), ...o });
  }

  createNamespacedLease(p: InNamespace & { body: LeaseBody }, o?: CallOptions): Promise<LeaseBody> {
    return this.http.request({ method: 'POST', path: leasePath(p), body: lease(p.body), ...o });
  }

  replaceNamespacedLease(p: InNamespace & Named & { body: LeaseBody }, o?: CallOptions): Promise<LeaseBody> {
    return this.http.request({ method: 'PUT', path: leasePath(p), body: lease(p.body), ...o });
  }
}

const lease = (body: LeaseBody): LeaseBody & { apiVersion: string; kind: string } => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  ...body,
});

/** A time as Kubernetes' MicroTime wants it: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
